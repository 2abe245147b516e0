#!/usr/bin/env bash
# Starts a throwaway `palisade serve` on 127.0.0.1 with a fresh data directory and a random root
# key, runs the SDK conformance scenario (run.js) against it, then stops that server and removes
# the directory. Exits with run.js's exit code (or 2 when the server could not be started).
#
# Optional env: PALISADE_BIN (default <repo>/palisade), PALISADE_SERVE_ARGS (extra `serve` arguments),
# PALISADE_HEALTH_TIMEOUT (seconds, default 120; the first run builds the CLI), and the run.js
# options PALISADE_FLAVOURS, PALISADE_REQUIRE_CLASSIC.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="${PALISADE_BIN:-$repo/palisade}"
health_timeout="${PALISADE_HEALTH_TIMEOUT:-120}"
host=127.0.0.1

# 1. Node dependencies, only when missing or out of date with the lock file.
cd "$here"
if [[ -f package-lock.json ]]; then
  if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json || package.json -nt node_modules/.package-lock.json ]]; then
    echo "run.sh: npm ci" >&2
    npm ci --no-audit --no-fund --loglevel=error >&2
  fi
else
  echo "run.sh: npm install (no package-lock.json)" >&2
  npm install --no-audit --no-fund --loglevel=error >&2
fi

# 2. A free port on 127.0.0.1, a data directory, a random root secret.
port="$(node -e "const s=require('net').createServer();s.listen(0,'$host',()=>{console.log(s.address().port);s.close();})")"
datadir="$(mktemp -d "${TMPDIR:-/tmp}/palisade-conformance.XXXXXX")"
key_id=LTAI5tCONFORMANCE0000001
secret="$(node -e "const c=require('crypto'),a='ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';let s='';for(const b of c.randomBytes(30))s+=a[b%a.length];console.log(s)")"
server_pid=""
node_pid=""

cleanup() {
  local rc=$?
  if [[ -n "$node_pid" ]] && kill -0 "$node_pid" 2>/dev/null; then
    kill "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
  fi
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$server_pid" 2>/dev/null; then kill -9 "$server_pid" 2>/dev/null || true; fi
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf -- "$datadir"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 3. The server, in the background; its output goes to a log shown only on trouble.
log="$datadir/server.log"
echo "run.sh: starting $bin serve --urls http://$host:$port --data $datadir" >&2
# shellcheck disable=SC2086 # PALISADE_SERVE_ARGS is split on purpose
PALISADE_ROOT_ACCESS_KEY_ID="$key_id" PALISADE_ROOT_ACCESS_KEY_SECRET="$secret" \
  "$bin" serve --urls "http://$host:$port" --data "$datadir" ${PALISADE_SERVE_ARGS:-} >"$log" 2>&1 &
server_pid=$!

# 4. Wait for /healthz to answer 200.
deadline=$((SECONDS + health_timeout))
until [[ "$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$host:$port/healthz" || true)" == 200 ]]; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "run.sh: the server exited before answering /healthz; its output:" >&2
    cat "$log" >&2
    exit 2
  fi
  if (( SECONDS >= deadline )); then
    echo "run.sh: no 200 from http://$host:$port/healthz within ${health_timeout}s; server output:" >&2
    cat "$log" >&2
    exit 2
  fi
  sleep 0.5
done
echo "run.sh: server ready on $host:$port (pid $server_pid)" >&2

# 5. The scenario. In the background plus `wait`, so that a signal reaches the trap at once.
NO_PROXY="$host" no_proxy="$host" \
PALISADE_ENDPOINT="$host:$port" PALISADE_KEY_ID="$key_id" PALISADE_KEY_SECRET="$secret" \
  node "$here/run.js" &
node_pid=$!
rc=0
wait "$node_pid" || rc=$?
node_pid=""
if (( rc != 0 )); then
  echo "run.sh: run.js exited with $rc; last server output:" >&2
  tail -n 40 "$log" >&2 || true
fi
exit "$rc"
