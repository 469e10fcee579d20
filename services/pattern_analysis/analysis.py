"""Analysing events from every source (mood shifts, diary cards, episodes): flags,
the analysis record, and whether it is a crisis."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import any_, bindparam, cast, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert
from sqlalchemy.orm import Session

from services.kit.contracts.crisis import RAPID_CYCLING, RULE_DEFAULTS
from services.kit.records import to_dict, utcnow
from services.pattern_analysis import rules as crisis_rules
from services.pattern_analysis.models import AlertRules, PatternAnalysis, PatternFlag

RULE_FIELDS = tuple(RULE_DEFAULTS)


RULES = AlertRules.__table__
FLAGS = PatternFlag.__table__
ANALYSES = PatternAnalysis.__table__


# An upsert (rules with defaults for a user who has none) whose no-op update takes
# the row locks, in user id order: two batches locking the same users cannot deadlock.
LOCK_RULES = text(
    "INSERT INTO pattern_analysis.alert_rules (user_id)"
    " SELECT user_id FROM unnest(CAST(:user_ids AS uuid[])) AS locked(user_id) ORDER BY user_id"
    " ON CONFLICT (user_id) DO UPDATE SET user_id = excluded.user_id"
    " RETURNING user_id, " + ", ".join(RULE_FIELDS)
)
# A batch's analyses in one statement with one parameter (the rows as JSON), so
# the statement is the same whatever the batch size.
RECORD_ANALYSES = text(
    "INSERT INTO pattern_analysis.pattern_analyses"
    " (analysis_id, user_id, source_event_id, source, record_id, rules_fired, crisis_id)"
    " SELECT gen_random_uuid(), user_id, source_event_id, source, record_id, rules_fired,"
    " crisis_id FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS analysis(user_id uuid,"
    " source_event_id uuid, source text, record_id uuid, rules_fired text[], crisis_id uuid)"
    " ON CONFLICT DO NOTHING"
)


@dataclass(frozen=True)
class Source:
    """Where analysed events come from, and what their rules are."""

    kind: str  # the flag's source (contracts.crisis.SOURCES)
    record_key: str  # the key of the facts naming the record the flags are about
    fired: Callable[[dict, crisis_rules.Rules], dict[str, dict]]
    once_a_day: frozenset[str] = frozenset()  # rules flagged at most once per user and day
    raises_crisis: bool = True


MOOD_SHIFT = Source("mood_shift", "shift_id", crisis_rules.fired, frozenset({RAPID_CYCLING}))
DBT_CARD = Source("dbt_card", "entry_id", crisis_rules.fired_on_card)
EPISODE = Source("episode", "episode_id", crisis_rules.fired_on_episodes, raises_crisis=False)
QUESTIONNAIRE = Source("questionnaire", "response_id", crisis_rules.fired_on_questionnaire)


def lock_rules(db: Session, user_ids) -> dict[str, dict]:
    """The users' rules (created with defaults), locked until commit: one analysis
    per user at a time, so two shifts arriving together cannot both decide to
    raise a crisis. One statement for all of them."""
    rows = db.execute(LOCK_RULES, {"user_ids": sorted(user_ids)}).all()
    return {str(row.user_id): {name: getattr(row, name) for name in RULE_FIELDS} for row in rows}


def _already_flagged_today(db: Session, user_id: str, rule: str, day: date) -> bool:
    return db.scalar(select(func.count()).select_from(PatternFlag).where(
        PatternFlag.user_id == user_id, PatternFlag.rule == rule, PatternFlag.local_date == day
    )) > 0


def _last_crisis_at(db: Session, user_id: str) -> datetime | None:
    return db.scalar(select(func.max(PatternFlag.detected_at)).where(
        PatternFlag.user_id == user_id, PatternFlag.crisis_id.is_not(None)))


ALERT_WINDOW = timedelta(hours=24)


def _is_recent(facts: dict) -> bool:
    """Contacts are alerted about now, not about an entry made for last month:
    a backdated (or corrected old) shift is flagged but raises no crisis."""
    return utcnow() - datetime.fromisoformat(facts["occurred_at"]) <= ALERT_WINDOW


def analyse_all(db: Session, events: list[dict], source: Source = MOOD_SHIFT) -> list[dict]:
    """Analyse a source's events in order, record each analysis; return the crises to raise."""
    rules = rules_of(db, {event["data"]["user_id"] for event in events})
    # Only users with a rule firing are serialised with their other analyses,
    # all at once and in order; their rules are read again under the lock.
    flagged = {event["data"]["user_id"] for event in events
               if source.fired(event["data"], crisis_rules.Rules(**rules[event["data"]["user_id"]]))}
    if flagged:
        rules.update(lock_rules(db, flagged))
    records, crises = [], []
    for event in events:
        facts = event["data"]
        new_rules, crisis = _analyse(db, event, rules[facts["user_id"]], source)
        records.append({
            "user_id": facts["user_id"], "source_event_id": event["event_id"],
            "source": source.kind, "record_id": facts[source.record_key],
            "rules_fired": [rule for rule, _ in new_rules],
            "crisis_id": crisis["crisis_id"] if crisis else None,
        })
        if crisis is not None:
            crises.append(crisis)
    db.execute(RECORD_ANALYSES, {"rows": json.dumps(records)})
    return crises


def _analyse(db: Session, event: dict, rules: dict, source: Source) -> tuple[list, dict | None]:
    """Record flags for the rules that fire; return them, and a crisis to raise or None.

    A rule fires once per record (a shift, a card: saving a card again flags
    nothing new; rapid cycling once per day). A crisis is raised for a record
    of the last 24 hours, unless one was raised for this user within their
    cool-down, whatever its source.
    """
    facts = event["data"]
    user_id, day = facts["user_id"], date.fromisoformat(facts["local_date"])
    record_id = facts[source.record_key]
    hits = source.fired(facts, crisis_rules.Rules(**rules))
    for rule in source.once_a_day & set(hits):
        if _already_flagged_today(db, user_id, rule, day):
            del hits[rule]
    if not hits:
        return [], None

    new_rules = []
    for rule, details in hits.items():
        inserted = db.execute(insert(FLAGS).values(
            user_id=user_id, rule=rule, source=source.kind, record_id=record_id, local_date=day,
            source_event_id=event["event_id"], details=details,
        ).on_conflict_do_nothing().returning(FLAGS.c.flag_id)).scalar()
        if inserted:
            new_rules.append((rule, inserted))

    crisis = None
    if new_rules and source.raises_crisis and _is_recent(facts):
        last = _last_crisis_at(db, user_id)
        if last is None or utcnow() - last >= timedelta(minutes=rules["cooldown_minutes"]):
            crisis = {"crisis_id": str(uuid.uuid4()), "user_id": user_id,
                      "rules": [rule for rule, _ in new_rules], "source": source.kind,
                      "record_id": record_id,
                      "detected_at": utcnow().isoformat()}
            db.execute(update(FLAGS).where(FLAGS.c.flag_id.in_([flag_id for _, flag_id in new_rules]))
                       .values(crisis_id=crisis["crisis_id"]))
    return new_rules, crisis


READ_RULES = select(RULES.c.user_id, *(RULES.c[name] for name in RULE_FIELDS)).where(
    RULES.c.user_id == any_(cast(bindparam("user_ids"), ARRAY(UUID(as_uuid=False)))))


def rules_of(db: Session, user_ids: set[str]) -> dict[str, dict]:
    """Each user's rules (the defaults for a user who never changed them), in one query."""
    found = {str(row.user_id): {name: getattr(row, name) for name in RULE_FIELDS}
             for row in db.execute(READ_RULES, {"user_ids": list(user_ids)})}
    return {user_id: found.get(user_id, dict(RULE_DEFAULTS)) for user_id in user_ids}


def get_rules(db: Session, user_id: str) -> dict:
    return rules_of(db, {user_id})[user_id]


def set_rules(db: Session, user_id: str, changes: dict) -> dict:
    """Tightening only; the gateway's schema refuses anything looser with a reason."""
    lock_rules(db, {user_id})
    values = {name: changes[name] for name in RULE_FIELDS if name in changes}
    row = db.execute(update(RULES).where(RULES.c.user_id == user_id)
                     .values(**values, updated_at=func.now()).returning(*RULES.c)).one()
    return to_dict(row, RULE_FIELDS)


def list_flags(db: Session, user_id: str, start: date, end: date) -> list[dict]:
    rows = db.scalars(
        select(PatternFlag)
        .where(PatternFlag.user_id == user_id, PatternFlag.local_date >= start,
               PatternFlag.local_date <= end)
        .order_by(PatternFlag.detected_at.desc())
    ).all()
    return [{"flag_id": r.flag_id, "rule": r.rule, "day": r.local_date.isoformat(),
             "source": r.source, "record_id": r.record_id, "alerted": r.crisis_id is not None,
             "detected_at": r.detected_at.isoformat()} for r in rows]
