#!/usr/bin/env bash
# Creates (or updates) the Python virtual environment used by the notebooks and by the OCSF
# export validation, from the pinned requirement files. Prints the environment's folder.
#   scripts/python-env.sh            # → $HOME/.cache/cloudsift-venv
#   CLOUDSIFT_VENV=/tmp/v scripts/python-env.sh
# Re-running is cheap: pip is skipped when the requirement files have not changed.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${CLOUDSIFT_VENV:-$HOME/.cache/cloudsift-venv}"
reqs=(notebooks/requirements.txt)
[ -f scripts/ocsf/requirements.txt ] && reqs+=(scripts/ocsf/requirements.txt)
stamp="$venv/.cloudsift-requirements.sha256"
want=$(cat "${reqs[@]}" | sha256sum | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  for r in "${reqs[@]}"; do
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$r" >&2
  done
  echo "$want" > "$stamp"
fi
echo "$venv"
