"""Contacts (with consent), providers and medications: CRUD, ownership, erasure."""

import pytest
from sqlalchemy import create_engine, text

from services.kit import config
from tests.support.flows import invitation_token, unique_email

RESOURCES = {
    "contacts": ({"name": "Bob", "phone": "+447911123456", "relationship": "brother"},
                 {"relationship": "friend"}, "contact_id"),
    "providers": ({"name": "Dr Rao", "role": "psychiatrist", "email": "rao@clinic.example"},
                  {"organization": "North Clinic"}, "provider_id"),
    "medications": ({"name": "Lithium carbonate", "dose": "400 mg", "schedule": {"times": ["21:00"]}},
                    {"dose": "600 mg"}, "medication_id"),
}


@pytest.mark.parametrize("resource", RESOURCES)
def test_crud(user, resource):
    create, change, id_field = RESOURCES[resource]
    created = user.post(f"/api/v1/{resource}", json=create)
    assert created.status_code == 201, created.text
    record_id = created.json()[id_field]
    assert user.get(f"/api/v1/{resource}/{record_id}").json()[id_field] == record_id
    updated = user.patch(f"/api/v1/{resource}/{record_id}", json=change)
    assert updated.status_code == 200
    for key, value in change.items():
        assert updated.json()[key] == value
    assert [r[id_field] for r in user.get(f"/api/v1/{resource}").json()] == [record_id]
    assert user.delete(f"/api/v1/{resource}/{record_id}").status_code == 204
    assert user.get(f"/api/v1/{resource}/{record_id}").status_code == 404
    assert user.get(f"/api/v1/{resource}").json() == []


@pytest.mark.parametrize("resource", RESOURCES)
def test_another_user_can_neither_see_nor_change(user, other_user, resource):
    create, change, id_field = RESOURCES[resource]
    record = user.post(f"/api/v1/{resource}", json=create).json()
    path = f"/api/v1/{resource}/{record[id_field]}"

    assert other_user.get(f"/api/v1/{resource}").json() == []
    for response in (
        other_user.get(path),
        other_user.patch(path, json=change),
        other_user.delete(path),
    ):
        assert response.status_code == 404
        assert create["name"] not in response.text
    if resource == "contacts":
        assert other_user.post(f"{path}/invite").status_code == 404
    assert user.get(path).json() == record  # untouched


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_unknown_ids_are_404(user, bad_id):
    for resource in RESOURCES:
        assert user.get(f"/api/v1/{resource}/{bad_id}").status_code == 404


def test_contact_consent_lifecycle(api, user, sinks):
    first_email = unique_email()
    contact = user.post("/api/v1/contacts", json={"name": "Bob", "email": first_email}).json()
    assert contact["consent_state"] == "invited"
    token = invitation_token(sinks, email=first_email)

    seen = api.request("POST", "/api/v1/consent/details", json={"token": token})
    assert seen.status_code == 200 and seen.json()["consent_state"] == "invited"
    confirmed = api.request("POST", "/api/v1/consent", json={"token": token, "decision": "confirm"})
    assert confirmed.json() == {"consent_state": "confirmed", "agreed_also": []}
    assert user.get(f"/api/v1/contacts/{contact['contact_id']}").json()["consent_state"] == "confirmed"

    # The user cannot confirm on the contact's behalf, only stop alerting them.
    assert user.patch(f"/api/v1/contacts/{contact['contact_id']}",
                      json={"consent_state": "confirmed"}).status_code == 400

    # A new email reaches a new person: consent starts again.
    second_email = unique_email()
    changed = user.patch(f"/api/v1/contacts/{contact['contact_id']}", json={"email": second_email})
    assert changed.json()["consent_state"] == "invited"
    assert api.request("POST", "/api/v1/consent", json={"token": token, "decision": "confirm"}).status_code == 404
    new_token = invitation_token(sinks, email=second_email)
    assert new_token != token
    declined = api.request("POST", "/api/v1/consent", json={"token": new_token, "decision": "decline"})
    assert declined.json() == {"consent_state": "revoked", "agreed_also": []}


def test_user_can_revoke_a_contact(user):
    contact = user.post("/api/v1/contacts", json={"name": "Bob", "phone": "+447911123456"}).json()
    revoked = user.patch(f"/api/v1/contacts/{contact['contact_id']}", json={"consent_state": "revoked"})
    assert revoked.json()["consent_state"] == "revoked"
    reinvited = user.post(f"/api/v1/contacts/{contact['contact_id']}/invite")
    assert reinvited.json()["consent_state"] == "invited"


def test_contacts_are_listed_in_priority_order(user):
    for name, priority in [("Third", 3), ("First", 1), ("Second", 2)]:
        user.post("/api/v1/contacts", json={"name": name, "phone": "+447911123456", "priority": priority})
    assert [c["name"] for c in user.get("/api/v1/contacts").json()] == ["First", "Second", "Third"]


def test_account_deletion_erases_every_row_of_the_user(user, other_user):
    for resource, (create, _, _) in RESOURCES.items():
        user.post(f"/api/v1/{resource}", json=create)
        other_user.post(f"/api/v1/{resource}", json=create)
    assert user.delete("/api/v1/account", json={"password": user.password}).status_code == 204

    engine = create_engine(config.kit().database_url)
    with engine.connect() as conn:
        tables = conn.execute(text(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = 'user_management' AND column_name = 'user_id'"
        )).scalars().all()
        assert {"users", "user_profiles", "emergency_contacts", "healthcare_providers",
                "medications", "login_sessions", "refresh_tokens"} <= set(tables)
        for table in tables:
            mine = conn.execute(text(f"SELECT count(*) FROM user_management.{table} WHERE user_id = :u"),
                                {"u": user.user_id}).scalar()
            theirs = conn.execute(text(f"SELECT count(*) FROM user_management.{table} WHERE user_id = :u"),
                                  {"u": other_user.user_id}).scalar()
            assert mine == 0, table
            assert theirs >= 1 or table in ("refresh_tokens",), table
        events = conn.execute(text(
            "SELECT event_type FROM user_management.outbox WHERE subject_id = :u"), {"u": user.user_id}
        ).scalars().all()
        assert set(events) <= {"user.deleted"}  # the invitation (with contact details) is gone
    engine.dispose()
