"""What the soak runs on: private servers, the sinks, two of every process.

Every process is started from the main thread: services.ops.children ties each
to the thread that started it, and the main thread lives until the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from services import registry
from tests.support.netns import Namespace
from tests.support.ports import free_port
from tests.support.private_servers import PrivatePostgres, PrivateRabbit, PrivateRedis
from tests.support.processes import Sinks

DATABASE = "sanctum_soak"


def soak_env(heartbeat: int) -> dict:
    """Settings of every process: the production defaults (config.yaml), except
    what would make a crisis or reminder wait minutes for its turn."""
    return {
        "TRUSTED_PROXY_HOPS": "1",  # each simulated client sends its own X-Forwarded-For
        "CRISIS_PROMPT_MINUTES": "0",  # contacts are alerted at once
        "CRISIS_CONTACT_MINUTES": "0",
        "NOTIFY_SCHEDULER_EVERY_SECONDS": "1",
        "APP_BASE_URL": "https://app.soak",
        "AMQP_HEARTBEAT": str(heartbeat),
        # Access tokens last a minute (15 at most in production): the clients renew
        # theirs (refresh token, or log-in) all through the faults, as apps do.
        "ACCESS_TOKEN_TTL_SECONDS": "60",
        "LOG_LEVEL": "INFO",
    }


@dataclass
class Instance:
    name: str  # as logged and shown in the report: "mood_tracking", "mood_tracking_2"
    process: registry.Process
    env: dict = field(default_factory=dict)
    wrapper: list[str] = field(default_factory=list)

    @property
    def service(self) -> str:
        return self.process.name


class World:
    def __init__(self, partition: str | None, heartbeat: int, keep: bool = False):
        self.root = Path(tempfile.mkdtemp(prefix="sanctum-soak-"))
        self.root.chmod(0o755)  # PostgreSQL runs as its own user
        self.keep = keep
        self.namespace = Namespace() if partition else None
        extra = {}
        if self.namespace:
            extra = {"data": (self.namespace.host_address["data"],),
                     "broker": (self.namespace.host_address["broker"],)}
        self.postgres = PrivatePostgres(self.root / "postgres", free_port(), extra.get("data", ()),
                                        self.namespace.networks if self.namespace else ())
        self.rabbit = PrivateRabbit(self.root / "rabbitmq", free_port(), free_port(), free_port(),
                                    extra.get("broker", ()))
        self.redis = PrivateRedis(self.root / "redis", free_port(), extra.get("data", ()))
        self.sinks = Sinks(smtp_port=free_port(), sns_port=free_port(), sns_inspect_port=free_port())
        self.gateway_ports = {"gateway": free_port(), "gateway_2": free_port()}
        self.partition = partition
        self.settings = soak_env(heartbeat)
        self.instances: dict[str, Instance] = {}
        self.stack = None

    # --- start ------------------------------------------------------------------
    def env(self) -> dict:
        return {"DATABASE_URL": self.postgres.url(DATABASE), "AMQP_URI": self.rabbit.uri(),
                "REDIS_URL": self.redis.url(), **self.sinks.env(), **self.settings}

    def start(self) -> None:
        if self.namespace:
            self.namespace.create()
        self.rabbit.init(wait=False)  # the slowest: it boots meanwhile
        self.postgres.init((DATABASE,))
        self.redis.start()
        self.sinks.start(self.root)
        os.environ.update(self.env())
        from services.kit import config

        config.load()
        self._migrate()
        self.rabbit.wait_started()
        from services.ops.queues import declare

        declare()
        self._start_processes()

    def _migrate(self) -> None:
        from alembic import command

        from tests.support.environment import alembic_config

        command.upgrade(alembic_config(self.postgres.url(DATABASE)), "head")

    def _start_processes(self) -> None:
        from services.ops.stack import Stack

        self.stack = Stack(env=self.env(), log_dir=self.root / "logs")
        for process in registry.SERVICES.values():
            for name in (process.name, f"{process.name}_2"):
                self.instances[name] = Instance(name, process)
        for name, port in self.gateway_ports.items():
            self.instances[name] = Instance(name, registry.GATEWAY,
                                            env={"WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"})
        if self.partition:
            cut_off = self.instances[f"{self.partition}_2"]
            inner = self.namespace.host_address
            cut_off.wrapper = self.namespace.prefix
            cut_off.env = {"DATABASE_URL": self.postgres.url(DATABASE, host=inner["data"]),
                           "REDIS_URL": self.redis.url(host=inner["data"]),
                           "AMQP_URI": self.rabbit.uri(host=inner["broker"])}
        for instance in self.instances.values():
            self.start_instance(instance.name)
        self.wait_ready(timeout=240)

    def start_instance(self, name: str) -> None:
        instance = self.instances[name]
        self.stack.start_one(name, instance.process.path, env=instance.env, wrapper=instance.wrapper)

    @property
    def partitioned_instance(self) -> str | None:
        return f"{self.partition}_2" if self.partition else None

    # --- readiness ----------------------------------------------------------------
    def gateway_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.gateway_ports.values()]

    def rpc_consumers(self) -> dict[str, int]:
        """Service -> how many instances consume its RPC queue (0 while the broker is down)."""
        import kombu

        counts = {}
        with kombu.Connection(self.rabbit.uri(), connect_timeout=5) as connection:
            channel = connection.channel()
            for service in registry.SERVICES:
                counts[service] = channel.queue_declare(f"rpc-{service}", passive=True).consumer_count
        return counts

    def gateways_up(self) -> bool:
        for url in self.gateway_urls():
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status != 200:
                        return False
            except OSError:
                return False
        return True

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            dead = self.stack.dead()
            if dead:
                raise RuntimeError(f"exited during start-up: {dead}; see {self.stack.log_dir}")
            try:
                waiting = {s: n for s, n in self.rpc_consumers().items() if n < 2}
            except Exception as exc:  # the queue exists once its first instance is up
                waiting = {"broker": repr(exc)}
            if not waiting and self.gateways_up():
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout}s: {waiting}")
            time.sleep(1)

    # --- stop -------------------------------------------------------------------
    def stop(self) -> None:
        for step in (lambda: self.stack and self.stack.stop(), self.sinks.stop, self.redis.stop,
                     self.rabbit.stop, self.postgres.stop,
                     lambda: self.namespace and self.namespace.delete()):
            try:
                step()
            except Exception as exc:  # keep stopping the rest
                print(f"[soak] while stopping: {exc!r}")
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)
