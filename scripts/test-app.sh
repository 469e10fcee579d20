#!/usr/bin/env bash
# The application suite (tests/ except infra/ and ops/) in shards that run side by side:
# each shard is a pytest session with its own database, vhost, Redis, mail and SMS sinks
# and stack of services (SANCTUM_TEST_SHARD, tests/support/environment.py). The suite
# mostly waits on the stack, so two shards take about half the time on two cores.
# A shard is a set of whole files, so module fixtures are set up once.
#   scripts/test-app.sh            every shard, then each shard's output
#   scripts/test-app.sh 2          one shard (its output as it runs)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/.venv/bin}
LOGS=${SANCTUM_TEST_LOGS:-var/test-logs}
mkdir -p "$LOGS"

# Shard 1: the schemathesis contract run (a few minutes on its own), the unit tests and
# the bad-input matrix; shard 2: every other test through the stack.
SHARD_1=(tests/integration/test_api_contract.py tests/integration/test_bad_input.py tests/unit)
shard_files() {
    if [ "$1" = 1 ]; then printf '%s\n' "${SHARD_1[@]}"; return; fi
    local file
    for file in tests/integration/test_*.py; do
        [[ " ${SHARD_1[*]} " == *" $file "* ]] || echo "$file"
    done
}

run_shard() {
    local shard=$1
    mapfile -t files < <(shard_files "$shard")
    SANCTUM_TEST_SHARD=$shard "$BIN/pytest" -q -p no:cacheprovider "${files[@]}"
}

if [ $# -gt 0 ]; then
    run_shard "$1"
    exit
fi

declare -A pids
for shard in 1 2; do
    run_shard "$shard" >"$LOGS/app-$shard.log" 2>&1 &
    pids[$shard]=$!
done
status=0
for shard in 1 2; do
    code=0
    wait "${pids[$shard]}" || code=$?
    echo "---- app suite, shard $shard (exit $code) ----"
    cat "$LOGS/app-$shard.log"
    [ "$code" = 0 ] || status=1
done
exit "$status"
