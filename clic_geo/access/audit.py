"""The audit log: who signed in, looked at, planned, imported or exported what, and when.

An entry records the *fact* of an access, never the data accessed: no addresses,
coordinates, notes, names of people, passwords or session tokens. The structure
enforces it: an entry is an action from :class:`Action`, an outcome, an area id and a
subject (both short identifiers), and a ``detail`` object whose keys come from a
fixed list and whose values are integers, booleans, dates or short identifiers
(strings that are not numbers and hold no spaces). Anything else raises
:class:`AuditValueError` before it reaches the database.

Officers and admins can read the log (:func:`clic_geo.access.audit_log.read_audit`);
reading it is logged too.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from clic_geo._errors import ClicGeoError
from clic_geo.store.auth_tables import audit_log

if TYPE_CHECKING:
    from clic_geo.access.identity import User
    from clic_geo.store import Store

__all__ = ["DETAIL_KEYS", "Action", "AuditOutcome", "AuditValueError", "record", "utcnow"]

log = logging.getLogger(__name__)


class AuditValueError(ClicGeoError, ValueError):
    """An audit entry would hold something that is not a plain identifier or count."""


class Action(StrEnum):
    """What an audit entry records."""

    LOGIN = "login"
    LOGOUT = "logout"
    LOCKOUT = "lockout"
    SESSION_EXPIRED = "session_expired"
    VIEW_RECORDS = "view_records"  # record-level data of an area (officers, admins)
    VIEW_AGGREGATES = "view_aggregates"  # partner-safe aggregates
    EXPORT = "export"
    IMPORT = "import"
    PLAN = "plan"
    SAVE_PLAN = "save_plan"  # a planned route saved for an area and day (a new version)
    OPEN_PLAN = "open_plan"  # a saved plan opened (Plan page, today's route, Map, CLI)
    RECORD_VISIT = "record_visit"
    USER_ADMIN = "user_admin"
    ISA_ADMIN = "isa_admin"
    DEMO_ACCOUNTS = "demo_accounts"
    READ_AUDIT = "read_audit"


class AuditOutcome(StrEnum):
    """How the action ended."""

    OK = "ok"
    FAILED = "failed"  # wrong credentials, unknown user, expired
    DENIED = "denied"  # signed in, but the role or scope does not allow it
    LOCKED = "locked"  # refused because the account is locked


#: The only keys a ``detail`` object may hold.
DETAIL_KEYS = frozenset(
    {
        "action",
        "areas",
        "cells",
        "change",
        "count",
        "failures",
        "file_sha256",
        "format",
        "from",
        "import_id",
        "kind",
        "layer",
        "layers",
        "locked_minutes",
        "method",
        "organisation",
        "period",
        "periods",
        "reason",
        "role",
        "rows",
        "sessions",
        "stops",
        "to",
        "version",
    }
)

_IDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,127}$")
_NUMBERISH = re.compile(r"^[+-]?\d+(\.\d*)?([eE][+-]?\d+)?$|^[+-]?\.\d+$")
_MAX_LIST = 64


def utcnow() -> datetime:
    """The current time, UTC, without time zone (how the store keeps times)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _ident(value: str, what: str) -> str:
    # a dotted number (a coordinate) or text with spaces (an address, a note) is refused
    if not _IDENT.match(value) or (_NUMBERISH.match(value) and "." in value):
        raise AuditValueError(
            f"audit {what} must be a short identifier (letters, digits, _.:@+-, no spaces, "
            f"not a decimal number), got a value of length {len(value)}"
        )
    return value


def _scalar(value: Any, key: str) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        # floats are refused: a coordinate is a float; counts and durations are integers
        if math.isfinite(value) and value.is_integer():
            return int(value)
        raise AuditValueError(f"audit detail {key!r}: decimal numbers are not allowed")
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return _ident(value, f"detail {key!r}")
    raise AuditValueError(f"audit detail {key!r}: unsupported type {type(value).__name__}")


def _clean_detail(detail: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (detail or {}).items():
        if key not in DETAIL_KEYS:
            allowed = ", ".join(sorted(DETAIL_KEYS))
            raise AuditValueError(f"audit detail key {key!r} is not allowed; allowed: {allowed}")
        if isinstance(value, list | tuple | set | frozenset):
            items = sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
            if len(items) > _MAX_LIST:
                raise AuditValueError(f"audit detail {key!r}: more than {_MAX_LIST} items")
            out[key] = [_scalar(v, key) for v in items]
        else:
            out[key] = _scalar(value, key)
    return out


def record(
    store: Store,
    action: Action | str,
    *,
    actor: User | str | None,
    outcome: AuditOutcome | str = AuditOutcome.OK,
    area_id: str | None = None,
    subject: str | None = None,
    detail: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> None:
    """Append one entry to the audit log.

    Parameters
    ----------
    store : Store
        The store holding the log.
    action : Action
        What happened.
    actor : User, str or None
        The signed-in user, ``"cli"`` for the command line, or ``None`` when the
        login name was unknown (an unknown name is never stored: it may be a
        password typed in the wrong box).
    outcome : AuditOutcome
        ``ok``, ``failed``, ``denied`` or ``locked``.
    area_id, subject : str, optional
        Short identifiers: the area acted on; the layer, kind or username.
    detail : mapping, optional
        Extra facts, keys from :data:`DETAIL_KEYS`, values counts or identifiers.
    now : datetime, optional
        The time to record (UTC); default now.

    Raises
    ------
    AuditValueError
        If any value is not a plain identifier, count or date.
    """
    action = Action(action)
    outcome = AuditOutcome(outcome)
    if isinstance(actor, str):
        actor_name, role, org = _ident(actor, "actor"), None, None
    elif actor is None:
        actor_name, role, org = None, None, None
    else:
        actor_name, role, org = actor.username, str(actor.role), actor.organisation_id
    row = {
        "at": now or utcnow(),
        "actor": actor_name,
        "role": role,
        "organisation_id": org,
        "action": str(action),
        "outcome": str(outcome),
        "area_id": _ident(area_id, "area") if area_id is not None else None,
        "subject": _ident(subject, "subject") if subject is not None else None,
        "detail": json.dumps(_clean_detail(detail), sort_keys=True),
    }
    with store.engine.begin() as conn:
        conn.execute(sa.insert(audit_log).values(**row))
    log.debug("audit: %s %s", action, outcome)
