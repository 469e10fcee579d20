"""Session memory: one current state per user, built from events.

Each facet keeps ``as_of``, when the fact it came from happened. Events arrive
late, out of order and twice; a fact no newer than what a facet holds changes
nothing, so the memory never goes back to an older state.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.kit.contracts.dbt import HELPED
from services.kit.profiles import local_today, timezone_of
from services.sessions.models import SessionMemory

FACETS = ("mood", "crisis", "flags", "episode", "diary", "doses", "skill")


def _newer(held: dict | None, as_of: str) -> bool:
    return held is None or datetime.fromisoformat(as_of) > datetime.fromisoformat(held["as_of"])


def apply(db: Session, user_id: str, updates: list[tuple[str, dict]]) -> bool:
    """Merge ``(facet, value)`` pairs, each value with its ``as_of``, into the user's
    memory (row locked). Returns True if anything changed."""
    db.execute(insert(SessionMemory).values(user_id=user_id).on_conflict_do_nothing())
    memory = db.scalars(select(SessionMemory).where(SessionMemory.user_id == user_id)
                        .with_for_update()).one()
    facets, changed = dict(memory.facets), False
    for facet, value in sorted(updates, key=lambda update: update[1]["as_of"]):
        merged = _merge(facet, facets.get(facet), value)
        if merged is not None:
            facets[facet], changed = merged, True
    if changed:
        memory.facets = facets
    return changed


MOOD_NEWER = text("""
INSERT INTO sessions.session_memory AS held (user_id, facets)
SELECT m.user_id, jsonb_build_object('mood', m.mood)
FROM jsonb_to_recordset(CAST(:moods AS jsonb)) AS m(user_id uuid, mood jsonb)
ON CONFLICT (user_id) DO UPDATE
SET facets = jsonb_set(held.facets, '{mood}', excluded.facets -> 'mood'), updated_at = now()
WHERE held.facets -> 'mood' IS NULL
   OR CAST(held.facets -> 'mood' ->> 'as_of' AS timestamptz)
      < CAST(excluded.facets -> 'mood' ->> 'as_of' AS timestamptz)
RETURNING held.user_id::text
""")


def apply_moods(db: Session, shifts: list[dict]) -> list[str]:
    """The mood facet from a batch of shift facts, in one statement: each user's newest
    shift of the batch, where it is newer than what the memory holds. Returns the users
    whose memory changed."""
    newest: dict[str, dict] = {}
    for data in shifts:
        _, mood = from_shift(data)
        held = newest.get(data["user_id"])
        if held is None or _newer(held, mood["as_of"]):
            newest[data["user_id"]] = mood
    moods = [{"user_id": user_id, "mood": mood} for user_id, mood in newest.items()]
    return list(db.scalars(MOOD_NEWER, {"moods": json.dumps(moods)}))


def _merge(facet: str, held: dict | None, value: dict) -> dict | None:
    """The facet's new value, or None to keep what it holds."""
    if facet == "skill" and "helped" in value and "skill_id" not in value:
        # A diary card saying how the last suggested skill went: only for that skill.
        if held is None or held.get("skill_id") not in value["helped"]:
            return None
        if not _newer({"as_of": held.get("rated_as_of") or held["as_of"]}, value["as_of"]):
            return None
        return {**held, "helped": value["helped"][held["skill_id"]], "rated_as_of": value["as_of"]}
    if facet == "doses":
        # Missed doses of one local day add up; a new day starts again.
        if held is not None and held.get("local_date") == value["local_date"]:
            if value["scheduled_for"] in held["missed"]:
                return None
            return {**held, "missed": sorted([*held["missed"], value["scheduled_for"]]),
                    "as_of": max(held["as_of"], value["as_of"])}
        if held is not None and held["local_date"] > value["local_date"]:
            return None
        return {"local_date": value["local_date"], "missed": [value["scheduled_for"]],
                "as_of": value["as_of"]}
    if facet == "crisis" and held is not None and value.get("status") == "acknowledged":
        if held.get("crisis_id") != value["crisis_id"]:
            return None
        return {**held, "status": "acknowledged", "acknowledged_at": value["as_of"]}
    return value if _newer(held, value["as_of"]) else None


# --- events -> facets --------------------------------------------------------------------

def from_shift(data: dict) -> tuple[str, dict]:
    return "mood", {"level": data["current_level"], "mixed": data.get("current_mixed", False),
                    "state": data.get("current_state"), "intensity": data.get("intensity"),
                    "shift_id": data["shift_id"], "as_of": data["occurred_at"]}


def from_crisis(data: dict) -> list[tuple[str, dict]]:
    return [("crisis", {"crisis_id": data["crisis_id"], "status": "open",
                        "as_of": data["detected_at"]}),
            ("flags", {"rules": sorted(data["rules"]), "as_of": data["detected_at"]})]


def from_crisis_acknowledged(data: dict) -> tuple[str, dict]:
    return "crisis", {"crisis_id": data["crisis_id"], "status": "acknowledged",
                      "as_of": data["acknowledged_at"]}


def from_card(data: dict) -> list[tuple[str, dict]]:
    skills = data.get("skills") or []
    updates = [("diary", {"local_date": data["local_date"], "entry_id": data["entry_id"],
                          "skills_used": len(skills),
                          "skills_helped": sum(1 for s in skills if s["rating"] in HELPED),
                          "as_of": data["occurred_at"]})]
    if skills:
        updates.append(("skill", {"helped": {s["skill_id"]: s["rating"] in HELPED for s in skills},
                                  "as_of": data["occurred_at"]}))
    return updates


def from_episode(data: dict) -> tuple[str, dict]:
    return "episode", {"episode_id": data["episode_id"], "kind": data.get("kind"),
                       "start_day": data["local_date"], "end_day": data.get("end_day"),
                       "as_of": data.get("recorded_at") or f"{data['local_date']}T00:00:00+00:00"}


def from_dose_missed(db: Session, data: dict) -> tuple[str, dict]:
    scheduled = datetime.fromisoformat(data["scheduled_for"])
    day = scheduled.astimezone(timezone_of(db, data["user_id"])).date().isoformat()
    return "doses", {"local_date": day, "scheduled_for": data["scheduled_for"],
                     "as_of": data["scheduled_for"]}


def from_suggestion(data: dict) -> tuple[str, dict]:
    return "skill", {"skill_id": data["skill_id"], "name": data["name"], "helped": None,
                     "as_of": data["suggested_at"]}


# --- reading ------------------------------------------------------------------------------

def current(db: Session, user_id: str) -> dict:
    """The user's current state; a diary or doses facet of an earlier day is not today's."""
    memory = db.get(SessionMemory, user_id)
    facets = dict(memory.facets) if memory else {}
    today = local_today(db, user_id).isoformat()
    state = {facet: facets.get(facet) for facet in FACETS}
    for facet in ("diary", "doses"):
        if state[facet] and state[facet]["local_date"] != today:
            state[facet] = None
    state["updated_at"] = memory.updated_at.isoformat() if memory else None
    state["as_of_day"] = today
    return state
