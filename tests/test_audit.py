"""The audit log holds facts, never values; only officers and admins read it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from clic_geo._errors import PermissionDeniedError
from clic_geo.access import accounts
from clic_geo.access.audit import Action, AuditValueError, record
from clic_geo.access.audit_log import read_audit, record_action
from clic_geo.access.auth import AuthPolicy, login
from clic_geo.store import Store
from tests.auth_fixtures import (  # noqa: F401
    PW,
    T0,
    add_officer_alice,
    audit_rows,
    policy_fixture,
    store_fixture,
)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"detail": {"address": "12 High St"}}, "not allowed"),
        ({"detail": {"rows": 54.1123}}, "decimal"),
        ({"detail": {"reason": "12 High Street"}}, "identifier"),
        ({"detail": {"reason": "-3.22801"}}, "identifier"),
        ({"subject": "Flat 3, Egerton Court"}, "identifier"),
        ({"area_id": "54.11,-3.22"}, "identifier"),
        ({"detail": {"areas": ["barrow", "a note with spaces"]}}, "identifier"),
        ({"detail": {"rows": object()}}, "unsupported"),
    ],
    ids=["key", "float", "text", "coordinate-text", "subject", "area", "list", "type"],
)
def test_record_refuses_values(store: Store, kwargs: dict, match: str) -> None:
    with pytest.raises(AuditValueError, match=match):
        record(store, Action.EXPORT, actor="cli", **kwargs)
    assert audit_rows(store) == []


def test_record_keeps_plain_facts(store: Store) -> None:
    record(
        store,
        Action.IMPORT,
        actor="cli",
        subject="visits",
        detail={
            "rows": 120,
            "file_sha256": "ab12cd34",
            "from": date(2026, 1, 1),
            "areas": ["barrow", "kendal"],
            "count": 3.0,
        },
        now=T0,
    )
    (row,) = audit_rows(store)
    assert row["detail"] == {
        "rows": 120,
        "file_sha256": "ab12cd34",
        "from": "2026-01-01",
        "areas": ["barrow", "kendal"],
        "count": 3,
    }
    assert (row["actor"], row["action"], row["outcome"]) == ("cli", "import", "ok")


def test_read_audit_roles_and_filters(store: Store, policy: AuthPolicy) -> None:
    add_officer_alice(store, policy, org_name="Police", now=None)
    accounts.create_organisation(store, "housing", "Housing", "housing", actor="cli")
    accounts.create_user(
        store,
        "hal",
        role="partner",
        organisation="housing",
        password=PW["hal"],
        actor="cli",
        policy=policy,
    )
    officer = login(store, "alice", PW["alice"], policy=policy, now=T0)
    partner = login(store, "hal", PW["hal"], policy=policy, now=T0)
    record_action(
        store,
        officer,
        Action.PLAN,
        area_id="barrow",
        detail={"stops": 9},
        now=T0 + timedelta(minutes=5),
    )
    with pytest.raises(PermissionDeniedError):
        read_audit(store, partner, now=T0)
    log = read_audit(store, officer, action="plan", now=T0)
    assert list(log["actor"]) == ["alice"]
    assert log.iloc[0]["detail"] == {"stops": 9}
    assert len(read_audit(store, officer, actor="hal", now=T0)) >= 2  # login + refusal
    assert len(read_audit(store, officer, since=T0 + timedelta(minutes=1), now=T0)) >= 1
    actions = [r["action"] for r in audit_rows(store)]
    assert actions.count("read_audit") == 4  # the refusal and three reads
