"""Files on disk readable by their owner only; an empty or damaged store refused (issue 14 #4).

Each test runs under a permissive umask (022, the usual default) so that nothing passes
only because the test process happens to create private files anyway.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app_pages.common import SESSION_KEY
from clic_geo._errors import StoreError
from clic_geo.cli import main
from clic_geo.export import write_safe_csv
from clic_geo.files import private_upload, tighten_data_dir
from clic_geo.ingest.importer import import_file
from clic_geo.settings import REPO_ROOT, load_settings
from clic_geo.store import Store
from tests import store_shapes

APP = str(REPO_ROOT / "app.py")


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture(autouse=True)
def _permissive_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_store_and_its_rejects_are_owner_only(tmp_path, ctx) -> None:
    d = tmp_path / "store"
    settings = load_settings(d)
    store = Store.open(settings)
    f = tmp_path / "inc.csv"
    f.write_text("id,date,type,lat,lon\n1,2026-10-05,drug supply,54.115,-3.227\n2,bad,x,1,2\n")
    r = import_file(f, "incidents", settings=settings, store=store, context=ctx)
    assert r.rejected == 1
    files = [d / "store.sqlite", d / "store.sqlite-wal", d / "store.sqlite-shm"]
    rejects = list((d / "rejects").glob("*.csv"))
    assert len(rejects) == 1
    for p in [*files, *rejects]:
        assert p.exists() and mode(p) == 0o600, (p, oct(mode(p)))
    for p in (d, d / "rejects"):
        assert mode(p) == 0o700, (p, oct(mode(p)))
    store.close()


def test_a_looser_store_is_tightened_on_open_with_a_log_line(tmp_path, caplog) -> None:
    d = tmp_path / "store"
    Store.open(load_settings(d)).close()
    (d / "rejects").mkdir()
    (d / "rejects" / "00001-incidents-x.csv").write_text("row,reason\n")
    (d / "uploads").mkdir()
    for p in (d, d / "rejects", d / "uploads"):
        p.chmod(0o755)
    for p in (d / "store.sqlite", d / "rejects" / "00001-incidents-x.csv"):
        p.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="clic_geo.files"):
        Store.open(load_settings(d)).close()
    assert mode(d) == mode(d / "rejects") == mode(d / "uploads") == 0o700
    assert mode(d / "store.sqlite") == mode(d / "rejects" / "00001-incidents-x.csv") == 0o600
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "store.sqlite was readable by others: now owner-only" in logged
    assert tighten_data_dir(d) == []  # nothing left to tighten, nothing logged twice


def test_csv_exports_are_owner_only(tmp_path) -> None:
    out = write_safe_csv(pd.DataFrame({"a": ["=1+1"]}), tmp_path / "exports" / "x.csv")
    assert mode(out) == 0o600 and mode(out.parent) == 0o700
    assert out.read_text(encoding="utf-8-sig").splitlines()[1] == "'=1+1"


def test_an_upload_lives_only_while_it_is_read(tmp_path) -> None:
    folder = tmp_path / "uploads"
    with private_upload(folder, "f.csv", b"a,b\n1,2\n") as p:
        assert p.read_bytes() == b"a,b\n1,2\n"
        assert mode(p) == 0o600 and mode(folder) == 0o700
    assert not p.exists()
    with pytest.raises(RuntimeError), private_upload(folder, "g.csv", b"x") as p:
        raise RuntimeError("the import failed")
    assert not p.exists()


@pytest.mark.parametrize(
    ("content", "says"),
    [(b"", "is empty (0 bytes)"), (b"not a database at all\n" * 50, "is damaged or not a store")],
    ids=["zero-bytes", "damaged"],
)
def test_an_empty_or_damaged_store_is_refused(tmp_path, capsys, content: bytes, says: str) -> None:
    d = tmp_path / "store"
    d.mkdir()
    (d / "store.sqlite").write_bytes(content)
    with pytest.raises(StoreError, match=re.escape(says)) as err:
        Store.open(load_settings(d))
    assert "\n" not in str(err.value)
    assert (d / "store.sqlite").read_bytes() == content  # left exactly as it was
    assert main(["--data-dir", str(d), "status"]) != 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], lines


def test_a_damaged_store_shows_one_line_in_the_browser(tmp_path, monkeypatch) -> None:
    d = tmp_path / "store"
    d.mkdir()
    (d / "store.sqlite").write_bytes(b"")
    monkeypatch.setenv("CLIC_DATA_DIR", str(d))
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == [
        "The data store cannot be opened, so nothing can be shown. The server's log says "
        "why; tell the person who runs clic-geo."
    ]
    assert str(d) not in str(at.main)
    st.cache_resource.clear()


def test_the_data_page_deletes_an_upload_once_imported(tmp_path, monkeypatch) -> None:
    d = store_shapes.build(tmp_path / "store", "empty")
    monkeypatch.setenv("CLIC_DATA_DIR", str(d))
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.session_state[SESSION_KEY] = store_shapes.sign_in(d, "officer")
    at.run()
    at.switch_page("app_pages/data_page.py").run()
    for name, content in (
        ("good.csv", store_shapes.INCIDENTS.encode()),
        ("bad.csv", b"\x00\x01 not a table"),
    ):
        at.file_uploader(key="imp_file").set_value((name, content, "text/csv"))
        next(b for b in at.button if b.label == "Import").click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert list((d / "uploads").iterdir()) == [], name
        assert mode(d / "uploads") == 0o700
    assert at.session_state["last_import"]["accepted"] == 48
    st.cache_resource.clear()
    shutil.rmtree(d)


def test_a_shared_folder_is_never_tightened(tmp_path) -> None:
    """A store file or data directory given in a shared (sticky) folder such as /tmp
    leaves that folder as it is."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    Store(f"sqlite:///{shared / 'x.sqlite'}", shared).close()
    assert mode(shared) == 0o1777
    assert mode(shared / "x.sqlite") == 0o600
    other = tmp_path / "other"
    other.mkdir()
    other.chmod(0o755)
    Store(f"sqlite:///{shared / 'y.sqlite'}", other).close()  # not the store's own folder
    assert mode(other) == 0o755
