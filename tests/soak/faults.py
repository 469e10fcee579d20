"""The faults: one every N seconds, and one partition per run.

The order: every service instance (both gateways too) in turn, SIGKILL then a
restart; every ``server_every``-th fault is a server crash instead, RabbitMQ, PostgreSQL and
Redis in turn (SIGKILL of every process of the server, restart two seconds later).
The instance order starts at a random place, so short runs together reach every
instance. Runs from the main thread (see tests/soak/world.py).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

SERVERS = ("redis", "postgres", "rabbitmq")  # the quick ones first: a short run has all three
DOWN_SECONDS = 2.0


@dataclass
class Faults:
    world: object
    every: float
    server_every: int = 4
    log: list[tuple[float, str]] = field(default_factory=list)
    _turn: int = 0

    def __post_init__(self):
        names = list(self.world.instances)
        start = random.randrange(len(names))
        self.order = names[start:] + names[:start]
        self.started = time.monotonic()

    def note(self, what: str) -> None:
        at = time.monotonic() - self.started
        self.log.append((at, what))
        print(f"[soak] {at:7.1f}s  {what}", flush=True)

    def next_fault(self) -> None:
        turn, self._turn = self._turn, self._turn + 1
        servers_so_far = turn // self.server_every
        if turn % self.server_every == self.server_every - 1:
            self.crash_server(SERVERS[servers_so_far % len(SERVERS)])
            return
        kills_so_far = turn - servers_so_far
        name = self.order[kills_so_far % len(self.order)]
        if name == self.world.partitioned_instance and getattr(self, "partitioned", False):
            name = self.order[(kills_so_far + 1) % len(self.order)]
        self.kill_instance(name)

    def kill_instance(self, name: str) -> None:
        self.world.stack.kill(name)
        self.note(f"kill -9 {name}")
        time.sleep(1)
        self.world.start_instance(name)

    def crash_server(self, server: str) -> None:
        target = {"rabbitmq": self.world.rabbit, "postgres": self.world.postgres,
                  "redis": self.world.redis}[server]
        target.crash()
        self.note(f"crash {server}")
        time.sleep(DOWN_SECONDS)
        started = time.monotonic()
        target.start()
        self.note(f"{server} back after {DOWN_SECONDS + time.monotonic() - started:.1f}s down")

    def cut(self) -> None:
        self.world.namespace.cut_broker()
        self.partitioned = True
        self.note(f"partition: {self.world.partitioned_instance} cut off from RabbitMQ")

    def heal(self) -> None:
        self.world.namespace.heal_broker()
        self.partitioned = False
        self.note(f"partition healed: {self.world.partitioned_instance} can reach RabbitMQ")

    def revive_the_dead(self) -> None:
        """An instance that exited by itself (not one we killed) is restarted and noted."""
        for name in self.world.stack.dead():
            self.note(f"{name} had exited (code {self.world.stack.processes[name].returncode}); restarting")
            self.world.start_instance(name)

    def counts(self) -> dict[str, int]:
        kinds: dict[str, int] = {}
        for _, what in self.log:
            kind = ("kill -9 of an instance" if what.startswith("kill -9")
                    else what if what.startswith("crash") else
                    "partition" if what.startswith("partition:") else
                    "instance exited by itself" if "had exited" in what else None)
            if kind:
                kinds[kind] = kinds.get(kind, 0) + 1
        return kinds
