"""Administering accounts: organisations, users, passwords, roles, locks and sessions.

Every function here takes ``actor``: either the admin's :class:`~clic_geo.access.auth.Session`
(checked, and refused with :class:`~clic_geo._errors.PermissionDeniedError` for any
other role) or the literal ``"cli"`` for the ``clic-geo users`` command, whose user is
trusted because they can already read the store's files. Every change is audited.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa

from clic_geo._errors import ConfigError, NotFoundError, PermissionDeniedError
from clic_geo.access.audit import Action, record, utcnow
from clic_geo.access.auth import (
    _USERNAME,
    AuthPolicy,
    _norm_username,
    _row_by_name,
    _user_from_row,
    check_password_policy,
    hash_password,
    require_role,
    validate_session,
)
from clic_geo.access.identity import Role, Session, User
from clic_geo.store import Store
from clic_geo.store.auth_tables import organisations, sessions, users

__all__ = [
    "create_organisation",
    "create_user",
    "get_user",
    "list_organisations",
    "list_users",
    "revoke_sessions",
    "set_disabled",
    "set_password",
    "set_role",
    "unlock",
]

log = logging.getLogger(__name__)

_ORG_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")


def _actor_user(
    store: Store, actor: Session | Literal["cli"], action: Action, now: datetime | None
) -> User | str:
    """Who performs an administrative action: the command line, or a signed-in admin."""
    if actor == "cli":
        return "cli"
    if not isinstance(actor, Session):
        raise PermissionDeniedError("an administrative action needs an admin session or 'cli'")
    user = validate_session(store, actor, now=now)
    require_role(store, user, Role.ADMIN, action=action, now=now)
    return user


def create_organisation(
    store: Store,
    org_id: str,
    name: str,
    kind: str,
    *,
    actor: Session | Literal["cli"],
    demo: bool = False,
    now: datetime | None = None,
) -> None:
    """Add an organisation (``org_id`` a slug such as ``housing-south``), or rename it."""
    who = _actor_user(store, actor, Action.USER_ADMIN, now)
    if not _ORG_ID.match(org_id):
        raise ConfigError(f"organisation id {org_id!r}: use lower-case letters, digits and '-'")
    if not name.strip():
        raise ConfigError("an organisation needs a name")
    with store.engine.begin() as conn:
        exists = conn.execute(
            sa.select(organisations.c.id).where(organisations.c.id == org_id)
        ).first()
        if exists:
            conn.execute(
                sa.update(organisations)
                .where(organisations.c.id == org_id)
                .values(name=name.strip(), kind=kind)
            )
        else:
            conn.execute(
                sa.insert(organisations).values(
                    id=org_id, name=name.strip(), kind=kind, demo=demo, created_at=now or utcnow()
                )
            )
    record(
        store,
        Action.USER_ADMIN,
        actor=who,
        subject=org_id,
        detail={"change": "organisation_updated" if exists else "organisation_created"},
        now=now,
    )


def list_organisations(store: Store) -> pd.DataFrame:
    """Organisations: ``id, name, kind, demo, created_at``."""
    with store.engine.connect() as conn:
        return pd.read_sql(sa.select(organisations).order_by(organisations.c.id), conn)


def create_user(
    store: Store,
    username: str,
    *,
    role: Role | str,
    organisation: str,
    actor: Session | Literal["cli"],
    display_name: str | None = None,
    password: str | None = None,
    email: str | None = None,
    oidc_subject: str | None = None,
    demo: bool = False,
    policy: AuthPolicy | None = None,
    now: datetime | None = None,
) -> User:
    """Add a user. Without a password the user can sign in only by single sign-on.

    Raises
    ------
    ConfigError
        Bad username, unknown organisation or role, or the username is taken.
    PasswordPolicyError
        If the password does not meet the policy.
    """
    policy = policy or AuthPolicy()
    now = now or utcnow()
    who = _actor_user(store, actor, Action.USER_ADMIN, now)
    name = _norm_username(username)
    if not _USERNAME.match(name):
        raise ConfigError("a username is 2-128 characters: lower-case letters, digits and . _ @ -")
    try:
        role = Role(role)
    except ValueError:
        raise ConfigError(f"unknown role {role!r}; expected officer, partner or admin") from None
    if password is not None:
        check_password_policy(password, name, policy)
    with store.engine.begin() as conn:
        if not conn.execute(
            sa.select(organisations.c.id).where(organisations.c.id == organisation)
        ).first():
            raise ConfigError(f"unknown organisation {organisation!r}; add it first")
        if conn.execute(sa.select(users.c.id).where(users.c.username == name)).first():
            raise ConfigError(f"the username {name!r} is taken")
        if (
            email
            and conn.execute(
                sa.select(users.c.id).where(users.c.email == email.strip().lower())
            ).first()
        ):
            raise ConfigError("another user has this e-mail address (single sign-on matches on it)")
        conn.execute(
            sa.insert(users).values(
                username=name,
                display_name=(display_name or name).strip(),
                role=str(role),
                organisation_id=organisation,
                password_hash=hash_password(password, rounds=policy.bcrypt_rounds)
                if password is not None
                else None,
                email=email.strip().lower() if email else None,
                oidc_subject=oidc_subject,
                disabled=False,
                demo=demo,
                failed_logins=0,
                password_changed_at=now if password is not None else None,
                created_at=now,
            )
        )
        user = _user_from_row(_row_by_name(conn, name))
    record(
        store,
        Action.USER_ADMIN,
        actor=who,
        subject=name,
        detail={"change": "created", "role": str(role), "organisation": organisation},
        now=now,
    )
    log.info("user created (role %s)", role)
    return user


def get_user(store: Store, username: str) -> User:
    """The user called ``username``; :class:`NotFoundError` if there is none."""
    with store.engine.connect() as conn:
        row = _row_by_name(conn, _norm_username(username))
    if row is None:
        raise NotFoundError(f"no user {_norm_username(username)!r}")
    return _user_from_row(row)


def list_users(store: Store) -> pd.DataFrame:
    """Every user without secrets: username, role, organisation, state, last sign-in."""
    cols = [
        users.c.username,
        users.c.display_name,
        users.c.role,
        users.c.organisation_id,
        users.c.email,
        users.c.disabled,
        users.c.demo,
        users.c.failed_logins,
        users.c.locked_until,
        users.c.last_login_at,
        (users.c.password_hash.is_not(None)).label("has_password"),
        (users.c.oidc_subject.is_not(None)).label("sso_bound"),
    ]
    with store.engine.connect() as conn:
        return pd.read_sql(sa.select(*cols).order_by(users.c.username), conn)


def _update_user(
    store: Store,
    username: str,
    values: dict[str, Any],
    *,
    who: User | str,
    change: str,
    now: datetime | None,
    extra: dict[str, Any] | None = None,
) -> None:
    name = _norm_username(username)
    with store.engine.begin() as conn:
        res = conn.execute(sa.update(users).where(users.c.username == name).values(**values))
        if res.rowcount == 0:
            raise NotFoundError(f"no user {name!r}")
    record(
        store,
        Action.USER_ADMIN,
        actor=who,
        subject=name,
        detail={"change": change, **(extra or {})},
        now=now,
    )


def set_password(
    store: Store,
    username: str,
    password: str,
    *,
    actor: Session | Literal["cli"],
    policy: AuthPolicy | None = None,
    now: datetime | None = None,
) -> None:
    """Set a user's password (checked against the policy); ends their sessions."""
    policy = policy or AuthPolicy()
    now = now or utcnow()
    who = _actor_user(store, actor, Action.USER_ADMIN, now)
    name = _norm_username(username)
    check_password_policy(password, name, policy)
    _update_user(
        store,
        name,
        {
            "password_hash": hash_password(password, rounds=policy.bcrypt_rounds),
            "password_changed_at": now,
            "failed_logins": 0,
            "locked_until": None,
        },
        who=who,
        change="password_set",
        now=now,
    )
    _revoke(store, name, now)


def set_role(
    store: Store,
    username: str,
    role: Role | str,
    *,
    actor: Session | Literal["cli"],
    organisation: str | None = None,
    now: datetime | None = None,
) -> None:
    """Change a user's role (and optionally organisation); ends their sessions."""
    who = _actor_user(store, actor, Action.USER_ADMIN, now)
    try:
        role = Role(role)
    except ValueError:
        raise ConfigError(f"unknown role {role!r}; expected officer, partner or admin") from None
    values: dict[str, Any] = {"role": str(role)}
    if organisation is not None:
        with store.engine.connect() as conn:
            if not conn.execute(
                sa.select(organisations.c.id).where(organisations.c.id == organisation)
            ).first():
                raise ConfigError(f"unknown organisation {organisation!r}")
        values["organisation_id"] = organisation
    _update_user(
        store, username, values, who=who, change="role_set", now=now, extra={"role": str(role)}
    )
    _revoke(store, _norm_username(username), now or utcnow())


def set_disabled(
    store: Store,
    username: str,
    disabled: bool,
    *,
    actor: Session | Literal["cli"],
    now: datetime | None = None,
) -> None:
    """Disable (ending every session) or re-enable a user."""
    who = _actor_user(store, actor, Action.USER_ADMIN, now)
    _update_user(
        store,
        username,
        {"disabled": bool(disabled)},
        who=who,
        change="disabled" if disabled else "enabled",
        now=now,
    )
    if disabled:
        _revoke(store, _norm_username(username), now or utcnow())


def unlock(
    store: Store, username: str, *, actor: Session | Literal["cli"], now: datetime | None = None
) -> None:
    """Lift a lockout and reset the failure count."""
    who = _actor_user(store, actor, Action.USER_ADMIN, now)
    _update_user(
        store,
        username,
        {"failed_logins": 0, "locked_until": None},
        who=who,
        change="unlocked",
        now=now,
    )


def revoke_sessions(
    store: Store, username: str, *, actor: Session | Literal["cli"], now: datetime | None = None
) -> int:
    """End every open session of a user; returns how many were open."""
    now = now or utcnow()
    who = _actor_user(store, actor, Action.USER_ADMIN, now)
    get_user(store, username)
    n = _revoke(store, _norm_username(username), now)
    record(
        store,
        Action.USER_ADMIN,
        actor=who,
        subject=_norm_username(username),
        detail={"change": "sessions_revoked", "sessions": n},
        now=now,
    )
    return n


def _revoke(store: Store, username: str, now: datetime) -> int:
    with store.engine.begin() as conn:
        uid = conn.execute(sa.select(users.c.id).where(users.c.username == username)).scalar()
        if uid is None:
            return 0
        res = conn.execute(
            sa.update(sessions)
            .where(sessions.c.user_id == uid, sessions.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(res.rowcount or 0)
