"""The store on PostgreSQL: the same callers, a different URL (no code changes).

Starts a throwaway PostgreSQL cluster (``initdb`` + ``pg_ctl``, as the ``postgres``
user when the tests run as root). ``scripts/setup.sh --test`` installs Debian's
PostgreSQL if the machine has none.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from datetime import date, datetime
from pathlib import Path

import pytest

from clic_geo.access.auth import AuthPolicy, login
from clic_geo.access.privacy import partner_area_table
from clic_geo.demo.accounts import sync_demo_accounts
from clic_geo.demo.seeding import seed_demo
from clic_geo.ingest.importer import import_file, validation_context
from clic_geo.settings import load_settings
from clic_geo.store import Store
from tests.conftest import TODAY

pytestmark = pytest.mark.slow


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    hits = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return hits[-1] if hits else None


@pytest.fixture(scope="module")
def pg_url():
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip(
            "PostgreSQL server binaries not installed (scripts/setup.sh --test installs them)"
        )
    # not under pytest's temporary folder: the postgres user may not enter it
    root = Path(tempfile.mkdtemp(prefix="clic-pg-"))
    (root / "sock").mkdir()
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(root, "postgres")
        shutil.chown(root / "sock", "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(
        [*run_as, initdb, "-D", str(root / "data"), "-A", "trust", "-U", "clic"],
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {root / 'sock'} -c listen_addresses=127.0.0.1"
    subprocess.run(
        [
            *run_as,
            pg_ctl,
            "-D",
            str(root / "data"),
            "-o",
            opts,
            "-w",
            "-l",
            str(root / "log"),
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://clic@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*run_as, pg_ctl, "-D", str(root / "data"), "-m", "fast", "stop"], capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


def test_the_store_runs_on_postgresql(pg_url, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CLIC_DATABASE_URL", pg_url)
    settings = load_settings(tmp_path / "data", demo=True)
    assert settings.database_url == pg_url
    store = Store.open(settings)
    reports = seed_demo(settings, store, today=TODAY)
    assert [r.rejected for r in reports] == [0, 0, 0, 0]
    counts = store.counts()
    assert counts["incidents"] == reports[2].accepted and counts["visits"] == reports[3].accepted
    # an import with a bad row and a duplicate, as on SQLite
    f = tmp_path / "i.csv"
    f.write_text(
        "id,date,type,lat,lon\nP1,2026-10-05,drugs,54.115,-3.227\n"
        "P2,2026-10-05,drugs,0,0\nP1,2026-10-05,drugs,54.115,-3.227\n"
    )
    ctx = validation_context(settings, now=datetime(2026, 11, 22))
    r = import_file(f, "incidents", settings=settings, store=store, context=ctx)
    assert (r.read, r.accepted, r.rejected, r.duplicates) == (3, 1, 1, 1)
    assert store.active_lines(date(2022, 3, 1), area="barrow") >= 4
    assert store.date_span()[1] == date(2026, 11, 21)
    # accounts, sessions and the partner-safe figures work on it too
    policy = AuthPolicy.from_settings(settings, bcrypt_rounds=4)
    sync_demo_accounts(settings, store, policy=policy)
    session = login(store, "demo-housing", "housing-demo-1clic", policy=policy)
    table = partner_area_table(
        store, session, settings=settings, layers=["visits"], areas=["barrow"], today=TODAY
    )
    assert set(table.frame["status"]) <= {"shown", "fewer_than", "withheld"}
    assert len(table.frame) > 12
    store.close()
