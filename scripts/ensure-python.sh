#!/usr/bin/env bash
# Create the project's virtualenv with a Python >= 3.11 that has venv and pip.
# On Debian/Ubuntu as root, installs python3-venv/python3-dev when missing.
set -euo pipefail
PY=${1:-python3}
VENV=${2:-.venv}

ok_python() {
    command -v "$1" >/dev/null 2>&1 &&
    "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11) or sys.version_info >= (3, 13))' 2>/dev/null
}

if ! ok_python "$PY"; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "[deps] installing python3, python3-venv and python3-dev"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-dev gcc >/dev/null
        PY=python3
    fi
fi
ok_python "$PY" || {
    echo "[deps] need Python 3.11 or 3.12 with the venv module (Debian/Ubuntu: apt-get install python3 python3-venv python3-dev); set PYTHON=/path/to/python3" >&2
    exit 1
}
echo "[deps] creating $VENV with $("$PY" --version)"
"$PY" -m venv "$VENV"
