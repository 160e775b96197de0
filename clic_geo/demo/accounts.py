"""Demo accounts: one per role, with fixed, published passwords, in demo mode only.

=============  ====================  =======  ==================================
username       password              role     organisation (scope)
=============  ====================  =======  ==================================
demo-officer   officer-demo-1clic    officer  demo-1clic (everything)
demo-admin     admin-demo-1clic      admin    demo-1clic (everything)
demo-housing   housing-demo-1clic    partner  demo-housing: Barrow and Kendal
demo-nhs       nhs-demo-1clic        partner  demo-nhs: Barrow and Carlisle
=============  ====================  =======  ==================================

They exist only while the installation runs in demo mode (``settings.demo``, from
``CLIC_DEMO=1`` or ``clic-geo serve --demo``): :func:`sync_demo_accounts`, called by
the app at start-up, creates them in demo mode and deletes them otherwise, and
:func:`~clic_geo.access.auth.login` refuses a demo account whenever the policy is not in
demo mode, even if one were left behind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from clic_geo._errors import NotFoundError, PermissionDeniedError
from clic_geo.access import accounts
from clic_geo.access.audit import Action, record, utcnow
from clic_geo.access.auth import AuthPolicy
from clic_geo.access.identity import Role
from clic_geo.access.isa import Layer, set_isa_scope
from clic_geo.geo.areas import load_areas
from clic_geo.settings import Settings
from clic_geo.store import Store
from clic_geo.store.auth_tables import isa_scopes, organisations, sessions, users

__all__ = [
    "DEMO_ACCOUNTS",
    "DEMO_ORGANISATIONS",
    "DemoAccount",
    "ensure_demo_accounts",
    "remove_demo_accounts",
    "sync_demo_accounts",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoAccount:
    """A demo user; the password is public (README, docs/security.md)."""

    username: str
    password: str
    role: Role
    organisation: str
    display_name: str


#: ``(id, name, kind, scope areas, scope layers, data_from)``; scope ``None``: the team.
DEMO_ORGANISATIONS = (
    ("demo-1clic", "1-CLIC team (demo)", "police", None, None, None),
    (
        "demo-housing",
        "South Cumbria Housing (demo)",
        "housing",
        ("barrow", "kendal"),
        (
            Layer.INCIDENTS_DRUGS,
            Layer.INCIDENTS_ASB,
            Layer.CUCKOOING_REPORTS,
            Layer.TARGET_HARDENING,
            Layer.VISITS,
            Layer.REFERRALS,
        ),
        None,
    ),
    (
        "demo-nhs",
        "NHS substance misuse service (demo)",
        "nhs",
        ("barrow", "carlisle"),
        (Layer.VISITS, Layer.SUPPORT_PACKAGES, Layer.REFERRALS, Layer.INCIDENTS_DRUGS),
        date(2025, 1, 1),
    ),
)

DEMO_ACCOUNTS = (
    DemoAccount("demo-officer", "officer-demo-1clic", Role.OFFICER, "demo-1clic", "Demo officer"),
    DemoAccount("demo-admin", "admin-demo-1clic", Role.ADMIN, "demo-1clic", "Demo admin"),
    DemoAccount(
        "demo-housing", "housing-demo-1clic", Role.PARTNER, "demo-housing", "Demo housing partner"
    ),
    DemoAccount("demo-nhs", "nhs-demo-1clic", Role.PARTNER, "demo-nhs", "Demo NHS partner"),
)


def ensure_demo_accounts(
    settings: Settings,
    store: Store,
    *,
    policy: AuthPolicy | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Create (or reset to the published passwords) the demo accounts; demo mode only.

    Returns the demo usernames.

    Raises
    ------
    PermissionDeniedError
        If ``settings.demo`` is false.
    """
    if not settings.demo:
        raise PermissionDeniedError(
            "demo accounts exist only in demo mode (CLIC_DEMO=1 or clic-geo serve --demo)"
        )
    policy = policy or AuthPolicy.from_settings(settings)
    now = now or utcnow()
    known = load_areas(settings.areas_dir).ids
    for org_id, name, kind, areas, layers, data_from in DEMO_ORGANISATIONS:
        accounts.create_organisation(store, org_id, name, kind, actor="cli", demo=True, now=now)
        if areas is not None:
            set_isa_scope(
                store,
                org_id,
                areas=[a for a in areas if a in known],
                layers=layers,
                reference="DEMO - not a real agreement",
                data_from=data_from,
                actor="cli",
                known_areas=known,
                now=now,
            )
    for acc in DEMO_ACCOUNTS:
        try:
            user = accounts.get_user(store, acc.username)
        except NotFoundError:
            user = None
        if user is not None and not user.demo:
            raise PermissionDeniedError(
                f"a real account is called {acc.username!r}; rename it before using demo mode"
            )
        if user is None:
            accounts.create_user(
                store,
                acc.username,
                role=acc.role,
                organisation=acc.organisation,
                display_name=acc.display_name,
                password=acc.password,
                demo=True,
                actor="cli",
                policy=policy,
                now=now,
            )
        else:
            accounts.set_role(
                store, acc.username, acc.role, organisation=acc.organisation, actor="cli", now=now
            )
            accounts.set_password(store, acc.username, acc.password, actor="cli", policy=policy)
            accounts.set_disabled(store, acc.username, False, actor="cli", now=now)
    record(store, Action.DEMO_ACCOUNTS, actor="cli", detail={"change": "ensured"}, now=now)
    log.info("demo accounts ready: %d", len(DEMO_ACCOUNTS))
    return [a.username for a in DEMO_ACCOUNTS]


def remove_demo_accounts(store: Store, *, now: datetime | None = None) -> int:
    """Delete every demo account, its sessions, and the demo organisations and scopes.

    Returns how many demo users were deleted. Audit entries stay (they hold usernames,
    not secrets). A demo organisation that a real user was added to is kept.
    """
    now = now or utcnow()
    with store.engine.begin() as conn:
        ids = list(conn.execute(sa.select(users.c.id).where(users.c.demo.is_(True))).scalars())
        if ids:
            conn.execute(sa.delete(sessions).where(sessions.c.user_id.in_(ids)))
            conn.execute(sa.delete(users).where(users.c.id.in_(ids)))
        still_used = sa.select(users.c.organisation_id)
        demo_orgs = sa.select(organisations.c.id).where(
            organisations.c.demo.is_(True), organisations.c.id.not_in(still_used)
        )
        conn.execute(sa.delete(isa_scopes).where(isa_scopes.c.organisation_id.in_(demo_orgs)))
        conn.execute(
            sa.delete(organisations).where(
                organisations.c.demo.is_(True), organisations.c.id.not_in(still_used)
            )
        )
    if ids:
        record(
            store,
            Action.DEMO_ACCOUNTS,
            actor="cli",
            detail={"change": "removed", "count": len(ids)},
            now=now,
        )
        log.warning("demo mode is off: %d demo accounts deleted", len(ids))
    return len(ids)


def sync_demo_accounts(
    settings: Settings,
    store: Store,
    *,
    policy: AuthPolicy | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Make the demo accounts match the mode: present in demo mode, absent otherwise.

    Call it once when the app starts. Returns the demo usernames now present.
    """
    if settings.demo:
        return ensure_demo_accounts(settings, store, policy=policy, now=now)
    remove_demo_accounts(store, now=now)
    return []
