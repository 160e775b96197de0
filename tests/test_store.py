"""The store: migrations, reads, and refusal of a newer schema."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from clic_geo._errors import StoreError
from clic_geo.store import SCHEMA_VERSION, Store


def test_migrate_is_idempotent(settings) -> None:
    s = Store.open(settings)
    assert s.schema_version() == SCHEMA_VERSION
    assert s.migrate() == SCHEMA_VERSION
    s.close()
    s2 = Store.open(settings)
    assert s2.schema_version() == SCHEMA_VERSION and s2.is_empty()
    s2.close()


def test_newer_store_is_refused(settings) -> None:
    s = Store.open(settings)
    s.set_meta("schema_version", str(SCHEMA_VERSION + 1))
    s.close()
    with pytest.raises(StoreError, match="newer than this clic-geo understands"):
        Store.open(settings)


def test_bad_url() -> None:
    with pytest.raises(StoreError, match="cannot open store"):
        Store("notadb://x", "/tmp")


def test_sqlite_runs_in_wal_mode(store) -> None:
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1


def test_meta(store) -> None:
    assert store.get_meta("x") is None
    store.set_meta("x", "1")
    store.set_meta("x", "2")
    assert store.get_meta("x") == "2"


def test_data_version_changes_only_when_records_change(settings, store, ctx, write) -> None:
    from clic_geo.ingest.importer import import_file

    assert store.data_version() == 0
    p = write("i.csv", "id,date,type,lat,lon\n1,2024-03-05,drugs,54.115,-3.227\n")
    import_file(p, "incidents", settings=settings, store=store, context=ctx)
    assert store.data_version() == 1
    import_file(p, "incidents", settings=settings, store=store, context=ctx)  # all duplicates
    assert store.data_version() == 1


def test_date_and_month_span(settings, store, ctx, write) -> None:
    from datetime import date

    from clic_geo.ingest.importer import import_file

    assert store.date_span() is None and store.month_span() is None
    p = write(
        "i.csv",
        "id,date,type,lat,lon\n1,2024-03-05 10:00,drugs,54.115,-3.227\n"
        "2,2024-05-20,drugs,54.115,-3.227\n",
    )
    import_file(p, "incidents", settings=settings, store=store, context=ctx)
    assert store.date_span() == (date(2024, 3, 5), date(2024, 5, 20))
    assert store.month_span() == ("2024-03", "2024-05")
