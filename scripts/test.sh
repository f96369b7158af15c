#!/usr/bin/env bash
# The whole test suite: unit and integration tests, the shared parser cases, and a run of
# the bundled default pipeline (which must exit 0). Used by CI (.ci/run) and developers.
set -euo pipefail
cd "$(dirname "$0")/.."

# One release build serves tests, cases and the pipeline run (polars is slow to build twice).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
bin="$CARGO_TARGET_DIR/release/cloudsift"

echo "== Python environment for the notebooks and the OCSF export validation"
scripts/python-env.sh >/dev/null
export CLOUDSIFT_REQUIRE_PYTHON=1

echo "== object-store API servers for tests/it/storage.rs (moto S3, Azurite, fake-gcs-server)"
eval "$(scripts/storage-servers.sh start)"
export CLOUDSIFT_REQUIRE_STORAGE=1
trap 'scripts/storage-servers.sh stop' EXIT

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

echo "== the bundled default pipeline, end to end, with its outputs in a scratch folder"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"; scripts/storage-servers.sh stop' EXIT
mkdir -p "$scratch/pipelines"
cp pipelines/default.toml "$scratch/pipelines/"
ln -s "$PWD/data" "$scratch/data"
"$bin" run "$scratch/pipelines/default.toml" --quiet --summary-json

echo "== notebooks, executed top to bottom against the default pipeline's lake"
NOTEBOOKS_OUT="$scratch/notebooks" scripts/notebooks.sh "$scratch/out/lake" "$scratch/pipelines/default.toml"
