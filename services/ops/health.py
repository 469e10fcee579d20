"""Container health check: `python -m services.ops.health <service>`.

Exit 0 when the service answers its `health` RPC within the timeout.
"""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import sys  # noqa: E402

from services.kit import config  # noqa: E402
from services.ops.operator import operator_rpc  # noqa: E402


def check(service: str, timeout: float = 5.0) -> dict:
    with operator_rpc(timeout=timeout) as client:
        return client[service].health()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m services.ops.health <service>", file=sys.stderr)
        return 2
    config.load()
    try:
        print(check(argv[1]))
        return 0
    except Exception as exc:
        print(f"{argv[1]} unhealthy: {type(exc).__name__}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
