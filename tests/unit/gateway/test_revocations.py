"""The gateway's copy of the revoked-session list, against the tests' real Redis."""

import uuid

import eventlet
import pytest

from gateway.revocations import RevokedSessions
from services.kit import tokens
from services.kit.redis import client as redis_client
from tests.support.flows import wait_until


def revoke(redis, session_id: str) -> None:
    """What user_management does on log-out."""
    pipe = redis.pipeline()
    pipe.set(tokens.revoked_session_key(session_id), 1, ex=tokens.revocation_ttl_seconds())
    pipe.publish(tokens.REVOCATIONS_CHANNEL, session_id)
    pipe.execute()


@pytest.fixture
def redis():
    return redis_client()


@pytest.fixture
def following(redis):
    revoked = RevokedSessions(redis)
    thread = eventlet.spawn(revoked.run)
    wait_until(lambda: revoked.in_sync, timeout=5)
    yield revoked
    revoked.stop()
    thread.kill()


def test_before_it_is_in_sync_each_check_asks_redis(redis):
    revoked, session = RevokedSessions(redis), str(uuid.uuid4())
    assert not revoked.is_revoked(session)
    revoke(redis, session)
    assert revoked.is_revoked(session)


def test_sessions_revoked_before_start_are_loaded(redis):
    earlier = str(uuid.uuid4())
    revoke(redis, earlier)
    revoked = RevokedSessions(redis)
    thread = eventlet.spawn(revoked.run)
    try:
        wait_until(lambda: revoked.in_sync, timeout=5)
        redis.delete(tokens.revoked_session_key(earlier))  # answered from memory from now on
        assert revoked.is_revoked(earlier)
        assert not revoked.is_revoked(str(uuid.uuid4()))
    finally:
        revoked.stop()
        thread.kill()


def test_a_revocation_reaches_the_copy_without_a_lookup_per_request(redis, following):
    session = str(uuid.uuid4())
    assert not following.is_revoked(session)
    revoke(redis, session)
    wait_until(lambda: following.is_revoked(session), timeout=2)
    redis.delete(tokens.revoked_session_key(session))
    assert following.is_revoked(session)  # the copy, not a Redis lookup, answered


def test_a_feed_that_goes_silent_is_given_up_and_checks_ask_redis_again(redis, monkeypatch):
    from redis.client import PubSub

    from gateway import revocations

    monkeypatch.setattr(revocations, "PING_EVERY_SECONDS", 0.2)
    monkeypatch.setattr(revocations, "SILENT_FOR_SECONDS", 1.0)
    monkeypatch.setattr(PubSub, "ping", lambda self, *args, **kwargs: None)  # no sign of life
    revoked = RevokedSessions(redis)
    thread = eventlet.spawn(revoked.run)
    try:
        wait_until(lambda: revoked.in_sync, timeout=5)
        wait_until(lambda: not revoked.in_sync, timeout=5)
        session = str(uuid.uuid4())
        revoke(redis, session)
        assert revoked.is_revoked(session)  # asked Redis itself
    finally:
        revoked.stop()
        thread.kill()
