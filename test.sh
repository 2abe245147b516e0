#!/usr/bin/env bash
# Installs what the tests need and runs every test of the solution, then prints one summary line.
# Safe to run again: each step checks first and installs only what is missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# The shipping test publishes one self-contained single file (linux-x64) and runs it (issue 21).
export PALISADE_PUBLISH_TEST=1

step() { printf '\n== %s\n' "$*"; }

ensure_dotnet() {
  if ! command -v dotnet >/dev/null; then
    echo "test.sh: the .NET SDK (dotnet) is not on PATH; this machine kind ships it. See README." >&2
    exit 1
  fi
  dotnet --version
}

apt_install() {
  # Other jobs may hold the dpkg lock for a while; wait rather than fail.
  if [[ -z "${APT_UPDATED:-}" ]]; then
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$@"
}

ensure_node() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "installing Node.js and npm from Debian (for the SDK conformance suite)"
    apt_install nodejs npm
  fi
  echo "node $(node --version), npm $(npm --version)"
}

# The enforcement system test builds throwaway network namespaces and programs nftables in them:
# it needs root, iproute2, nftables, conntrack and python3 (its probes and listeners). CI runs as root.
ensure_netns_tools() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "not root: the enforcement system test (network namespaces) will report that it did not run"
    return
  fi
  local missing=()
  command -v ip >/dev/null || missing+=(iproute2)
  command -v nft >/dev/null || missing+=(nftables)
  command -v conntrack >/dev/null || missing+=(conntrack)
  command -v python3 >/dev/null || missing+=(python3)
  if [[ ${#missing[@]} -gt 0 ]]; then
    echo "installing ${missing[*]} from Debian (for the enforcement system test)"
    apt_install "${missing[@]}"
  fi
  export PALISADE_REQUIRE_NETNS=1
  echo "$(nft --version), $(conntrack --version 2>&1 | head -1)"
}

# A Debian package some tests need: installed when missing (as root), then the variable that makes
# its absence a failure rather than a skipped test is exported. Without root, the tests say they did
# not run.   require_debian_tool EXECUTABLE PACKAGE VARIABLE "what needs it"
require_debian_tool() {
  local executable=$1 package=$2 variable=$3 why=$4
  if [[ ! -x "$executable" ]]; then
    if [[ $(id -u) -ne 0 ]]; then
      echo "not root and no $executable: $why will report that they did not run"
      return
    fi
    echo "installing $package from Debian (for $why)"
    apt_install "$package"
  fi
  export "$variable=1"
  "$executable" --version 2>/dev/null | head -1 || true
}

# The console's browser tests drive Debian's Chromium through Playwright for .NET (its own browser
# download is not used); the SMT oracle of the analysis tests runs Debian's z3.
ensure_browser() { require_debian_tool /usr/bin/chromium chromium PALISADE_REQUIRE_BROWSER "the console's browser tests"; }
ensure_z3() { require_debian_tool /usr/bin/z3 z3 PALISADE_REQUIRE_Z3 "the SMT oracle tests"; }

# A private PostgreSQL for the store and API suites' second run: its own data directory under a
# temporary folder, its own port on 127.0.0.1, stopped (by its own pg_ctl) when this script ends.
# fsync is off: every test makes a database of its own, and the suites check Palisade's behaviour,
# not PostgreSQL's durability (the kill -9 test kills Palisade, never PostgreSQL).
pg_dir=""
pg_bin=""
stop_postgres() {
  if [[ -n "$pg_dir" && -f "$pg_dir/data/postmaster.pid" ]]; then
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  [[ -n "$pg_dir" ]] && rm -rf "$pg_dir"
}
# The tests' temporary files (every SQLite store and nonce file, the processes' data directories) go
# to a folder on tmpfs: a SQLite store syncs each commit (synchronous=FULL), and on this machine's
# virtual disk those syncs queued behind each other while two assemblies ran at once (the same 269
# signature tests took 22 s beside the PostgreSQL lanes and 49-118 s in the SQLite pass). No test
# checks what survives a machine crash; the kill -9 tests kill processes, whose writes the page cache
# keeps on tmpfs as on a disk. Sticky and world-writable like /tmp: PostgreSQL's own user makes its
# socket and data there in the restart tests.
test_tmp=""
cleanup() {
  stop_postgres || true
  [[ -n "$test_tmp" ]] && rm -rf "$test_tmp"
  return 0
}
trap cleanup EXIT

use_tmpfs_for_tests() {
  if [[ -d /dev/shm && -w /dev/shm ]] && test_tmp="$(mktemp -d /dev/shm/palisade-tests.XXXXXX)"; then
    chmod 1777 "$test_tmp"
    export TMPDIR="$test_tmp"
    echo "tests' temporary files in $TMPDIR ($(df -h --output=fstype,size "$TMPDIR" | tail -1 | xargs))"
  else
    echo "no writable /dev/shm: the tests' temporary files stay in ${TMPDIR:-/tmp}"
  fi
}

ensure_postgres() {
  pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  if [[ -z "$pg_bin" || ! -x "$pg_bin/initdb" ]]; then
    echo "installing PostgreSQL from Debian"
    apt_install postgresql
    pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  fi
  pg_dir="$(mktemp -d /tmp/palisade-pg.XXXXXX)"
  chown postgres:postgres "$pg_dir"
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
  runuser -u postgres -- "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $pg_dir -c max_connections=500 -c fsync=off -c full_page_writes=off" -w start >/dev/null
  export PALISADE_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres;Include Error Detail=true"
  echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $pg_dir)"
}

step "Checking tools"
ensure_dotnet
ensure_node
ensure_netns_tools
ensure_browser
ensure_z3
ensure_postgres
use_tmpfs_for_tests

step "Building the solution"
dotnet build Palisade.slnx -c Debug --nologo -v quiet -clp:ErrorsOnly

step "Running the tests"
results="$root/.build/test-results"
rm -rf "$results"
mkdir -p "$results"
set +e
# The first pass is the SQLite one: PALISADE_TEST_POSTGRES (exported above for the second pass) is
# left out of its environment, else every store and API suite would run on PostgreSQL twice and SQLite
# never (as it did from 2026-11-29 to 2026-12-05); PALISADE_REQUIRE_SQLITE makes StoreUnderTestTests check it.
env -u PALISADE_TEST_POSTGRES PALISADE_REQUIRE_SQLITE=1 dotnet test Palisade.slnx --no-build -c Debug --nologo \
  --blame-hang-timeout 10m \
  --logger "trx" --results-directory "$results" 2>&1 | tee "$results/console.log"
status=${PIPESTATUS[0]}
set -e

step "Store and API suites again, on PostgreSQL; then the SDK conformance beside them"
# Two lanes, as the SQLite run above has: the API suite in one, the store and system suites in the
# other (the system suites mostly wait on namespaces and processes). One after another they took 9 of
# the run's 28 minutes. The API suite is the longer lane by 2-3 minutes (8m29 against 1m54 + 4m03 on
# 2026-12-06), so the SDK conformance (the CLI's Release build, 43 s, and the run, 22 s) follows the
# store and system suites in the other lane instead of running after both.
pg_status=0
set +e
run_on_postgres() {
  PALISADE_REQUIRE_POSTGRES=1 dotnet test "$1" --no-build -c Debug --nologo \
    --blame-hang-timeout 10m --logger "trx;LogFilePrefix=postgres-$(basename "$1")" --results-directory "$results" > "$results/postgres-$(basename "$1").log" 2>&1
}
run_conformance() {
  # The CLI is built here, before the server is started, so that the wait for /healthz measures the
  # server and not a build on a loaded machine.
  { "$root/palisade" --version >/dev/null
    PALISADE_REQUIRE_CLASSIC=1 PALISADE_HEALTH_TIMEOUT="${PALISADE_HEALTH_TIMEOUT:-300}" "$root/tests/conformance/run.sh"; } > "$results/conformance.log" 2>&1
}
run_on_postgres tests/Palisade.Server.Tests &
api_lane=$!
( run_on_postgres tests/Palisade.Storage.Tests; storage=$?; run_on_postgres tests/Palisade.System.Tests; system=$?
  run_conformance; echo $? > "$results/conformance.exit"
  [[ $storage -ne 0 ]] && exit $storage; exit $system ) &
store_lane=$!
wait $api_lane; code=$?; [[ $code -ne 0 ]] && pg_status=$code
wait $store_lane; code=$?; [[ $code -ne 0 ]] && pg_status=$code
conformance="$(cat "$results/conformance.exit" 2>/dev/null || echo 1)"
set -e
for project in Palisade.Storage.Tests Palisade.Server.Tests Palisade.System.Tests; do
  cat "$results/postgres-$project.log"
done | tee "$results/postgres.log"
cat "$results/postgres.log" >> "$results/console.log"
[[ $pg_status -ne 0 ]] && status=$pg_status

step "SDK conformance: the official Node SDKs against ./palisade serve, over HTTPS and HTTP"
cat "$results/conformance.log"

# One line over all test runs, from the per-assembly lines dotnet test prints.
# Parallel runs may print two of them on one line, hence grep -o.
summary="$(grep -oE '(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$results/console.log" |
  sed -E 's/.*Failed: +([0-9]+), Passed: +([0-9]+), Skipped: +([0-9]+)/\1 \2 \3/' |
  awk '{f+=$1; p+=$2; s+=$3; n++} END {printf "%d passed, %d failed, %d skipped in %d test assembly runs (the store, API and process suites on SQLite and on PostgreSQL)", p, f, s, n}')"
echo
echo "test.sh: $summary"
# The names of failed tests, and the first line of each one's message, so that a CI log that keeps
# only its tail still says what failed.
grep -E '^\s+Failed [A-Za-z_.]+' "$results/console.log" | sed -E 's/^\s+Failed /test.sh: failed test: /; s/ \[[^]]*\]$//' | sort -u | head -20 || true
grep -A2 -E '^\s+Error Message:' "$results/console.log" | grep -vE '^\s+Error Message:|^--$' | sed -E 's/^\s+/test.sh:   message: /' | cut -c1-300 | head -20 || true
echo "test.sh: SDK conformance over HTTPS and HTTP $( [[ $conformance -eq 0 ]] && echo passed || echo "FAILED (exit $conformance)" ): $(grep -E '^(PASS|FAIL)' "$results/conformance.log" | paste -sd';' -)"
if [[ $status -ne 0 || $conformance -ne 0 ]]; then
  echo "test.sh: FAILED (dotnet test exit $status, conformance exit $conformance)" >&2
  exit 1
fi
echo "test.sh: all tests passed"
