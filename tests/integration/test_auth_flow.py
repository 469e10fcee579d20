"""Register, log in, use the token, refresh, log out: through the real stack."""

import pytest

from tests.support.client import PASSWORD, random_ip


def test_register_login_use_refresh_logout(api):
    registered, email = api.register(display_name="Ann", timezone="Europe/London", country="GB")
    assert registered.status_code == 201, registered.text
    body = registered.json()
    assert body["token_type"] == "Bearer"
    assert 0 < body["expires_in"] <= 900

    login = api.login(email)
    assert login.status_code == 200, login.text
    tokens = login.json()

    profile = api.request("GET", "/api/v1/profile", token=tokens["access_token"])
    assert profile.status_code == 200
    assert profile.json()["email"] == email
    assert profile.json()["display_name"] == "Ann"
    assert profile.json()["timezone"] == "Europe/London"

    refreshed = api.request("POST", "/api/v1/auth/refresh",
                            json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    new_tokens = refreshed.json()
    assert new_tokens["refresh_token"] != tokens["refresh_token"]
    assert api.request("GET", "/api/v1/profile", token=new_tokens["access_token"]).status_code == 200

    logout = api.request("POST", "/api/v1/auth/logout", token=new_tokens["access_token"], json={})
    assert logout.status_code == 200
    assert logout.json()["sessions_ended"] == 2  # the registration's session and the login's

    for token in (tokens["access_token"], new_tokens["access_token"], body["access_token"]):
        refused = api.request("GET", "/api/v1/profile", token=token)
        assert refused.status_code == 401
        assert refused.json()["error"] == "unauthenticated"
    again = api.request("POST", "/api/v1/auth/refresh",
                        json={"refresh_token": new_tokens["refresh_token"]})
    assert again.status_code == 401


def test_logout_of_one_session_keeps_the_others(api, user):
    other = api.login(user.email).json()
    response = user.post("/api/v1/auth/logout", json={"everywhere": False})
    assert response.json() == {"sessions_ended": 1}
    assert user.get("/api/v1/profile").status_code == 401
    assert api.request("GET", "/api/v1/profile", token=other["access_token"]).status_code == 200


def test_refresh_token_is_single_use_and_reuse_ends_the_session(api, user):
    stolen = user.tokens["refresh_token"]
    assert user.refresh().status_code == 200
    replay = api.request("POST", "/api/v1/auth/refresh", json={"refresh_token": stolen})
    assert replay.status_code == 401
    # The reuse revoked the session: the legitimate holder's tokens stop too.
    assert user.get("/api/v1/profile").status_code == 401
    assert user.refresh().status_code == 401


def test_wrong_password_and_unknown_email_look_the_same(api, user):
    wrong = api.login(user.email, "not the password at all")
    unknown = api.login("nobody-" + user.email, PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_email_is_case_insensitive_and_unique(api, user):
    assert api.login(user.email.upper()).status_code == 200
    again, _ = api.register(email=user.email.upper())
    assert again.status_code == 409
    assert "email" in again.json()["fields"]


def test_login_attempts_are_limited_per_account(api, user):
    for _ in range(5):
        assert api.login(user.email, "wrong password!!", ip=random_ip()).status_code == 401
    limited = api.login(user.email, PASSWORD, ip=random_ip())
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limited"
    assert 0 < int(limited.headers["Retry-After"]) <= 900


def test_login_attempts_are_limited_per_ip(api):
    ip = random_ip()
    statuses = [api.login(f"x{i}@example.com", "whatever pass", ip=ip).status_code for i in range(21)]
    assert statuses[:20] == [401] * 20
    assert statuses[20] == 429


def test_registrations_from_one_address_have_their_own_limit(api):
    """A clinic signs up a room of patients from one address: that does not use up their
    log-ins, and sign-ups stop only at their own limit (60 an hour)."""
    ip = random_ip()
    signed_up = []
    for _ in range(25):
        response, email = api.register(ip=ip)
        assert response.status_code == 201, response.text
        signed_up.append(email)
    assert api.login(signed_up[0], PASSWORD, ip=ip).status_code == 200   # log-ins untouched
    statuses = [api.register(ip=ip)[0].status_code for _ in range(36)]
    assert statuses[:35] == [201] * 35 and statuses[35] == 429


def test_profile_update(user):
    response = user.patch("/api/v1/profile", json={"locale": "fr-FR", "country": "FR"})
    assert response.status_code == 200
    assert response.json()["locale"] == "fr-FR"
    assert user.get("/api/v1/profile").json()["country"] == "FR"


@pytest.mark.parametrize("path", ["/health", "/ready"])
def test_health_endpoints(api, path):
    response = api.request("GET", path)
    assert response.status_code == 200
    if path == "/ready":
        assert all(check["ok"] for check in response.json()["checks"].values())


def test_openapi_and_docs(api):
    spec = api.request("GET", "/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    contact = spec["components"]["schemas"]["ContactCreate"]
    assert "name" in contact["required"]
    assert spec["paths"]["/api/v1/contacts"]["post"]["security"] == [{"bearerAuth": []}]
    assert "security" not in spec["paths"]["/api/v1/auth/login"]["post"]
    docs = api.request("GET", "/api/v1/docs")
    assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.text
    assert api.request("GET", "/api/v1/docs/assets/swagger-ui-bundle.js").status_code == 200
