"""The store's publishing of imports and its spatial reads, on SQLite (fast tests).

The same reads on PostGIS: tests/test_postgis.py; imports under load:
tests/test_concurrent_import.py and tests/test_crash.py.
"""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from shapely.geometry import box

from clic_geo._errors import StoreError
from clic_geo.ingest.importer import import_file
from clic_geo.store import Store
from clic_geo.store import tables as T  # noqa: N812
from clic_geo.store.publishing import BATCH_ROWS


def _half_written(store: Store) -> int:
    """An import a crashed process left: status ``writing``, some rows and a reject."""
    with store.engine.begin() as conn:
        iid = conn.execute(
            sa.insert(T.imports).values(
                kind="incidents",
                file_name="crashed.csv",
                file_sha256="0" * 64,
                source="local",
                imported_at=datetime(2026, 11, 1),
                actor="cli",
                read=0,
                accepted=0,
                updated=0,
                rejected=0,
                duplicates=0,
                blank_rows=0,
                status="writing",
            )
        ).inserted_primary_key[0]
        conn.execute(
            sa.insert(T.incidents),
            [
                {
                    "id": f"local:Z{i}",
                    "source": "local",
                    "occurred_at": datetime(2026, 10, 1),
                    "month": "2026-10",
                    "time_precision": "day",
                    "category": "drugs",
                    "latitude": 54.115,
                    "longitude": -3.227,
                    "easting": 320000.0,
                    "northing": 470000.0,
                    "area_id": "barrow",
                    "import_id": iid,
                }
                for i in range(3)
            ],
        )
        conn.execute(
            sa.insert(T.rejects).values(
                import_id=iid, row=2, outcome="rejected", reason="x", raw="{}"
            )
        )
    return iid


def test_rows_of_an_unpublished_import_are_invisible_then_removed(settings, store, ctx, write):
    p = write("i.csv", "id,date,type,lat,lon\nA1,2026-10-05,drugs,54.115,-3.227\n")
    import_file(p, "incidents", settings=settings, store=store, context=ctx)
    before = store.counts()
    _half_written(store)
    # readers never see it: the frames, the counts, the spans, the import log, rejects
    assert store.counts() == before
    assert list(store.incidents()["source_id"]) == ["A1"]
    assert len(store.imports()) == 1 and store.rejects().empty
    assert store.date_span()[0].isoformat() == "2026-10-05"
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(T.incidents)).scalar() == 4
    # reopening (no import running) removes it
    store.close()
    again = Store.open(settings)
    with again.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(T.incidents)).scalar() == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(T.imports)).scalar() == 1
    assert again.counts() == before
    again.close()


def test_the_next_import_removes_a_crashed_one_first(settings, store, ctx, write):
    _half_written(store)
    with store.import_lock(wait=False) as got:
        assert got
        # while an import holds the lock, opening the store leaves its rows alone
        other = Store.open(settings)
        with other.engine.connect() as conn:
            n = conn.execute(sa.select(sa.func.count()).select_from(T.incidents)).scalar()
        assert n == 3
        with other.import_lock(wait=False) as got_too:
            assert not got_too
        other.close()
    p = write("i.csv", "id,date,type,lat,lon\nA1,2026-10-05,drugs,54.115,-3.227\n")
    r = import_file(p, "incidents", settings=settings, store=store, context=ctx)
    assert r.accepted == 1 and store.counts()["incidents"] == 1
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(T.incidents)).scalar() == 1


def test_a_large_import_is_written_in_batches_and_published_once(settings, store, ctx, tmp_path):
    n = 2 * BATCH_ROWS + 17
    p = tmp_path / "big.csv"
    p.write_text(
        "id,date,type,lat,lon\n"
        + "".join(f"B{i},2026-10-05,drugs,54.115,{-3.227 + i * 1e-6:.6f}\n" for i in range(n))
    )
    commits = []
    sa.event.listen(store.engine, "commit", lambda conn: commits.append(1))
    seen_before_publish = []

    def before_publish(import_id: int) -> None:
        seen_before_publish.append(len(store.incidents(columns=["id", "latitude", "longitude"])))

    r = import_file(
        p, "incidents", settings=settings, store=store, context=ctx, before_commit=before_publish
    )
    assert r.accepted == n
    assert seen_before_publish == [0]  # written, not yet visible
    assert len(store.incidents()) == n
    assert len(commits) >= 4  # the import row, three batches, the publishing


def test_records_within_an_outline(settings, store, ctx, write):
    p = write(
        "i.csv",
        "id,date,type,lat,lon\nIN,2026-10-05,drugs,54.115,-3.227\n"
        "OUT,2026-10-05,drugs,54.118,-3.227\nFAR,2026-10-05,drugs,54.5,-3.0\n",
    )
    import_file(p, "incidents", settings=settings, store=store, context=ctx)
    outline = box(-3.230, 54.113, -3.224, 54.117)  # WGS84 lon/lat
    got = store.incidents(within=outline, columns=["source_id", "latitude", "longitude"])
    assert list(got["source_id"]) == ["IN"]
    assert store.visits(within=outline).empty
    with pytest.raises(StoreError, match="PostGIS"):
        store.db_clusters(eps_m=100, min_points=3)
