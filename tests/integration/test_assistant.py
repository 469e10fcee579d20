"""The assistant on the real stack: suggestions that fit the user's state and
history and respect their medications; the safety screen before any model (the
local OpenAI-compatible stand-in records what it is sent); only the data kinds the
user allowed in an external model's context; fallbacks; disclosure."""

import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.support import db
from tests.support.flows import confirmed_contact, crisis_emails, unique_email, wait_until

TODAY = datetime.now(timezone.utc).date()
EXTERNAL = {"enabled": True, "tone": "warm", "frameworks": ["dbt"], "provider": "external"}


def log_shift(user, level: int, state: str | None = None) -> dict:
    current = {"level": level, **({"state": state} if state else {})}
    answer = user.post("/api/v1/mood/shift", json={"previous": {"level": 0}, "current": current,
                                                    "intensity": 6})
    assert answer.status_code == 201, answer.text
    return answer.json()


def suggestion_after(user, shift: dict) -> dict:
    def ready():
        answer = user.get("/api/v1/assistant/suggestion")
        return answer.status_code == 200 and answer.json()["as_of"] == shift["timestamp"] and answer.json()
    return wait_until(ready)


def say(user, text: str, session_id: str | None = None) -> dict:
    body = {"text": text, **({"session_id": session_id} if session_id else {})}
    answer = user.post("/api/v1/assistant/messages", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def rate_skill(user, skill_id: str, rating: int = 7) -> None:
    saved = user.call("PUT", f"/api/v1/dbt/cards/{TODAY}", json={"skills": [
        {"skill_id": skill_id, "rating": rating}]})
    assert saved.status_code == 200, saved.text


def skills_for(user, state: str) -> set[str]:
    return {s["skill_id"] for s in user.get(f"/api/v1/skills?state={state}").json()}


def take(user, name: str) -> None:
    created = user.post("/api/v1/medications", json={"name": name, "dose": "40 mg", "dose_amount": 40,
                                                     "dose_unit": "mg", "schedule": {"times": ["08:00"]}})
    assert created.status_code == 201, created.text


def external(user, shared: list[str]) -> None:
    saved = user.put("/api/v1/assistant/settings", json={**EXTERNAL, "shared": shared})
    assert saved.status_code == 200, saved.text


def sent_to_model(model) -> str:
    return json.dumps(model.requests())


# --- suggestions -------------------------------------------------------------------------

def test_a_shift_to_anxious_yields_a_suggestion_of_a_skill_for_anxiety(user):
    shift = log_shift(user, -1, "anxious")
    suggestion = suggestion_after(user, shift)
    assert suggestion["state"] == "anxious"
    assert suggestion["skill_id"] in skills_for(user, "anxious")
    assert suggestion["text"].startswith("I see you shifted to feeling anxious.")
    assert suggestion["skill"]["name"] in suggestion["text"]
    remembered = wait_until(lambda: user.get("/api/v1/sessions/current").json()["skill"])
    assert remembered["skill_id"] == suggestion["skill_id"]          # shown, so remembered


def test_a_skill_that_helped_this_user_comes_first(user, other_user):
    usual = suggestion_after(other_user, log_shift(other_user, -1, "anxious"))["skill_id"]
    helped = sorted(skills_for(user, "anxious") - {usual})[0]
    rate_skill(user, helped, 7)                                       # "used them, helped"
    wait_until(lambda: db.scalar("SELECT helped_days FROM ai_context.skill_history WHERE user_id = :u "
                                 "AND skill_id = :s", u=user.user_id, s=helped) == 1)
    assert suggestion_after(user, log_shift(user, -1, "anxious"))["skill_id"] == helped
    reply = say(user, "I'm feeling anxious and on edge")
    assert reply["skill"]["skill_id"] == helped and "helped" in reply["reply"]


def test_a_user_on_a_beta_blocker_is_never_offered_the_cold_water_step(user):
    take(user, "Propranolol")
    rate_skill(user, "tipp", 7)
    wait_until(lambda: db.scalar("SELECT count(*) FROM ai_context.medication_names WHERE user_id = :u",
                                 u=user.user_id) == 1)
    wait_until(lambda: db.scalar("SELECT helped_days FROM ai_context.skill_history WHERE user_id = :u "
                                 "AND skill_id = 'tipp'", u=user.user_id) == 1)
    suggestion = suggestion_after(user, log_shift(user, -1, "agitated"))
    assert suggestion["skill_id"] == "tipp"
    reply = say(user, "I'm so agitated I can't think straight")
    for skill in (suggestion["skill"], reply["skill"]):
        assert skill["skill_id"] == "tipp" and skill["steps"]
        assert not any("cold water" in step.lower() or "face in a bowl" in step.lower()
                       for step in skill["steps"])
    assert "cold water" not in reply["reply"].lower()


# --- the built-in assistant -------------------------------------------------------------------

def test_the_built_in_assistant_answers_usefully_and_not_with_one_line(user):
    first = say(user, "Hello")
    assert first["provider"] == "builtin" and first["disclosure"]
    assert first["reply"].startswith("A reminder: I'm SanctumTools' assistant, a piece of software")
    asks = ["I had an argument with my partner and I'm furious",
            "My mind is racing and I can't sleep",
            "I feel so lonely tonight"]
    replies = [say(user, text, first["session_id"]) for text in asks]
    assert len({r["reply"] for r in replies}) == 3
    assert all(r["skill"] and r["skill"]["name"] in r["reply"] for r in replies)
    assert not any(r["disclosure"] for r in replies)                   # once per session (and 3 h)
    assert len({r["skill"]["skill_id"] for r in replies}) >= 2          # fitted to what was said
    db.execute("UPDATE sessions.sessions SET disclosed_at = now() - interval '3 hours' "
               "WHERE session_id = :s", s=first["session_id"])
    assert say(user, "Still here", first["session_id"])["disclosure"]


def test_what_the_user_told_the_assistant_shapes_its_answer(user):
    entry = user.post("/api/v1/assistant/knowledge", json={"kind": "what_helps",
                                                           "text": "walking the dog"})
    assert entry.status_code == 201, entry.text
    reply = say(user, "I'm feeling really low and sad today")
    assert "walking the dog" in reply["reply"]


def test_an_assistant_turned_off_answers_nothing(user):
    off = user.put("/api/v1/assistant/settings", json={"enabled": False, "tone": "warm",
                                                        "frameworks": ["dbt"], "shared": [],
                                                        "provider": "builtin"})
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert user.post("/api/v1/assistant/messages", json={"text": "hello"}).status_code == 409
    assert user.get("/api/v1/assistant/suggestion").status_code == 404


# --- the safety screen -------------------------------------------------------------------------

CRISIS_PHRASES = [
    ["I want to kill myself"],
    ["I don't want to wake up tomorrow"],
    ["Everyone would be better off without me", "I've been giving away my things"],
    ["How many paracetamol would be a lethal dose?"],
    ["I lost my job today", "Which bridges in the city are taller than 25 metres?"],   # across two turns
]


@pytest.mark.parametrize("turns", CRISIS_PHRASES)
def test_crisis_language_never_reaches_the_model_and_answers_with_the_crisis_line(user, model, turns):
    assert user.patch("/api/v1/profile", json={"country": "GB"}).status_code == 200
    external(user, ["mood"])
    session_id = None
    for text in turns[:-1]:
        session_id = say(user, text, session_id)["session_id"]
    reply = say(user, turns[-1], session_id)
    assert reply["safety"] and reply["provider"] == "safety_screen" and reply["skill"] is None
    assert "116 123" in reply["reply"] and "116 123" in reply["crisis_line"]["contact"]
    assert reply["offer"] == "alert_contacts"
    assert turns[-1] not in sent_to_model(model)
    if len(turns) == 1:
        assert turns[0] not in sent_to_model(model)


def test_an_ordinary_message_reaches_the_model_with_only_the_kinds_allowed(user, model):
    take(user, "Lithium carbonate")
    log_shift(user, -2, "anxious")
    wait_until(lambda: user.get("/api/v1/sessions/current").json()["mood"])
    wait_until(lambda: db.scalar("SELECT count(*) FROM ai_context.medication_names WHERE user_id = :u",
                                 u=user.user_id) == 1)
    external(user, ["mood"])
    reply = say(user, "Work has been stressful this week, marker-one")
    assert reply["provider"] == "external" and not reply["safety"]
    [request] = [r for r in model.requests() if "marker-one" in json.dumps(r)]
    context = json.loads(request["messages"][1]["content"].removeprefix("Context (JSON): "))
    assert context["mood"]["state"] == "anxious" and context["mood"]["level"] == -2
    assert "Lithium" not in json.dumps(request) and "medications" not in context

    external(user, ["medications"])
    say(user, "Another stressful day, marker-two")
    [request] = [r for r in model.requests() if "marker-two" in json.dumps(r)]
    context = json.loads(request["messages"][1]["content"].removeprefix("Context (JSON): "))
    assert context["medications"] == ["Lithium carbonate"] and "mood" not in context
    assert "anxious" not in request["messages"][1]["content"]


@pytest.mark.parametrize("mode, reply, note", [
    ("error", None, "could not answer"),
    ("slow", None, "could not answer"),
    ("reply", "You should stop taking your lithium for a few days.", "not suitable"),
    ("reply", "It sounds like you have bipolar disorder.", "not suitable"),
])
def test_a_model_that_fails_or_answers_unsuitably_falls_back_to_the_built_in_one(user, model, mode,
                                                                                 reply, note):
    external(user, [])
    model.answer_with(mode, reply)
    try:
        answer = say(user, "I feel anxious about the meeting")
    finally:
        model.answer_with("reply")
    assert answer["provider"] == "builtin" and note in answer["note"]
    assert reply is None or reply not in answer["reply"]


def test_yes_to_the_offer_alerts_the_contacts_through_the_ladder(user, sinks):
    email = unique_email()
    confirmed_contact(user, sinks, email=email)
    crisis = say(user, "I want to end my life")
    assert crisis["offer"] == "alert_contacts"
    alerted = say(user, "yes", crisis["session_id"])
    assert alerted["alerted"] and alerted["safety"]
    wait_until(lambda: crisis_emails(sinks, email))
    [opened] = user.get("/api/v1/crises").json()
    assert opened["crisis_id"] == alerted["crisis_id"] and opened["rules"] == ["asked_for_help"]
    assert opened["steps"][0]["target"] == "contact"                    # no prompt: they just asked
    state = wait_until(lambda: user.get("/api/v1/sessions/current").json()["crisis"])
    assert state["crisis_id"] == alerted["crisis_id"]


def test_no_to_the_offer_alerts_nobody(user, sinks):
    email = unique_email()
    confirmed_contact(user, sinks, email=email)
    crisis = say(user, "I can't go on like this")
    declined = say(user, "no", crisis["session_id"])
    assert not declined["alerted"] and "won't alert anyone" in declined["reply"]
    assert user.get("/api/v1/crises").json() == []


# --- ownership and bad input ---------------------------------------------------------------------

def test_another_users_knowledge_is_not_found(user, other_user):
    entry = user.post("/api/v1/assistant/knowledge", json={"kind": "warning_sign",
                                                           "text": "sleeping four hours"}).json()
    path = f"/api/v1/assistant/knowledge/{entry['entry_id']}"
    assert other_user.get(path).status_code == 404
    assert other_user.patch(path, json={"text": "changed"}).status_code == 404
    assert other_user.delete(path).status_code == 404
    assert user.get(path).json()["text"] == "sleeping four hours"
    assert user.patch(path, json={"text": "sleeping under five hours"}).json()["text"] == \
        "sleeping under five hours"
    assert user.delete(path).status_code == 204 and user.get(path).status_code == 404


@pytest.mark.parametrize("path, body, status, field", [
    ("/api/v1/assistant/messages", {"text": ""}, 422, "text"),
    ("/api/v1/assistant/messages", {"text": "   "}, 422, "text"),
    ("/api/v1/assistant/messages", {"text": "x" * 2001}, 400, "text"),
    ("/api/v1/assistant/messages", {"text": "hi", "session_id": "nope"}, 400, "session_id"),
    ("/api/v1/assistant/messages", {"text": "hi", "channel": "fax"}, 400, "channel"),
    ("/api/v1/assistant/messages", {"text": 5}, 400, "text"),
    ("/api/v1/assistant/messages", {}, 400, "text"),
    ("/api/v1/assistant/knowledge", {"kind": "diagnosis", "text": "x"}, 400, "kind"),
    ("/api/v1/assistant/knowledge", {"kind": "other"}, 400, "text"),
])
def test_bad_assistant_requests_are_refused_naming_the_field(user, path, body, status, field):
    answer = user.post(path, json=body)
    assert answer.status_code == status, answer.text
    assert field in answer.json()["fields"]


@pytest.mark.parametrize("change, status, field", [
    ({"provider": "openai"}, 400, "provider"),
    ({"shared": ["mood", "mood"]}, 422, "shared"),
    ({"shared": ["location"]}, 400, "shared"),
    ({"tone": "sarcastic"}, 400, "tone"),
    ({"enabled": "yes"}, 400, "enabled"),
    ({"frameworks": ["cbt"]}, 400, "frameworks"),
])
def test_bad_assistant_settings_are_refused_and_change_nothing(user, change, status, field):
    before = user.get("/api/v1/assistant/settings").json()
    answer = user.put("/api/v1/assistant/settings", json={**EXTERNAL, "shared": [], **change})
    assert answer.status_code == status and field in answer.json()["fields"]
    assert user.get("/api/v1/assistant/settings").json() == before
    assert before["provider"] == "builtin" and before["shared"] == [] and before["external_offered"]


def test_a_suggestion_before_any_shift_is_not_found(user):
    assert user.get("/api/v1/assistant/suggestion").status_code == 404


def test_a_session_that_ended_long_ago_is_continued_in_a_new_one(user):
    first = say(user, "Hello")
    db.execute("UPDATE sessions.sessions SET last_activity_at = now() - :gap WHERE session_id = :s",
               gap=timedelta(hours=2), s=first["session_id"])
    assert say(user, "Hello again", first["session_id"])["new_session"]
