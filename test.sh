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

step "Checking tools"
ensure_dotnet

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

# One line over all test assemblies, from the per-assembly lines dotnet test prints.
# Parallel runs may print two of them on one line, hence grep -o.
summary="$(grep -oE '(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$results/console.log" |
  sed -E 's/.*Failed: +([0-9]+), Passed: +([0-9]+), Skipped: +([0-9]+)/\1 \2 \3/' |
  awk '{f+=$1; p+=$2; s+=$3; n++} END {printf "%d passed, %d failed, %d skipped in %d test assemblies", p, f, s, n}')"
echo
echo "test.sh: $summary"
if [[ $status -ne 0 ]]; then
  echo "test.sh: FAILED (dotnet test exited with $status)" >&2
  exit "$status"
fi
echo "test.sh: all tests passed"
