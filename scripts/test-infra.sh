#!/usr/bin/env bash
# Infrastructure tests (called by `make test`): the Pulumi program of each phase run
# under Pulumi's mocks with its real stack file (tests/infra), then a type check of
# infra/ with pyright. No AWS account, Pulumi CLI or provider plugin is needed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYRIGHT_VERSION=1.1.414
PYRIGHT=.tools/node_modules/.bin/pyright
BIN=${BIN:-$PWD/.venv/bin}

ensure_pyright() {
  if [ -x "$PYRIGHT" ] && "$PYRIGHT" --version 2>/dev/null | grep -q "$PYRIGHT_VERSION"; then
    return
  fi
  if ! command -v npm >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "[test-infra] installing nodejs and npm (for pyright)"
      apt-get update -q >/dev/null && apt-get install -y -q nodejs npm >/dev/null
    else
      echo "[test-infra] npm is needed to install pyright: install nodejs and npm" >&2
      exit 1
    fi
  fi
  echo "[test-infra] installing pyright $PYRIGHT_VERSION into .tools/"
  npm install --prefix .tools --no-audit --no-fund --silent "pyright@$PYRIGHT_VERSION"
}

# Docker Compose v2 (no engine): the first-boot script and Ansible are run side by side
# on a sandbox, and compose says which services each phase's environment starts.
SANCTUM_COMPOSE_BIN=$(tests/ops/ensure-compose.sh)
export SANCTUM_COMPOSE_BIN

# A separate pytest session: the app suite's root conftest monkey-patches eventlet,
# which Pulumi's asyncio/grpc runtime must not see (nameko's plugin stays off too).
"$BIN/pytest" -q --confcutdir=tests/infra -p no:pytest_nameko tests/infra

ensure_pyright
"$PYRIGHT" -p infra
