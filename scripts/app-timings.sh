#!/usr/bin/env bash
# The app's start-up time, idle CPU and frame times, from the real binary under a virtual display:
#   scripts/app-timings.sh PROJECT_DIR [IDLE_SECONDS] [library|filters|map]   (default 10, library)
# Prints the seconds from launch to the window being mapped, the CPU the process used while
# idle, 3 s later (per cent of one core over IDLE_SECONDS; nothing plays or runs), and the frame
# times (median, 99th percentile, eframe's measure: UI + drawing, no vsync) while the library
# or the filters view is scrolled with the mouse wheel for about 10 s, or the map is dragged
# (panned) to and fro.
# DEEPCUTS_FRAMES_OUT=FILE appends the frames counted (frame-log lines) to FILE, to pool runs.
# Needs xvfb, xauth and xdotool (scripts/setup-system.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
project=${1:?usage: scripts/app-timings.sh PROJECT_DIR [IDLE_SECONDS] [library|filters|map]}
idle=${2:-10}
view=${3:-library}
binary=${DEEPCUTS_BINARY:-target/release/deepcuts}
[[ -x $binary ]] || cargo build --release --locked
inner=$(mktemp)
trap 'rm -f "$inner"' EXIT
cat > "$inner" <<'INNER'
set -euo pipefail
binary=$1 project=$2 idle=$3 view=$4
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
export XDG_DATA_HOME=$(mktemp -d) XDG_CONFIG_HOME=$(mktemp -d)
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
frames=$(mktemp)
started=$(date +%s.%N)
DEEPCUTS_FRAME_TIMES=$frames "$binary" app "$project" --view "$view" 2>/dev/null &
pid=$!
window=$(xdotool search --sync --name '^deepcuts$' | head -1)
mapped=$(date +%s.%N)
# Settle: the project is read and drawn, background work ends (neither a frame nor a CPU tick
# for 2 s; at most 60 s).
for _ in $(seq 30); do
  seen=$(wc -l < "$frames") used=$(cpu "$pid")
  sleep 2
  [[ $(wc -l < "$frames") == "$seen" && $(cpu "$pid") == "$used" ]] && break
done
before=$(cpu "$pid")
sleep "$idle"
after=$(cpu "$pid")
skip=$(wc -l < "$frames")
input_start=$(date +%s.%N)
if [[ $view == map ]]; then
  # Pan: drag the map 200 px left and back, 2 px a step every 3 ms, 5 times; one xdotool
  # process (one per step would be the bottleneck).
  steps=()
  for _ in $(seq 5); do
    for dx in -2 2; do
      for _ in $(seq 100); do steps+=(mousemove_relative -- "$dx" 0 sleep 0.003); done
    done
  done
  xdotool mousemove --window "$window" 640 420 mousedown 1 "${steps[@]}" mouseup 1
else
  # Scroll the table or the filter pictures: 1200 wheel steps down and back up, one every 3 ms.
  xdotool mousemove --window "$window" 400 300 \
    click --repeat 1200 --delay 3 5 click --repeat 1200 --delay 3 4
fi
input_end=$(date +%s.%N)
sleep 0.5
kill "$pid"
wait "$pid" 2>/dev/null || true
awk -v s="$started" -v m="$mapped" -v b="$before" -v a="$after" -v t="$ticks" -v i="$idle" \
  'BEGIN { printf "window mapped after %.2f s; idle CPU %.2f%% of one core over %d s\n", m - s, 100 * (a - b) / t / i, i }'
# Column 1: the frame's time; column 2: the wall time since the previous frame; column 3: when
# it was drawn. Input comes faster than frames can (every 3 ms), so column 2 is what a frame
# costs on this renderer, not the wait for input. Only the frames drawn while input was being
# sent count, less the first (its column 2 is the idle time before it).
summary() { # $1: column; $2: label
  tail -n +"$((skip + 2))" "$frames" \
    | awk -v c="$1" -v from="$input_start" -v to="$input_end" '$3 > from && $3 <= to { print $c }' \
    | sort -g | awk -v label="$2" \
    '{ v[NR] = $1 } END {
      if (NR == 0) { print "no frames recorded"; exit 1 }
      printf "%s: median %.1f ms, 99th percentile %.1f ms, max %.1f ms (%d frames)\n",
        label, v[int((NR + 1) / 2)], v[int(0.99 * (NR - 1)) + 1], v[NR], NR }'
}
action=$([[ $view == map ]] && echo panning || echo scrolling)
summary 1 "$action, frame time (UI + drawing)"
summary 2 "$action, time between frames"
# DEEPCUTS_FRAMES_OUT=FILE appends the counted frames (the log's lines), to pool several runs.
if [[ -n ${DEEPCUTS_FRAMES_OUT:-} ]]; then
  tail -n +"$((skip + 2))" "$frames" \
    | awk -v from="$input_start" -v to="$input_end" '$3 > from && $3 <= to' >> "$DEEPCUTS_FRAMES_OUT"
fi

rm -f "$frames"
INNER
xvfb-run -a -s "-screen 0 1280x800x24" bash "$inner" "$binary" "$project" "$idle" "$view"
