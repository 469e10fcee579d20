"""Configuration: one YAML file (config.yaml) with ${ENV:default} overrides, read
as one typed, frozen settings object per section.

    @dataclass(frozen=True)
    class GatewaySettings:
        SECTION = "GATEWAY"
        max_body_bytes: int
        trusted_proxy_hops: int

    config.settings(GatewaySettings).max_body_bytes   # GATEWAY.MAX_BODY_BYTES

A field ``max_body_bytes`` is the key ``MAX_BODY_BYTES`` of its section (the
top level when ``SECTION`` is None), unless its metadata names another key. Defaults live only in config.yaml: a
missing key is an error naming it, never a silent fallback written again in
code. Values are converted to the field's type (int, float, bool, str, a tuple
of them, or ``X | None``).

Inside `nameko run` / `nameko shell` the file is already loaded into
``nameko.config``. Other processes (alembic, CLIs, tests) call ``load()``,
which reads the same file through nameko's own loader, so there is exactly one
way values are resolved.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from nameko import config as nameko_config

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_FILE = PROJECT_ROOT / "config.yaml"

_sections: dict[type, object] = {}


def config_file() -> Path:
    return Path(os.environ.get("SANCTUM_CONFIG", DEFAULT_CONFIG_FILE))


def load(path: str | os.PathLike | None = None) -> dict:
    """Load config.yaml (env overrides applied) into nameko.config and return it."""
    from nameko.cli.utils.config import load_config

    with open(path or config_file()) as handle:
        values = load_config(handle) or {}
    nameko_config.clear()
    nameko_config.update(values)
    _sections.clear()
    return nameko_config


def get(key: str, default=None):
    """A raw top-level value (for nameko's own keys and the few that are not ours)."""
    if not nameko_config:
        load()
    return nameko_config.get(key, default)


T = typing.TypeVar("T")


def settings(cls: type[T]) -> T:
    """The section ``cls`` describes, read once per loaded configuration."""
    if cls not in _sections:
        _sections[cls] = _build(cls)
    return typing.cast(T, _sections[cls])


def _build(cls):
    section = getattr(cls, "SECTION", None)
    if not nameko_config:
        load()
    raw = nameko_config.get(section) if section else nameko_config
    where = f"{section}." if section else ""
    if not isinstance(raw, Mapping):
        raise RuntimeError(f"config.yaml has no {section} section")
    hints = typing.get_type_hints(cls)
    values = {}
    for field in dataclasses.fields(cls):
        key = field.metadata.get("key", field.name.upper())
        if key not in raw:
            raise RuntimeError(f"config.yaml has no {where}{key} (its default belongs there)")
        try:
            values[field.name] = _convert(hints[field.name], raw[key])
        except (TypeError, ValueError):
            raise RuntimeError(f"config.yaml {where}{key}: expected {hints[field.name]}, "
                               f"got {raw[key]!r}") from None
    return cls(**values)


def _convert(hint, value):
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        if value is None or value == "":
            return None
        return _convert(next(a for a in args if a is not type(None)), value)
    if origin is tuple:
        return tuple(_convert(args[0], item) for item in value)
    if hint is bool:
        if isinstance(value, str):
            if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(value)
            return value.lower() in ("true", "1", "yes")
        return bool(value)
    if hint in (int, float) and isinstance(value, bool):
        raise TypeError(value)
    return hint(value)


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


@dataclasses.dataclass(frozen=True)
class KitSettings:
    """The top-level keys every process reads (nameko's own: AMQP_URI, max_workers)."""

    SECTION = None
    amqp_uri: str
    database_url: str
    redis_url: str
    max_workers: int = dataclasses.field(metadata={"key": "max_workers"})  # nameko spells it so
    service_auth_secret_file: str


@dataclasses.dataclass(frozen=True)
class EventSettings:
    SECTION = "EVENTS"
    # Outbox rows still pending this long after their commit are swept up.
    outbox_sweep_after_seconds: float
    # Under load, a handler waits this long for its batch to fill (idle: not at all).
    batch_window_ms: float
    # One delay per retry, then the dead-letter queue.
    retry_delays_ms: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class RpcSettings:
    SECTION = "RPC"
    # How long a caller waits for an answer (its request expires in the queue then too).
    timeout_seconds: float


def kit() -> KitSettings:
    return settings(KitSettings)
