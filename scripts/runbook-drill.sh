#!/usr/bin/env bash
# Runs backup/RUNBOOK.md's development-machine drill exactly as written: the shell
# block between the `drill:begin` and `drill:end` markers, each command traced with
# the time it started. `make drill` and tests/ops/test_runbook_drill.py both run it,
# so the runbook and what is tested cannot drift apart.
#   DRILL_ROWS=10000000 DRILL_YEARS=3 scripts/runbook-drill.sh    # the 10 M-row drill
set -euo pipefail
cd "$(dirname "$0")/.."
block=$(awk '/<!-- drill:begin -->/{inside=1; next} /<!-- drill:end -->/{inside=0} inside' \
    backup/RUNBOOK.md | sed '/^```/d')
if [ -z "$block" ]; then
    echo "runbook-drill: no drill block in backup/RUNBOOK.md" >&2
    exit 2
fi
# PS4 set inside: bash ignores an inherited PS4 when run as root.
exec bash -euo pipefail -c "PS4='+ [\$(date -u +%H:%M:%S.%3N)] '; set -x; $block"
