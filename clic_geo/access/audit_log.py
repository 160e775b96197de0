"""The audit log as a signed-in user sees it: record an action, read the log.

Both check the session first (:func:`clic_geo.access.auth.validate_session`);
reading the log needs an officer or admin, and is logged too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa

from clic_geo.access.audit import Action, record
from clic_geo.access.auth import require_role, validate_session
from clic_geo.access.identity import Role, Session, User
from clic_geo.store import Store
from clic_geo.store.auth_tables import audit_log

__all__ = ["read_audit", "record_action"]


def record_action(
    store: Store,
    session: Session,
    action: Action | str,
    *,
    area_id: str | None = None,
    subject: str | None = None,
    detail: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> None:
    """Log something the app did for a signed-in user: planned, imported, exported...

    For example, after the planner builds tomorrow's route::

        record_action(store, session, Action.PLAN, area_id="barrow", detail={"stops": 14})

    and after an import: ``subject=kind, detail={"rows": n, "file_sha256": sha[:16]}``
    (the file's hash, not its name: a file name may contain a person's name).

    Raises
    ------
    AuthenticationError
        If the session is not valid.
    AuditValueError
        If a value is not a plain identifier, count or date.
    """
    user = validate_session(store, session, now=now, touch=False)
    record(store, action, actor=user, area_id=area_id, subject=subject, detail=detail, now=now)


def read_audit(
    store: Store,
    session: Session | Literal["cli"],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    action: Action | str | None = None,
    limit: int = 1000,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Entries of the audit log, newest first (officers and admins, or ``"cli"``).

    Returns
    -------
    pandas.DataFrame
        Columns ``id, at, actor, role, organisation_id, action, outcome, area_id,
        subject, detail`` (``detail`` as a dict).

    Raises
    ------
    PermissionDeniedError
        For a partner; the refusal is itself logged.
    AuthenticationError
        If the session is not valid.
    """
    if session == "cli":
        user: User | str = "cli"
    else:
        user = validate_session(store, session, now=now)
        require_role(store, user, Role.OFFICER, Role.ADMIN, action=Action.READ_AUDIT, now=now)
    t = audit_log
    conds = []
    if since is not None:
        conds.append(t.c.at >= since)
    if until is not None:
        conds.append(t.c.at <= until)
    if actor is not None:
        conds.append(t.c.actor == actor)
    if action is not None:
        conds.append(t.c.action == str(Action(action)))
    q = sa.select(t).where(*conds).order_by(t.c.id.desc()).limit(int(limit))
    with store.engine.connect() as conn:
        df = pd.read_sql(q, conn)
    df["at"] = pd.to_datetime(df["at"])
    df["detail"] = [json.loads(x) for x in df["detail"]]
    record(store, Action.READ_AUDIT, actor=user, detail={"rows": len(df)}, now=now)
    return df
