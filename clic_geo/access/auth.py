"""Accounts, roles and sessions, kept server-side in the store.

Roles (:class:`Role`):

- ``officer``: the 1-CLIC team; record-level data, planning, recording visits.
- ``partner``: a partner organisation's staff; aggregates only, within the
  organisation's information-sharing agreement (:mod:`clic_geo.access.isa`).
- ``admin``: users, areas and ISA scopes (and everything an officer sees).

Passwords are hashed with bcrypt over a SHA-256 pre-hash (so pass-phrases longer than
bcrypt's 72-byte limit work; bcrypt 5 refuses them otherwise). After
``max_failures`` wrong passwords in a row an account is held for ``lockout_minutes``
(1), and the client address for a growing time (:mod:`clic_geo.access.throttle`).
Every refusal says the same thing and costs one bcrypt check, so a caller cannot
tell an unknown user from a wrong password or a locked account.

A successful sign-in returns a :class:`Session` holding a random token; only the
token's SHA-256 is stored. Sessions end after ``idle_timeout_minutes`` without use,
after ``absolute_timeout_hours`` in any case, at :func:`logout`, or when an admin
disables the user. Nothing here keeps per-user state at module level: the app keeps
the :class:`Session` in ``st.session_state`` and passes it to every call, and each
call re-checks it against the store (:func:`validate_session`).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import bcrypt
import sqlalchemy as sa

from clic_geo._errors import ClicGeoError, ConfigError, PermissionDeniedError
from clic_geo.access.audit import Action, AuditOutcome, record, utcnow
from clic_geo.access.identity import Role, Session, User
from clic_geo.access.throttle import ClientThrottle, ThrottledError
from clic_geo.store import Store
from clic_geo.store.auth_tables import organisations, sessions, users

__all__ = [
    "AuthPolicy",
    "AuthenticationError",
    "PasswordPolicyError",
    "SessionExpiredError",
    "SignInThrottledError",
    "check_password_policy",
    "hash_password",
    "login",
    "login_oidc",
    "logout",
    "require_role",
    "validate_session",
    "verify_password",
]

log = logging.getLogger(__name__)

#: A session's last use is written at most this often (every page run used to write
#: it: one write per rerun per user, contending with imports for the write lock). The
#: idle timeout is therefore exact to within this many seconds.
TOUCH_EVERY_S = 30

#: The one message every failed sign-in gets.
LOGIN_FAILED = "sign-in failed: wrong username or password, or the account is locked or disabled"

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,127}$")
_SCHEME = "bcrypt-sha256$"


class AuthenticationError(ClicGeoError, PermissionError):
    """Sign-in failed, or the session is not (or no longer) valid."""


class SignInThrottledError(AuthenticationError):
    """Too many failed sign-ins from this client address: refused without a check."""


class SessionExpiredError(AuthenticationError):
    """The session timed out, was revoked, or its user was disabled."""


class PasswordPolicyError(ClicGeoError, ValueError):
    """A new password does not meet the password policy."""


@dataclass(frozen=True)
class AuthPolicy:
    """Password, lockout and session parameters.

    Read from the ``[security]`` table of ``settings.toml`` by :meth:`from_settings`
    (same key names); the defaults are those documented in ``docs/security.md``.
    """

    min_password_length: int = 12
    max_password_length: int = 256
    max_failures: int = 5
    lockout_minutes: int = 1
    #: a client address is held after ``max_failures`` failed sign-ins in a row, for
    #: 1 s, 2 s, 4 s... up to this (:mod:`clic_geo.access.throttle`)
    client_max_hold_minutes: int = 60
    idle_timeout_minutes: int = 30
    absolute_timeout_hours: int = 10
    bcrypt_rounds: int = 12
    #: demo accounts may sign in only when this is true (``settings.demo``)
    demo: bool = False
    #: if not empty, single sign-on is accepted only from these issuers
    oidc_issuers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 4 <= self.bcrypt_rounds <= 31:
            raise ConfigError("[security] bcrypt_rounds must be between 4 and 31")
        for name in (
            "min_password_length",
            "max_failures",
            "lockout_minutes",
            "client_max_hold_minutes",
            "idle_timeout_minutes",
            "absolute_timeout_hours",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"[security] {name} must be at least 1")
        if self.max_password_length < self.min_password_length:
            raise ConfigError("[security] max_password_length is below min_password_length")

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> AuthPolicy:
        """The policy of an installation: ``settings.toml`` ``[security]``, ``settings.demo``."""
        cfg = dict((getattr(settings, "extra", {}) or {}).get("security") or {})
        known = set(cls.__dataclass_fields__) - {"demo"}
        unknown = set(cfg) - known
        if unknown:
            raise ConfigError(f"settings.toml [security]: unknown keys {sorted(unknown)}")
        if "oidc_issuers" in cfg:
            cfg["oidc_issuers"] = tuple(cfg["oidc_issuers"])
        values = {**cfg, "demo": bool(getattr(settings, "demo", False)), **overrides}
        return cls(**values)


# ---------------------------------------------------------------- passwords


def _prehash(password: str) -> bytes:
    norm = unicodedata.normalize("NFKC", password)
    return base64.b64encode(hashlib.sha256(norm.encode("utf-8")).digest())


def hash_password(password: str, *, rounds: int = 12) -> str:
    """Hash a password: bcrypt over the base64 SHA-256 of its NFKC form.

    Examples
    --------
    >>> h = hash_password("correct horse battery", rounds=4)
    >>> h.startswith("bcrypt-sha256$"), verify_password("correct horse battery", h)
    (True, True)
    """
    return _SCHEME + bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, stored: str | None) -> bool:
    """True if ``password`` matches a hash made by :func:`hash_password`."""
    if not stored or not stored.startswith(_SCHEME):
        return False
    try:
        return bcrypt.checkpw(_prehash(password), stored[len(_SCHEME) :].encode("ascii"))
    except ValueError:
        return False


def _cost(stored: str) -> int | None:
    """The bcrypt cost of a stored hash (``bcrypt-sha256$$2b$12$...`` -> 12)."""
    try:
        return int(stored[len(_SCHEME) :].split("$")[2])
    except (IndexError, ValueError):
        return None


@lru_cache(maxsize=8)
def _dummy_hash(rounds: int) -> str:
    # a constant, not per-user state: lets a refusal cost the same as a real check
    return hash_password(secrets.token_hex(16), rounds=rounds)


def _burn(password: str, policy: AuthPolicy) -> None:
    verify_password(password[: policy.max_password_length], _dummy_hash(policy.bcrypt_rounds))


def check_password_policy(password: str, username: str, policy: AuthPolicy) -> None:
    """Raise :class:`PasswordPolicyError` unless the password is acceptable.

    The rules: at least ``min_password_length`` characters (default 12), at most
    ``max_password_length`` (256), not containing the username, and not one
    character repeated. Pass-phrases are encouraged; no composition rules.
    """
    problems = []
    n = len(password)
    if n < policy.min_password_length:
        problems.append(f"at least {policy.min_password_length} characters (got {n})")
    if n > policy.max_password_length:
        problems.append(f"at most {policy.max_password_length} characters (got {n})")
    if username and username.lower() in password.lower():
        problems.append("must not contain the username")
    if n and len(set(password)) == 1:
        problems.append("must not be one character repeated")
    if problems:
        raise PasswordPolicyError("the password does not meet the policy: " + "; ".join(problems))


# ---------------------------------------------------------------- users


def _norm_username(username: str) -> str:
    return unicodedata.normalize("NFKC", str(username)).strip().lower()


def _user_from_row(row: Any) -> User:
    return User(
        id=int(row.id),
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        organisation_id=row.organisation_id,
        organisation_name=row.organisation_name,
        disabled=bool(row.disabled),
        demo=bool(row.demo),
        email=row.email,
    )


def _user_query() -> sa.Select:
    return sa.select(users, organisations.c.name.label("organisation_name")).join(
        organisations, organisations.c.id == users.c.organisation_id
    )


def _row_by_name(conn: sa.Connection, username: str) -> Any:
    return conn.execute(_user_query().where(users.c.username == username)).first()


# ---------------------------------------------------------------- sign-in and sessions


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_session(
    conn: sa.Connection, row: Any, method: str, policy: AuthPolicy, now: datetime
) -> Session:
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=policy.absolute_timeout_hours)
    idle = policy.idle_timeout_minutes * 60
    conn.execute(
        sa.insert(sessions).values(
            token_hash=_token_hash(token),
            user_id=row.id,
            method=method,
            created_at=now,
            last_seen_at=now,
            expires_at=expires,
            idle_timeout_s=idle,
        )
    )
    # opportunistic clean-up: sessions that ended more than a day ago
    conn.execute(sa.delete(sessions).where(sessions.c.expires_at < now - timedelta(days=1)))
    return Session(
        token=token,
        user=_user_from_row(row),
        method=method,
        created_at=now,
        expires_at=expires,
        idle_timeout_s=idle,
    )


def login(
    store: Store,
    username: str,
    password: str,
    *,
    policy: AuthPolicy | None = None,
    now: datetime | None = None,
    client: str | None = None,
    throttle: ClientThrottle | None = None,
) -> Session:
    """Sign in with a username and password.

    ``client`` (the caller's address) and ``throttle`` (the server's ClientThrottle):
    a client with too many failures in a row is refused at once, for a growing time.

    Raises
    ------
    SignInThrottledError
        The client address is held (the message says how long, nothing of the account).
    AuthenticationError
        With the same message whatever the reason: unknown user, wrong password,
        locked, disabled, no password (single sign-on only), or a demo account
        outside demo mode. The reason goes to the audit log, not to the caller.
    """
    policy = policy or AuthPolicy()
    now = now or utcnow()
    if throttle is not None:
        try:
            throttle.check(client, now)
        except ThrottledError as exc:
            log.info("a sign-in was refused: the client address is held")
            raise SignInThrottledError(str(exc)) from None
    try:
        return _login(store, username, password, policy, now)
    except AuthenticationError:
        if throttle is not None and throttle.failed(client, now):
            log.warning("a client address is held after repeated failed sign-ins")
        raise


def _login(
    store: Store, username: str, password: str, policy: AuthPolicy, now: datetime
) -> Session:
    name = _norm_username(username)
    password = str(password)
    with store.engine.connect() as conn:
        row = _row_by_name(conn, name) if _USERNAME.match(name) else None
    if row is None:
        _burn(password, policy)
        record(
            store,
            Action.LOGIN,
            actor=None,
            outcome=AuditOutcome.FAILED,
            detail={"reason": "unknown_user", "method": "password"},
            now=now,
        )
        raise AuthenticationError(LOGIN_FAILED)
    user = _user_from_row(row)
    locked = row.locked_until is not None and row.locked_until > now
    refuse = None
    if locked:
        refuse = (AuditOutcome.LOCKED, "locked")
    elif row.disabled:
        refuse = (AuditOutcome.FAILED, "disabled")
    elif row.password_hash is None:
        refuse = (AuditOutcome.FAILED, "no_password")
    elif row.demo and not policy.demo:
        refuse = (AuditOutcome.FAILED, "demo_mode_off")
    if refuse is not None:
        _burn(password, policy)
        record(
            store,
            Action.LOGIN,
            actor=user,
            outcome=refuse[0],
            detail={"reason": refuse[1], "method": "password"},
            now=now,
        )
        raise AuthenticationError(LOGIN_FAILED)
    if len(password) > policy.max_password_length:
        _burn(password, policy)  # same cost as a real check
        ok = False
    else:
        ok = verify_password(password, row.password_hash)
    if not ok:
        # one transaction, counting in SQL, so parallel attempts cannot undercount
        with store.engine.begin() as conn:
            conn.execute(
                sa.update(users)
                .where(users.c.id == row.id)
                .values(
                    failed_logins=sa.case(
                        (users.c.locked_until.is_not(None), 1),  # a lock that has run out
                        else_=users.c.failed_logins + 1,
                    ),
                    locked_until=None,
                )
            )
            failures = int(
                conn.execute(sa.select(users.c.failed_logins).where(users.c.id == row.id)).scalar()
            )
            now_locked = failures >= policy.max_failures
            if now_locked:
                conn.execute(
                    sa.update(users)
                    .where(users.c.id == row.id)
                    .values(
                        failed_logins=0,
                        locked_until=now + timedelta(minutes=policy.lockout_minutes),
                    )
                )
        record(
            store,
            Action.LOGIN,
            actor=user,
            outcome=AuditOutcome.FAILED,
            detail={"reason": "wrong_password", "failures": failures, "method": "password"},
            now=now,
        )
        if now_locked:
            record(
                store,
                Action.LOCKOUT,
                actor=user,
                outcome=AuditOutcome.LOCKED,
                detail={"failures": failures, "locked_minutes": policy.lockout_minutes},
                now=now,
            )
            log.warning("an account was locked after %d failed sign-ins", failures)
        raise AuthenticationError(LOGIN_FAILED)
    values = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
    if _cost(row.password_hash) != policy.bcrypt_rounds:
        # re-hash at the policy's cost, so every hash (and the dummy) costs the same
        values["password_hash"] = hash_password(password, rounds=policy.bcrypt_rounds)
    with store.engine.begin() as conn:
        conn.execute(sa.update(users).where(users.c.id == row.id).values(**values))
        session = _new_session(conn, row, "password", policy, now)
    record(store, Action.LOGIN, actor=user, detail={"method": "password"}, now=now)
    log.info("sign-in succeeded (role %s)", user.role)
    return session


def _claim(claims: Mapping[str, Any], key: str) -> str | None:
    value = claims.get(key)
    return str(value).strip() if value not in (None, "") else None


def login_oidc(
    store: Store,
    claims: Mapping[str, Any],
    *,
    policy: AuthPolicy | None = None,
    now: datetime | None = None,
) -> Session:
    """Start a session for an identity the force's identity provider vouched for.

    ``claims`` are the ID-token claims Streamlit exposes as ``st.user`` after
    ``st.login()`` (``iss``, ``sub``, ``email``, ``email_verified``...). Only
    pre-provisioned users get in: first by the bound subject ``"<iss>|<sub>"``;
    else, once, by a verified e-mail address equal to the user's ``email``, which
    then binds the subject so later sign-ins match on it alone. Role and
    organisation always come from the store, never from the identity provider.

    Raises
    ------
    AuthenticationError
        Unknown identity, issuer not allowed, unverified e-mail, disabled user or a
        demo account outside demo mode.
    """
    policy = policy or AuthPolicy()
    now = now or utcnow()
    iss, sub = _claim(claims, "iss"), _claim(claims, "sub")
    email = (_claim(claims, "email") or "").lower() or None
    verified = claims.get("email_verified") in (True, "true", "True", 1)

    def fail(reason: str, user: User | None = None) -> AuthenticationError:
        record(
            store,
            Action.LOGIN,
            actor=user,
            outcome=AuditOutcome.FAILED,
            detail={"reason": reason, "method": "oidc"},
            now=now,
        )
        return AuthenticationError(LOGIN_FAILED)

    if not iss or not sub:
        raise fail("oidc_claims_missing")
    if policy.oidc_issuers and iss not in policy.oidc_issuers:
        raise fail("oidc_issuer_not_allowed")
    key = f"{iss}|{sub}"
    with store.engine.begin() as conn:
        row = conn.execute(_user_query().where(users.c.oidc_subject == key)).first()
        if row is None and email and verified:
            row = conn.execute(
                _user_query().where(users.c.email == email, users.c.oidc_subject.is_(None))
            ).first()
            if row is not None:
                conn.execute(sa.update(users).where(users.c.id == row.id).values(oidc_subject=key))
        if row is None:
            reason = "unknown_identity" if (verified or not email) else "email_not_verified"
            user = None
        else:
            user = _user_from_row(row)
            reason = (
                "disabled"
                if row.disabled
                else ("demo_mode_off" if row.demo and not policy.demo else "")
            )
        session = None
        if user is not None and not reason:
            conn.execute(sa.update(users).where(users.c.id == row.id).values(last_login_at=now))
            session = _new_session(conn, row, "oidc", policy, now)
    if session is None:
        raise fail(reason, user)
    record(store, Action.LOGIN, actor=session.user, detail={"method": "oidc"}, now=now)
    return session


def validate_session(
    store: Store, session: Session | str, *, now: datetime | None = None, touch: bool = True
) -> User:
    """Check a session against the store and return its user as the store has them now.

    The role and organisation come from the store, so a change by an admin applies
    at the next call. ``touch`` records the use (resetting the idle timer), at most
    every :data:`TOUCH_EVERY_S` seconds.

    Raises
    ------
    SessionExpiredError
        Idle or absolute timeout, logged out, revoked, or the user was disabled.
    AuthenticationError
        If there is no such session.
    """
    now = now or utcnow()
    token = session.token if isinstance(session, Session) else str(session)
    th = _token_hash(token)
    with store.engine.connect() as conn:
        srow = conn.execute(sa.select(sessions).where(sessions.c.token_hash == th)).first()
        urow = (
            conn.execute(_user_query().where(users.c.id == srow.user_id)).first() if srow else None
        )
    if srow is None or urow is None:
        raise AuthenticationError("not signed in")
    user = _user_from_row(urow)
    if srow.revoked_at is not None:
        raise SessionExpiredError("this session has ended; sign in again")
    reason = None
    if now >= srow.expires_at:
        reason = "absolute_timeout"
    elif (now - srow.last_seen_at).total_seconds() > srow.idle_timeout_s:
        reason = "idle_timeout"
    elif urow.disabled:
        reason = "disabled"
    if reason:
        with store.engine.begin() as conn:
            conn.execute(
                sa.update(sessions).where(sessions.c.token_hash == th).values(revoked_at=now)
            )
        record(
            store,
            Action.SESSION_EXPIRED,
            actor=user,
            outcome=AuditOutcome.FAILED,
            detail={"reason": reason},
            now=now,
        )
        raise SessionExpiredError("your session has expired; sign in again")
    if touch and (now - srow.last_seen_at).total_seconds() >= TOUCH_EVERY_S:
        with store.engine.begin() as conn:
            conn.execute(
                sa.update(sessions).where(sessions.c.token_hash == th).values(last_seen_at=now)
            )
    return user


def logout(store: Store, session: Session, *, now: datetime | None = None) -> None:
    """End a session (idempotent). Also call ``st.logout()`` after single sign-on."""
    now = now or utcnow()
    th = _token_hash(session.token)
    with store.engine.begin() as conn:
        res = conn.execute(
            sa.update(sessions)
            .where(sessions.c.token_hash == th, sessions.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    if res.rowcount:
        record(store, Action.LOGOUT, actor=session.user, now=now)


def require_role(
    store: Store,
    user: User,
    *roles: Role,
    action: Action,
    area_id: str | None = None,
    subject: str | None = None,
    now: datetime | None = None,
) -> None:
    """Raise :class:`PermissionDeniedError` (and log the refusal) unless the user has a role."""
    if user.role in roles:
        return
    record(
        store,
        action,
        actor=user,
        outcome=AuditOutcome.DENIED,
        area_id=area_id,
        subject=subject,
        detail={"reason": "role"},
        now=now,
    )
    raise PermissionDeniedError(
        f"a {user.role} account may not do this (needs {' or '.join(str(r) for r in roles)})"
    )
