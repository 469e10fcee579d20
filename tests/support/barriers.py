"""Barriers: proof that the work a test started has been done, so that a count taken
after one is final (never "wait a while and hope it had time").

A crisis alert can only come from a row in notifications.notifications, and those
rows are unique per crisis, recipient and channel; a crisis comes from an analysis,
and analyses are unique per mood event. So once every shift of a test is analysed,
every crisis those analyses opened has reached the end of its ladder, and every
message planned for it is in a final state, nothing more can be sent for them.
"""

from __future__ import annotations

from tests.support.db import analyses_of
from tests.support.flows import wait_until

FINAL_SENDS = {"sent", "failed", "uncertain"}
OPEN = "open"


def crises_settled(user, shifts: int, timeout: float = 20) -> list[dict]:
    """Wait until each of the user's ``shifts`` is analysed, every crisis opened is
    known to notifications and done (its ladder ended, nothing still to send); return
    those crises. Needs ladders without waits (the test environment's defaults)."""
    analyses = wait_until(lambda: len(found := analyses_of(user.user_id)) >= shifts and found,
                          timeout=timeout, message=f"{shifts} shifts not all analysed")
    assert len(analyses) == shifts, f"{len(analyses)} analyses of {shifts} shifts"
    opened = {str(a.crisis_id) for a in analyses if a.crisis_id is not None}

    def settled():
        crises = user.get("/api/v1/crises").json()
        if {c["crisis_id"] for c in crises} != opened:
            return None
        done = all(c["status"] != OPEN and all(send["status"] in FINAL_SENDS
                                               for step in c["steps"] for send in step["sends"])
                   for c in crises)
        return crises if done else None

    return wait_until(settled, timeout=timeout, message="crises not settled")


def sends_final(sends: list[dict]) -> bool:
    return all(send["status"] in FINAL_SENDS for send in sends)


def events_handled(source: str, event_type: str, subject_id: str, consumer: str,
                   count: int = 1, timeout: float = 20) -> None:
    """Wait until ``count`` events of this type about the subject, written to the
    ``source`` service's outbox, are handled (claimed, committed) by the ``consumer``
    service: the outbox keeps published rows' ids, processed_events the handled ones."""
    from tests.support import db

    def handled() -> int:
        return db.scalar(
            f'SELECT count(*) FROM "{source}".outbox o JOIN "{consumer}".processed_events p '
            "USING (event_id) WHERE o.event_type = :t AND o.subject_id = :s",
            t=event_type, s=subject_id)
    wait_until(lambda: handled() >= count, timeout=timeout,
               message=f"{event_type} about {subject_id} not handled by {consumer}")
