#!/usr/bin/env bash
# Starts a throwaway `palisade serve` on 127.0.0.1 with a fresh data directory and a random root
# key, listening on HTTP and on HTTPS at once (with a server certificate from a CA made here, now,
# by openssl, whose keys live only in that directory), runs the SDK conformance scenario (run.js)
# over HTTPS and then over HTTP, then stops that server and removes the directory. Exits with the
# first failing run's exit code, 0 when both pass (or 2 when the server could not be started).
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

# 2. Two free ports on 127.0.0.1, a data directory, a random root secret.
free_port() { node -e "const s=require('net').createServer();s.listen(0,'$host',()=>{console.log(s.address().port);s.close();})"; }
port="$(free_port)"
tls_port="$(free_port)"
while [[ "$tls_port" == "$port" ]]; do tls_port="$(free_port)"; done
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

# 3. A throwaway CA and a server certificate it signs for 127.0.0.1 and localhost (nothing committed).
tls="$datadir/tls"
mkdir -m 700 "$tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=Palisade conformance CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$host" -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
printf 'subjectAltName=IP:%s,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$host" >"$tls/server.ext"
openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial -days 2 \
  -extfile "$tls/server.ext" -out "$tls/server.crt" 2>/dev/null

# 4. The server, in the background; its output goes to a log shown only on trouble.
log="$datadir/server.log"
urls="http://$host:$port;https://$host:$tls_port"
echo "run.sh: starting $bin serve --urls '$urls' --tls-cert $tls/server.crt --tls-key $tls/server.key --data $datadir" >&2
# shellcheck disable=SC2086 # PALISADE_SERVE_ARGS is split on purpose
PALISADE_ROOT_ACCESS_KEY_ID="$key_id" PALISADE_ROOT_ACCESS_KEY_SECRET="$secret" \
  "$bin" serve --urls "$urls" --tls-cert "$tls/server.crt" --tls-key "$tls/server.key" --data "$datadir" ${PALISADE_SERVE_ARGS:-} >"$log" 2>&1 &
server_pid=$!

# 5. Wait for /healthz to answer 200, over HTTP and over HTTPS (trusting only the throwaway CA).
deadline=$((SECONDS + health_timeout))
healthy() {
  [[ "$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$host:$port/healthz" || true)" == 200 ]] &&
    [[ "$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$tls/ca.crt" "https://$host:$tls_port/healthz" || true)" == 200 ]]
}
until healthy; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "run.sh: the server exited before answering /healthz; its output:" >&2
    cat "$log" >&2
    exit 2
  fi
  if (( SECONDS >= deadline )); then
    echo "run.sh: no 200 from http://$host:$port/healthz and https://$host:$tls_port/healthz within ${health_timeout}s; server output:" >&2
    cat "$log" >&2
    exit 2
  fi
  sleep 0.5
done
echo "run.sh: server ready on http://$host:$port and https://$host:$tls_port (pid $server_pid)" >&2

# 6. Each script, over HTTPS and then over HTTP. In the background plus `wait`, so that a signal
# reaches the trap at once. NODE_EXTRA_CA_CERTS trusts the throwaway CA for the SDKs' https agent.
rc=0
run() { # run SCRIPT PROTOCOL PORT
  local script=$1 protocol=$2 at=$3 code=0
  echo "run.sh: $script over ${protocol^^} ($host:$at)" >&2
  NO_PROXY="$host" no_proxy="$host" NODE_EXTRA_CA_CERTS="$tls/ca.crt" PALISADE_PROTOCOL="$protocol" \
  PALISADE_ENDPOINT="$host:$at" PALISADE_KEY_ID="$key_id" PALISADE_KEY_SECRET="$secret" \
    node "$here/$script" &
  node_pid=$!
  wait "$node_pid" || code=$?
  node_pid=""
  if (( code != 0 )); then
    echo "run.sh: $script over ${protocol^^} exited with $code; last server output:" >&2
    tail -n 40 "$log" >&2 || true
    (( rc == 0 )) && rc=$code
  fi
}
for script in ${PALISADE_SCRIPTS:-run.js terraform.js}; do
  run "$script" https "$tls_port"
  run "$script" http "$port"
done
exit "$rc"
