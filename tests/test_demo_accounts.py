"""Demo accounts exist in demo mode only."""

from __future__ import annotations

from pathlib import Path

import pytest

from clic_geo._errors import PermissionDeniedError
from clic_geo.access import accounts
from clic_geo.access.auth import AuthenticationError, AuthPolicy, login
from clic_geo.access.identity import Role
from clic_geo.access.isa import get_isa_scope, list_isa_scopes
from clic_geo.demo.accounts import (
    DEMO_ACCOUNTS,
    ensure_demo_accounts,
    remove_demo_accounts,
    sync_demo_accounts,
)
from clic_geo.settings import Settings, load_settings
from clic_geo.store import Store

DEMO_POLICY = AuthPolicy(bcrypt_rounds=4, demo=True)
LIVE_POLICY = AuthPolicy(bcrypt_rounds=4, demo=False)


@pytest.fixture
def env(tmp_path: Path) -> tuple[Settings, Settings, Store]:
    demo = load_settings(tmp_path, demo=True)
    live = load_settings(tmp_path, demo=False)
    store = Store.open(live)
    yield demo, live, store
    store.close()


def test_refused_outside_demo_mode(env) -> None:
    _, live, store = env
    with pytest.raises(PermissionDeniedError, match="only in demo mode"):
        ensure_demo_accounts(live, store, policy=LIVE_POLICY)
    assert accounts.list_users(store).empty


def test_demo_mode_creates_the_documented_accounts(env) -> None:
    demo, _, store = env
    names = sync_demo_accounts(demo, store, policy=DEMO_POLICY)
    assert names == ["demo-officer", "demo-admin", "demo-housing", "demo-nhs"]
    roles = {}
    for acc in DEMO_ACCOUNTS:
        s = login(store, acc.username, acc.password, policy=DEMO_POLICY)
        roles[acc.username] = s.user.role
        assert s.user.demo
    assert roles == {
        "demo-officer": Role.OFFICER,
        "demo-admin": Role.ADMIN,
        "demo-housing": Role.PARTNER,
        "demo-nhs": Role.PARTNER,
    }
    assert get_isa_scope(store, "demo-housing").areas == ("barrow", "kendal")
    assert get_isa_scope(store, "demo-nhs").areas == ("barrow", "carlisle")


def test_demo_accounts_reset_on_each_start(env) -> None:
    demo, _, store = env
    sync_demo_accounts(demo, store, policy=DEMO_POLICY)
    accounts.set_password(
        store, "demo-officer", "somebody changed it", actor="cli", policy=DEMO_POLICY
    )
    accounts.set_disabled(store, "demo-nhs", True, actor="cli")
    sync_demo_accounts(demo, store, policy=DEMO_POLICY)
    assert login(store, "demo-officer", "officer-demo-1clic", policy=DEMO_POLICY)
    assert login(store, "demo-nhs", "nhs-demo-1clic", policy=DEMO_POLICY)
    assert len(accounts.list_users(store)) == 4


def test_start_without_demo_mode_removes_them(env) -> None:
    demo, live, store = env
    sync_demo_accounts(demo, store, policy=DEMO_POLICY)
    s = login(store, "demo-admin", "admin-demo-1clic", policy=DEMO_POLICY)
    accounts.create_organisation(
        store, "cumbria-police", "Cumbria Constabulary", "police", actor="cli"
    )
    accounts.create_user(
        store,
        "real-officer",
        role="officer",
        organisation="cumbria-police",
        password="a real pass-phrase",
        actor="cli",
        policy=LIVE_POLICY,
    )
    assert sync_demo_accounts(live, store, policy=LIVE_POLICY) == []
    users = accounts.list_users(store)
    assert list(users["username"]) == ["real-officer"]
    assert list(accounts.list_organisations(store)["id"]) == ["cumbria-police"]
    assert list_isa_scopes(store) == []
    for acc in DEMO_ACCOUNTS:
        with pytest.raises(AuthenticationError):
            login(store, acc.username, acc.password, policy=DEMO_POLICY)
    from clic_geo.access.auth import validate_session

    with pytest.raises(AuthenticationError):
        validate_session(store, s)
    assert remove_demo_accounts(store) == 0


def test_leftover_demo_account_cannot_sign_in_outside_demo_mode(env) -> None:
    demo, _, store = env
    ensure_demo_accounts(demo, store, policy=DEMO_POLICY)
    with pytest.raises(AuthenticationError):
        login(store, "demo-officer", "officer-demo-1clic", policy=LIVE_POLICY)


def test_real_account_with_a_demo_name_is_not_touched(env) -> None:
    demo, _, store = env
    accounts.create_organisation(store, "cumbria-police", "Cumbria", "police", actor="cli")
    accounts.create_user(
        store,
        "demo-admin",
        role="admin",
        organisation="cumbria-police",
        password="a real admin phrase",
        actor="cli",
        policy=LIVE_POLICY,
    )
    with pytest.raises(PermissionDeniedError, match="real account"):
        ensure_demo_accounts(demo, store, policy=DEMO_POLICY)
    assert login(store, "demo-admin", "a real admin phrase", policy=LIVE_POLICY)
