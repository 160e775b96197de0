"""Property tests: whatever a file holds, no row is ever lost or double counted."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clic_geo.ingest.importer import import_file, validation_context
from clic_geo.settings import load_settings
from clic_geo.store import Store

DATES = st.sampled_from(
    [
        "2024-03-05",
        "05/03/2024",
        "2024-03",
        "45356",
        "",
        "31/02/2024",
        "2030-01-01",
        "soon",
        "03/25/2024",
        "2024-03-05T10:00Z",
    ]
)
TYPES = st.sampled_from(["drugs", "Drug supply", "ASB", "", "weapons", "teleportation", "TTL"])
LATS = st.sampled_from(["54.115", "54,116", "-3.227", "", "0", "51.5", "north", "54.12N"])
LONS = st.sampled_from(["-3.227", "-3,228", "54.115", "", "0", "3.227", "-0.12", "3.2W"])
TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=20)
ROW = st.tuples(st.sampled_from(["", "1", "2", "3", "x"]), DATES, TYPES, LATS, LONS, TEXT)


def _csv(rows: list[tuple], delimiter: str) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    w.writerow(["id", "date", "type", "lat", "lon", "notes"])
    w.writerows(rows)
    return buf.getvalue()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(ROW, max_size=25), delimiter=st.sampled_from([",", ";"]))
def test_every_row_is_accounted_for(tmp_path_factory, rows, delimiter) -> None:
    tmp = tmp_path_factory.mktemp("p")
    s = load_settings(tmp / "store")
    store = Store.open(s)
    try:
        ctx = validation_context(s, now=datetime(2026, 11, 22))
        text = _csv(rows, delimiter)
        p = Path(tmp / "f.csv")
        p.write_text(text, encoding="utf-8")
        nonblank = [r for r in rows if any(str(v).strip() for v in r)]
        r = import_file(p, "incidents", settings=s, store=store, context=ctx)
        assert r.read == r.accepted + r.rejected + r.duplicates
        assert r.read + r.blank_rows >= len(nonblank)
        assert store.counts()["incidents"] == r.accepted
        assert store.counts()["rejects"] == r.rejected + r.duplicates
        again = import_file(p, "incidents", settings=s, store=store, context=ctx)
        assert again.accepted == 0
        assert again.duplicates == r.accepted + r.duplicates
        assert again.rejected == r.rejected
        assert store.counts()["incidents"] == r.accepted
    finally:
        store.close()
