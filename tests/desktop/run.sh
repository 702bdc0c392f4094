#!/usr/bin/env bash
# The desktop app end to end under Xvfb (see desktop.mjs). Builds the two binaries it
# drives if needed (a no-op when they are fresh; the UI in ui/dist must be built first, as
# scripts/setup-debian.sh does), installs tauri-driver if missing, then runs the test.
# Ends with "N passed, N failed".
#
# A skipped check is a failed one. CINEMAHALAL_DESKTOP_ALLOW_SKIP=1 (never set by CI)
# lets the one check that can be skipped, the <video> playing, count as a SKIP when the
# machine's media stack (GStreamer) reports an error; see desktop.mjs.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -f ui/dist/index.html ]; then
  echo "desktop test: ui/dist is missing; build the UI first (cd ui && npm ci && npm run build)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
# tauri-driver is installed inside the clone (target/tools), never in the user's home.
export TAURI_DRIVER="${TAURI_DRIVER:-$PWD/target/tools/bin/tauri-driver}"
if [ ! -x "$TAURI_DRIVER" ]; then
  echo "desktop test: installing tauri-driver into target/tools"
  cargo install tauri-driver --locked --quiet --root "$PWD/target/tools"
fi
# The same build as `cargo test --workspace` (same feature set), so nothing is rebuilt.
cargo build --locked --quiet --workspace --all-targets
# A private session bus: the app finds its running instance over D-Bus (single instance),
# and neither the machine's bus nor another test run's must answer.
if ! command -v dbus-run-session >/dev/null; then
  echo "desktop test: dbus-run-session is missing (scripts/setup-debian.sh installs dbus-daemon)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
exec dbus-run-session -- timeout --kill-after=10 360 node tests/desktop/desktop.mjs
