"""A sign-in session taken up again from the token a browser's cookie holds.

The dashboard keeps the session token in an HttpOnly cookie set by the server
(``clic_server.py``; docs/security.md, "Reload-safe sign-in"), so a reload or a
bookmark starts a new page session that is still signed in. Each page run checks the
token against the store exactly as for a session held in memory
(:func:`~clic_geo.access.auth.validate_session`: revoked, idle or absolute timeout,
user disabled), so sign-out, a password change or disabling the user ends it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa

from clic_geo.access.auth import AuthenticationError, logout, validate_session
from clic_geo.access.identity import Session
from clic_geo.store import Store
from clic_geo.store.auth_tables import sessions

__all__ = ["end_session", "resume_session", "token_hash"]


def token_hash(token: str) -> str:
    """What the store keeps of a token (its SHA-256, hex), as :mod:`auth` computes it."""
    return hashlib.sha256(str(token).encode("utf-8")).hexdigest()


def resume_session(store: Store, token: str, *, now: datetime | None = None) -> Session:
    """The :class:`Session` of a token, after the same checks as every page run.

    Raises
    ------
    AuthenticationError
        No such session (a forged or purged token).
    SessionExpiredError
        Ended: signed out, revoked (password change, disabled user) or timed out.
    """
    token = str(token)
    if not token or len(token) > 256:
        raise AuthenticationError("not signed in")
    user = validate_session(store, token, now=now)
    with store.engine.connect() as conn:
        row = conn.execute(
            sa.select(sessions).where(sessions.c.token_hash == token_hash(token))
        ).first()
    if row is None:  # purged between the two reads
        raise AuthenticationError("not signed in")
    return Session(
        token=token,
        user=user,
        method=row.method,
        created_at=row.created_at,
        expires_at=row.expires_at,
        idle_timeout_s=int(row.idle_timeout_s),
    )


def end_session(store: Store, token: str, *, now: datetime | None = None) -> bool:
    """End the session of a token if it is still open (sign-out); True if it was."""
    try:
        session = resume_session(store, token, now=now)
    except AuthenticationError:
        return False
    logout(store, session, now=now)
    return True
