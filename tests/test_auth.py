"""Accounts, passwords, lockout, sessions, single sign-on mapping."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest

from clic_geo._errors import ConfigError, NotFoundError, PermissionDeniedError
from clic_geo.access import accounts
from clic_geo.access.auth import (
    LOGIN_FAILED,
    AuthenticationError,
    AuthPolicy,
    PasswordPolicyError,
    SessionExpiredError,
    check_password_policy,
    hash_password,
    login,
    login_oidc,
    logout,
    validate_session,
    verify_password,
)
from clic_geo.access.identity import Role
from clic_geo.settings import load_settings
from clic_geo.store import Store
from tests.auth_fixtures import PW, T0, audit_rows, policy_fixture, store_fixture  # noqa: F401


@pytest.fixture
def people(store: Store, policy: AuthPolicy) -> Store:
    accounts.create_organisation(
        store, "cumbria-police", "Cumbria Constabulary", "police", actor="cli"
    )
    accounts.create_organisation(store, "housing-south", "South Housing", "housing", actor="cli")
    accounts.create_user(
        store,
        "alice",
        role="officer",
        organisation="cumbria-police",
        password=PW["alice"],
        actor="cli",
        policy=policy,
        now=T0,
    )
    accounts.create_user(
        store,
        "hal",
        role="partner",
        organisation="housing-south",
        password=PW["hal"],
        actor="cli",
        policy=policy,
        now=T0,
    )
    accounts.create_user(
        store,
        "ada",
        role="admin",
        organisation="cumbria-police",
        password=PW["ada"],
        actor="cli",
        policy=policy,
        now=T0,
    )
    return store


def test_password_hash_round_trip_and_long_passphrase() -> None:
    long_pw = "ü" * 100 + " a very long pass-phrase beyond bcrypt's 72 bytes"
    h = hash_password(long_pw, rounds=4)
    assert verify_password(long_pw, h)
    assert not verify_password(long_pw[:-1], h)
    assert long_pw not in h
    # NFKC: the composed and decomposed forms of é are the same password
    assert verify_password("caf\u00e9 au lait 42", hash_password("cafe\u0301 au lait 42", rounds=4))
    assert not verify_password("x", None)
    assert not verify_password("x", "$2b$04$notourformat")


@pytest.mark.parametrize(
    ("password", "match"),
    [
        ("short", "at least 12"),
        ("alice-is-my-password", "username"),
        ("aaaaaaaaaaaaaaaa", "repeated"),
        ("x" * 300 + "yz", "at most 256"),
    ],
    ids=["too-short", "contains-username", "one-char", "too-long"],
)
def test_password_policy(password: str, match: str) -> None:
    with pytest.raises(PasswordPolicyError, match=match):
        check_password_policy(password, "alice", AuthPolicy())


def test_good_login_returns_session_with_hidden_token(people: Store, policy: AuthPolicy) -> None:
    s = login(people, " Alice ", PW["alice"], policy=policy, now=T0)
    assert s.user.username == "alice"
    assert s.user.role is Role.OFFICER
    assert s.token not in repr(s)
    assert len(s.token) >= 40
    assert validate_session(people, s, now=T0 + timedelta(minutes=1)).username == "alice"
    with people.engine.connect() as conn:
        stored = [r[0] for r in conn.exec_driver_sql("SELECT token_hash FROM sessions")]
    assert s.token not in stored
    assert len(stored[0]) == 64


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "wrong password!!"), ("nobody", "wrong password!!"), ("", ""), ("alice", "")],
    ids=["wrong-password", "unknown-user", "empty", "empty-password"],
)
def test_failed_login_same_message(
    people: Store, policy: AuthPolicy, username: str, password: str
) -> None:
    with pytest.raises(AuthenticationError) as err:
        login(people, username, password, policy=policy, now=T0)
    assert str(err.value) == LOGIN_FAILED


def test_unknown_username_is_not_stored(people: Store, policy: AuthPolicy) -> None:
    typed = "Tr0ub4dor&3-typed-into-the-user-box"
    with pytest.raises(AuthenticationError):
        login(people, typed, "whatever at all", policy=policy, now=T0)
    rows = audit_rows(people)
    assert rows[-1]["action"] == "login"
    assert rows[-1]["outcome"] == "failed"
    assert rows[-1]["actor"] is None
    assert typed.lower() not in str(rows)


def test_lockout_after_max_failures_then_expires(people: Store, policy: AuthPolicy) -> None:
    t = T0
    for _ in range(policy.max_failures):
        with pytest.raises(AuthenticationError):
            login(people, "alice", "not the password", policy=policy, now=t)
        t += timedelta(seconds=5)
    # now locked: even the right password is refused, with the same message
    with pytest.raises(AuthenticationError, match="locked or disabled"):
        login(people, "alice", PW["alice"], policy=policy, now=t)
    actions = [(r["action"], r["outcome"]) for r in audit_rows(people)]
    assert ("lockout", "locked") in actions
    assert actions[-1] == ("login", "locked")
    # after lockout_minutes the account opens again
    later = t + timedelta(minutes=policy.lockout_minutes, seconds=1)
    assert login(people, "alice", PW["alice"], policy=policy, now=later).user.username == "alice"


def test_failures_below_limit_reset_on_success(people: Store, policy: AuthPolicy) -> None:
    for _ in range(policy.max_failures - 1):
        with pytest.raises(AuthenticationError):
            login(people, "alice", "not the password", policy=policy, now=T0)
    login(people, "alice", PW["alice"], policy=policy, now=T0)
    for _ in range(policy.max_failures - 1):
        with pytest.raises(AuthenticationError):
            login(people, "alice", "not the password", policy=policy, now=T0)
    assert login(people, "alice", PW["alice"], policy=policy, now=T0)


def test_admin_unlock(people: Store, policy: AuthPolicy) -> None:
    for _ in range(policy.max_failures):
        with pytest.raises(AuthenticationError):
            login(people, "alice", "not the password", policy=policy, now=T0)
    with pytest.raises(AuthenticationError):
        login(people, "alice", PW["alice"], policy=policy, now=T0)
    accounts.unlock(people, "alice", actor="cli", now=T0)
    assert login(people, "alice", PW["alice"], policy=policy, now=T0)


def test_idle_and_absolute_timeouts(people: Store, policy: AuthPolicy) -> None:
    s = login(people, "alice", PW["alice"], policy=policy, now=T0)
    idle = timedelta(minutes=policy.idle_timeout_minutes)
    # kept alive by use, every 20 minutes, until the absolute limit
    t = T0
    while t + timedelta(minutes=20) < T0 + timedelta(hours=policy.absolute_timeout_hours):
        t += timedelta(minutes=20)
        validate_session(people, s, now=t)
    with pytest.raises(SessionExpiredError):
        validate_session(people, s, now=T0 + timedelta(hours=policy.absolute_timeout_hours))
    s2 = login(people, "alice", PW["alice"], policy=policy, now=T0)
    validate_session(people, s2, now=T0 + idle)  # exactly at the limit: still fine
    with pytest.raises(SessionExpiredError, match="expired"):
        validate_session(people, s2, now=T0 + 2 * idle + timedelta(seconds=1))
    # once expired, it stays ended
    with pytest.raises(SessionExpiredError):
        validate_session(people, s2, now=T0 + 2 * idle + timedelta(seconds=2))
    reasons = [
        r["detail"].get("reason") for r in audit_rows(people) if r["action"] == "session_expired"
    ]
    assert reasons == ["absolute_timeout", "idle_timeout"]


def test_logout_and_forged_token(people: Store, policy: AuthPolicy) -> None:
    s = login(people, "alice", PW["alice"], policy=policy, now=T0)
    logout(people, s, now=T0)
    with pytest.raises(SessionExpiredError):
        validate_session(people, s, now=T0)
    with pytest.raises(AuthenticationError, match="not signed in"):
        validate_session(people, "forged-token", now=T0)


def test_disabled_user(people: Store, policy: AuthPolicy) -> None:
    s = login(people, "hal", PW["hal"], policy=policy, now=T0)
    accounts.set_disabled(people, "hal", True, actor="cli", now=T0)
    with pytest.raises(SessionExpiredError):
        validate_session(people, s, now=T0)
    with pytest.raises(AuthenticationError, match="locked or disabled"):
        login(people, "hal", PW["hal"], policy=policy, now=T0)
    accounts.set_disabled(people, "hal", False, actor="cli", now=T0)
    assert login(people, "hal", PW["hal"], policy=policy, now=T0)


def test_role_change_applies_at_next_call(people: Store, policy: AuthPolicy) -> None:
    s = login(people, "alice", PW["alice"], policy=policy, now=T0)
    accounts.set_role(people, "alice", "partner", organisation="housing-south", actor="cli", now=T0)
    with pytest.raises(SessionExpiredError):  # sessions end on a role change
        validate_session(people, s, now=T0)
    s2 = login(people, "alice", PW["alice"], policy=policy, now=T0)
    assert s2.user.role is Role.PARTNER
    assert s2.user.organisation_id == "housing-south"


def test_set_password_ends_sessions(people: Store, policy: AuthPolicy) -> None:
    s = login(people, "alice", PW["alice"], policy=policy, now=T0)
    accounts.set_password(people, "alice", "a brand new pass-phrase", actor="cli", policy=policy)
    with pytest.raises(SessionExpiredError):
        validate_session(people, s, now=T0)
    with pytest.raises(AuthenticationError):
        login(people, "alice", PW["alice"], policy=policy, now=T0)
    assert login(people, "alice", "a brand new pass-phrase", policy=policy, now=T0)


def test_admin_actions_need_an_admin_session(people: Store, policy: AuthPolicy) -> None:
    officer = login(people, "alice", PW["alice"], policy=policy, now=T0)
    admin = login(people, "ada", PW["ada"], policy=policy, now=T0)
    with pytest.raises(PermissionDeniedError, match="officer account may not"):
        accounts.set_role(people, "hal", "officer", actor=officer, now=T0)
    with pytest.raises(PermissionDeniedError):
        accounts.create_user(
            people,
            "eve",
            role="admin",
            organisation="cumbria-police",
            actor="not-a-session",
            now=T0,
        )  # type: ignore[arg-type]
    accounts.set_role(people, "hal", "officer", organisation="cumbria-police", actor=admin, now=T0)
    assert accounts.get_user(people, "hal").role is Role.OFFICER
    denied = [r for r in audit_rows(people) if r["outcome"] == "denied"]
    assert denied[-1]["actor"] == "alice"
    assert denied[-1]["action"] == "user_admin"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"username": "Bad Name!"}, "username"),
        ({"organisation": "nowhere"}, "unknown organisation"),
        ({"role": "superuser"}, "unknown role"),
        ({"username": "alice"}, "taken"),
        ({"email": "Shared@Police.uk"}, "e-mail"),
    ],
    ids=["bad-name", "no-org", "bad-role", "taken", "email-taken"],
)
def test_create_user_errors(people: Store, kwargs: dict, match: str) -> None:
    accounts.create_user(
        people,
        "sam",
        role="officer",
        organisation="cumbria-police",
        email="shared@police.uk",
        actor="cli",
    )
    args = {"username": "zed", "role": "officer", "organisation": "cumbria-police"} | kwargs
    with pytest.raises(ConfigError, match=match):
        accounts.create_user(people, args.pop("username"), actor="cli", **args)


def test_unknown_user_admin_errors(people: Store) -> None:
    with pytest.raises(NotFoundError, match="no user 'ghost'"):
        accounts.unlock(people, "ghost", actor="cli")
    with pytest.raises(NotFoundError):
        accounts.get_user(people, "ghost")


def test_policy_from_settings(tmp_path) -> None:
    (tmp_path / "settings.toml").write_text(
        "[security]\nmax_failures = 3\nlockout_minutes = 5\noidc_issuers = ['https://idp']\n"
    )
    p = AuthPolicy.from_settings(load_settings(tmp_path, demo=True))
    assert (p.max_failures, p.lockout_minutes, p.demo, p.oidc_issuers) == (
        3,
        5,
        True,
        ("https://idp",),
    )
    (tmp_path / "settings.toml").write_text("[security]\nmax_failurez = 3\n")
    with pytest.raises(ConfigError, match="unknown keys"):
        AuthPolicy.from_settings(load_settings(tmp_path))
    with pytest.raises(ConfigError, match="bcrypt_rounds"):
        AuthPolicy(bcrypt_rounds=2)


# ------------------------------------------------------------------ single sign-on


ISS = "https://login.example.police.uk/tenant/v2.0"


def test_oidc_binds_verified_email_then_matches_subject(people: Store, policy: AuthPolicy) -> None:
    accounts.create_user(
        people,
        "olive",
        role="officer",
        organisation="cumbria-police",
        email="Olive@Police.UK",
        actor="cli",
        now=T0,
    )
    claims = {"iss": ISS, "sub": "abc-123", "email": "olive@police.uk", "email_verified": True}
    s = login_oidc(people, claims, policy=policy, now=T0)
    assert s.user.username == "olive"
    assert s.method == "oidc"
    assert s.user.role is Role.OFFICER
    # the subject is now bound: a changed e-mail at the provider still matches
    s2 = login_oidc(people, {**claims, "email": "changed@police.uk"}, policy=policy, now=T0)
    assert s2.user.username == "olive"
    # another subject claiming the same e-mail does not get in (already bound)
    with pytest.raises(AuthenticationError):
        login_oidc(people, {**claims, "sub": "other"}, policy=policy, now=T0)
    # a single sign-on user has no password
    with pytest.raises(AuthenticationError):
        login(people, "olive", "anything at all here", policy=policy, now=T0)


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": ISS, "sub": "x", "email": "stranger@police.uk", "email_verified": True},
        {"iss": ISS, "sub": "x", "email": "olive@police.uk", "email_verified": False},
        {"iss": ISS, "sub": "x", "email": "olive@police.uk"},
        {"sub": "x", "email": "olive@police.uk", "email_verified": True},
        {
            "iss": "https://evil.example",
            "sub": "x",
            "email": "olive@police.uk",
            "email_verified": True,
        },
    ],
    ids=["unknown", "unverified", "no-verified-claim", "no-issuer", "issuer-not-allowed"],
)
def test_oidc_refusals(people: Store, claims: dict) -> None:
    accounts.create_user(
        people,
        "olive",
        role="officer",
        organisation="cumbria-police",
        email="olive@police.uk",
        actor="cli",
        now=T0,
    )
    pol = AuthPolicy(bcrypt_rounds=4, oidc_issuers=(ISS,))
    with pytest.raises(AuthenticationError, match="sign-in failed"):
        login_oidc(people, claims, policy=pol, now=T0)
    assert audit_rows(people)[-1]["outcome"] == "failed"


def test_oidc_pre_bound_subject_and_disabled(people: Store, policy: AuthPolicy) -> None:
    accounts.create_user(
        people,
        "pat",
        role="partner",
        organisation="housing-south",
        oidc_subject=f"{ISS}|sub-9",
        actor="cli",
        now=T0,
    )
    assert login_oidc(people, {"iss": ISS, "sub": "sub-9"}, policy=policy, now=T0).user.is_partner
    accounts.set_disabled(people, "pat", True, actor="cli")
    with pytest.raises(AuthenticationError):
        login_oidc(people, {"iss": ISS, "sub": "sub-9"}, policy=policy, now=T0)


def test_no_secrets_in_log_lines(
    people: Store, policy: AuthPolicy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="clic_geo")
    sessions = [login(people, "alice", PW["alice"], policy=policy, now=T0)]
    for _ in range(policy.max_failures):
        with pytest.raises(AuthenticationError):
            login(people, "alice", "Secret-Wrong-Guess", policy=policy, now=T0)
    accounts.set_password(people, "hal", "Another-Secret-Phrase", actor="cli", policy=policy)
    sessions.append(login(people, "hal", "Another-Secret-Phrase", policy=policy, now=T0))
    logout(people, sessions[-1], now=T0)
    text = caplog.text + repr([r.args for r in caplog.records])
    assert caplog.records, "the module logs something"
    for secret in [
        *PW.values(),
        "Secret-Wrong-Guess",
        "Another-Secret-Phrase",
        *(s.token for s in sessions),
    ]:
        assert secret not in text


def test_timestamps_default_to_now(people: Store, policy: AuthPolicy) -> None:
    s = login(people, "alice", PW["alice"], policy=policy)
    assert abs(s.created_at - datetime.now().astimezone().replace(tzinfo=None)) < timedelta(days=1)
    assert validate_session(people, s).username == "alice"


def test_count_restarts_after_a_lock_runs_out(people: Store, policy: AuthPolicy) -> None:
    def fail(n: int, at: datetime) -> None:
        for _ in range(n):
            with pytest.raises(AuthenticationError):
                login(people, "alice", "not the password", policy=policy, now=at)

    fail(policy.max_failures, T0)
    after = T0 + timedelta(minutes=policy.lockout_minutes + 1)
    fail(policy.max_failures - 1, after)  # a fresh count: not locked yet
    assert login(people, "alice", PW["alice"], policy=policy, now=after)
    fail(policy.max_failures, after)
    with pytest.raises(AuthenticationError):
        login(people, "alice", PW["alice"], policy=policy, now=after)
    assert [r["action"] for r in audit_rows(people)].count("lockout") == 2


def test_overlong_password_is_a_failure(people: Store, policy: AuthPolicy) -> None:
    with pytest.raises(AuthenticationError, match="sign-in failed"):
        login(people, "alice", PW["alice"] + "x" * 300, policy=policy, now=T0)
    assert audit_rows(people)[-1]["detail"]["failures"] == 1


def test_hash_is_upgraded_to_the_policy_cost(people: Store, policy: AuthPolicy) -> None:
    stronger = AuthPolicy(bcrypt_rounds=5)
    login(people, "alice", PW["alice"], policy=stronger, now=T0)
    with people.engine.connect() as conn:
        h = conn.exec_driver_sql("SELECT password_hash FROM users WHERE username='alice'").scalar()
    assert h.startswith("bcrypt-sha256$$2b$05$")
    assert login(people, "alice", PW["alice"], policy=policy, now=T0)
