"""Configuration: one YAML file (config.yaml) with ${ENV:default} overrides.

Inside `nameko run` / `nameko shell` the file is already loaded into
``nameko.config``. Other processes (alembic, CLIs, tests) call ``load()``,
which reads the same file through nameko's own loader, so there is exactly one
way values are resolved.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from nameko import config as nameko_config

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_FILE = PROJECT_ROOT / "config.yaml"


def config_file() -> Path:
    return Path(os.environ.get("SANCTUM_CONFIG", DEFAULT_CONFIG_FILE))


def load(path: str | os.PathLike | None = None) -> dict:
    """Load config.yaml (env overrides applied) into nameko.config and return it."""
    from nameko.cli.utils.config import load_config

    with open(path or config_file()) as handle:
        values = load_config(handle) or {}
    nameko_config.clear()
    nameko_config.update(values)
    return nameko_config


def get(key: str, default=None):
    if not nameko_config:
        load()
    return nameko_config.get(key, default)


def section(name: str) -> dict:
    return get(name, {}) or {}


def resolve_path(value: str | os.PathLike) -> Path:
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path


@cache
def read_secret(path: str) -> bytes:
    """Read a secret from a file (never from the YAML itself)."""
    resolved = resolve_path(path)
    try:
        return resolved.read_bytes().strip()
    except FileNotFoundError:
        raise RuntimeError(
            f"secret file {resolved} is missing: run `make secrets` locally, or set the "
            "matching *_FILE variable to where your secret store mounts it"
        ) from None
