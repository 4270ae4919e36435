#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build, and run usm in the
# foreground with its API on http://127.0.0.1:5050 (Ctrl-C stops it).
# Arguments are passed to usm-privd, e.g. scripts/run.sh -o log_level=debug
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$top/scripts/setup.sh" release
exec "$top/build/privd/usm-privd" "$@"
