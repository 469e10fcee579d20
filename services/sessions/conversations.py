"""Conversations with the assistant and the turns kept of them.

A conversation ends after ``timeout`` without a turn (HIPAA's automatic log-off):
a turn for an ended one starts a new one. Turns are kept for the user's retention
(0 keeps none) and swept when it runs out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session as DbSession

from services.kit.records import get_owned, public_fields, to_dict, utcnow
from services.sessions.models import Session, SessionLog, SessionSettings

SESSION_FIELDS = public_fields(Session)
LOG_FIELDS = ("log_id", "role", "text", "skill_id", "created_at")
DEFAULT_RETENTION_DAYS = 30


def _open(db: DbSession, user_id: str, session_id: str | None, timeout: timedelta) -> Session | None:
    if session_id is None:
        return None
    session = get_owned(db, Session, user_id, session_id, for_update=True)
    if session.ended_at is None and utcnow() - session.last_activity_at < timeout:
        return session
    if session.ended_at is None:
        session.ended_at = session.last_activity_at + timeout
    return None


def begin_turn(db: DbSession, user_id: str, session_id: str | None, channel: str,
               timeout: timedelta, disclose_every: timedelta) -> dict:
    """The conversation this turn belongs to (a new one if none is open), with
    ``disclose``: whether this reply must say it comes from software."""
    session = _open(db, user_id, session_id, timeout)
    if session is None:
        session = Session(user_id=user_id, channel=channel)
        db.add(session)
        db.flush()
    now = utcnow()
    disclose = session.disclosed_at is None or now - session.disclosed_at >= disclose_every
    if disclose:
        session.disclosed_at = now
    session.last_activity_at = now
    db.flush()
    return {**to_dict(session, SESSION_FIELDS), "disclose": disclose,
            "continued": session.session_id == session_id}


def recent_turns(db: DbSession, user_id: str, session_id: str, limit: int) -> list[dict]:
    """The last ``limit`` turns of a conversation, oldest first (what is still kept)."""
    rows = db.scalars(select(SessionLog).where(SessionLog.session_id == session_id,
                                               SessionLog.user_id == user_id)
                      .order_by(SessionLog.created_at.desc()).limit(limit)).all()
    return [to_dict(row, LOG_FIELDS) for row in reversed(rows)]


def retention_days(db: DbSession, user_id: str) -> int:
    days = db.scalar(select(SessionSettings.log_retention_days).where(SessionSettings.user_id == user_id))
    return DEFAULT_RETENTION_DAYS if days is None else days


def keep_turns(db: DbSession, user_id: str, session_id: str, turns: list[dict]) -> int:
    """Keep the turns of an exchange, for the user's retention; none if it is 0 (or
    if the conversation is gone)."""
    if db.scalar(select(Session.session_id).where(Session.session_id == session_id,
                                                  Session.user_id == user_id)) is None:
        return 0
    days = retention_days(db, user_id)
    if days == 0:
        return 0
    now = utcnow()
    for offset, turn in enumerate(turns):
        # Microseconds apart, so a user turn always sorts before its reply.
        at = now + timedelta(microseconds=offset)
        db.add(SessionLog(session_id=session_id, user_id=user_id, role=turn["role"],
                          text=turn["text"], skill_id=turn.get("skill_id"),
                          created_at=at, expires_at=at + timedelta(days=days)))
    db.flush()
    return len(turns)


def list_sessions(db: DbSession, user_id: str, timeout: timedelta, limit: int = 50) -> list[dict]:
    rows = db.scalars(select(Session).where(Session.user_id == user_id)
                      .order_by(Session.started_at.desc()).limit(limit)).all()
    return [_shown(row, timeout) for row in rows]


def _shown(session: Session, timeout: timedelta) -> dict:
    shown = to_dict(session, SESSION_FIELDS)
    if shown["ended_at"] is None and utcnow() - session.last_activity_at >= timeout:
        shown["ended_at"] = (session.last_activity_at + timeout).isoformat()
    return shown


def logs(db: DbSession, user_id: str, session_id: str) -> list[dict]:
    _owned(db, user_id, session_id)
    rows = db.scalars(select(SessionLog).where(SessionLog.session_id == session_id,
                                               SessionLog.expires_at > func.now())
                      .order_by(SessionLog.created_at)).all()
    return [to_dict(row, LOG_FIELDS) for row in rows]


def delete_logs(db: DbSession, user_id: str, session_id: str) -> int:
    _owned(db, user_id, session_id)
    return db.execute(delete(SessionLog).where(SessionLog.session_id == session_id)).rowcount


def _owned(db: DbSession, user_id: str, session_id: str) -> Session:
    return get_owned(db, Session, user_id, session_id)


def get_settings(db: DbSession, user_id: str) -> dict:
    return {"log_retention_days": retention_days(db, user_id)}


def set_settings(db: DbSession, user_id: str, changes: dict) -> dict:
    """A shorter retention applies to the turns already kept, at once."""
    days = changes["log_retention_days"]
    db.execute(insert(SessionSettings).values(user_id=user_id, log_retention_days=days)
               .on_conflict_do_update(index_elements=["user_id"],
                                      set_={"log_retention_days": days, "updated_at": func.now()}))
    db.execute(update(SessionLog).where(SessionLog.user_id == user_id,
                                        SessionLog.expires_at > SessionLog.created_at + timedelta(days=days))
               .values(expires_at=SessionLog.created_at + timedelta(days=days)))
    db.execute(delete(SessionLog).where(SessionLog.user_id == user_id,
                                        SessionLog.expires_at <= func.now()))
    return get_settings(db, user_id)


def sweep(db: DbSession, now: datetime, timeout: timedelta) -> dict:
    """End the conversations idle past ``timeout``; delete turns past their retention.
    Idempotent, so every instance may run it."""
    ended = db.execute(update(Session).where(Session.ended_at.is_(None),
                                             Session.last_activity_at < now - timeout)
                       .values(ended_at=Session.last_activity_at + timeout)).rowcount
    expired = db.execute(delete(SessionLog).where(SessionLog.expires_at <= now)).rowcount
    return {"ended": ended, "expired": expired}
