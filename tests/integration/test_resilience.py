"""Nothing lost when parts die: services killed mid-flow and restarted, Redis stopped."""

import threading
import time
import uuid

from sqlalchemy import text

from tests.support import db
from tests.support.barriers import crises_settled
from tests.support.flows import (
    confirmed_contact,
    crisis_emails,
    crisis_sms,
    shift,
    unique_email,
    unique_phone,
    wait_until,
)


def stored_shift_ids(ids) -> set:
    return {shift_id for (shift_id,) in db.rows(
        "SELECT shift_id::text FROM mood_tracking.mood_shifts WHERE shift_id = ANY(CAST(:ids AS uuid[]))",
        ids=list(ids))}


def restart(stack, name):
    stack.start_one(name)
    stack.wait_ready(timeout=60, names=[name])


def test_killed_services_lose_no_shift_and_send_each_alert_exactly_once(api, stack, sinks):
    people = []
    for _ in range(4):
        user = api.new_user(display_name="Sam")
        email, phone = unique_email(), unique_phone()
        confirmed_contact(user, sinks, email=email, phone=phone)
        people.append((user, email, phone))

    # Notifications down: crises must wait for it, not vanish.
    stack.kill("notifications")
    for user, _, _ in people[:2]:
        assert user.post("/api/v1/mood/shift", json=shift(-4)).status_code == 201
    # Pattern analysis killed while events are arriving.
    stack.kill("pattern_analysis")
    for user, _, _ in people[2:]:
        assert user.post("/api/v1/mood/shift", json=shift(4)).status_code == 201
    restart(stack, "pattern_analysis")
    time.sleep(1)
    restart(stack, "notifications")

    # Each shift analysed once (analyses are unique per event), each crisis's ladder
    # ended and every message planned for it final: nothing more can be sent.
    for user, email, phone in people:
        assert len(crises_settled(user, shifts=1, timeout=30)) == 1
        assert len(crisis_emails(sinks, email)) == 1, email
        assert len(crisis_sms(sinks, phone)) == 1, phone
        assert {a["status"] for a in user.get("/api/v1/alerts").json()} == {"sent"}


def test_every_acknowledged_shift_survives_the_mood_service_being_killed(api, stack):
    user = api.new_user()
    acknowledged, refused, stop = [], [], threading.Event()

    def keep_logging():
        while not stop.is_set():
            note = uuid.uuid4().hex  # one request, one note: a repeat would show twice
            response = user.post("/api/v1/mood/shift", json=shift(1, note=note))
            if response.status_code == 201:
                acknowledged.append(response.json()["shift_id"])
            else:
                refused.append(response.status_code)

    writer = threading.Thread(target=keep_logging)
    writer.start()
    wait_until(lambda: len(acknowledged) >= 20, timeout=30)
    stack.kill("mood_tracking")
    time.sleep(1.5)
    restart(stack, "mood_tracking")
    wait_until(lambda: len(acknowledged) >= 40, timeout=30)
    stop.set()
    writer.join()

    # Calls queued while it was down are served after the restart, or refused
    # with 503 once they expire; never a 500.
    assert set(refused) <= {503}
    assert stored_shift_ids(acknowledged) == set(acknowledged)
    listed = user.get("/api/v1/mood/shifts", params={"limit": 200}).json()["items"]
    assert set(acknowledged) <= {item["shift_id"] for item in listed}
    notes = [item["note"] for item in listed]
    assert len(notes) == len(set(notes))  # no call redelivered after the crash was logged twice


def test_a_dead_service_answers_503_not_a_hang(user, stack):
    stack.kill("mood_tracking")
    try:
        started = time.monotonic()
        response = user.get("/api/v1/mood/shifts")
        assert response.status_code == 503
        assert response.json()["error"] == "service_unavailable"
        assert time.monotonic() - started < 10  # RPC_TIMEOUT_SECONDS is 5 in the tests
        assert user.get("/api/v1/profile").status_code == 200  # the rest keeps working
    finally:
        restart(stack, "mood_tracking")
    assert user.get("/api/v1/mood/shifts").status_code == 200


def test_reads_and_writes_go_on_while_redis_is_down(api, user, redis_server):
    first = user.post("/api/v1/mood/shift", json=shift(1)).json()
    assert len(user.get("/api/v1/mood/shifts").json()["items"]) == 1  # cached
    redis_server.stop()
    try:
        listed = user.get("/api/v1/mood/shifts")
        assert listed.status_code == 200 and listed.json()["items"][0]["shift_id"] == first["shift_id"]
        second = user.post("/api/v1/mood/shift", json=shift(2))
        assert second.status_code == 201
        assert len(user.get("/api/v1/mood/shifts").json()["items"]) == 2
        assert api.login(user.email).status_code == 200
    finally:
        redis_server.start()
    third = user.post("/api/v1/mood/shift", json=shift(3)).json()
    items = user.get("/api/v1/mood/shifts").json()["items"]
    assert [i["shift_id"] for i in items][0] == third["shift_id"] and len(items) == 3


def test_no_health_data_or_contact_details_in_any_log(api, stack, sinks):
    marker = uuid.uuid4().hex[:8]
    user = api.new_user(display_name=f"Name{marker}")
    user.patch("/api/v1/profile", json={"phone": "+447911123456"})
    email, phone = f"c{marker}@example.com", unique_phone()
    confirmed_contact(user, sinks, name=f"Contact{marker}", email=email, phone=phone)
    failing = f"d{marker}@example.com"
    confirmed_contact(user, sinks, name=f"Failing{marker}", email=failing, priority=2)
    sinks.refuse(failing, permanently=False)  # retries and a final failure get logged too
    note, trigger = f"note{marker} I cannot cope", f"trigger{marker}"
    user.post("/api/v1/medications", json={"name": f"Med{marker}", "dose": "1 mg", "schedule": {"times": ["08:00"]}})
    user.post("/api/v1/mood/shift", json=shift(-4, note=note, triggers=[trigger]))
    user.post("/api/v1/mood/shift", json=shift(9, note=note))  # refused: an error path
    user.get(f"/api/v1/contacts/{uuid.uuid4()}")  # not found: another
    wait_until(lambda: crisis_emails(sinks, email))
    wait_until(lambda: any(a["status"] == "failed" for a in user.get("/api/v1/alerts").json()),
               timeout=20)
    logs = "".join(path.read_text() for path in stack.log_dir.glob("*.log"))
    assert "sent via email" in logs and "failed after 3 attempts" in logs  # the logs are there...
    for secret in (marker, phone, email, failing):  # ...and say nothing private
        assert secret not in logs, secret


WAITING_FOR_THE_USERS_LOCK = """
SELECT a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND NOT l.granted AND a.datname = current_database()
  AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended(:u, 0)
"""


def test_a_call_redelivered_after_its_service_died_mid_call_is_written_once(api, stack):
    """The mood service killed after it took a call, mid-write: the broker hands the call
    to the instance started in its place, and the idempotency key (the request id)
    makes it one shift.

    Deterministic: the test holds the user's write lock (log_shift's first statement
    takes it), so the call is seen waiting inside the first process before it is killed,
    and seen waiting again in the new one. The operator's client sets no expiry on its
    request, so however long the restart takes, the call is still there for it."""
    from services.ops.operator import operator_rpc

    user = api.new_user()
    key = f"crash-{uuid.uuid4().hex}"
    body = {"previous": {"level": 0}, "current": {"level": 1}, "intensity": 5, "note": key}
    waiting = lambda: {r.pid for r in db.rows(WAITING_FOR_THE_USERS_LOCK, u=user.user_id)}  # noqa: E731

    lock = db.engine().connect()
    try:
        lock.execute(text("SELECT pg_advisory_lock(hashtextextended(:u, 0))"), {"u": user.user_id})
        lock.commit()
        with operator_rpc(timeout=90) as rpc:
            call = rpc.mood_tracking.log_shift.call_async(user.user_id, body, key)
            first = wait_until(waiting, message="the call never reached the service")
            stack.kill("mood_tracking")
            stack.start_one("mood_tracking")
            # The killed process's database session still waits (PostgreSQL notices the
            # lost client only when it next talks to it); the new process has the call.
            wait_until(lambda: waiting() - first, timeout=60,
                       message="the call was not redelivered to the new process")
            lock.execute(text("SELECT pg_advisory_unlock(hashtextextended(:u, 0))"),
                         {"u": user.user_id})
            lock.commit()
            shift_ = call.result()
            again = rpc.mood_tracking.log_shift(user.user_id, body, key)  # the client's retry
    finally:
        lock.close()
        if "mood_tracking" not in stack.processes:
            stack.start_one("mood_tracking")
        stack.wait_ready(timeout=60, names=["mood_tracking"])

    assert again["shift_id"] == shift_["shift_id"]
    assert db.scalar("SELECT count(*) FROM mood_tracking.mood_shifts WHERE user_id = :u",
                     u=user.user_id) == 1
    assert db.scalar("SELECT count(*) FROM mood_tracking.outbox WHERE subject_id = :u AND "
                     "event_type = 'mood.shift.logged'", u=user.user_id) == 1
    assert [item["note"] for item in user.get("/api/v1/mood/shifts").json()["items"]] == [key]
