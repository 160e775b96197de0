"""The store's reads on every shape of store: no table may be assumed filled."""

from __future__ import annotations

from datetime import date

import pandas as pd

from clic_geo.ingest.importer import import_file

ADDR = "id,address,latitude,longitude,safe alert\nA1,1 Example Row,54.115,-3.227,yes\n"


def test_addresses_without_any_status_history(write, settings, store, ctx) -> None:
    """An address imported with no cuckooing status has no status history at all: the
    read used to fail (``Cannot cast DatetimeArray to dtype float64``)."""
    r = import_file(write("a.csv", ADDR), "addresses", settings=settings, store=store, context=ctx)
    assert r.accepted == 1
    assert store.address_status_history().empty
    for as_of in (None, date(2026, 11, 1)):
        a = store.addresses(as_of=as_of)
        assert len(a) == 1
        row = a.iloc[0]
        assert row["cuckooing_status"] == "none"
        assert pd.isna(row["status_since"])
        assert pd.api.types.is_datetime64_any_dtype(a["status_since"])


def test_reads_of_an_empty_store(store) -> None:
    assert store.addresses().empty
    assert store.addresses(as_of=date(2026, 1, 1)).empty
    assert store.visits().empty
    assert store.incidents().empty
    assert store.county_lines().empty
    assert store.active_lines(date(2026, 1, 1)) == 0
    assert store.month_span() is None and store.date_span() is None
