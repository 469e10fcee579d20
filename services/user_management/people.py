"""Emergency contacts (with the contact's own consent), healthcare providers and
the medication list: each owned by one user, each with create/read/update/delete.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.kit.errors import Conflict, NotFound, Unprocessable
from services.kit.records import (
    OwnedRecords,
    apply_changes,
    editable_fields,
    get_owned,
    to_dict,
    utcnow,
)
from services.user_management.accounts import digest
from services.user_management.models import (
    EmergencyContact,
    HealthcareProvider,
    Medication,
    UserProfile,
)

MAX_CONTACTS = 20
INVITATION_DAYS = 14

# --- emergency contacts -------------------------------------------------------

def contact_dict(contact: EmergencyContact) -> dict:
    return to_dict(contact)


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
        invite = invitation(db, contact, _invite(contact))
    db.flush()
    return contact_dict(contact), invite


def reinvite_contact(db: Session, user_id: str, contact_id: str) -> tuple[dict, dict]:
    contact = get_owned(db, EmergencyContact, user_id, contact_id, for_update=True)
    if contact.consent_state == "confirmed":
        raise Conflict("This contact has already confirmed.")
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
    }


def respond_to_invitation(db: Session, token: str, decision: str) -> dict:
    """The contact's answer: confirm (from 'invited'), or decline/withdraw at any time."""
    contact = _contact_by_token(db, token)
    if decision == "confirm":
        if contact.consent_state != "invited":
            raise Conflict("This invitation can no longer be confirmed.")
        if contact.invited_at < utcnow() - timedelta(days=INVITATION_DAYS):
            raise Conflict("This invitation has expired; ask for a new one.")
        contact.consent_state = "confirmed"
        contact.confirmed_at = utcnow()
    else:
        contact.consent_state = "revoked"
        contact.revoked_at = utcnow()
        contact.consent_token_hash = None
    db.flush()
    return {"consent_state": contact.consent_state}


def alert_context(db: Session, user_id: str) -> dict:
    """Who to alert for this user (confirmed contacts, highest priority first), and
    what an alert may say about the user: name, how to reach them, their country."""
    profile = db.get(UserProfile, user_id)
    if profile is None:
        raise NotFound("account not found")
    contacts = db.scalars(
        select(EmergencyContact)
        .where(EmergencyContact.user_id == user_id, EmergencyContact.consent_state == "confirmed")
        .order_by(EmergencyContact.priority, EmergencyContact.created_at)
    )
    return {
        "user": to_dict(profile, ("display_name", "phone", "country", "locale")),
        "contacts": [to_dict(c, ("contact_id", "name", "email", "phone", "priority")) for c in contacts],
    }


def prescription(medication: dict) -> dict:
    """What medication tracking needs of a medication: no free text beyond its name."""
    keys = ("medication_id", "name", "dose_amount", "dose_unit", "schedule", "active",
            "created_at", "updated_at")
    return {key: medication[key] for key in keys}


# --- the plain owned records ---------------------------------------------------

contacts = OwnedRecords(EmergencyContact, (EmergencyContact.priority, EmergencyContact.created_at))
providers = OwnedRecords(HealthcareProvider, (HealthcareProvider.name, HealthcareProvider.created_at))
medications = OwnedRecords(Medication, (Medication.active.desc(), Medication.name))
