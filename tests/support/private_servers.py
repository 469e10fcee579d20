"""PostgreSQL, RabbitMQ and Redis servers of a test's own, which it may crash.

The machine's shared servers are never stopped by a test (other suites use them).
A test or the soak that needs to crash one starts its own here instead: a
PostgreSQL cluster made with initdb in a temporary directory, a RabbitMQ node
with its own node name, Erlang distribution port and epmd, a redis-server; each
on a free port, listening on 127.0.0.1 and on any extra address given (the host
side of a network namespace's link, tests/support/netns.py).

``crash()`` is a SIGKILL of every process of the server (no shutdown, no flush:
what a host losing the process looks like); ``start()`` again brings the same
data back (PostgreSQL runs crash recovery, RabbitMQ recovers its durable queues).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psutil

from services.ops.children import die_with_parent
from services.ops.sinks import wait_for_port

PG_BIN = Path(os.environ.get("SANCTUM_PG_BIN", "/usr/lib/postgresql/15/bin"))
RABBITMQ_SERVER = Path(os.environ.get("SANCTUM_RABBITMQ_SERVER", "/usr/lib/rabbitmq/bin/rabbitmq-server"))
DB_USER = DB_PASSWORD = "sanctum"


def _kill_tree(pid: int) -> None:
    """SIGKILL a process and everything it started."""
    try:
        parent = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    family = [*parent.children(recursive=True), parent]
    for process in family:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    # Not psutil.wait_procs: it polls with select.poll, which eventlet's patching removes.
    deadline = time.monotonic() + 10
    for process in family:
        while _alive(process) and time.monotonic() < deadline:
            time.sleep(0.02)


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _as_postgres_user():
    """initdb and postgres refuse to run as root: run them as the postgres user."""
    if os.geteuid() != 0:
        return die_with_parent
    account = pwd.getpwnam("postgres")

    def drop_privileges():
        os.setgid(account.pw_gid)
        os.setuid(account.pw_uid)
        die_with_parent()  # after setuid, which clears it

    return drop_privileges


class PrivatePostgres:
    """A PostgreSQL cluster of its own: trust authentication, role ``sanctum``."""

    def __init__(self, root: Path, port: int, extra_addresses: tuple[str, ...] = (),
                 trusted_networks: tuple[str, ...] = ()):
        self.root, self.port = Path(root), port
        self.data = self.root / "data"
        self.addresses = ("127.0.0.1", *extra_addresses)
        self.trusted_networks = trusted_networks
        self.process: subprocess.Popen | None = None

    def url(self, database: str, host: str = "127.0.0.1") -> str:
        return f"postgresql+psycopg://{DB_USER}:{DB_PASSWORD}@{host}:{self.port}/{database}"

    def init(self, databases: tuple[str, ...]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        made = subprocess.run([str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                               "--no-sync"], capture_output=True, text=True, preexec_fn=_as_postgres_user())
        if made.returncode:
            raise RuntimeError(f"initdb failed: {made.stderr.strip()}")
        settings = {
            "port": self.port, "listen_addresses": f"'{','.join(self.addresses)}'",
            "unix_socket_directories": f"'{self.root}'", "max_connections": 600,
            "shared_buffers": "'64MB'", "logging_collector": "off",
        }
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        with open(self.data / "pg_hba.conf", "a") as hba:
            hba.writelines(f"host all all {network} trust\n" for network in self.trusted_networks)
        self.start()
        self.psql(f"CREATE ROLE {DB_USER} LOGIN CREATEDB PASSWORD '{DB_PASSWORD}'")
        for database in databases:
            self.psql(f"CREATE DATABASE {database} OWNER {DB_USER}")

    def psql(self, sql: str) -> None:
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
                        "-U", "postgres", "-d", "postgres", "-c", sql], check=True, capture_output=True)

    def start(self) -> None:
        log = open(self.root / "postgres.log", "ab")
        self.process = subprocess.Popen([str(PG_BIN / "postgres"), "-D", str(self.data)],
                                        stdout=log, stderr=subprocess.STDOUT,
                                        preexec_fn=_as_postgres_user())
        log.close()
        deadline = time.monotonic() + 60
        while subprocess.run([str(PG_BIN / "pg_isready"), "-q", "-U", "postgres", "-h", "127.0.0.1", "-p", str(self.port)]).returncode:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start; see {self.root / 'postgres.log'}")
            time.sleep(0.1)

    def crash(self) -> None:
        if self.process:
            _kill_tree(self.process.pid)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # immediate shutdown
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.crash()


class PrivateRabbit:
    """A RabbitMQ node of its own: node name, AMQP port, distribution port, epmd and
    directories all private, no plugins, guest allowed from any address (the
    namespace's link is not loopback)."""

    def __init__(self, root: Path, port: int, dist_port: int, epmd_port: int,
                 extra_addresses: tuple[str, ...] = ()):
        self.root, self.port, self.dist_port, self.epmd_port = Path(root), port, dist_port, epmd_port
        self.addresses = ("127.0.0.1", *extra_addresses)
        self.node = f"sanctum-private-{port}@localhost"
        self.process: subprocess.Popen | None = None
        self.epmd: subprocess.Popen | None = None

    def uri(self, host: str = "127.0.0.1") -> str:
        return f"pyamqp://guest:guest@{host}:{self.port}/"

    def env(self) -> dict:
        root = self.root
        return {
            **os.environ,
            "HOME": str(root),  # its own Erlang cookie
            "RABBITMQ_CONF_ENV_FILE": str(root / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(root / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(root / "enabled_plugins"),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "RABBITMQ_MNESIA_BASE": str(root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(root / "log"),
            "RABBITMQ_PLUGINS_EXPAND_DIR": str(root / "plugins-expand"),
            "ERL_FLAGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def init(self, wait: bool = True) -> None:
        """``wait=False``: return at once (it boots in about ten seconds); ``wait_started``
        later. Either way call it from a thread that outlives the node (children die
        with the thread that started them)."""
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "rabbitmq-env.conf").write_text("")
        (self.root / "enabled_plugins").write_text("[].\n")
        listeners = "".join(f"listeners.tcp.{n} = {address}:{self.port}\n"
                            for n, address in enumerate(self.addresses, start=1))
        (self.root / "rabbitmq.conf").write_text(listeners + "loopback_users = none\n")
        self.epmd = subprocess.Popen(["epmd", "-port", str(self.epmd_port), "-address", "127.0.0.1"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     preexec_fn=die_with_parent)
        wait_for_port(self.epmd_port)
        self.start(wait)

    def start(self, wait: bool = True) -> None:
        log = open(self.root / "rabbitmq-server.log", "ab")
        self.process = subprocess.Popen([str(RABBITMQ_SERVER)], env=self.env(), cwd=self.root,
                                        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                        preexec_fn=die_with_parent)
        log.close()
        if wait:
            self.wait_started()

    def wait_started(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                wait_for_port(self.port, timeout=1)
                return
            except TimeoutError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"RabbitMQ did not start; see {self.root}") from None

    def crash(self) -> None:
        """SIGKILL the Erlang VM (and the script that started it)."""
        if self.process:
            _kill_tree(self.process.pid)
            self.process.wait()

    def stop(self) -> None:
        self.crash()  # nothing of it is kept after the run
        if self.epmd and self.epmd.poll() is None:
            self.epmd.kill()
            self.epmd.wait()


class PrivateRedis:
    def __init__(self, root: Path, port: int, extra_addresses: tuple[str, ...] = ()):
        self.root, self.port = Path(root), port
        self.addresses = ("127.0.0.1", *extra_addresses)
        self.process: subprocess.Popen | None = None

    def url(self, host: str = "127.0.0.1") -> str:
        return f"redis://{host}:{self.port}/0"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", *self.addresses, "--save", "",
             "--appendonly", "no", "--dir", str(self.root)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
        wait_for_port(self.port)

    def crash(self) -> None:
        if self.process:
            _kill_tree(self.process.pid)
            self.process.wait()

    stop = crash
