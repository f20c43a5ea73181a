#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine and runs deepcuts with the given arguments.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup-system.sh
exec cargo run --release --locked --quiet -- "$@"
