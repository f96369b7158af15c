#!/usr/bin/env bash
# The whole test suite: unit and integration tests, the shared parser cases, and a run of
# the bundled default pipeline. Used by CI (.ci/run) and by developers alike.
set -euo pipefail
cd "$(dirname "$0")/.."

# One release build serves tests, cases and the pipeline run (polars is slow to build twice).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
bin="$CARGO_TARGET_DIR/release/cloudsift"

echo "== cargo test (release profile)"
cargo test --release --locked

echo "== cargo build --release"
cargo build --release --locked --bin cloudsift

if [ -f ../shared/cases/check_cases.py ]; then
  echo "== shared parser cases"
  python3 ../shared/cases/check_cases.py --bin "$bin"
else
  echo "== shared parser cases: ../shared/cases not present, skipped"
fi
