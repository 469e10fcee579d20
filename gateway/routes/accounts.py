"""Accounts and sessions: /api/v1/auth/*, /api/v1/profile, /api/v1/account."""

from gateway.clients import ServiceClients
from gateway.http import route
from gateway.schemas import accounts as s


class AccountRoutes(ServiceClients):
    @route("POST", "/api/v1/auth/register", auth=False, body=s.RegisterRequest,
           response=s.TokenPair, status=201, tags=["auth"], errors=[409, 422, 429])
    def register(self, call):
        """Create an account and log in."""
        return self.users.register(call.body, call.client_ip)

    @route("POST", "/api/v1/auth/login", auth=False, body=s.LoginRequest,
           response=s.TokenPair, tags=["auth"], errors=[401, 429])
    def login(self, call):
        """Log in: a 15-minute access token and a rotating refresh token."""
        return self.users.login(call.body["email"], call.body["password"], call.client_ip)

    @route("POST", "/api/v1/auth/refresh", auth=False, body=s.RefreshRequest,
           response=s.TokenPair, tags=["auth"], errors=[401])
    def refresh(self, call):
        """Swap a refresh token for a new pair; the old one is spent."""
        return self.users.refresh(call.body["refresh_token"])

    @route("POST", "/api/v1/auth/logout", body=s.LogoutRequest, response=s.LogoutResult,
           tags=["auth"])
    def logout(self, call):
        """End every session of the account (or only this one, with everywhere=false)."""
        return self.users.logout(call.user_id, call.identity.session_id, call.body["everywhere"])

    @route("GET", "/api/v1/profile", response=s.Profile, tags=["account"], errors=[404])
    def get_profile(self, call):
        return self.users.get_profile(call.user_id)

    @route("PATCH", "/api/v1/profile", body=s.ProfileUpdate, response=s.Profile, tags=["account"], errors=[404, 422])
    def update_profile(self, call):
        return self.users.update_profile(call.user_id, call.body)

    @route("DELETE", "/api/v1/account", body=s.DeleteAccountRequest, status=204, tags=["account"], errors=[404])
    def delete_account(self, call):
        """Erase the account and everything in it; needs the password again."""
        self.users.delete_account(call.user_id, call.body["password"])
