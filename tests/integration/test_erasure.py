"""Account erasure everywhere, driven by the registry and the database catalogue.

A user with data in every service (every table of every service schema that refers
to users, the Redis keys the services cache per user, an export file in S3) deletes
their account; once every registered service has handled ``user.deleted``, nothing
of them may be left: no row in any schema that mentions them (their id, their email,
a contact's or provider's email, the words they wrote), no outbox row about them,
no Redis key or value naming them, no S3 object under their pseudonymous prefix.

Nothing here lists the services or their tables: they come from services/registry.py
and information_schema. A new service, or a new table, that holds user rows fails
this test until the seeding below reaches it (its table must hold a row of the user
before the deletion), and then fails it again if the deletion leaves anything behind.

processed_events rows stay: they carry an event id, a consumer name and a time, and
no user data (the scan of every row's text below shows it), and they must stay for a
redelivered event to be recognised.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from datetime import date, datetime, time, timedelta, timezone
from xml.etree import ElementTree

import redis as redis_lib
import requests

from services import registry
from tests.integration.test_exports import export, finished
from tests.support import db
from tests.support.events import watching_events
from tests.support.flows import confirmed_contact, shift, unique_email, unique_phone, wait_until

TODAY = datetime.now(timezone.utc).date()  # set afresh per test (conftest)

# Columns that name an account: by name, or by a foreign key to the accounts table.
USER_COLUMNS_SQL = """
SELECT c.table_schema, c.table_name, min(c.column_name) AS column_name
FROM information_schema.columns c
JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE t.table_type = 'BASE TABLE' AND c.table_schema = ANY(:schemas)
  AND (c.column_name = 'user_id' OR EXISTS (
    SELECT 1 FROM information_schema.key_column_usage k
    JOIN information_schema.referential_constraints r
      ON r.constraint_schema = k.constraint_schema AND r.constraint_name = k.constraint_name
    JOIN information_schema.constraint_column_usage u
      ON u.constraint_schema = r.unique_constraint_schema AND u.constraint_name = r.unique_constraint_name
    WHERE k.table_schema = c.table_schema AND k.table_name = c.table_name
      AND k.column_name = c.column_name
      AND u.table_schema = 'user_management' AND u.table_name = 'users'))
GROUP BY 1, 2 ORDER BY 1, 2
"""
ALL_TABLES_SQL = """
SELECT table_schema, table_name FROM information_schema.tables
WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
  AND table_schema NOT LIKE 'pg_%'
ORDER BY 1, 2
"""


def user_tables() -> list[tuple[str, str, str]]:
    """(schema, table, column) of every table of a registered service that refers to users."""
    return [(r.table_schema, r.table_name, r.column_name)
            for r in db.rows(USER_COLUMNS_SQL, schemas=list(registry.SERVICES))]


def rows_mentioning(needles: list[str]) -> dict[str, int]:
    """"schema.table" -> rows whose text (every column, JSON and arrays included)
    contains any of the needles, over every table of every schema; one statement."""
    pattern = "|".join(re.escape(needle) for needle in needles)
    counts = " UNION ALL ".join(
        f"SELECT '{schema}.{table}' AS name, count(*) AS n FROM \"{schema}\".\"{table}\" t "
        f"WHERE t::text ~* :p" for schema, table in db.rows(ALL_TABLES_SQL))
    return {row.name: row.n for row in db.rows(f"SELECT name, n FROM ({counts}) c WHERE n > 0",
                                               p=pattern)}


def redis_mentioning(needles: list[str]) -> list[str]:
    """Keys whose name, or whose value (strings, hashes, sets, lists), names the user."""
    client = redis_lib.Redis.from_url(os.environ["REDIS_URL"])
    found = []
    for key in client.scan_iter(count=1000):
        kind = client.type(key).decode()
        values = {"string": lambda k: [client.get(k) or b""],
                  "hash": lambda k: [b"%s=%s" % kv for kv in client.hgetall(k).items()],
                  "set": lambda k: list(client.smembers(k)),
                  "list": lambda k: client.lrange(k, 0, -1)}.get(kind, lambda k: [])(key)
        text = b" ".join([key, *values]).decode("utf8", "replace").lower()
        if any(needle.lower() in text for needle in needles):
            found.append(key.decode())
    return found


def cache_namespaces() -> dict[str, str]:
    """Each registered service's per-user Redis cache (its ``Cache`` dependency): namespace."""
    from services.kit.cache import Cache

    return {dependency.namespace: name for name, process in registry.SERVICES.items()
            for cls in [process.service_class()] for attr in dir(cls)
            if isinstance(dependency := getattr(cls, attr, None), Cache)}


class Person:
    """A user and everything that identifies them in stored data."""

    def __init__(self, api):
        self.marker = uuid.uuid4().hex[:12]
        self.user = api.new_user(display_name=f"Erase{self.marker}", phone=unique_phone(),
                                 country="GB")
        self.contact_email = unique_email("erase-contact")
        self.provider_email = unique_email("erase-provider")

    @property
    def needles(self) -> list[str]:
        email_digest = hashlib.sha256(self.user.email.lower().encode()).hexdigest()
        return [self.user.user_id, self.user.email, self.contact_email, self.provider_email,
                self.marker, email_digest]


def noon(day: date) -> str:
    return datetime.combine(day, time(12), timezone.utc).isoformat()


def ok(response, *codes: int) -> None:
    assert response.status_code in (codes or (200, 201)), response.text


def seed_everywhere(api, person: Person, sinks) -> None:
    """Something in every table a service keeps about a user, through the API as the
    app would, and the clock moved on in the database where only time would do it."""
    user, marker = person.user, person.marker

    # Sessions, refresh tokens, a failed log-in counted (then cleared by the good one).
    ok(api.login(user.email, "a wrong password"), 401)
    ok(api.login(user.email), 200)
    contact = confirmed_contact(user, sinks, name=f"Contact{marker}", email=person.contact_email,
                                scopes=["missed_doses", "check_ins"])

    # Gone quiet after two weeks of daily logging: a check-in to the user and the contact.
    for back in range(3, 16):
        day = TODAY - timedelta(days=back)
        db.execute("INSERT INTO notifications.activity_days VALUES (:u, :d, :at)",
                   u=user.user_id, d=day, at=datetime.combine(day, time(20), timezone.utc))
    ok(user.patch("/api/v1/notifications/settings", json={
        "check_in_after_days": 2, "check_in_contact_id": contact["contact_id"],
        "check_in_contact_after_days": 0, "dose_contact_id": contact["contact_id"],
        "dose_contact_after_minutes": 30}))
    wait_until(lambda: db.scalar("SELECT count(*) FROM notifications.check_ins WHERE user_id = :u "
                                 "AND contact_sent_at IS NOT NULL", u=user.user_id), timeout=30)

    # Medications: one on a schedule whose dose three hours ago was never logged (a
    # missed dose, and a follow-up to the contact), one as needed with a log, a side
    # effect and a dose change.
    due = datetime.now(timezone.utc) - timedelta(hours=3)
    ok(user.post("/api/v1/medications", json={
        "name": "Lithium carbonate", "dose": "400 mg", "schedule": {
            "times": [due.strftime("%H:%M")], "start_date": (TODAY - timedelta(days=1)).isoformat()}}))
    provider = user.post("/api/v1/providers", json={"name": f"Dr {marker}", "role": "psychiatrist",
                                                    "email": person.provider_email}).json()
    medication = user.post("/api/v1/medications", json={
        "name": "Quetiapine", "dose": "50 mg", "dose_amount": 50, "dose_unit": "mg",
        "schedule": {"as_needed": True}}).json()
    path = f"/api/v1/medications/{medication['medication_id']}"
    ok(user.post(f"{path}/doses", json={"status": "taken"}))
    ok(user.post(f"{path}/side-effects", json={"effect": "headache", "severity": 1,
                                               "started_on": TODAY.isoformat()}))
    ok(user.post(f"{path}/changes", json={
        "kind": "dose_changed", "effective_date": TODAY.isoformat(), "reason": f"why {marker}",
        "prescriber_id": provider["provider_id"], "new": {"dose": "100 mg", "dose_amount": 100}}))

    # Mood: a rapid-cycling day with a crisis in it, and four calm-high days last month
    # (a hypomanic candidate, dismissed).
    ok(user.patch("/api/v1/alert-rules", json={"cooldown_minutes": 300}))
    for previous, level in [(-1, 2), (2, -2), (-2, 1), (1, -1)]:
        body = shift(level, previous, note=f"note {marker}")
        body["current"]["state"] = "anxious"
        ok(user.post("/api/v1/mood/shift", json=body))
    for offset in range(4):
        day = TODAY - timedelta(days=20 - offset)
        ok(user.post("/api/v1/mood/shift", json=shift(1, previous=1, timestamp=noon(day))))
    candidate = wait_until(lambda: user.get("/api/v1/episodes/candidates").json())[0]
    ok(user.post(f"/api/v1/episodes/candidates/{candidate['candidate_id']}/dismiss"))

    # Episodes and the safety plan; the DBT diary; trackers and a questionnaire.
    episode = user.post("/api/v1/episodes", json={"kind": "bpd_crisis",
                                                   "start_day": TODAY.isoformat()}).json()
    ok(user.post(f"/api/v1/episodes/{episode['episode_id']}/interventions", json={
        "kind": "crisis_line_called", "happened_at": datetime.now(timezone.utc).isoformat(),
        "by_whom": "me", "outcome": f"talked {marker}"}))
    ok(user.put("/api/v1/safety-plan", json={"warning_signs": [f"sign {marker}"]}))
    ok(user.put(f"/api/v1/dbt/cards/{TODAY}", json={"skills": [{"skill_id": "tipp", "rating": 5}],
                                                    "note": f"card {marker}"}))
    now = datetime.now(timezone.utc)
    for kind, body in {
        "abandonment": {"occurred_at": (now - timedelta(hours=5)).isoformat(), "trigger": marker,
                        "perceived": 8, "urges": ["text again"], "reality_check": True},
        "emotions": {"emotion": "shame", "intensity": 7, "onset_at": (now - timedelta(hours=3)).isoformat()},
        "cycle": {"day": TODAY.isoformat(), "flow": "medium", "drsp": {"1": 3}},
        "routine": {"day": TODAY.isoformat(), "out_of_bed": "07:10", "bed": "23:30"},
    }.items():
        ok(user.post(f"/api/v1/trackers/{kind}", json=body))
    ok(user.post("/api/v1/questionnaires/phq9", json={"answers": [1, 1, 1, 1, 1, 0, 0, 0, 0]}))

    # The assistant: settings, something it should remember, a conversation, and
    # crisis language (answered with an offer to alert the contacts).
    ok(user.put("/api/v1/assistant/settings", json={"enabled": True, "tone": "warm",
                                                    "frameworks": ["dbt"], "shared": [],
                                                    "provider": "builtin"}))
    ok(user.post("/api/v1/assistant/knowledge", json={"kind": "what_helps", "text": f"walk {marker}"}))
    ok(user.put("/api/v1/sessions/settings", json={"log_retention_days": 30}))
    ok(user.post("/api/v1/assistant/messages", json={"text": f"My mind is racing {marker}"}))
    ok(user.post("/api/v1/assistant/messages", json={"text": "I want to kill myself"}))
    ok(user.post("/api/v1/reminders", json={"kind": "diary", "times": ["21:00"], "channels": ["email"]}))

    # Reads the services cache per user (mood: lists; sessions: the current state).
    ok(user.get("/api/v1/mood/shifts"))
    ok(user.get("/api/v1/sessions/current"))

    # An export in S3, shared with the provider, who downloads it once.
    job = finished(user, export(user, "full")["job_id"])
    assert job["status"] == "done", job
    ok(user.post(f"/api/v1/exports/{job['job_id']}/shares", json={"provider_id": provider["provider_id"]}))
    mail = wait_until(lambda: [m for m in sinks.emails(to=person.provider_email)
                               if "token=" in m["body"]])[0]
    token = re.search(r"token=([A-Za-z0-9_-]+)", mail["body"]).group(1)
    ok(user.api.request("POST", "/api/v1/shared-reports", json={"token": token}))


def missing_seed(user_id: str) -> list[str]:
    """User tables (by the catalogue) that hold no row of this user yet."""
    return [f"{schema}.{table}" for schema, table, column in user_tables() if not db.scalar(
        f'SELECT count(*) FROM "{schema}"."{table}" WHERE "{column}" = CAST(:u AS uuid)', u=user_id)]


def forgotten_everywhere(event_id: str) -> list[str]:
    """Registered services that have not yet handled (and committed) this user.deleted."""
    return [name for name in registry.SERVICES if not db.scalar(
        f'SELECT count(*) FROM "{name}".processed_events WHERE event_id = :e AND consumer = :c',
        e=event_id, c=f"{name}.forget_user")]


def until_none(find, timeout: float, what: str) -> None:
    """Wait until ``find()`` finds nothing; fail naming what it still finds."""
    try:
        wait_until(lambda: not find(), timeout=timeout)
    except AssertionError:
        raise AssertionError(f"{what}: {find()}") from None


def bucket_keys() -> list[str]:
    """Every object key in the exports bucket (moto, listed over plain HTTP as
    test_exports does: botocore's TLS set-up recurses under eventlet's patching)."""
    keys, params = [], {"list-type": "2"}
    while True:
        listed = requests.get(f"{os.environ['S3_ENDPOINT_URL']}/sanctum-exports", params=params,
                              timeout=10)
        assert listed.status_code == 200, listed.text
        found = {el.tag.rsplit("}", 1)[-1]: el.text for el in ElementTree.fromstring(listed.content)}
        keys += [el.text for el in ElementTree.fromstring(listed.content).iter()
                 if el.tag.rsplit("}", 1)[-1] == "Key"]
        if found.get("IsTruncated") != "true":
            return keys
        params["continuation-token"] = found["NextContinuationToken"]


def export_prefixes(user) -> set[str]:
    """Where the user's export files are: found by their jobs' ids, not by working the
    prefix out the way the service does."""
    jobs = [job["job_id"] for job in user.get("/api/v1/exports").json()]
    keys = [key for key in bucket_keys() if any(job in key for job in jobs)]
    assert keys, "no export file of the user to erase"
    return {key.rsplit("/", 1)[0] + "/" for key in keys}


def objects_under(prefixes: set[str]) -> list[str]:
    return [key for key in bucket_keys() if key.startswith(tuple(prefixes))]


def test_a_deleted_account_leaves_nothing_in_any_service_cache_or_bucket(api, sinks, stack):
    person, bystander = Person(api), Person(api)
    seed_everywhere(api, person, sinks)
    bystander.user.post("/api/v1/mood/shift", json=shift(1, note=f"note {bystander.marker}"))

    # Every service's tables hold the user's rows (the seeding reached all of them)...
    until_none(lambda: missing_seed(person.user.user_id), 30, "tables the seeding did not reach")
    # ...and the scans below can see them: in each schema, in Redis, in S3.
    before = rows_mentioning(person.needles)
    holding = {name.split(".")[0] for name in before}
    services_with_users = {schema for schema, _, _ in user_tables()}
    assert services_with_users <= holding, services_with_users - holding
    cached = redis_mentioning(person.needles)
    for namespace, service in cache_namespaces().items():
        assert any(key.startswith(f"{namespace}:{person.user.user_id}:") for key in cached), service
    prefixes = export_prefixes(person.user)
    for prefix in prefixes:  # pseudonymous: the key names nobody
        assert not any(needle.lower() in prefix.lower() for needle in person.needles), prefix

    with watching_events("user_management", "user.deleted") as wait_for:
        gone = person.user.delete("/api/v1/account", json={"password": person.user.password})
        assert gone.status_code == 204, gone.text
        event = wait_for(lambda e: e["data"]["user_id"] == person.user.user_id)
    # Barrier: every registered service has handled the deletion and committed.
    until_none(lambda: forgotten_everywhere(event["event_id"]), 30, "user.deleted not handled by")

    def leftovers() -> dict:
        left = {"rows": rows_mentioning(person.needles), "redis": redis_mentioning(person.needles),
                "s3": objects_under(prefixes)}
        return {where: what for where, what in left.items() if what}
    # Cache keys go in after-commit hooks of those handlers: a moment more.
    until_none(leftovers, 10, "left behind")

    # The bystander's data is all still there.
    assert rows_mentioning(bystander.needles), "the other user's rows went too"
    assert bystander.user.get("/api/v1/mood/shifts").json()["items"]
    assert requests.get(f"{stack.address}/health", timeout=5).status_code == 200


def test_a_wrong_password_just_before_erasure_leaves_no_counter_naming_the_email(api):
    person = Person(api)
    assert api.login(person.user.email, "a wrong password").status_code == 401
    gone = person.user.delete("/api/v1/account", json={"password": person.user.password})
    assert gone.status_code == 204, gone.text
    # The counter is written (and would be reset) by the call itself, not later.
    assert redis_mentioning(person.needles) == []
