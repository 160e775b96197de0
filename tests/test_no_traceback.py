"""No traceback or internal detail reaches a browser, for anyone (issue 14).

Before: a damaged store showed an unauthenticated visitor the StoreError traceback
with file paths on the sign-in page, and a page error showed an officer the SQL and
its parameters. Now one handler around every page (app.py, app_pages/errors.py)
logs the traceback with a reference id and shows one line with that id; ``clic-geo
serve`` also turns Streamlit's own error details off (test_browser_session.py).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app_pages import common
from clic_geo.cli._serve import streamlit_command
from clic_geo.settings import REPO_ROOT
from tests.test_app import app_env, demo_store, run  # noqa: F401

APP = str(REPO_ROOT / "app.py")
SECRET_SQL = "UPDATE sessions SET last_seen_at=? WHERE token_hash=?"
#: What must never be on the page: traceback words, paths, SQL, exception names.
LEAKS = re.compile(
    r"Traceback|File \"|\.py\b|/tmp/|/work/|sqlite|SELECT|UPDATE|token_hash|Error\b|Exception",
    re.IGNORECASE,
)


def _everything_shown(at: AppTest) -> str:
    parts = [str(e.value) for e in at.exception]
    for kind in ("error", "warning", "info", "markdown", "caption", "title", "text", "code"):
        parts += [str(getattr(e, "value", "")) for e in getattr(at, kind)]
    return "\n".join(parts)


def _one_friendly_line(at: AppTest, caplog: pytest.LogCaptureFixture) -> None:
    assert not at.exception, [e.message for e in at.exception]
    shown = _everything_shown(at)
    assert not LEAKS.search(shown), LEAKS.search(shown)
    (line,) = [e.value for e in at.error]
    ref = re.search(r"reference: ([0-9A-F]{8})$", line)
    assert ref, line
    # the details and the same reference id are in the server's log
    rec = [r for r in caplog.records if ref.group(1) in r.getMessage()]
    assert rec and rec[0].exc_info is not None


def test_damaged_store_shows_a_visitor_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    d = tmp_path / "store"
    d.mkdir()
    (d / "store.sqlite").write_bytes(b"this is not a database, it was damaged" * 100)
    monkeypatch.setenv("CLIC_DATA_DIR", str(d))
    monkeypatch.delenv("CLIC_DEMO", raising=False)
    st.cache_resource.clear()
    caplog.set_level(logging.ERROR, logger="clic_geo")
    at = AppTest.from_file(APP, default_timeout=60).run()
    _one_friendly_line(at, caplog)
    st.cache_resource.clear()


@pytest.mark.usefixtures("app_env")
def test_a_page_that_raises_shows_an_officer_one_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    at = run()
    assert at.title[0].value == "Map"

    def broken() -> int:
        raise RuntimeError(f"{SECRET_SQL} [parameters: ('ab12', '/work/store/store.sqlite')]")

    monkeypatch.setattr(common, "version", broken)
    caplog.set_level(logging.ERROR, logger="clic_geo")
    at.run()
    _one_friendly_line(at, caplog)
    assert SECRET_SQL in caplog.text  # for whoever reads the server log


def test_serve_turns_streamlit_error_details_off() -> None:
    cmd = streamlit_command(8501, "127.0.0.1")
    assert cmd[cmd.index("--client.showErrorDetails") + 1] == "none"
    assert cmd[4].endswith("clic_server.py")
