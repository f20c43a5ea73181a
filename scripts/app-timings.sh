#!/usr/bin/env bash
# The app's start-up time and idle CPU, from the real binary under a virtual display:
#   scripts/app-timings.sh PROJECT_DIR [IDLE_SECONDS]   (default 10)
# Prints the seconds from launch to the window being mapped, and the CPU the process used while
# idle, 3 s later (per cent of one core over IDLE_SECONDS; nothing plays or runs).
# Needs xvfb, xauth and xdotool (scripts/setup-system.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
project=${1:?usage: scripts/app-timings.sh PROJECT_DIR [IDLE_SECONDS]}
idle=${2:-10}
binary=${DEEPCUTS_BINARY:-target/release/deepcuts}
[[ -x $binary ]] || cargo build --release --locked
inner=$(mktemp)
trap 'rm -f "$inner"' EXIT
cat > "$inner" <<'INNER'
set -euo pipefail
binary=$1 project=$2 idle=$3
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
export XDG_DATA_HOME=$(mktemp -d) XDG_CONFIG_HOME=$(mktemp -d)
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
started=$(date +%s.%N)
"$binary" app "$project" --view library 2>/dev/null &
pid=$!
xdotool search --sync --name '^deepcuts$' >/dev/null
mapped=$(date +%s.%N)
# Settle: the project is read and drawn, background work ends.
sleep 3
before=$(cpu "$pid")
sleep "$idle"
after=$(cpu "$pid")
kill "$pid"
wait "$pid" 2>/dev/null || true
awk -v s="$started" -v m="$mapped" -v b="$before" -v a="$after" -v t="$ticks" -v i="$idle" \
  'BEGIN { printf "window mapped after %.2f s; idle CPU %.2f%% of one core over %d s\n", m - s, 100 * (a - b) / t / i, i }'
INNER
xvfb-run -a -s "-screen 0 1280x800x24" bash "$inner" "$binary" "$project" "$idle"
