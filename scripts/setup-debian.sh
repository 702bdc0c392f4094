#!/usr/bin/env bash
# Installs what CinemaHalal needs on Debian 12 that the machine lacks: system packages
# for the desktop build and the tests, and the UI's npm packages (then it builds the UI).
# Idempotent and quick when everything is there. Everything it builds stays in the clone.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential pkg-config curl file
  libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev   # Tauri (WebKitGTK)
  gstreamer1.0-libav gstreamer1.0-plugins-good gstreamer1.0-plugins-bad # H.264/AAC in WebKit's <video>
  xvfb webkit2gtk-driver   # a real desktop window under test, driven by WebDriver
  dbus-daemon              # a private session bus for that window (single instance over D-Bus)
  chromium                 # browser end-to-end tests (Debian's build, never a downloaded one)
  ffmpeg                   # runtime: probes, remuxes and transcodes what a browser cannot play; makes the test media
  python3-libtorrent       # the benchmark's seeders and plain-download ceiling
  nginx-light              # the reverse-proxy deployment test
  systemd                  # systemd-analyze verifies deploy/cinemahalal-server.service
  nodejs npm               # builds the web UI
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm may come from elsewhere (nodesource, the image): then skip Debian's.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<< "${missing[*]}"
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  echo "setup: Rust is missing; install it from https://rustup.rs (cargo 1.89 or newer)" >&2
  exit 1
fi

# The UI is embedded in the desktop app and served by the headless server: build it first.
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules ]; then
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
fi
(cd ui && npm run --silent build)
# The WebTorrent swarm test's tracker and browser client (no install scripts: the
# tracker's optional native WebRTC addon is not needed, nor downloadable offline).
if [ ! -d tests/webtorrent/node_modules ] || [ tests/webtorrent/package-lock.json -nt tests/webtorrent/node_modules ]; then
  (cd tests/webtorrent && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
