"""The store on PostgreSQL + PostGIS: the same callers, a different URL (no code changes).

Runs on a throwaway cluster (:mod:`tests.pg`); ``scripts/setup.sh --test`` installs
Debian's PostgreSQL and PostGIS if the machine has none.
"""

from __future__ import annotations

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
