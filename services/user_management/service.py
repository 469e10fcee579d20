"""User management: accounts, sessions, profile, contacts, providers, medications.

RPC only; the gateway validates input and calls these with plain dicts. Every
method that touches a user's data takes that user's id first and only ever
reads or writes rows carrying it.
"""

from services.kit import metrics
from services.kit.errors import RateLimited, Unauthenticated
from services.kit.events import event_handler
from services.kit.rpc import rpc
from services.kit.service import DomainService
from services.user_management import accounts, people

INVITED = "contact.invited"
MEDICATION_SAVED = "medication.saved"
MEDICATION_DELETED = "medication.deleted"
REACH_CHANGED = "user.reach_changed"
REACH_FIELDS = {"display_name", "phone", "country"}


class UserManagementService(DomainService):
    name = "user_management"

    # --- accounts ---------------------------------------------------------
    @rpc
    def register(self, data: dict, client_ip: str) -> dict:
        accounts.register_limit().take(self.redis, client_ip)
        user_id = accounts.register(self.db, data)
        self._profile_changed(user_id, data.get("timezone", "UTC"))
        self._reach_changed(accounts.profile_of(self.db, user_id))
        return accounts.open_session(self.db, user_id)

    @rpc
    def login(self, email: str, password: str, client_ip: str) -> dict:
        try:
            answer = accounts.log_in(self.db, self.redis, email, password, client_ip)
        except RateLimited:
            metrics.count("sanctum_logins_total", outcome="limited")
            raise
        except Unauthenticated:
            metrics.count("sanctum_logins_total", outcome="refused")
            raise
        self.db.on_commit(lambda: metrics.count("sanctum_logins_total", outcome="ok"))
        return answer

    @rpc
    def refresh(self, refresh_token: str) -> dict:
        return accounts.refresh(self.db, self.redis, refresh_token)

    @rpc
    def logout(self, user_id: str, session_id: str, everywhere: bool = True) -> dict:
        ended = accounts.revoke_sessions(
            self.db, self.redis, user_id, None if everywhere else [session_id]
        )
        return {"sessions_ended": ended}

    @rpc
    def delete_account(self, user_id: str, password: str) -> dict:
        accounts.delete_account(self.db, self.redis, user_id, password)
        self.events.erase_subject(user_id)
        self.events.dispatch("user.deleted", {"user_id": user_id}, subject_id=user_id)
        return {"deleted": True}

    @rpc
    def get_profile(self, user_id: str) -> dict:
        return accounts.profile_of(self.db, user_id)

    @rpc
    def update_profile(self, user_id: str, changes: dict) -> dict:
        profile = accounts.update_profile(self.db, user_id, changes)
        if "timezone" in changes:
            self._profile_changed(user_id, profile["timezone"])
        if REACH_FIELDS & set(changes):
            self._reach_changed(profile)
        return profile

    def _profile_changed(self, user_id: str, timezone: str) -> None:
        """Tell services that keep a copy of profile settings (mood: the time zone)."""
        self.events.dispatch("user.profile_changed", {"user_id": user_id, "timezone": timezone},
                             subject_id=user_id)

    def _reach_changed(self, profile: dict) -> None:
        """Notifications keeps how to reach the user themselves (reminders, check-ins)."""
        reach = {key: profile.get(key) for key in ("user_id", "email", *sorted(REACH_FIELDS))}
        self.events.dispatch(REACH_CHANGED, reach, subject_id=profile["user_id"])

    # --- emergency contacts -------------------------------------------------
    @rpc
    def list_contacts(self, user_id: str) -> list:
        return people.contacts.list(self.db, user_id)

    @rpc
    def get_contact(self, user_id: str, contact_id: str) -> dict:
        return people.contacts.get(self.db, user_id, contact_id)

    @rpc
    def create_contact(self, user_id: str, data: dict) -> dict:
        contact, invite = people.create_contact(self.db, user_id, data)
        self.events.dispatch(INVITED, invite, subject_id=user_id)
        return contact

    @rpc
    def update_contact(self, user_id: str, contact_id: str, changes: dict) -> dict:
        contact, invite = people.update_contact(self.db, user_id, contact_id, changes)
        if invite is not None:
            self.events.dispatch(INVITED, invite, subject_id=user_id)
        return contact

    @rpc
    def reinvite_contact(self, user_id: str, contact_id: str) -> dict:
        contact, invite = people.reinvite_contact(self.db, user_id, contact_id)
        self.events.dispatch(INVITED, invite, subject_id=user_id)
        return contact

    @rpc
    def delete_contact(self, user_id: str, contact_id: str) -> None:
        people.contacts.delete(self.db, user_id, contact_id)

    @rpc
    def describe_invitation(self, token: str) -> dict:
        return people.describe_invitation(self.db, token)

    @rpc
    def respond_to_invitation(self, token: str, decision: str, scopes: list | None = None) -> dict:
        return people.respond_to_invitation(self.db, token, decision, scopes)

    @rpc
    def withdraw_consent(self, token: str) -> dict:
        """A contact's "stop contacting me", from the link in any message they got."""
        return people.withdraw_consent(self.db, token)

    @event_handler("notifications", "contact.sms_opted_out")
    def note_sms_opt_out(self, event):
        people.note_sms_opt_out(self.db, event["data"])

    @rpc
    def alert_context(self, user_id: str) -> dict:
        """Confirmed contacts in priority order and what an alert may say (notifications)."""
        return people.alert_context(self.db, user_id)

    # --- healthcare providers -----------------------------------------------
    @rpc
    def list_providers(self, user_id: str) -> list:
        return people.providers.list(self.db, user_id)

    @rpc
    def get_provider(self, user_id: str, provider_id: str) -> dict:
        return people.providers.get(self.db, user_id, provider_id)

    @rpc
    def create_provider(self, user_id: str, data: dict) -> dict:
        return people.providers.create(self.db, user_id, data)

    @rpc
    def update_provider(self, user_id: str, provider_id: str, changes: dict) -> dict:
        return people.providers.update(self.db, user_id, provider_id, changes)

    @rpc
    def delete_provider(self, user_id: str, provider_id: str) -> None:
        people.providers.delete(self.db, user_id, provider_id)

    # --- medication list ------------------------------------------------------
    @rpc
    def list_medications(self, user_id: str) -> list:
        return people.medications.list(self.db, user_id)

    @rpc
    def get_medication(self, user_id: str, medication_id: str) -> dict:
        return people.medications.get(self.db, user_id, medication_id)

    @rpc
    def create_medication(self, user_id: str, data: dict) -> dict:
        return self._medication_saved(user_id, people.medications.create(self.db, user_id, data))

    @rpc
    def update_medication(self, user_id: str, medication_id: str, changes: dict) -> dict:
        medication = people.medications.update(self.db, user_id, medication_id, changes)
        return self._medication_saved(user_id, medication)

    @rpc
    def delete_medication(self, user_id: str, medication_id: str) -> None:
        people.medications.delete(self.db, user_id, medication_id)
        self.events.dispatch(MEDICATION_DELETED, {"user_id": user_id, "medication_id": medication_id},
                             subject_id=user_id)

    def _medication_saved(self, user_id: str, medication: dict) -> dict:
        """Medication tracking keeps a copy of what it needs (schedules, prescribed doses)."""
        self.events.dispatch(MEDICATION_SAVED, {"user_id": user_id, **people.prescription(medication)},
                             subject_id=user_id)
        return medication
