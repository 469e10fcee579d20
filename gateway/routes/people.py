"""Emergency contacts (and their consent), healthcare providers, medications."""

from gateway.clients import ServiceClients
from gateway.http import route
from gateway.schemas import people as s


class PeopleRoutes(ServiceClients):
    # --- emergency contacts -----------------------------------------------
    @route("GET", "/api/v1/contacts", response=s.Contact(many=True), tags=["contacts"])
    def list_contacts(self, call):
        return self.users.list_contacts(call.user_id)

    @route("POST", "/api/v1/contacts", body=s.ContactCreate, response=s.Contact, status=201,
           tags=["contacts"], errors=[409, 422])
    def create_contact(self, call):
        """Add a contact; they get an invitation and must confirm before any alert."""
        return self.users.create_contact(call.user_id, call.body)

    @route("GET", "/api/v1/contacts/<contact_id>", response=s.Contact, tags=["contacts"])
    def get_contact(self, call, contact_id):
        return self.users.get_contact(call.user_id, contact_id)

    @route("PATCH", "/api/v1/contacts/<contact_id>", body=s.ContactUpdate, response=s.Contact,
           tags=["contacts"], errors=[422])
    def update_contact(self, call, contact_id):
        """Edit; a new email or phone restarts consent. consent_state=revoked stops alerts."""
        return self.users.update_contact(call.user_id, contact_id, call.body)

    @route("DELETE", "/api/v1/contacts/<contact_id>", status=204, tags=["contacts"])
    def delete_contact(self, call, contact_id):
        self.users.delete_contact(call.user_id, contact_id)

    @route("POST", "/api/v1/contacts/<contact_id>/invite", response=s.Contact, tags=["contacts"], errors=[409])
    def reinvite_contact(self, call, contact_id):
        """Send a fresh invitation to a contact who has not confirmed."""
        return self.users.reinvite_contact(call.user_id, contact_id)

    # --- the contact's side: answering an invitation (token, no account) ----
    @route("POST", "/api/v1/consent/details", auth=False, body=s.InvitationToken,
           response=s.Invitation, tags=["consent"], errors=[404])
    def describe_invitation(self, call):
        """Who is asking: for the invited person's confirmation page."""
        return self.users.describe_invitation(call.body["token"])

    @route("POST", "/api/v1/consent", auth=False, body=s.InvitationAnswer,
           response=s.ConsentResult, tags=["consent"], errors=[404, 409, 422])
    def answer_invitation(self, call):
        """The invited person confirms, declines, or later withdraws (decline)."""
        return self.users.respond_to_invitation(call.body["token"], call.body["decision"],
                                                call.body.get("scopes"))

    @route("POST", "/api/v1/consent/withdraw", auth=False, body=s.InvitationToken,
           response=s.ConsentResult, tags=["consent"], errors=[404, 409])
    def withdraw_consent(self, call):
        """A contact stops all messages, from the link at the foot of any message."""
        return self.users.withdraw_consent(call.body["token"])

    # --- healthcare providers -------------------------------------------------
    @route("GET", "/api/v1/providers", response=s.Provider(many=True), tags=["providers"])
    def list_providers(self, call):
        return self.users.list_providers(call.user_id)

    @route("POST", "/api/v1/providers", body=s.ProviderCreate, response=s.Provider, status=201,
           tags=["providers"], errors=[422])
    def create_provider(self, call):
        return self.users.create_provider(call.user_id, call.body)

    @route("GET", "/api/v1/providers/<provider_id>", response=s.Provider, tags=["providers"])
    def get_provider(self, call, provider_id):
        return self.users.get_provider(call.user_id, provider_id)

    @route("PATCH", "/api/v1/providers/<provider_id>", body=s.ProviderUpdate, response=s.Provider,
           tags=["providers"], errors=[422])
    def update_provider(self, call, provider_id):
        return self.users.update_provider(call.user_id, provider_id, call.body)

    @route("DELETE", "/api/v1/providers/<provider_id>", status=204, tags=["providers"])
    def delete_provider(self, call, provider_id):
        self.users.delete_provider(call.user_id, provider_id)

    # --- medication list --------------------------------------------------------
    @route("GET", "/api/v1/medications", response=s.Medication(many=True), tags=["medications"])
    def list_medications(self, call):
        return self.users.list_medications(call.user_id)

    @route("POST", "/api/v1/medications", body=s.MedicationCreate, response=s.Medication,
           status=201, tags=["medications"], errors=[422])
    def create_medication(self, call):
        return self.users.create_medication(call.user_id, call.body)

    @route("GET", "/api/v1/medications/<medication_id>", response=s.Medication,
           tags=["medications"])
    def get_medication(self, call, medication_id):
        return self.users.get_medication(call.user_id, medication_id)

    @route("PATCH", "/api/v1/medications/<medication_id>", body=s.MedicationUpdate,
           response=s.Medication, tags=["medications"], errors=[422])
    def update_medication(self, call, medication_id):
        return self.users.update_medication(call.user_id, medication_id, call.body)

    @route("DELETE", "/api/v1/medications/<medication_id>", status=204, tags=["medications"])
    def delete_medication(self, call, medication_id):
        self.users.delete_medication(call.user_id, medication_id)
