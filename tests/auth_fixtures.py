"""Fixtures shared by the access-control tests.

A test module imports the ``*_fixture`` functions it needs (pytest registers them under
their ``name``) and the helpers; no conftest, so the modules stay independent.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from clic_geo.access import accounts
from clic_geo.access.auth import AuthPolicy
from clic_geo.store import Store
from clic_geo.store.auth_tables import audit_log

#: A fixed clock: tests pass ``now=`` instead of sleeping.
T0 = datetime(2026, 11, 20, 9, 0, 0)

#: Passwords of the test users (each meets the policy).
PW = {
    "alice": "officer pass-phrase one",
    "hal": "partner pass-phrase two",
    "ada": "admin pass-phrase three",
}


@pytest.fixture(name="policy")
def policy_fixture() -> AuthPolicy:
    """The default policy with cheap hashing (bcrypt's minimum cost) for speed."""
    return AuthPolicy(bcrypt_rounds=4)


@pytest.fixture(name="store")
def store_fixture(tmp_path: Path) -> Store:
    """An empty store in a temporary directory."""
    s = Store(f"sqlite:///{(tmp_path / 'store.sqlite').as_posix()}", tmp_path)
    yield s
    s.close()


def audit_rows(store: Store) -> list[dict[str, Any]]:
    """Every audit entry, oldest first, ``detail`` decoded."""
    with store.engine.connect() as conn:
        rows = [
            dict(r._mapping) for r in conn.execute(sa.select(audit_log).order_by(audit_log.c.id))
        ]
    for r in rows:
        r["detail"] = json.loads(r["detail"])
    return rows


def add_officer_alice(
    store: Store,
    policy: AuthPolicy,
    *,
    org_name: str = "Cumbria Police",
    password: str = PW["alice"],
    now: datetime | None = T0,
) -> None:
    """The police organisation and its officer ``alice`` (password ``PW["alice"]``
    unless given; created at ``T0``, or at the real time with ``now=None``)."""
    accounts.create_organisation(store, "police", org_name, "police", actor="cli")
    accounts.create_user(
        store,
        "alice",
        role="officer",
        organisation="police",
        password=password,
        actor="cli",
        policy=policy,
        now=now,
    )
