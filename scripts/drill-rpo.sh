#!/usr/bin/env bash
# The data-loss window drill at full length, every mode (tests/ops/test_rpo_drill.py):
# a PostgreSQL cluster of its own, continuous writes, a crash that loses the data
# volume, recovery, and the acknowledged writes missing. Prints the windows.
#   RPO_DRILL_MODES=stream,archive-5,archive-60 RPO_DRILL_SECONDS=30 scripts/drill-rpo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
scripts/ensure-system.sh nginx pgbackrest openssl
export RPO_DRILL_MODES="${RPO_DRILL_MODES:-stream,archive-5,archive-10,archive-60}"
export RPO_DRILL_SECONDS="${RPO_DRILL_SECONDS:-30}"
export RPO_SHIP_EVERY="${RPO_SHIP_EVERY:-5}"
pytest -q -s --confcutdir=tests/ops -p no:nameko tests/ops/test_rpo_drill.py 2>&1 \
    | tee /dev/stderr | grep '^\[rpo-drill\]' || true
