#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup-system.sh
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
exec cargo test --release --locked "$@"
