"""Run every service and the gateway as separate processes: `python -m services.ops.stack`.

`make run` uses it in the foreground (Ctrl-C stops everything it started); the
test suite uses the same class to run the real stack, and to kill and restart
single services.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from services import registry
from services.kit import config
from services.ops.children import die_with_parent
from services.ops.sinks import LocalSinks

# Every service process: few real threads (only password hashing uses
# eventlet's thread pool), few malloc arenas, and large allocations (argon2's 19 MiB
# per hash) always mapped and given back, not kept in the heap by glibc's sliding
# threshold: resident memory stays down (38 MiB less for user_management).
# The Dockerfile sets the same for every container.
PROCESS_DEFAULTS = {
    "EVENTLET_THREADPOOL_SIZE": "2",
    "MALLOC_ARENA_MAX": "2",
    "MALLOC_MMAP_THRESHOLD_": "131072",
}


class Stack:
    def __init__(self, env: dict | None = None, log_dir: Path | None = None,
                 config_path: Path | None = None, metrics_port: Callable[[str], int] | None = None):
        """``metrics_port(name)``: where each process serves /metrics (None: nowhere)."""
        self.env = {**os.environ, **PROCESS_DEFAULTS, **(env or {})}
        self.log_dir = Path(log_dir or config.PROJECT_ROOT / "var" / "log")
        self.config_path = Path(config_path or config.config_file())
        self.processes: dict[str, subprocess.Popen] = {}
        self.metrics_port = metrics_port
        self.metrics_ports: dict[str, int] = {}

    @property
    def address(self) -> str:
        bind = self.env.get("WEB_SERVER_ADDRESS", "0.0.0.0:8000")
        host, _, port = bind.rpartition(":")
        host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
        return f"http://{host}:{port}"

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def start_one(self, name: str, path: str | None = None, env: dict | None = None,
                  wrapper: list[str] | None = None) -> subprocess.Popen:
        """Start a registered process by name, or any "module:Class" given as ``path``;
        ``wrapper`` goes before the command (the soak: ``ip netns exec <namespace>``)."""
        module = path or {p.name: p.path for p in registry.all_processes()}[name]
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path(name), "ab")
        registered = next((p for p in registry.all_processes() if p.path == module), None)
        extra = {"SANCTUM_SERVICE": name, **(registered.process_env if registered else {})}
        if self.metrics_port is not None:
            self.metrics_ports.setdefault(name, self.metrics_port(name))
            extra["METRICS_PORT"] = str(self.metrics_ports[name])
        process = subprocess.Popen(
            [*(wrapper or []), sys.executable, "-m", "nameko", "run", "--config", str(self.config_path),
             module],
            env={**self.env, **extra, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=config.PROJECT_ROOT,
            start_new_session=True,  # Ctrl-C in the terminal reaches us, not them
            preexec_fn=die_with_parent,
        )
        log.close()
        self.processes[name] = process
        return process

    def start(self) -> None:
        for process in registry.all_processes():
            self.start_one(process.name)

    def stop_one(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self, name: str) -> None:
        """Die the way a crash does: no clean shutdown, no acks, no flush."""
        self.stop_one(name, signal.SIGKILL)

    def stop(self) -> None:
        for name in list(self.processes):
            process = self.processes[name]
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for name in list(self.processes):
            self.stop_one(name)

    def dead(self) -> list[str]:
        return [name for name, p in self.processes.items() if p.poll() is not None]

    # --- readiness ------------------------------------------------------------
    def _gateway_up(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.address}/health", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def _service_up(self, name: str) -> bool:
        from services.ops import health  # monkey-patches: only where we wait on services

        try:
            health.check(name, timeout=2)
            return True
        except Exception:
            return False

    def ready(self, name: str) -> bool:
        return self._gateway_up() if name == "gateway" else self._service_up(name)

    def wait_ready(self, timeout: float = 60, names: list[str] | None = None) -> None:
        pending = set(names or self.processes)
        deadline = time.monotonic() + timeout
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout}s: {sorted(pending)}")
            crashed = [n for n in pending if n in self.dead()]
            if crashed:
                raise RuntimeError(f"exited during start-up: {crashed}; see {self.log_dir}")
            pending -= {name for name in list(pending) if self.ready(name)}
            if pending:
                time.sleep(0.3)


DEV_SMTP_PORT, DEV_SNS_PORT = 1025, 5055


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt  # same clean shutdown as Ctrl-C


def main() -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    config.load()
    logging.getLogger("amqp").setLevel(logging.ERROR)  # health probes' channel chatter
    log_dir = config.PROJECT_ROOT / "var" / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    sinks = None
    if not os.environ.get("SMTP_HOST"):  # no real provider configured: local stand-ins
        sinks = LocalSinks(DEV_SMTP_PORT, DEV_SNS_PORT, DEV_SNS_PORT + 1)
        sinks.start(config.PROJECT_ROOT / "var" / "mail", log_dir)
    ports = {process.name: process.metrics_port for process in registry.all_processes()}
    stack = Stack(env=sinks.env() if sinks else {}, log_dir=log_dir,
                  metrics_port=lambda name: ports.get(name, 0))
    print(f"[run] starting {len(registry.all_processes())} processes; logs in {stack.log_dir}/")
    stack.start()
    try:
        stack.wait_ready(timeout=90)
        print(f"[run] API:       {stack.address}/api/v1/")
        print(f"[run] API docs:  {stack.address}/api/v1/docs")
        print(f"[run] health:    {stack.address}/health   readiness: {stack.address}/ready")
        print(f"[run] metrics:   http://127.0.0.1:{ports['gateway']}/metrics (gateway), "
              f"ports {min(ports.values()) + 1}-{max(ports.values())} (services)")
        if sinks:
            print(f"[run] outgoing mail: var/mail/ (local SMTP sink); SMS: "
                  f"curl http://127.0.0.1:{DEV_SNS_PORT + 1}/_sms")
        print("[run] operator shell: make shell    stop: Ctrl-C")
        while not stack.dead():
            time.sleep(1)
        print(f"[run] stopped unexpectedly: {stack.dead()}; see {stack.log_dir}/", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\n[run] stopping")
        return 0
    except (TimeoutError, RuntimeError) as exc:
        print(f"[run] {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
        if sinks:
            sinks.stop()


if __name__ == "__main__":
    sys.exit(main())
