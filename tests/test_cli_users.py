"""The ``users``, ``isa`` and ``audit`` commands, through ``clic_geo.cli.main``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from clic_geo.access.auth import AuthenticationError, AuthPolicy, login
from clic_geo.cli import main
from clic_geo.settings import load_settings
from clic_geo.store import Store

POLICY = AuthPolicy(bcrypt_rounds=4)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("CLIC_DATA_DIR", "CLIC_AREAS_DIR", "CLIC_DATABASE_URL", "CLIC_DEMO"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "settings.toml").write_text("[security]\nbcrypt_rounds = 4\n")
    return tmp_path


def run(data_dir: Path, *args: str, stdin: str | None = None, monkeypatch=None) -> int:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["--data-dir", str(data_dir), *args])


def store_of(data_dir: Path) -> Store:
    return Store.open(load_settings(data_dir))


def last_json(capsys: pytest.CaptureFixture) -> object:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_users_lifecycle(data_dir: Path, monkeypatch, capsys) -> None:
    assert (
        run(
            data_dir,
            "users",
            "add-org",
            "cumbria-police",
            "--name",
            "Cumbria Constabulary",
            "--kind",
            "police",
        )
        == 0
    )
    assert (
        run(
            data_dir,
            "users",
            "add",
            "Alice",
            "--role",
            "officer",
            "--org",
            "cumbria-police",
            "--password-stdin",
            stdin="a good pass-phrase\n",
            monkeypatch=monkeypatch,
        )
        == 0
    )
    assert "added alice (officer, cumbria-police)" in capsys.readouterr().out
    st = store_of(data_dir)
    assert login(st, "alice", "a good pass-phrase", policy=POLICY).user.username == "alice"

    assert run(data_dir, "users", "list", "--json") == 0
    (row,) = last_json(capsys)
    assert (row["username"], row["role"], row["has_password"]) == ("alice", "officer", True)
    assert "password_hash" not in row

    assert (
        run(
            data_dir,
            "users",
            "set-password",
            "alice",
            "--password-stdin",
            stdin="another pass-phrase\n",
            monkeypatch=monkeypatch,
        )
        == 0
    )
    with pytest.raises(AuthenticationError):
        login(st, "alice", "a good pass-phrase", policy=POLICY)
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            login(st, "alice", "wrong wrong wrong", policy=POLICY)
    assert run(data_dir, "users", "list") == 0
    assert "locked until" in capsys.readouterr().out
    assert run(data_dir, "users", "unlock", "alice") == 0
    assert login(st, "alice", "another pass-phrase", policy=POLICY)

    assert run(data_dir, "users", "set-role", "alice", "admin") == 0
    assert login(st, "alice", "another pass-phrase", policy=POLICY).user.role == "admin"
    assert run(data_dir, "users", "disable", "alice") == 0
    with pytest.raises(AuthenticationError):
        login(st, "alice", "another pass-phrase", policy=POLICY)
    assert run(data_dir, "users", "enable", "alice") == 0
    assert run(data_dir, "users", "revoke", "alice") == 0
    assert "session(s) ended" in capsys.readouterr().out
    st.close()


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["users", "add", "bob", "--role", "officer", "--org", "nowhere", "--password-stdin"],
            "a good pass-phrase\n",
            "unknown organisation",
        ),
        (
            ["users", "add", "bob", "--role", "officer", "--org", "xx", "--password-stdin"],
            "short\n",
            "at least 12",
        ),
        (["users", "add", "bob", "--role", "officer", "--org", "xx"], "", "use --password-stdin"),
        (["users", "unlock", "ghost"], None, "no user 'ghost'"),
        (
            ["isa", "set", "xx", "--areas", "atlantis", "--layers", "visits", "--reference", "R"],
            None,
            "unknown areas",
        ),
    ],
    ids=["no-org", "weak-password", "no-terminal", "no-user", "bad-area"],
)
def test_errors_exit_non_zero(data_dir, monkeypatch, capsys, args, stdin, message) -> None:
    run(data_dir, "users", "add-org", "xx", "--name", "X", "--kind", "housing")
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    assert main(["--data-dir", str(data_dir), *args]) == 1
    assert message in capsys.readouterr().err


def test_password_never_an_argument(data_dir) -> None:
    with pytest.raises(SystemExit):
        main(
            [
                "--data-dir",
                str(data_dir),
                "users",
                "add",
                "bob",
                "--role",
                "officer",
                "--org",
                "xx",
                "--password",
                "on-the-command-line",
            ]
        )


def test_sso_only_user(data_dir, capsys) -> None:
    run(data_dir, "users", "add-org", "police", "--name", "Police", "--kind", "police")
    assert (
        run(
            data_dir,
            "users",
            "add",
            "olive",
            "--role",
            "officer",
            "--org",
            "police",
            "--sso-only",
            "--email",
            "olive@police.uk",
        )
        == 0
    )
    assert run(data_dir, "users", "list", "--json") == 0
    (row,) = last_json(capsys)
    assert (row["has_password"], row["email"]) == (False, "olive@police.uk")


def test_isa_commands(data_dir, capsys) -> None:
    run(
        data_dir,
        "users",
        "add-org",
        "housing-south",
        "--name",
        "South Housing",
        "--kind",
        "housing",
    )
    assert run(data_dir, "isa", "layers") == 0
    assert "incidents_drugs" in capsys.readouterr().out
    assert (
        run(
            data_dir,
            "isa",
            "set",
            "housing-south",
            "--areas",
            "barrow,kendal",
            "--layers",
            "visits,referrals",
            "--reference",
            "ISA-2024-07",
            "--from",
            "2024-01-01",
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out == {
        "organisation_id": "housing-south",
        "reference": "ISA-2024-07",
        "areas": ["barrow", "kendal"],
        "layers": ["visits", "referrals"],
        "data_from": "2024-01-01",
        "data_to": None,
    }
    assert run(data_dir, "isa", "list", "--json") == 0
    assert last_json(capsys)[0]["areas"] == ["barrow", "kendal"]
    assert run(data_dir, "isa", "remove", "housing-south") == 0
    assert run(data_dir, "isa", "show", "housing-south") == 1
    assert "see nothing" in capsys.readouterr().out


def test_demo_command_and_audit(data_dir, monkeypatch, capsys) -> None:
    assert run(data_dir, "users", "demo") == 1
    assert "only in demo mode" in capsys.readouterr().err
    monkeypatch.setenv("CLIC_DEMO", "1")
    assert run(data_dir, "users", "demo") == 0
    assert "demo-housing   housing-demo-1clic" in capsys.readouterr().out
    monkeypatch.delenv("CLIC_DEMO")
    assert run(data_dir, "users", "demo", "--remove") == 0
    assert "removed 4 demo account(s)" in capsys.readouterr().out
    assert run(data_dir, "audit", "--json", "--limit", "5") == 0
    rows = last_json(capsys)
    assert rows[0]["action"] == "demo_accounts"
    assert rows[0]["detail"] == {"change": "removed", "count": 4}
    text = json.dumps(rows)
    assert "-demo-1clic" not in text  # no demo password in the log
