"""Accounts: registration, log-in sessions, token rotation, log-out, erasure.

Plain functions over a session (and Redis where revocation is involved), so the
service class stays a thin RPC surface and the logic is testable on its own.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.kit import tokens
from services.kit.errors import Conflict, NotFound, ServiceUnavailable, Unauthenticated
from services.kit.ratelimit import Limit
from services.kit.records import apply_changes, editable_fields, to_dict, utcnow
from services.kit.redis import RedisError
from services.user_management.models import (
    LoginSession,
    RefreshToken,
    User,
    UserProfile,
)

log = logging.getLogger(__name__)

# argon2id at the OWASP minimum (19 MiB, t=2, p=1): about 36 ms per hash here.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
BAD_LOGIN = "Email or password is incorrect."


def login_limits() -> tuple[Limit, Limit]:
    auth = tokens.settings()
    window = auth.login_window_seconds
    per_account = Limit("login-account", auth.login_max_attempts_per_account, window)
    per_ip = Limit("login-ip", auth.login_max_attempts_per_ip, window)
    return per_account, per_ip


def register_limit() -> Limit:
    """Sign-ups per address: its own counter, not the log-in one (a clinic's sign-up
    session must not use up its patients' log-ins)."""
    auth = tokens.settings()
    return Limit("register-ip", auth.register_max_per_ip, auth.register_window_seconds)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# Hashing runs in a real thread: 36 ms of C would otherwise stall every
# greenthread in the process.
def hash_password(password: str) -> str:
    return tpool.execute(HASHER.hash, password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return tpool.execute(HASHER.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    """A real hash to verify against when the email is unknown (equal timing)."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(HASHER.hash(secrets.token_hex(16)))
    return _DUMMY_HASH[0]



def _find_user_by_email(db: Session, email: str) -> User | None:
    return db.scalars(select(User).where(func.lower(User.email) == normalize_email(email))).first()


def profile_of(db: Session, user_id: str) -> dict:
    row = db.execute(
        select(User, UserProfile)
        .join(UserProfile, UserProfile.user_id == User.user_id)
        .where(User.user_id == user_id)
    ).first()
    if row is None:
        raise NotFound("account not found")
    user, profile = row
    return {
        "user_id": user.user_id,
        "email": user.email,
        "created_at": user.created_at.isoformat(),
        **to_dict(profile, editable_fields(UserProfile)),
    }


def register(db: Session, data: dict) -> str:
    if _find_user_by_email(db, data["email"]) is not None:
        raise Conflict("An account with this email already exists.", {"email": ["Already registered."]})
    user = User(email=normalize_email(data["email"]), password_hash=hash_password(data["password"]))
    try:
        with db.begin_nested():  # another registration with this email may have just won
            db.add(user)
            db.flush()
    except IntegrityError:
        raise Conflict("An account with this email already exists.",
                       {"email": ["Already registered."]}) from None
    editable = editable_fields(UserProfile)
    db.add(UserProfile(user_id=user.user_id, **{k: data[k] for k in editable if k in data}))
    db.flush()
    return user.user_id


def update_profile(db: Session, user_id: str, changes: dict) -> dict:
    profile = db.get(UserProfile, user_id, with_for_update=True)
    if profile is None:
        raise NotFound("account not found")
    apply_changes(profile, changes, editable_fields(UserProfile))
    db.flush()
    return profile_of(db, user_id)


# --- sessions and tokens ------------------------------------------------------

def _new_refresh_token(db: Session, session: LoginSession) -> str:
    raw = secrets.token_urlsafe(32)
    db.add(RefreshToken(token_hash=digest(raw), session_id=session.session_id, user_id=session.user_id))
    return raw


def _token_pair(user_id: str, session: LoginSession, refresh_token: str) -> dict:
    access_token, expires_in = tokens.issue_access_token(user_id, session.session_id)
    return {
        "token_type": "Bearer",
        "access_token": access_token,
        "expires_in": expires_in,
        "refresh_token": refresh_token,
        "refresh_expires_in": int((session.expires_at - utcnow()).total_seconds()),
        "user_id": user_id,
    }


def open_session(db: Session, user_id: str) -> dict:
    ttl = tokens.settings().refresh_token_ttl_seconds
    session = LoginSession(user_id=user_id, expires_at=utcnow() + timedelta(seconds=ttl))
    db.add(session)
    db.flush()
    return _token_pair(user_id, session, _new_refresh_token(db, session))


def log_in(db: Session, redis, email: str, password: str, client_ip: str) -> dict:
    per_account, per_ip = login_limits()
    account_key = digest(normalize_email(email))
    # Every attempt is counted before the password is looked at, so parallel
    # guesses cannot all slip in under the limit; success clears the account's count.
    per_ip.take(redis, client_ip)
    per_account.take(redis, account_key)

    user = _find_user_by_email(db, email)
    if not password_matches(user.password_hash if user else _dummy_hash(), password) or user is None:
        raise Unauthenticated(BAD_LOGIN)
    per_account.reset(redis, account_key)
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return open_session(db, user.user_id)


def refresh(db: Session, redis, refresh_token: str) -> dict:
    """Rotate: the presented token is spent, a new one issued for the same session.

    A spent token presented again means it was copied: the whole session is
    revoked, and that revocation is committed even though the call fails.
    """
    row = db.execute(
        select(RefreshToken, LoginSession)
        .join(LoginSession, LoginSession.session_id == RefreshToken.session_id)
        .where(RefreshToken.token_hash == digest(refresh_token))
        .with_for_update()
    ).first()
    if row is None:
        raise Unauthenticated("Refresh token is not valid.")
    token, session = row
    if session.revoked_at is not None or session.expires_at <= utcnow():
        raise Unauthenticated("This session has ended; log in again.")
    if token.used_at is not None:
        log.warning("refresh token reuse on session %s; session revoked", session.session_id)
        revoke_sessions(db, redis, session.user_id, [session.session_id])
        db.commit_despite_error()
        raise Unauthenticated("Refresh token was already used; log in again.")
    token.used_at = utcnow()
    session.last_refreshed_at = utcnow()
    new_token = _new_refresh_token(db, session)
    db.flush()
    return _token_pair(session.user_id, session, new_token)


def revoke_sessions(db: Session, redis, user_id: str, session_ids: list[str] | None = None) -> int:
    """End sessions (all of the user's when ``session_ids`` is None).

    Access tokens are checked against Redis at the gateway, so the revocation
    must reach Redis: if it cannot, the call fails and nothing is changed.
    """
    query = select(LoginSession.session_id).where(
        LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None)
    )
    if session_ids is not None:
        query = query.where(LoginSession.session_id.in_(session_ids))
    ids = list(db.scalars(query.with_for_update()))
    if not ids:
        return 0
    db.execute(update(LoginSession).where(LoginSession.session_id.in_(ids)).values(revoked_at=utcnow()))
    ttl = tokens.revocation_ttl_seconds()
    try:
        pipe = redis.pipeline()
        for session_id in ids:
            pipe.set(tokens.revoked_session_key(session_id), 1, ex=ttl)
            pipe.publish(tokens.REVOCATIONS_CHANNEL, session_id)
        pipe.execute()
    except RedisError:
        raise ServiceUnavailable("Could not end the session right now; try again.") from None
    return len(ids)


def delete_account(db: Session, redis, user_id: str, password: str) -> None:
    user = db.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound("account not found")
    if not password_matches(user.password_hash, password):
        raise Unauthenticated("Password is incorrect.")
    revoke_sessions(db, redis, user_id)
    # The log-in counter is named by a digest of the email: personal data, gone too.
    per_account, _ = login_limits()
    per_account.forget(redis, digest(normalize_email(user.email)))
    db.execute(delete(User).where(User.user_id == user_id))  # rows cascade in the schema
