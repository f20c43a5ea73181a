#!/usr/bin/env bash
# Screenshots of the app's views from the real binary under a virtual display:
#   scripts/screenshots.sh PROJECT_DIR [OUT_DIR]   (default OUT_DIR: screenshots/)
# Each view (library, map, filters, playlists, spectrogram, similar, outliers, jobs) is opened
# with `deepcuts app PROJECT_DIR --view NAME` (first track selected),
# given time to read the project and draw, grabbed with ImageMagick's `import`, then closed.
# Needs xvfb, xauth, xdotool and imagemagick (scripts/setup-system.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
project=${1:?usage: scripts/screenshots.sh PROJECT_DIR [OUT_DIR]}
out=${2:-screenshots}
mkdir -p "$out"
binary=${DEEPCUTS_BINARY:-target/release/deepcuts}
[[ -x $binary ]] || cargo build --release --locked
# Inside the virtual display: one window at a time.
inner=$(mktemp)
trap 'rm -f "$inner"' EXIT
cat > "$inner" <<'INNER'
set -euo pipefail
binary=$1 project=$2 out=$3 settle=${DEEPCUTS_SCREENSHOT_SETTLE:-6}
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
# A private config folder: screenshots show the default layout, not the user's.
export XDG_DATA_HOME=$(mktemp -d) XDG_CONFIG_HOME=$(mktemp -d)
for view in library map filters playlists spectrogram similar outliers jobs; do
  "$binary" app "$project" --view "$view" &
  pid=$!
  window=""
  for _ in $(seq 100); do
    window=$(xdotool search --name '^deepcuts$' 2>/dev/null | head -1 || true)
    [[ -n $window ]] && break
    sleep 0.1
  done
  [[ -n $window ]] || { echo "screenshots: no window for $view" >&2; kill "$pid"; exit 1; }
  sleep "$settle"
  import -window "$window" "$out/$view.png"
  echo "$out/$view.png"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
done
INNER
xvfb-run -a -s "-screen 0 1280x800x24" bash "$inner" "$binary" "$project" "$out"
