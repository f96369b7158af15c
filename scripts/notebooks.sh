#!/usr/bin/env bash
# Runs the notebooks (notebooks/0*.ipynb) top to bottom against a lake, as CI does.
#   scripts/notebooks.sh LAKE_DIR [PIPELINE_TOML]
#   scripts/notebooks.sh out/lake                      # after `cloudsift run pipelines/default.toml`
#   NOTEBOOKS_OUT=/tmp/nb scripts/notebooks.sh out/lake pipelines/default.toml
# Creates or updates the virtual environment (scripts/python-env.sh), runs the helper tests
# (notebooks/test_cloudsift_nb.py), then executes every notebook with nbclient with
# CLOUDSIFT_LAKE and CLOUDSIFT_PIPELINE set. Executed copies go to $NOTEBOOKS_OUT (default: a
# new temporary folder, printed at the end) as <name>.executed.ipynb; the committed notebooks
# are not touched and must have their outputs cleared.
# Exit status: 0 when every test and notebook passed; 1 naming the notebook and cell that
# failed; 2 for a usage error.
set -euo pipefail
usage() { sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
repo="$(cd "$(dirname "$0")/.." && pwd)"
lake="$(cd "$1" 2>/dev/null && pwd)" || { echo "notebooks.sh: lake folder $1 does not exist" >&2; exit 2; }
pipeline="${2:-$repo/pipelines/default.toml}"
[ -f "$pipeline" ] || { echo "notebooks.sh: pipeline file $pipeline does not exist" >&2; exit 2; }
pipeline="$(cd "$(dirname "$pipeline")" && pwd)/$(basename "$pipeline")"
[ -d "$lake/findings" ] && [ -d "$lake/events" ] \
  || { echo "notebooks.sh: $lake has no findings/ and events/ folders (not a cloudsift lake)" >&2; exit 2; }

venv="$("$repo/scripts/python-env.sh")"
out="${NOTEBOOKS_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/cloudsift-notebooks.XXXXXX")}"
mkdir -p "$out"
# A private Jupyter data folder: the kernel is the venv's own `python3`, never a kernelspec
# of the same name that the user installed elsewhere.
export JUPYTER_DATA_DIR="$out/.jupyter"
export JUPYTER_PLATFORM_DIRS=1
export MPLBACKEND=Agg PYDEVD_DISABLE_FILE_VALIDATION=1
export CLOUDSIFT_LAKE="$lake" CLOUDSIFT_PIPELINE="$pipeline"

echo "== notebook helper tests"
(cd "$repo/notebooks" && "$venv/bin/python" -m pytest -q -p no:cacheprovider test_cloudsift_nb.py)

echo "== notebooks against $lake"
status=0
"$venv/bin/python" "$repo/notebooks/execute.py" --out "$out" "$repo"/notebooks/0*.ipynb || status=$?
echo "executed copies: $out"
exit "$status"
