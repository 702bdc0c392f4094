#!/usr/bin/env bash
# Runs every cargo-fuzz target for N seconds each (default 60): the Range parser, the
# magnet parser, the Torznab and Stremio answer parsers and the .torrent check. Needs
# nightly Rust and cargo-fuzz (installed here when missing). A crash stops the run and
# leaves its input in fuzz/artifacts/<target>/; add it to fuzz/corpus/<target>/ with the
# fix, so the stable `cargo test` of the owning crate keeps it fixed.
#
#   scripts/fuzz.sh [seconds] [target...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(range magnet torznab stremio metainfo)

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
cargo +nightly fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked

for target in "${targets[@]}"; do
  echo "== $target: ${seconds}s"
  # A scratch copy of the corpus takes what the run finds; the checked-in one stays small.
  work="target/corpus/$target"
  mkdir -p "$work"
  cargo +nightly fuzz run -O "$target" "$work" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=65536 -print_final_stats=1
done
