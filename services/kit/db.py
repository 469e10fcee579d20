"""PostgreSQL access: one SQLAlchemy session per worker, committed or rolled back
with the worker, before the caller hears back (services/kit/entrypoints.py).

How a service reads and writes, by default: through the ORM, with the worker's
session (``self.db``) inside the worker's transaction. ``OwnedRecords``
(services/kit/records.py) does create/read/update/delete of a user's rows that
way, and every lookup checks the owner. Core or raw SQL is for a measured hot
path only, and says so where it is. The one such path today is logging a mood
shift: one PL/pgSQL statement run with ``execute_alone`` (no BEGIN/COMMIT round
trips), which buys the POST figure of `make bench`
(services/mood_tracking/sql/).

Work outside a worker (the outbox relay, the notification deliverer: loops in
the background, not answering anyone) opens its own short transactions on the
service's engine; each says why where it does.
"""

from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager
from weakref import WeakKeyDictionary

from nameko.extensions import DependencyProvider
from sqlalchemy import Column, MetaData, Table, create_engine
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session

from services.kit import config
from services.kit.errors import SanctumError

# psycopg's C wait function blocks the whole eventlet hub; the select-based one
# yields. The env var only counts if set before psycopg is first imported.
os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
from psycopg import waiting  # noqa: E402

if waiting.wait is not waiting.wait_select:
    waiting.wait = waiting.wait_select

log = logging.getLogger(__name__)

_engines: dict[tuple[str, int], Engine] = {}


def check_cooperative_driver() -> None:
    """Fail loudly if psycopg would block the eventlet hub."""
    import eventlet.patcher

    if eventlet.patcher.is_monkey_patched("socket") and waiting.wait is not waiting.wait_select:
        raise RuntimeError(
            "psycopg is using a blocking wait function under eventlet; set "
            "PSYCOPG_WAIT_FUNC=wait_select before psycopg is imported"
        )


def database_url() -> str:
    return config.kit().database_url


def get_engine(url: str | None = None, pool_size: int | None = None) -> Engine:
    """One engine (and pool) per process and URL; sized to the worker count. Connections
    are opened as needed and then kept: a pool that closed the ones above a small idle
    size opened a new PostgreSQL connection for most requests under load (measured:
    most of PostgreSQL's CPU went to starting backends). PostgreSQL is given
    max_connections for thirteen processes at their busiest (compose, ensure-system)."""
    url = url or database_url()
    size = pool_size or config.kit().max_workers + 2
    key = (url, size)
    if key not in _engines:
        _engines[key] = create_engine(
            url,
            pool_size=size,
            max_overflow=4,
            pool_timeout=10,
            # No ping per checkout (a round trip per transaction): a connection
            # the server dropped fails one call, and the pool is then refreshed.
            pool_recycle=1800,
            # Statement parameters carry health data: keep them out of errors/logs.
            hide_parameters=True,
        )
    return _engines[key]


class KitSession(Session):
    """A Session that knows its service schema and runs hooks after commit."""

    def __init__(self, *args, schema: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.schema = schema
        self.finished = False
        self._after_commit: list = []
        self._alone = False
        self._committed_alone = False
        self._commit_despite_error = False

    def on_commit(self, callback) -> None:
        """Run ``callback()`` once this worker's transaction has committed."""
        self._after_commit.append(callback)

    def rollback(self) -> None:
        # What was to follow a commit must not follow the one after a rollback.
        self._after_commit.clear()
        super().rollback()

    def execute_alone(self, statement, params: dict | None = None):
        """Run ``statement`` as the worker's whole unit of work, committed on its
        own: no BEGIN and COMMIT round trips. For a write done by one statement
        (a SQL function), which is atomic by itself. It must be the worker's
        first and only statement. After-commit hooks run once the worker ends,
        even if it fails after the statement (which has committed by then)."""
        if self.in_transaction():
            raise RuntimeError("execute_alone must be the worker's first and only statement")
        self._alone = True
        connection = self.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        result = connection.execute(statement, params)
        self._committed_alone = True
        return result

    def _execute_internal(self, *args, **kwargs):
        # Under execute, scalar(s), get and ORM loads alike.
        if self._alone:
            raise RuntimeError("this worker's unit of work was one statement (execute_alone)")
        return super()._execute_internal(*args, **kwargs)

    def commit_despite_error(self) -> None:
        """Commit what this worker wrote so far even if it then fails with an
        expected domain error (a security measure the failing call must leave
        behind, such as revoking a session whose refresh token was reused)."""
        self._commit_despite_error = True

    def finish(self, exc_info):
        """Commit (or roll back on error); return the worker's resulting exc_info."""
        if self.finished:
            return exc_info
        self.finished = True
        if exc_info is not None and self._commit_despite_error and isinstance(exc_info[1], SanctumError):
            return self._commit() or exc_info
        if exc_info is not None:
            # A statement run alone committed already: what follows it must still happen.
            committed = list(self._after_commit) if self._committed_alone else []
            self.rollback()
            self._run(committed)
            return exc_info
        return self._commit()

    def _commit(self):
        """Commit and run the after-commit hooks; the exc_info of a failed commit, or None."""
        try:
            self.commit()
        except Exception:
            log.exception("commit failed")  # kit.logs withholds the database's detail text
            self.rollback()
            return sys.exc_info()
        self._run(self._after_commit)
        return None

    @staticmethod
    def _run(callbacks) -> None:
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("after-commit hook failed")


class Database(DependencyProvider):
    """Inject a KitSession bound to this service's schema."""

    def __init__(self, schema: str | None = None):
        self.schema = schema

    def setup(self):
        self.schema = self.schema or self.container.service_name
        check_cooperative_driver()
        self.engine = get_engine()
        self.sessions: WeakKeyDictionary = WeakKeyDictionary()

    def get_dependency(self, worker_ctx):
        session = KitSession(bind=self.engine, schema=self.schema, expire_on_commit=False)
        self.sessions[worker_ctx] = session
        return session

    def before_response(self, worker_ctx, exc_info):
        session = self.sessions.get(worker_ctx)
        return exc_info if session is None else session.finish(exc_info)

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        # For entrypoints outside the kit (timers): commit here instead.
        self.before_response(worker_ctx, exc_info)

    def worker_teardown(self, worker_ctx):
        session = self.sessions.pop(worker_ctx, None)
        if session is not None:
            session.close()

    def stop(self):
        self.engine.dispose()


def declarative_base(schema: str, references_users: bool = True):
    """The ORM base for a service's tables, all in its own schema.

    Server-set columns (timestamps) come back with RETURNING instead of a later
    SELECT; and ``user_management.users`` is declared so foreign keys to the
    account resolve (every schema's rows go when the account goes)."""

    class Base(DeclarativeBase):
        metadata = MetaData(schema=schema)
        __mapper_args__ = {"eager_defaults": True}

    if references_users:
        reference_users(Base.metadata)
    return Base


def reference_users(metadata: MetaData) -> Table:
    """Declare user_management.users in another service's metadata, so its
    foreign keys to the account resolve (rows go when the account goes)."""
    return Table("users", metadata, Column("user_id", UUID(as_uuid=False), primary_key=True),
                 schema="user_management", extend_existing=True)


@contextmanager
def session_scope(database: Database):
    """A session of the service's schema for work outside any worker (start-up,
    background loops): committed when the block ends (then its after-commit hooks
    run), rolled back if it raises."""
    session = KitSession(bind=database.engine, schema=database.schema, expire_on_commit=False)
    try:
        yield session
        failed = session.finish(None)
        if failed is not None:
            raise failed[1]
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def database_of(container, needed_by: str) -> Database:
    """The container's Database provider, for extensions that work in its schema."""
    for dependency in container.dependencies:
        if isinstance(dependency, Database):
            return dependency
    raise RuntimeError(f"{container.service_name}: {needed_by} needs a Database dependency")
