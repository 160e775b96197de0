"""A crash mid-import leaves the store exactly as it was."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from clic_geo.ingest.importer import import_file
from clic_geo.settings import load_settings
from clic_geo.store import Store


def _big_file(path: Path, n: int) -> Path:
    rows = ["id,date,type,lat,lon"]
    rows += [
        f"K{i},2024-03-{1 + i % 28:02d},violence,{54.10 + (i % 50) * 0.0005:.5f},-3.22"
        for i in range(n)
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_exception_half_way_rolls_back(tmp_path: Path, settings, store, ctx) -> None:
    first = _big_file(tmp_path / "a.csv", 50)
    import_file(first, "incidents", settings=settings, store=store, context=ctx)
    before = store.counts()

    def die(_import_id: int) -> None:
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        import_file(
            _big_file(tmp_path / "b.csv", 12_000),
            "incidents",
            settings=settings,
            store=store,
            context=ctx,
            before_commit=die,
        )
    assert store.counts() == before
    assert not list((settings.data_dir / "rejects").glob("*"))  # nothing half-written
    assert len(store.imports()) == 1


def test_killed_process_leaves_store_unchanged(tmp_path: Path) -> None:
    data_dir = tmp_path / "store"
    settings = load_settings(data_dir)
    st = Store.open(settings)
    import_file(_big_file(tmp_path / "a.csv", 100), "incidents", settings=settings, store=st)
    before = st.counts()
    st.close()
    big = _big_file(tmp_path / "big.csv", 30_000)
    # The child imports, and SIGKILLs itself when the rows are written but not committed.
    script = textwrap.dedent(
        f"""
        import os, signal
        from clic_geo.ingest.importer import import_file
        from clic_geo.settings import load_settings
        def kill(_):
            os.kill(os.getpid(), signal.SIGKILL)
        import_file({str(big)!r}, "incidents", settings=load_settings({str(data_dir)!r}),
                    before_commit=kill)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    st = Store.open(load_settings(data_dir))
    assert st.counts() == before
    st.close()
    con = sqlite3.connect(data_dir / "store.sqlite")
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    # no half-written rejects file is left where a user would look for one
    rejects = data_dir / "rejects"
    assert not rejects.exists() or not list(rejects.glob("*.csv"))
    assert os.path.exists(data_dir / "store.sqlite")
