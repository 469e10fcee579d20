"""One exchange with the assistant: the screen's marks across the conversation, the
offer to alert contacts, and what is kept of the turn."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.ai_context.models import CrisisOffer, ScreenMark
from services.kit.records import utcnow

OFFER_STANDS = timedelta(minutes=30)


def marks(db: Session, session_id: str, limit: int) -> list[list[str]]:
    """The cues of the conversation's last ``limit`` user turns, oldest first."""
    rows = db.scalars(select(ScreenMark.cues).where(ScreenMark.session_id == session_id)
                      .order_by(ScreenMark.created_at.desc()).limit(limit)).all()
    return list(reversed(rows))


def mark(db: Session, session_id: str, user_id: str, cues: list[str]) -> None:
    db.add(ScreenMark(session_id=session_id, user_id=user_id, cues=cues))
    db.flush()


def pending_offer(db: Session, session_id: str) -> CrisisOffer | None:
    offer = db.scalars(select(CrisisOffer).where(CrisisOffer.session_id == session_id)
                       .with_for_update()).first()
    if offer is None or offer.answered_at is not None or utcnow() - offer.offered_at > OFFER_STANDS:
        return None
    return offer


def offer(db: Session, session_id: str, user_id: str) -> bool:
    """Offer to alert contacts, once per conversation. True if offered now."""
    if db.get(CrisisOffer, session_id) is not None:
        return False
    db.add(CrisisOffer(session_id=session_id, user_id=user_id))
    db.flush()
    return True


def answer(offer_row: CrisisOffer, crisis_id: str | None) -> None:
    offer_row.answered_at, offer_row.crisis_id = utcnow(), crisis_id
