"""Root of the application test suite (tests/infra and tests/ops run apart).

eventlet must patch the standard library before anything else imports it:
nameko containers in these tests, and psycopg under them, rely on it.
"""

import eventlet

eventlet.monkey_patch()

import os  # noqa: E402
import uuid  # noqa: E402

import pytest  # noqa: E402

from tests.support import environment  # noqa: E402
from tests.support.processes import (  # noqa: E402
    ModelStandIn,
    RedisServer,
    Sinks,
    TelemetryStandIn,
    free_port,
)

# Every process this suite starts, and this process itself, use the test
# database, vhost, a Redis server of the suite's own and local mail and SMS
# sinks: a running `make run` stack is never touched.
REDIS = RedisServer(free_port())
SINKS = Sinks(smtp_port=free_port(), sns_port=free_port(), sns_inspect_port=free_port())
MODEL = ModelStandIn(free_port())
# The stack's traces and error reports go where production sends them: to a stand-in
# that keeps them for the tests that read what left the processes.
TELEMETRY = TelemetryStandIn(free_port())
os.environ.update(environment.TEST_ENV)
os.environ.update(MODEL.env())
# Service containers this process runs (the kit's own tests) count and serve their
# metrics as a service process does; tests read the counts as proof of work done.
os.environ["METRICS_PORT"] = str(free_port())
os.environ.update(REDIS.env())
os.environ.update(SINKS.env())

from services.kit import config  # noqa: E402

config.load()


@pytest.fixture(scope="session", autouse=True)
def redis_server(tmp_path_factory):
    REDIS.start(tmp_path_factory.mktemp("redis"))
    yield REDIS
    REDIS.stop()


@pytest.fixture(scope="session")
def sinks(tmp_path_factory):
    SINKS.start(tmp_path_factory.mktemp("sinks"))
    yield SINKS
    SINKS.stop()


@pytest.fixture(scope="session")
def model(tmp_path_factory):
    """The local OpenAI-compatible model the assistant's external provider talks to."""
    MODEL.start(tmp_path_factory.mktemp("model"))
    yield MODEL
    MODEL.stop()


@pytest.fixture(scope="session")
def telemetry(tmp_path_factory):
    TELEMETRY.start(tmp_path_factory.mktemp("telemetry"))
    yield TELEMETRY
    TELEMETRY.stop()


@pytest.fixture(scope="session")
def migrated_database():
    environment.reset_database()
    environment.reset_broker()
    environment.reset_redis()
    yield config.kit().database_url


@pytest.fixture(scope="session")
def stack(migrated_database, sinks, model, telemetry, tmp_path_factory):
    """The real system: every registered service and the gateway, as processes."""
    from services.ops.stack import Stack

    port = free_port()
    running = Stack(
        env={"WEB_SERVER_ADDRESS": f"127.0.0.1:{port}", **telemetry.env()},
        log_dir=tmp_path_factory.mktemp("stack-logs"),
        metrics_port=lambda name: free_port(),
    )
    running.start()
    try:
        running.wait_ready(timeout=90)
        yield running
    finally:
        running.stop()


@pytest.fixture
def api(stack):
    from tests.support.client import Api

    return Api(stack.address)


@pytest.fixture
def user(api):
    """A freshly registered user with a logged-in client."""
    return api.new_user()


@pytest.fixture
def other_user(api):
    return api.new_user()


@pytest.fixture
def unique():
    return uuid.uuid4().hex[:10]
