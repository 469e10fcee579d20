"""Where a request's CPU goes, for `make bench`: CPU seconds each process spent during a
load (the stack's processes, RabbitMQ, PostgreSQL), per request; and py-spy's samples
of each Python process, summed by the library the running frame belongs to."""

from __future__ import annotations

import collections
import contextlib
import os
import subprocess
import tempfile
from pathlib import Path

import psutil

# A frame's file path -> the part of the system it belongs to (first match wins).
LIBRARIES = (
    ("/eventlet/", "eventlet (green threads, wsgi)"),
    ("/werkzeug/", "werkzeug (HTTP request/response)"),
    ("/kombu/", "kombu+amqp (AMQP)"), ("/amqp/", "kombu+amqp (AMQP)"),
    ("/nameko/", "nameko (entrypoints, workers)"),
    ("/sqlalchemy/", "sqlalchemy"), ("/psycopg/", "psycopg"),
    ("/marshmallow/", "marshmallow (validation)"),
    ("/jwt/", "jwt"), ("/cryptography/", "jwt"),
    ("/redis/", "redis client"),
    ("/prometheus_client/", "prometheus metrics"),
    ("/json/", "json"), ("/orjson", "json"),
    ("/services/kit/", "services/kit"), ("/gateway/", "gateway code"),
    ("/services/", "service code"),
    ("/logging/", "logging"), ("/threading.py", "threading"),
)


def library_of(path: str) -> str:
    """py-spy names files relative to their sys.path entry (eventlet/hubs/hub.py)."""
    path = path if path.startswith("/") else "/" + path
    for marker, name in LIBRARIES:
        if marker in path:
            return name
    return "other (python, stdlib)"


def system_pids() -> dict[str, list[int]]:
    """RabbitMQ's and PostgreSQL's processes on this machine."""
    found: dict[str, list[int]] = {"rabbitmq": [], "postgresql": []}
    for process in psutil.process_iter(["name", "cmdline"]):
        name = process.info["name"] or ""
        if name == "beam.smp":
            found["rabbitmq"].append(process.pid)
        elif name == "postgres" or name.startswith("postgres:"):
            found["postgresql"].append(process.pid)
    return found


def _cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
    return total


class CpuMeter:
    """CPU seconds spent by each named group of processes between start() and stop()."""

    def __init__(self, groups: dict[str, list[int]]):
        self.groups = groups

    def start(self) -> None:
        # PostgreSQL starts a backend per connection: count the ones alive at the end too.
        self.before = {name: _cpu(pids) for name, pids in self.groups.items()}

    def stop(self) -> dict[str, float]:
        self.groups["postgresql"] = system_pids()["postgresql"]
        after = {name: _cpu(pids) for name, pids in self.groups.items()}
        return {name: max(0.0, after[name] - self.before.get(name, 0.0)) for name in after}


class Sampler:
    """py-spy recording of several processes at once, summed by library."""

    def __init__(self, pids: dict[str, int], seconds: int, rate: int = 200):
        self.pids, self.seconds, self.rate = pids, seconds, rate
        self.directory = Path(tempfile.mkdtemp(prefix="sanctum-pyspy-"))
        self.recorders: dict[str, subprocess.Popen] = {}

    def start(self) -> None:
        py_spy = str(Path(os.environ.get("VIRTUAL_ENV", "")) / "bin" / "py-spy")
        py_spy = py_spy if os.path.exists(py_spy) else "py-spy"
        for name, pid in self.pids.items():
            self.recorders[name] = subprocess.Popen(
                [py_spy, "record", "--pid", str(pid), "--duration", str(self.seconds), "--rate",
                 str(self.rate), "--format", "raw", "--nonblocking", "--gil",
                 "--output", str(self.directory / f"{name}.txt")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> dict[str, dict[str, float]]:
        """Per process: the share of samples whose running frame is in each library."""
        shares = {}
        for name, recorder in self.recorders.items():
            recorder.wait(self.seconds + 30)
            path = self.directory / f"{name}.txt"
            if path.exists():
                shares[name] = _shares(path.read_text())
        return shares


# Where a green-threaded process waits for work: the hub's poll. Not CPU spent.
IDLE_FRAMES = ("do_poll (eventlet/hubs/",)


def _shares(collapsed: str) -> dict[str, float]:
    counts: collections.Counter = collections.Counter()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        leaf = stack.rsplit(";", 1)[-1]
        if any(frame in leaf for frame in IDLE_FRAMES):
            continue
        if "(" in leaf:  # "function (path:line)"
            counts[library_of(leaf[leaf.index("(") + 1:])] += int(count)
        else:
            counts["other (python, stdlib)"] += int(count)
    total = sum(counts.values()) or 1
    return {library: count / total for library, count in counts.most_common()}
