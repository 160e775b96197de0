"""The README's examples stay true."""

from __future__ import annotations

import re

from clic_geo.access.auth import AuthPolicy
from clic_geo.cli import build_parser
from clic_geo.demo.accounts import DEMO_ACCOUNTS
from clic_geo.settings import REPO_ROOT, load_settings

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def test_settings_example_is_valid(tmp_path) -> None:
    block = README.split("`$CLIC_DATA_DIR/settings.toml` (all optional):", 1)[1]
    lines = []
    for line in block.splitlines()[1:]:
        if line and not line.startswith("    "):
            break
        lines.append(line[4:])
    (tmp_path / "settings.toml").write_text("\n".join(lines))
    s = load_settings(tmp_path)
    assert s.severity["weapons"] == 4.0
    assert s.tile_url.startswith("https://")
    assert AuthPolicy.from_settings(s).max_failures == 5


def test_demo_accounts_table_matches_the_code() -> None:
    for a in DEMO_ACCOUNTS:
        assert f"| {a.username} | {a.password} | {a.role.value} |" in README


def test_commands_shown_exist() -> None:
    parser = build_parser()
    commands = set(re.findall(r"^\s+clic-geo ([a-z-]+)", README, flags=re.M))
    assert commands
    sub = next(a for a in parser._actions if a.dest == "command")
    assert commands <= set(sub.choices), commands - set(sub.choices)


def test_the_two_commands_are_the_scripts() -> None:
    assert "    ./scripts/run.sh\n" in README and "    ./scripts/test.sh\n" in README
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert ci.strip().endswith("./scripts/test.sh")
