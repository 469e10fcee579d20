#!/usr/bin/env bash
# The ops suite (issue 5): backup tool and restore drill, point-in-time recovery,
# Redis snapshots, retention, deployment files, Ansible lint and syntax.
# Called by `make test` from the repository root with .venv/bin on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

# nginx: `nginx -t` on the rendered config and the TLS proxy in front of moto;
# pgbackrest: WAL archiving; systemd: systemd-analyze for the backup timers.
# (the list is the Makefile's OPS_PACKAGES: run it as `make test-ops`)
# shellcheck disable=SC2086 # a list of package names, split on purpose
scripts/ensure-system.sh ${OPS_PACKAGES:?run it as make test-ops}
# Docker Compose v2 (no engine): `config` on compose.yaml with each phase's environment.
SANCTUM_COMPOSE_BIN=$(tests/ops/ensure-compose.sh)
export SANCTUM_COMPOSE_BIN

status=0
pytest -q --confcutdir=tests/ops -p no:nameko tests/ops || status=$?

echo "[ops] ansible-lint (production profile)"
(cd ansible && ansible-lint --profile production --project-dir . --nocolor) || status=$?

echo "[ops] ansible-playbook --syntax-check"
inventory=$(mktemp -d)
trap 'rm -rf "$inventory"' EXIT
cp ansible/inventory/examples/phase1.outputs.json "$inventory/"
printf 'plugin: sanctum_pulumi\noutputs_file: phase1.outputs.json\n' >"$inventory/phase1.pulumi.yml"
for playbook in site.yml deploy.yml restore.yml; do
    (cd ansible && ansible-playbook --syntax-check -i "$inventory/phase1.pulumi.yml" "$playbook") \
        || status=$?
done
exit "$status"
