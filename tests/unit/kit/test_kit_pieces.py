"""The kit's small parts on their own: credentials, errors, tokens, limits, logs, config."""

import io
import json
import logging
import time

import eventlet
import pytest
import redis as redis_lib
from nameko.exceptions import deserialize, serialize
from psycopg import waiting

from services.kit import config, db, errors, logs, service_auth, tokens
from services.kit.ratelimit import Limit


def test_credentials_verify_and_name_the_caller():
    credential = service_auth.credential_for("mood_tracking")
    assert service_auth.verify(credential) == "mood_tracking"
    name, _, mac = credential.partition(":")
    for forged in (f"gateway:{mac}", f"{name}:{'0' * len(mac)}", name, "", None, 7):
        with pytest.raises(errors.ServiceAuthFailed):
            service_auth.verify(forged)


def test_stamp_replaces_the_incoming_credential():
    context = {service_auth.CONTEXT_KEY: service_auth.credential_for("gateway")}
    service_auth.stamp(context, "user_management")
    assert service_auth.caller_of(context) == "user_management"


def test_signed_values_verify_only_for_their_purpose_and_unaltered():
    token = service_auth.sign("withdraw", "contact-1:1700000000")
    assert service_auth.unsign("withdraw", token) == "contact-1:1700000000"
    assert service_auth.unsign("snooze", token) is None
    assert service_auth.unsign("withdraw", token.replace("contact-1", "contact-2")) is None
    assert service_auth.unsign("withdraw", token[:-1] + ("0" if token[-1] != "0" else "1")) is None
    assert service_auth.unsign("withdraw", "no-signature") is None


@pytest.mark.parametrize("error", [
    errors.ValidationFailed(fields={"name": ["Missing data for required field."]}),
    errors.NotFound("contact not found"),
    errors.RateLimited(retry_after=42),
    errors.Conflict("already"),
])
def test_domain_errors_survive_rpc_serialization(error):
    copy = deserialize(json.loads(json.dumps(serialize(error))))
    assert type(copy) is type(error)
    assert copy.to_dict() == error.to_dict()
    assert copy.http_status == error.http_status
    if isinstance(error, errors.RateLimited):
        assert copy.retry_after == 42


def test_access_tokens_round_trip_and_are_short_lived():
    token, ttl = tokens.issue_access_token("u-1", "s-1")
    claims = tokens.TokenVerifier().claims(token)
    assert claims["sub"] == "u-1" and claims["sid"] == "s-1"
    assert ttl <= 900 and claims["exp"] - claims["iat"] == ttl


def test_an_expired_token_is_invalid():
    token, _ = tokens.issue_access_token("u-1", "s-1", now=time.time() - 3600)
    with pytest.raises(tokens.InvalidToken):
        tokens.TokenVerifier().claims(token)


def test_a_remembered_token_that_expires_while_remembered_is_refused(monkeypatch):
    token, ttl = tokens.issue_access_token("u-1", "s-1")
    verifier = tokens.TokenVerifier()
    assert verifier.claims(token)["sub"] == "u-1"  # verified once, and remembered
    issued = time.time()
    monkeypatch.setattr(tokens.time, "time", lambda: issued + ttl + tokens.LEEWAY_SECONDS - 1)
    assert verifier.claims(token)["sub"] == "u-1"  # still within its life (and the leeway)
    monkeypatch.setattr(tokens.time, "time", lambda: issued + ttl + tokens.LEEWAY_SECONDS + 2)
    with pytest.raises(tokens.InvalidToken, match="Expired"):
        verifier.claims(token)
    # Both later checks were answered from memory: the signature was checked once.
    assert verifier._verified.cache_info().hits == 2 and verifier._verified.cache_info().misses == 1


@pytest.fixture
def redis():
    client = redis_lib.Redis.from_url(config.kit().redis_url)
    yield client
    for key in client.scan_iter("ratelimit:test-*"):
        client.delete(key)


def test_fixed_window_limit(redis):
    limit = Limit("test-limit", max_hits=3, window_seconds=60)
    now = 1_000_020.0
    for _ in range(3):
        limit.take(redis, "who", now)
    with pytest.raises(errors.RateLimited) as caught:
        limit.take(redis, "who", now)
    assert caught.value.retry_after == 60 - int(now) % 60
    limit.take(redis, "someone-else", now)
    limit.take(redis, "who", now + 60)  # next window
    limit.reset(redis, "who", now + 60)
    for _ in range(3):
        limit.take(redis, "who", now + 60)


def test_parallel_attempts_cannot_slip_under_the_limit(redis):
    limit = Limit("test-parallel", max_hits=5, window_seconds=60)
    outcomes = []

    def attempt():
        try:
            limit.take(redis, "target")
            outcomes.append("allowed")
        except errors.RateLimited:
            outcomes.append("limited")

    threads = [eventlet.spawn(attempt) for _ in range(20)]
    for thread in threads:
        thread.wait()
    assert outcomes.count("allowed") == 5 and outcomes.count("limited") == 15


def test_limits_allow_when_redis_is_unreachable():
    down = redis_lib.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    Limit("test-down", max_hits=0, window_seconds=60).take(down, "who")  # availability first


def _json_logger():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.ContextFilter())
    logger = logging.getLogger("kit-log-test")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_log_lines_are_json_with_the_call_id():
    logger, stream = _json_logger()
    logs.bind_call("mood_tracking.log_shift.abc", "mood_tracking")
    logger.info("shift %s stored", "id-1")
    logs.bind_call(None, None)
    line = json.loads(stream.getvalue())
    assert line["call_id"] == "mood_tracking.log_shift.abc"
    assert line["service"] == "mood_tracking"
    assert line["message"] == "shift id-1 stored" and line["level"] == "INFO"


def test_database_error_detail_is_withheld_from_logs(migrated_database):
    """PostgreSQL quotes the offending value ("Key (k)=(...) already exists")."""
    from sqlalchemy import create_engine, text

    secret = "-".join(["feeling", "hopeless", "tonight"])
    engine = create_engine(config.kit().database_url)
    logger, stream = _json_logger()
    try:
        with engine.connect() as conn:
            conn.execute(text("CREATE TEMP TABLE notes (k text UNIQUE)"))
            for _ in range(2):
                conn.execute(text("INSERT INTO notes VALUES (:k)"), {"k": secret})
    except Exception as exc:
        assert secret in str(exc.orig)  # the raw error does carry it
        logger.exception("query failed: %s", exc)
    engine.dispose()
    output = stream.getvalue()
    assert output and secret not in output
    line = json.loads(output)
    assert "IntegrityError" in line["message"] and "withheld" in line["exc_info"]


def test_non_cooperative_psycopg_is_refused(monkeypatch):
    db.check_cooperative_driver()  # the kit's own setting passes
    if not hasattr(waiting, "wait_c"):
        pytest.skip("psycopg C extension not installed")
    monkeypatch.setattr(waiting, "wait", waiting.wait_c)
    with pytest.raises(RuntimeError, match="blocking wait function"):
        db.check_cooperative_driver()


def test_config_values_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("REDIS_URL", "redis://elsewhere:6379/3")
    try:
        assert config.load()["REDIS_URL"] == "redis://elsewhere:6379/3"
    finally:
        monkeypatch.undo()
        config.load()
    assert config.kit().redis_url != "redis://elsewhere:6379/3"


def test_a_missing_secret_file_is_a_clear_error(tmp_path):
    with pytest.raises(RuntimeError, match="make secrets"):
        config.read_secret(str(tmp_path / "nope.pem"))


def test_a_database_error_raised_from_inside_another_is_withheld_too(migrated_database):
    from sqlalchemy import create_engine, text

    secret = "-".join(["chained", "hopeless"])
    engine = create_engine(config.kit().database_url)
    logger, stream = _json_logger()
    try:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT CAST(:v AS integer)"), {"v": secret})
        except Exception as inner:
            raise RuntimeError("handler failed") from inner
    except RuntimeError:
        logger.exception("worker failed")
    engine.dispose()
    output = stream.getvalue()
    assert output and secret not in output
    assert "DataError" in json.loads(output)["exc_info"]


def test_a_rendered_entry_is_sent_as_kept_until_a_write_makes_both_unreachable(redis):
    from services.kit.cache import UserCache

    cache = UserCache(redis, "test-cache", service="test")
    user = "00000000-0000-4000-8000-000000000001"
    try:
        assert cache.peek(user, "shifts") is None
        assert cache.get_or_load(user, "shifts", lambda: {"items": [1]}) == {"items": [1]}
        found = cache.peek(user, "shifts")
        assert found.value == {"items": [1]} and found.rendered is None
        found.keep_rendered(b'{"items":[1]}')
        expiry = {key.decode(): redis.pexpiretime(key) for key in redis.scan_iter(f"test-cache:{user}:g*")}
        [entry] = [key for key in expiry if key.endswith(":shifts")]
        [rendering] = [key for key in expiry if key != entry]
        assert expiry[rendering] == expiry[entry] > 0  # it never outlives the entry it came from
        again = cache.peek(user, "shifts")
        assert again.rendered == b'{"items":[1]}' and again.value is None  # not loaded at all
        assert cache.peek(user, "other") is None  # kept per entry, not per user
        assert cache.peek(user, "shifts", reader="another route").rendered is None  # and per reader
        cache.invalidate(user)
        assert cache.peek(user, "shifts") is None  # the value and its rendering, both gone
    finally:
        cache.forget(user)
