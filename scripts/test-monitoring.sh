#!/usr/bin/env bash
# The monitoring suite (issue 15), called by `make test`: Prometheus configuration and
# alert rules (promtool, with the rules' unit tests), Alertmanager routing (amtool), the
# Grafana dashboard and the CloudWatch agent's series against the metric catalogue, the
# local monitoring stack of `make monitoring`, and the delivery workflows (jactionlint,
# with shellcheck over their scripts). About 20 s; no eventlet, no shared servers.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

# promtool and amtool come with Debian's prometheus and prometheus-alertmanager; the
# workflows' and the smoke test's shell is checked by shellcheck.
# (the list is the Makefile's MONITORING_TEST_PACKAGES: run it as `make test-monitoring`)
# shellcheck disable=SC2086 # a list of package names, split on purpose
scripts/ensure-system.sh ${MONITORING_TEST_PACKAGES:?run it as make test-monitoring} >/dev/null

echo "[monitoring] shellcheck scripts/smoke.sh"
shellcheck scripts/smoke.sh
pytest -q --confcutdir=tests/monitoring -p no:nameko -p no:cacheprovider tests/monitoring
