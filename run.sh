#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine and runs deepcuts with the given arguments.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup-system.sh
if [[ ! -x target/release/deepcuts ]]; then
  echo "building deepcuts (release; the first build takes about 10 minutes on 2 cores)…" >&2
  cargo build --release --locked
fi
exec cargo run --release --locked --quiet -- "$@"
