"""Session memory and conversations on the real stack: the current state follows
what is logged (never going back to an older fact), conversations end after
inactivity, and the turns kept follow the user's retention."""

from datetime import datetime, timedelta, timezone

import pytest

from tests.support import db
from tests.support.events import capture_events, republish
from tests.support.flows import wait_until

NOW = datetime.now(timezone.utc)


def log_shift(user, level: int, state: str | None = None, occurred_at: datetime | None = None) -> dict:
    current = {"level": level, **({"state": state} if state else {})}
    body = {"previous": {"level": 0}, "current": current, "intensity": 5}
    if occurred_at is not None:
        body["timestamp"] = occurred_at.isoformat()
    answer = user.post("/api/v1/mood/shift", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def current(user) -> dict:
    answer = user.get("/api/v1/sessions/current")
    assert answer.status_code == 200, answer.text
    return answer.json()


def mood_of(user) -> dict | None:
    return current(user)["mood"]


def test_a_shift_to_anxious_becomes_the_current_state(user):
    assert current(user)["mood"] is None
    shift = log_shift(user, -1, "anxious")
    mood = wait_until(lambda: mood_of(user))
    assert mood["state"] == "anxious" and mood["level"] == -1 and mood["shift_id"] == shift["shift_id"]


def handled(schema: str, event_id: str) -> bool:
    return db.scalar(f"SELECT count(*) FROM {schema}.processed_events WHERE event_id = :e",
                     e=event_id) > 0


def published_events(user_id: str) -> list[str]:
    return [row.event_id for row in db.rows(
        "SELECT event_id::text FROM mood_tracking.outbox WHERE subject_id = :u AND status = 'published' "
        "ORDER BY created_at", u=user_id)]


def test_events_late_and_twice_never_bring_back_an_older_state(user):
    with capture_events("mood_tracking", "mood.shift.logged") as captured:
        newest = log_shift(user, 2, "energetic")
        wait_until(lambda: (mood_of(user) or {}).get("shift_id") == newest["shift_id"])
        older = log_shift(user, -2, "sad", occurred_at=NOW - timedelta(hours=3))  # logged after the fact
        wait_until(lambda: len(published_events(user.user_id)) == 2)
    mine = {e["data"]["shift_id"]: e for e in captured if e["data"]["user_id"] == user.user_id}
    republish("mood_tracking", mine[older["shift_id"]])                     # the old one, twice
    republish("mood_tracking", mine[newest["shift_id"]])                    # the newest, again
    # A barrier: one more (older still) shift, queued behind the replays on the same queue.
    log_shift(user, 0, "calm", occurred_at=NOW - timedelta(hours=5))
    barrier = wait_until(lambda: published_events(user.user_id)[2:])[0]
    wait_until(lambda: handled("sessions", barrier), timeout=20)
    assert mood_of(user)["shift_id"] == newest["shift_id"]
    assert db.scalar("SELECT count(*) FROM sessions.processed_events WHERE event_id = ANY(CAST(:ids AS uuid[]))",
                     ids=published_events(user.user_id)) == 3


def say(user, text: str, session_id: str | None = None) -> dict:
    body = {"text": text, **({"session_id": session_id} if session_id else {})}
    answer = user.post("/api/v1/assistant/messages", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def logs_of(user, session_id: str) -> list[dict]:
    answer = user.get(f"/api/v1/sessions/{session_id}/logs")
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_conversation_ends_after_inactivity_and_the_next_turn_starts_another(user):
    first = say(user, "Hello")
    again = say(user, "I feel a bit anxious about tomorrow", first["session_id"])
    assert again["session_id"] == first["session_id"] and not again["new_session"]
    db.execute("UPDATE sessions.sessions SET last_activity_at = now() - interval '31 minutes' "
               "WHERE session_id = :s", s=first["session_id"])
    wait_until(lambda: db.scalar("SELECT ended_at IS NOT NULL FROM sessions.sessions "
                                 "WHERE session_id = :s", s=first["session_id"]))  # the sweep ended it
    listed = next(s for s in user.get("/api/v1/sessions").json() if s["session_id"] == first["session_id"])
    assert listed["ended_at"] is not None
    later = say(user, "Are you there?", first["session_id"])
    assert later["new_session"] and later["session_id"] != first["session_id"]
    assert later["disclosure"]  # a new conversation says again that it is software


def test_turns_are_kept_for_the_retention_chosen_and_can_be_deleted(user):
    reply = say(user, "I keep replaying an argument with my sister")
    turns = wait_until(lambda: logs_of(user, reply["session_id"]))
    assert [t["role"] for t in turns] == ["user", "assistant"]
    assert turns[0]["text"] == "I keep replaying an argument with my sister"
    assert turns[1]["text"] == reply["reply"]
    assert db.scalar("SELECT min(expires_at - created_at) FROM sessions.session_logs "
                     "WHERE session_id = :s", s=reply["session_id"]) == timedelta(days=30)

    assert user.delete(f"/api/v1/sessions/{reply['session_id']}/logs").status_code == 204
    assert logs_of(user, reply["session_id"]) == []

    say(user, "Another thought", reply["session_id"])
    wait_until(lambda: logs_of(user, reply["session_id"]))
    assert user.put("/api/v1/sessions/settings", json={"log_retention_days": 0}).json() == {
        "log_retention_days": 0}
    assert logs_of(user, reply["session_id"]) == []            # a shorter retention applies at once
    barrier = say(user, "And one more", reply["session_id"])
    wait_until(lambda: handled("sessions", db.scalar(
        "SELECT event_id::text FROM ai_context.outbox WHERE subject_id = :u AND event_type = "
        "'assistant.exchanged' ORDER BY created_at DESC LIMIT 1", u=user.user_id)))
    assert barrier["session_id"] == reply["session_id"] and logs_of(user, reply["session_id"]) == []


def test_an_expired_turn_is_swept(user):
    reply = say(user, "Just checking in")
    wait_until(lambda: logs_of(user, reply["session_id"]))
    db.execute("UPDATE sessions.session_logs SET expires_at = now() - interval '1 second' "
               "WHERE session_id = :s", s=reply["session_id"])
    wait_until(lambda: db.scalar("SELECT count(*) FROM sessions.session_logs WHERE session_id = :s",
                                 s=reply["session_id"]) == 0)


def test_another_users_conversation_is_not_found(user, other_user):
    reply = say(user, "Hello there")
    wait_until(lambda: logs_of(user, reply["session_id"]))
    path = f"/api/v1/sessions/{reply['session_id']}/logs"
    assert other_user.get(path).status_code == 404
    assert other_user.delete(path).status_code == 404
    assert len(logs_of(user, reply["session_id"])) == 2        # nothing deleted
    carried_on = other_user.post("/api/v1/assistant/messages",
                                 json={"text": "hi", "session_id": reply["session_id"]})
    assert carried_on.status_code == 404
    assert other_user.get("/api/v1/sessions").json() == []


@pytest.mark.parametrize("body, status, field", [
    ({"log_retention_days": 366}, 400, "log_retention_days"),
    ({"log_retention_days": -1}, 400, "log_retention_days"),
    ({"log_retention_days": "30"}, 400, "log_retention_days"),
    ({}, 400, "log_retention_days"),
    ({"log_retention_days": 7, "extra": 1}, 400, "extra"),
])
def test_bad_session_settings_are_refused_naming_the_field(user, body, status, field):
    answer = user.put("/api/v1/sessions/settings", json=body)
    assert answer.status_code == status and field in answer.json()["fields"]
    assert user.get("/api/v1/sessions/settings").json() == {"log_retention_days": 30}


def test_a_path_that_is_not_an_id_is_not_found(user):
    assert user.get("/api/v1/sessions/not-a-session/logs").status_code == 404
