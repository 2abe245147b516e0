#!/usr/bin/env bash
# Installs what the tests need and runs every test of the solution, then prints one summary line.
# Safe to run again: each step checks first and installs only what is missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

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

step "Checking tools"
ensure_dotnet
ensure_node

step "Building the solution"
dotnet build Palisade.slnx -c Debug --nologo -v quiet -clp:ErrorsOnly

step "Running the tests"
results="$root/.build/test-results"
rm -rf "$results"
mkdir -p "$results"
set +e
dotnet test Palisade.slnx --no-build -c Debug --nologo \
  --blame-hang-timeout 10m \
  --logger "trx" --results-directory "$results" 2>&1 | tee "$results/console.log"
status=${PIPESTATUS[0]}
set -e

step "SDK conformance: the official Node SDKs against ./palisade serve"
set +e
PALISADE_REQUIRE_CLASSIC=1 "$root/tests/conformance/run.sh" 2>&1 | tee "$results/conformance.log"
conformance=${PIPESTATUS[0]}
set -e

# One line over all test assemblies, from the per-assembly lines dotnet test prints.
# Parallel runs may print two of them on one line, hence grep -o.
summary="$(grep -oE '(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$results/console.log" |
  sed -E 's/.*Failed: +([0-9]+), Passed: +([0-9]+), Skipped: +([0-9]+)/\1 \2 \3/' |
  awk '{f+=$1; p+=$2; s+=$3; n++} END {printf "%d passed, %d failed, %d skipped in %d test assemblies", p, f, s, n}')"
echo
echo "test.sh: $summary"
echo "test.sh: SDK conformance $( [[ $conformance -eq 0 ]] && echo passed || echo "FAILED (exit $conformance)" ): $(grep -E '^(PASS|FAIL)' "$results/conformance.log" | tail -1)"
if [[ $status -ne 0 || $conformance -ne 0 ]]; then
  echo "test.sh: FAILED (dotnet test exit $status, conformance exit $conformance)" >&2
  exit 1
fi
echo "test.sh: all tests passed"
