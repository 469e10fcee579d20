"""Emergency contacts (with the contact's own consent), healthcare providers and
the medication list: each owned by one user, each with create/read/update/delete.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.kit import service_auth
from services.kit.errors import Conflict, NotFound, Unprocessable
from services.kit.records import (
    OwnedRecords,
    apply_changes,
    editable_fields,
    get_owned,
    is_uuid,
    to_dict,
    utcnow,
)
from services.user_management.accounts import digest
from services.user_management.models import (
    EmergencyContact,
    HealthcareProvider,
    Medication,
    User,
    UserProfile,
)

MAX_CONTACTS = 20
INVITATION_DAYS = 14

# --- emergency contacts -------------------------------------------------------

def contact_dict(contact: EmergencyContact) -> dict:
    return to_dict(contact)


def _awaiting(contact: EmergencyContact) -> list[str]:
    """What the user asks of a confirmed contact that they have not agreed to yet."""
    return sorted(set(contact.scopes) - set(contact.consented_scopes))


def _ask_again(contact: EmergencyContact) -> str:
    """A fresh invitation for what a confirmed contact has not agreed to yet; they
    stay confirmed (and alerted) for what they have."""
    token = secrets.token_urlsafe(24)
    contact.consent_token_hash = digest(token)
    contact.invited_at = utcnow()
    return token


def withdraw_token(contact: EmergencyContact) -> str:
    """The "stop contacting me" token every message to a contact carries: signed,
    so nothing is stored, and void once they confirm again (a new confirmed_at)."""
    return service_auth.sign("withdraw", f"{contact.contact_id}:{contact.confirmed_at.timestamp():.0f}")


def _invite(contact: EmergencyContact) -> str:
    """Put the contact (back) in 'invited' with a fresh token; return the token."""
    token = secrets.token_urlsafe(24)
    contact.consent_state = "invited"
    contact.consent_token_hash = digest(token)
    contact.invited_at = utcnow()
    contact.confirmed_at = None
    contact.revoked_at = None
    return token


def invitation(db: Session, contact: EmergencyContact, token: str) -> dict:
    """What the notifications service needs to send the opt-in request."""
    profile = db.get(UserProfile, contact.user_id)
    return {
        "contact_id": contact.contact_id,
        "user_id": contact.user_id,
        "inviter_name": (profile.display_name if profile else None) or "A SanctumTools user",
        "contact_name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "locale": profile.locale if profile else "en",
        "scopes": _awaiting(contact) if contact.consent_state == "confirmed" else sorted(contact.scopes),
        "token": token,
    }


def _require_reachable(contact: EmergencyContact) -> None:
    if not contact.email and not contact.phone:
        raise Unprocessable(
            "A contact needs an email or a phone number.",
            {"email": ["Give an email or a phone number."], "phone": ["Give an email or a phone number."]},
        )


def create_contact(db: Session, user_id: str, data: dict) -> tuple[dict, dict]:
    count = db.scalar(
        select(func.count()).select_from(EmergencyContact).where(EmergencyContact.user_id == user_id)
    )
    if count >= MAX_CONTACTS:
        raise Conflict(f"At most {MAX_CONTACTS} emergency contacts.")
    editable = editable_fields(EmergencyContact)
    contact = EmergencyContact(user_id=user_id, **{k: data[k] for k in editable if k in data})
    _require_reachable(contact)
    token = _invite(contact)
    db.add(contact)
    db.flush()
    return contact_dict(contact), invitation(db, contact, token)


def update_contact(db: Session, user_id: str, contact_id: str, changes: dict) -> tuple[dict, dict | None]:
    """Edit a contact. New email/phone means a new person may be reached: consent restarts.

    The user may also set ``consent_state`` to ``revoked`` (stop alerting them);
    only the contact can confirm.
    """
    contact = get_owned(db, EmergencyContact, user_id, contact_id, for_update=True)
    changed = apply_changes(contact, changes, editable_fields(EmergencyContact))
    _require_reachable(contact)
    invite = None
    if changes.get("consent_state") == "revoked":
        contact.consent_state = "revoked"
        contact.revoked_at = utcnow()
        contact.consent_token_hash = None
    elif changed & {"email", "phone"}:
        contact.consented_scopes, contact.sms_opted_out_at = [], None
        invite = invitation(db, contact, _invite(contact))
    elif "scopes" in changed:
        # Asking for less takes effect at once; asking for more needs the contact's yes.
        contact.consented_scopes = sorted(set(contact.consented_scopes) & set(contact.scopes))
        if contact.consent_state == "confirmed" and _awaiting(contact):
            invite = invitation(db, contact, _ask_again(contact))
    db.flush()
    return contact_dict(contact), invite


def reinvite_contact(db: Session, user_id: str, contact_id: str) -> tuple[dict, dict]:
    contact = get_owned(db, EmergencyContact, user_id, contact_id, for_update=True)
    if contact.consent_state == "confirmed":
        if not _awaiting(contact):
            raise Conflict("This contact has already confirmed.")
        invite = invitation(db, contact, _ask_again(contact))
    else:
        invite = invitation(db, contact, _invite(contact))
    db.flush()
    return contact_dict(contact), invite


def _contact_by_token(db: Session, token: str, for_update: bool = True) -> EmergencyContact:
    query = select(EmergencyContact).where(EmergencyContact.consent_token_hash == digest(token))
    contact = db.scalars(query.with_for_update() if for_update else query).first()
    if contact is None:
        raise NotFound("This invitation is not valid.")
    return contact


def describe_invitation(db: Session, token: str) -> dict:
    contact = _contact_by_token(db, token, for_update=False)
    profile = db.get(UserProfile, contact.user_id)
    return {
        "inviter_name": (profile.display_name if profile else None) or "A SanctumTools user",
        "contact_name": contact.name,
        "consent_state": contact.consent_state,
        "asks_also": sorted(contact.scopes),
        "agreed_also": sorted(contact.consented_scopes),
    }


def respond_to_invitation(db: Session, token: str, decision: str, scopes: list | None = None) -> dict:
    """The contact's answer: confirm (from 'invited', or when asked for more), or
    decline/withdraw at any time. Confirming agrees to crisis alerts and to whichever
    of the other things asked they choose (default: all of them)."""
    contact = _contact_by_token(db, token)
    if decision == "confirm":
        if contact.consent_state == "revoked" or (contact.consent_state == "confirmed"
                                                  and not _awaiting(contact)):
            raise Conflict("This invitation can no longer be confirmed.")
        if contact.invited_at < utcnow() - timedelta(days=INVITATION_DAYS):
            raise Conflict("This invitation has expired; ask for a new one.")
        chosen = set(contact.scopes if scopes is None else scopes)
        if chosen - set(contact.scopes):
            raise Unprocessable(fields={"scopes": ["Only what you were asked: "
                                                   + (", ".join(contact.scopes) or "nothing more")]})
        if contact.consent_state == "invited":
            contact.consent_state, contact.confirmed_at = "confirmed", utcnow()
        contact.consented_scopes = sorted(chosen | set(contact.consented_scopes))
    else:
        _revoke(contact)
    db.flush()
    return {"consent_state": contact.consent_state, "agreed_also": list(contact.consented_scopes)}


def _revoke(contact: EmergencyContact) -> None:
    contact.consent_state = "revoked"
    contact.revoked_at = utcnow()
    contact.consent_token_hash = None
    contact.consented_scopes = []


def withdraw_consent(db: Session, token: str) -> dict:
    signed = service_auth.unsign("withdraw", token)
    contact_id, _, confirmed = (signed or "").partition(":")
    contact = db.get(EmergencyContact, contact_id, with_for_update=True) \
        if confirmed and is_uuid(contact_id) else None
    if contact is None or contact.confirmed_at is None or \
            f"{contact.confirmed_at.timestamp():.0f}" != confirmed:
        raise NotFound("This link is not valid.")
    if contact.consent_state != "confirmed":
        raise Conflict("You have already withdrawn; nothing more will be sent.")
    _revoke(contact)
    db.flush()
    return {"consent_state": contact.consent_state}


def note_sms_opt_out(db: Session, facts: dict) -> None:
    """The SMS provider says this contact's number opted out: the user sees it."""
    contact = db.get(EmergencyContact, facts["contact_id"], with_for_update=True)
    if contact is not None and contact.phone == facts["phone"] and contact.sms_opted_out_at is None:
        contact.sms_opted_out_at = utcnow()


def alert_context(db: Session, user_id: str) -> dict:
    """Who to alert for this user (confirmed contacts, highest priority first), and
    what an alert may say about the user: name, how to reach them, their country."""
    found = db.execute(select(UserProfile, User.email).join(User, User.user_id == UserProfile.user_id)
                       .where(UserProfile.user_id == user_id)).first()
    if found is None:
        raise NotFound("account not found")
    profile, email = found
    contacts = db.scalars(
        select(EmergencyContact)
        .where(EmergencyContact.user_id == user_id, EmergencyContact.consent_state == "confirmed")
        .order_by(EmergencyContact.priority, EmergencyContact.created_at)
    )
    return {
        "user": {**to_dict(profile, ("display_name", "phone", "country", "locale")), "email": email},
        "contacts": [_reachable(c) for c in contacts],
    }


def _reachable(contact: EmergencyContact) -> dict:
    return {**to_dict(contact, ("contact_id", "name", "email", "priority")),
            "phone": None if contact.sms_opted_out_at else contact.phone,
            "scopes": ["crisis_alerts", *contact.consented_scopes],
            "withdraw_token": withdraw_token(contact)}


def prescription(medication: dict) -> dict:
    """What medication tracking needs of a medication: no free text beyond its name."""
    keys = ("medication_id", "name", "dose_amount", "dose_unit", "schedule", "active",
            "created_at", "updated_at")
    return {key: medication[key] for key in keys}


# --- the plain owned records ---------------------------------------------------

contacts = OwnedRecords(EmergencyContact, (EmergencyContact.priority, EmergencyContact.created_at))
providers = OwnedRecords(HealthcareProvider, (HealthcareProvider.name, HealthcareProvider.created_at))
medications = OwnedRecords(Medication, (Medication.active.desc(), Medication.name))
