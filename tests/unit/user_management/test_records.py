"""What a user's records show and what their owner may edit, derived from the tables."""

from services.kit.records import editable_fields, public_fields
from services.user_management.accounts import normalize_email
from services.user_management.models import EmergencyContact, Medication, UserProfile


def test_a_contact_shows_its_consent_but_never_its_token():
    shown = public_fields(EmergencyContact)
    assert "consent_state" in shown and "confirmed_at" in shown
    assert "consent_token_hash" not in shown and "user_id" not in shown


def test_only_the_contact_decides_consent():
    # The user chooses what to ask a contact for (scopes); what the contact agreed
    # to (consented_scopes, consent_state) only the contact's own answer changes.
    assert set(editable_fields(EmergencyContact)) == {"name", "relationship", "email", "phone",
                                                      "priority", "scopes"}


def test_timestamps_and_keys_are_never_editable():
    assert set(editable_fields(Medication)) == {"name", "dose", "dose_amount", "dose_unit", "schedule",
                                                "schedule_note", "active"}
    assert set(editable_fields(UserProfile)) == {"display_name", "timezone", "locale", "country",
                                                 "phone"}


def test_emails_are_compared_without_case_or_spaces():
    assert normalize_email("  Ann@Example.COM ") == "ann@example.com"
