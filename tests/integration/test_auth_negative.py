"""Tokens that must be refused with 401, whatever their shape."""

import base64
import json
import time

import jwt
import pytest

from services.kit import tokens


def _claims(user, **overrides):
    now = int(time.time())
    settings = tokens.settings()
    claims = {
        "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "sub": user.user_id,
        "sid": jwt.decode(user.token, options={"verify_signature": False})["sid"],
        "iat": now, "exp": now + 300, "jti": "test",
    }
    claims.update(overrides)
    return claims


def _sign(claims):
    return jwt.encode(claims, tokens._private_key(), algorithm="EdDSA")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_correctly_signed_token_is_accepted(user):
    # The control: the forgeries below differ from this in one respect each.
    assert user.get("/api/v1/profile", token=_sign(_claims(user))).status_code == 200


def test_a_token_the_gateway_remembers_is_refused_once_it_expires(user):
    """The gateway remembers tokens it verified (no signature check per request), but
    checks their expiry on every use: accepted, remembered, then past exp and the
    leeway, refused."""
    expires = int(time.time()) + 1  # with the 5 s leeway: usable for about 6 s
    token = _sign(_claims(user, exp=expires))
    assert user.get("/api/v1/profile", token=token).status_code == 200
    assert user.get("/api/v1/profile", token=token).status_code == 200  # from memory
    time.sleep(max(0.0, expires + tokens.LEEWAY_SECONDS + 1 - time.time()))  # the clock, not work
    refused = user.get("/api/v1/profile", token=token)
    assert refused.status_code == 401 and refused.json()["error"] == "unauthenticated"
    assert user.get("/api/v1/profile").status_code == 200  # a fresh token still works


@pytest.mark.parametrize("change", [
    {"exp": int(time.time()) - 60},
    {"aud": "someone-else"},
    {"iss": "https://evil.example"},
    {"sub": None},
], ids=["expired", "wrong-audience", "wrong-issuer", "no-subject"])
def test_bad_claims_are_refused(user, change):
    claims = {k: v for k, v in _claims(user, **change).items() if v is not None}
    response = user.get("/api/v1/profile", token=_sign(claims))
    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated"


def test_alg_none_is_refused(user):
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(user))}."
    assert user.get("/api/v1/profile", token=token).status_code == 401


def test_hs256_signed_with_the_public_key_is_refused(user):
    public_pem = tokens.config.read_secret(tokens.settings().jwt_public_key_file)
    header = _b64({"alg": "HS256", "typ": "JWT"})
    payload = _b64(_claims(user))
    import hashlib
    import hmac
    signature = base64.urlsafe_b64encode(
        hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    ).rstrip(b"=").decode()
    assert user.get("/api/v1/profile", token=f"{header}.{payload}.{signature}").status_code == 401


def test_tampered_payload_is_refused(user, other_user):
    header, _, signature = user.token.split(".")
    forged_payload = _b64(_claims(other_user))
    assert user.get("/api/v1/profile", token=f"{header}.{forged_payload}.{signature}").status_code == 401


def test_tampered_signature_is_refused(user):
    header, payload, signature = user.token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert user.get("/api/v1/profile", token=f"{header}.{payload}.{flipped}").status_code == 401


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic abc", "Token x.y.z"])
def test_missing_or_malformed_authorization_is_refused(api, header):
    response = api.request("GET", "/api/v1/profile", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_of_a_deleted_user_is_refused(api, user):
    forged_later = _sign(_claims(user))  # even a freshly signed token for that session
    deleted = user.delete("/api/v1/account", json={"password": user.password})
    assert deleted.status_code == 204
    assert user.get("/api/v1/profile").status_code == 401
    assert user.get("/api/v1/profile", token=forged_later).status_code == 401
    assert user.refresh().status_code == 401
    assert api.login(user.email).status_code == 401


def test_account_deletion_needs_the_password(user):
    response = user.delete("/api/v1/account", json={"password": "not my password"})
    assert response.status_code == 401
    assert user.get("/api/v1/profile").status_code == 200


def _errors_logged(stack, name: str) -> list[str]:
    import json

    lines = stack.log_path(name).read_text().splitlines()
    return [line for line in lines if line.startswith("{") and json.loads(line)["level"] == "ERROR"]


def test_expected_domain_errors_are_never_logged_as_errors(api, user, stack):
    """A bad invitation token, someone else's id, a wrong password: answers, not faults."""
    before = {name: len(_errors_logged(stack, name)) for name in ("gateway", "user_management")}
    assert api.request("POST", "/api/v1/consent", json={"token": "t" * 32,
                                                        "decision": "confirm"}).status_code == 404
    assert user.get("/api/v1/contacts/00000000-0000-0000-0000-000000000000").status_code == 404
    assert api.login(user.email, "not the password").status_code == 401
    after = {name: len(_errors_logged(stack, name)) for name in before}
    assert after == before
