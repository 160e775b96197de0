"""Who is signed in: roles, users and sessions, as plain values.

These carry no behaviour that touches the store, so the audit log can name who did
what without depending on sign-in (:mod:`clic_geo.access.auth`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = ["Role", "Session", "User"]


class Role(StrEnum):
    """What a user may see and do."""

    OFFICER = "officer"
    PARTNER = "partner"
    ADMIN = "admin"


@dataclass(frozen=True)
class User:
    """A user as the store knows them now (no password hash)."""

    id: int
    username: str
    display_name: str
    role: Role
    organisation_id: str
    organisation_name: str
    disabled: bool = False
    demo: bool = False
    email: str | None = None

    @property
    def is_partner(self) -> bool:
        """True for partner organisations' staff (aggregates only)."""
        return self.role == Role.PARTNER


@dataclass(frozen=True)
class Session:
    """A signed-in session. Keep it in ``st.session_state``; never show or log the token."""

    token: str = field(repr=False)
    user: User
    method: str
    created_at: datetime
    expires_at: datetime
    idle_timeout_s: int
