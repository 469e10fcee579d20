"""Bad input: clear 4xx JSON naming the field, never a 500, and nothing written."""

import uuid
from datetime import datetime, timezone

import pytest

from services import registry
from tests.support import db
from tests.support.flows import unique_phone, wait_until

# (method, path template, a valid body, fields that are required, {field: wrong-typed value})
BODY_ENDPOINTS = [
    ("POST", "/api/v1/auth/register", {"email": "new-{u}@example.com", "password": "long enough pw"},
     ["email", "password"], {"email": 12, "password": ["x"], "timezone": "Mars Base!", "country": "XX"}),
    ("POST", "/api/v1/auth/login", {"email": "{email}", "password": "x"},
     ["email", "password"], {"email": "not-an-email", "password": 5}),
    ("POST", "/api/v1/auth/refresh", {"refresh_token": "x" * 40}, ["refresh_token"],
     {"refresh_token": 123}),
    ("POST", "/api/v1/auth/logout", {"everywhere": False}, [], {"everywhere": "sometimes"}),
    ("PATCH", "/api/v1/profile", {"display_name": "Z"}, [], {"timezone": 3, "locale": "english"}),
    ("DELETE", "/api/v1/account", {"password": "wrong password"}, ["password"], {"password": 1}),
    ("POST", "/api/v1/contacts", {"name": "Bob", "phone": "+447911123456"}, ["name"],
     {"name": "", "phone": "07911 123456", "email": "bob", "priority": "first"}),
    ("PATCH", "/api/v1/contacts/{contact_id}", {"name": "Rob"}, [],
     {"priority": 0, "consent_state": "confirmed", "phone": 447911123456}),
    ("POST", "/api/v1/consent/details", {"token": "{token}"}, ["token"], {"token": 42}),
    ("POST", "/api/v1/consent", {"token": "{token}", "decision": "confirm"}, ["token", "decision"],
     {"decision": "maybe", "token": "short"}),
    ("POST", "/api/v1/providers", {"name": "Dr A"}, ["name"], {"name": None, "email": "@", "phone": "1"}),
    ("PATCH", "/api/v1/providers/{provider_id}", {"role": "GP"}, [], {"role": 7}),
    ("POST", "/api/v1/medications", {"name": "Lamotrigine", "dose": "100 mg", "schedule": {"times": ["08:00"]}},
     ["name", "dose", "schedule"], {"active": "yes please", "dose": 100, "schedule": "daily",
      "dose_unit": "spoon"}),
    ("PATCH", "/api/v1/medications/{medication_id}", {"active": False}, [], {"active": [], "name": ""}),
    ("POST", "/api/v1/mood/shift",
     {"previous": {"level": 0}, "current": {"level": 1}, "intensity": 3},
     ["previous", "current", "intensity"],
     {"previous": {"level": 9}, "current": "up", "intensity": "high", "note": ["x"],
      "timestamp": "yesterday", "triggers": "stress"}),
    ("PATCH", "/api/v1/mood/shifts/{shift_id}", {"intensity": 4}, [],
     {"intensity": 0, "current": {"level": 1, "extra": 1}, "sleep_hours": -1}),
    ("PATCH", "/api/v1/alert-rules", {"severe_level": 3}, [],
     {"severe_level": 5, "drop_levels": "3", "depression_threshold": 0, "cooldown_minutes": 1}),
    ("PUT", "/api/v1/dbt/cards/{today}", {"emotions": {"joy": 2}}, [],
     {"emotions": {"joy": 9}, "urges": {"suicide": {"rating": "4"}}, "skills": "tipp",
      "medication_as_prescribed": "yes", "targets": [{"rating": 1}], "note": 5}),
    ("POST", "/api/v1/episodes", {"kind": "other", "start_day": "{today}"}, ["kind", "start_day"],
     {"kind": "sad", "start_day": "soon", "peak_severity": 5, "hospitalised": 1}),
    ("PATCH", "/api/v1/episodes/{episode_id}", {"notes": "n"}, [],
     {"kind": 3, "end_day": "later", "psychotic_features": "no"}),
    ("POST", "/api/v1/episodes/{episode_id}/close", {"end_day": "{today}"}, ["end_day"],
     {"end_day": 20261201}),
    ("POST", "/api/v1/episodes/{episode_id}/interventions",
     {"kind": "clinician_seen", "happened_at": "{now}"}, ["kind", "happened_at"],
     {"kind": "alert_sent", "happened_at": "2026-01-01", "outcome": ["x"]}),
    ("POST", "/api/v1/medications/{medication_id}/doses", {"status": "taken"}, ["status"],
     {"status": "maybe", "amount": -1, "unit": "spoon", "taken_at": "now"}),
    ("POST", "/api/v1/medications/{medication_id}/side-effects",
     {"effect": "rash", "severity": 1, "started_on": "{today}"}, ["effect", "severity", "started_on"],
     {"effect": "itch", "severity": 4, "started_on": "yesterday"}),
    ("POST", "/api/v1/medications/{medication_id}/changes",
     {"kind": "stopped", "effective_date": "{today}"}, ["kind", "effective_date"],
     {"kind": "paused", "prescriber_id": "dr", "new": {"dose_amount": "lots"}}),
    ("POST", "/api/v1/trackers/abandonment", {"occurred_at": "{now}", "trigger": "t", "perceived": 3},
     ["occurred_at", "trigger", "perceived"], {"perceived": 11, "urges": "many", "reality_check": 1}),
    ("POST", "/api/v1/trackers/emotions", {"emotion": "fear", "intensity": 2, "onset_at": "{now}"},
     ["emotion", "intensity", "onset_at"], {"intensity": -1, "peak_at": "soon"}),
    ("POST", "/api/v1/trackers/cycle", {"day": "{today}"}, ["day"],
     {"flow": "lots", "drsp": {"22": 3}, "impairment": {"work": 7}}),
    ("POST", "/api/v1/trackers/routine", {"day": "{today}"}, ["day"], {"bed": "25:00", "dinner": 1900}),
    ("POST", "/api/v1/questionnaires/phq9", {"answers": [0] * 9}, ["answers"],
     {"answers": [5] * 9}),
    ("PUT", "/api/v1/safety-plan", {"warning_signs": ["w"]}, [],
     {"warning_signs": "w", "internal_coping": [{}], "people_to_ask": [{"contact_id": "x"}],
      "professionals": [{"role": "GP"}], "environment": [""]}),
]
IDS = [f"{m} {p}" for m, p, *_ in BODY_ENDPOINTS]


SCHEMAS = tuple(registry.SERVICES)


def row_counts() -> dict:
    """Rows per table in every service schema (outbox rows would mean an event was
    written), counted in one statement."""
    tables = [t for (t,) in db.rows(
        "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) "
        "FROM information_schema.tables WHERE table_schema = ANY(:schemas) ORDER BY 1",
        schemas=list(SCHEMAS))]
    counts = db.rows("SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in tables))[0]
    return dict(zip(tables, counts, strict=True))


@pytest.fixture(scope="module")
def user(stack):
    """One user for the whole module: no request here may write anything, and each
    test checks that nothing was written, so the tests can share the user and the
    records below (setting them up per test cost most of this module's time)."""
    from tests.support.client import Api

    return Api(stack.address).new_user()


@pytest.fixture(scope="module")
def world(user, sinks):
    """Ids for the path templates: a contact, a provider, a medication of `user`;
    returned once their asynchronous effects (invitation, analysis) have landed."""
    unique = uuid.uuid4().hex[:10]
    phone = unique_phone()
    contact = user.post("/api/v1/contacts", json={"name": "C", "phone": phone}).json()
    wait_until(lambda: sinks.sms(to=phone))
    provider = user.post("/api/v1/providers", json={"name": "P"}).json()
    medication = user.post("/api/v1/medications",
                           json={"name": "M", "dose": "1 mg", "schedule": {"as_needed": True}}).json()
    shift = user.post("/api/v1/mood/shift",
                      json={"previous": {"level": 0}, "current": {"level": 1}, "intensity": 3}).json()
    episode = user.post("/api/v1/episodes", json={"kind": "other", "start_day": "2026-01-01"}).json()
    # Every consumer of the shift's event has handled it before anything is counted.
    wait_until(lambda: db.analyses_of(user.user_id))
    for table in ("sessions.session_memory", "notifications.activity_days", "ai_context.suggestions"):
        wait_until(lambda table=table: db.scalar(f"SELECT count(*) FROM {table} WHERE user_id = :u",
                                                 u=user.user_id), message=table)
    return {"contact_id": contact["contact_id"], "provider_id": provider["provider_id"],
            "episode_id": episode["episode_id"], "today": datetime.now(timezone.utc).date(),
            "now": datetime.now(timezone.utc).isoformat(),
            "shift_id": shift["shift_id"],
            "medication_id": medication["medication_id"], "token": "t" * 32,
            "email": user.email, "u": unique}


def fill(template, world):
    if isinstance(template, str):
        return template.format(**world)
    if isinstance(template, dict):
        return {k: fill(v, world) for k, v in template.items()}
    return template


def assert_field_error(response, *names):
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    body = response.json()
    assert body["error"] and body["message"]
    for name in names:
        assert name in body["fields"], (name, body)


@pytest.mark.parametrize("method,path,valid,required,wrong", BODY_ENDPOINTS, ids=IDS)
def test_missing_fields(user, world, method, path, valid, required, wrong):
    before = row_counts()
    for name in required:
        body = {k: v for k, v in fill(valid, world).items() if k != name}
        response = user.call(method, fill(path, world), json=body)
        assert response.status_code == 400
        assert_field_error(response, name)
        assert response.json()["fields"][name] == ["Missing data for required field."]
    if method == "PATCH":  # a partial update must change something
        assert_field_error(user.call(method, fill(path, world), json={}), "_schema")
    assert row_counts() == before


@pytest.mark.parametrize("method,path,valid,required,wrong", BODY_ENDPOINTS, ids=IDS)
def test_wrong_types_and_values(user, world, method, path, valid, required, wrong):
    before = row_counts()
    for name, value in wrong.items():
        body = {**fill(valid, world), name: value}
        response = user.call(method, fill(path, world), json=body)
        assert response.status_code == 400, (name, response.text)
        assert_field_error(response, name)
    unknown = user.call(method, fill(path, world), json={**fill(valid, world), "is_admin": True})
    assert unknown.status_code == 400
    assert unknown.json()["fields"]["is_admin"] == ["Unknown field."]
    assert row_counts() == before


@pytest.mark.parametrize("method,path,valid,required,wrong", BODY_ENDPOINTS, ids=IDS)
def test_malformed_oversized_and_wrong_content_type(user, world, method, path, valid, required, wrong):
    before = row_counts()
    url = fill(path, world)
    malformed = user.call(method, url, data=b'{"name": "Bob",', headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400 and "_body" in malformed.json()["fields"]
    not_object = user.call(method, url, json=["a", "list"])
    assert not_object.status_code == 400 and "_body" in not_object.json()["fields"]
    oversized = user.call(method, url, json={**fill(valid, world), "name": "x" * 70_000})
    assert oversized.status_code == 413 and oversized.json()["error"] == "payload_too_large"
    form = user.call(method, url, data={"name": "Bob"})
    assert form.status_code == 415 and form.json()["error"] == "unsupported_media_type"
    assert row_counts() == before


def test_unknown_route_and_wrong_method_are_json(api, user):
    missing = api.request("GET", "/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong = user.call("PUT", "/api/v1/contacts", json={})
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"
    assert "POST" in wrong.headers["Allow"]


def test_chunked_oversized_body_is_refused(user):
    def chunks():
        yield b'{"name": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}'

    response = user.call("POST", "/api/v1/contacts", data=chunks(),
                         headers={"Content-Type": "application/json"})
    assert response.status_code == 413, response.text
