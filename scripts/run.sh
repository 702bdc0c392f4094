#!/usr/bin/env bash
# Starts CinemaHalal, installing what it needs on first use.
# `scripts/run.sh` starts the desktop app; `scripts/run.sh --headless [flags]` starts the
# HTTP server alone (see `--help`), for a home server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
if [ "${1:-}" = "--headless" ]; then
  shift
  exec cargo run --locked -q -p cinemahalal-server --bin cinemahalal-server -- "$@"
fi
exec cargo run --locked -q -p cinemahalal-desktop
