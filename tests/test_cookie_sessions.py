"""A session taken up again from the cookie's token ends exactly as any session does:
sign-out, password change, disabled user, idle and absolute limits (issue 10 §4)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clic_geo.access import accounts
from clic_geo.access.auth import (
    AuthenticationError,
    AuthPolicy,
    SessionExpiredError,
    login,
    logout,
)
from clic_geo.access.cookie_sessions import end_session, resume_session
from clic_geo.store import Store
from tests.auth_fixtures import PW, T0, add_officer_alice, policy_fixture, store_fixture  # noqa: F401


@pytest.fixture
def alice(store: Store, policy: AuthPolicy):
    add_officer_alice(store, policy)
    return login(store, "alice", PW["alice"], policy=policy, now=T0)


def test_resumed_session_is_the_same_session(store: Store, alice) -> None:
    s = resume_session(store, alice.token, now=T0 + timedelta(minutes=5))
    assert (s.user.username, s.method, s.expires_at) == ("alice", "password", alice.expires_at)
    assert s.token not in repr(s)


@pytest.mark.parametrize(
    "end",
    ["logout", "password", "disabled", "idle", "absolute"],
)
def test_what_ends_a_session_ends_the_cookie(store: Store, policy: AuthPolicy, alice, end) -> None:
    at = T0 + timedelta(minutes=1)
    if end == "logout":
        logout(store, alice, now=at)
    elif end == "password":
        accounts.set_password(store, "alice", "a brand new pass-phrase", actor="cli", policy=policy)
    elif end == "disabled":
        accounts.set_disabled(store, "alice", True, actor="cli")
    elif end == "idle":
        at = T0 + timedelta(minutes=policy.idle_timeout_minutes, seconds=1)
    else:
        at = T0 + timedelta(hours=policy.absolute_timeout_hours, seconds=1)
    with pytest.raises(SessionExpiredError):
        resume_session(store, alice.token, now=at)


def test_forged_tokens_are_refused(store: Store, alice) -> None:
    for token in ("", "x" * 300, alice.token + "x"):
        with pytest.raises(AuthenticationError):
            resume_session(store, token, now=T0)
    assert end_session(store, alice.token, now=T0) is True
    assert end_session(store, alice.token, now=T0) is False
