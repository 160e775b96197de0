"""The PostGIS store: geometry columns, spatial indexes, queries in the database, and
``ST_ClusterDBSCAN`` against our DBSCAN on the same points.

Runs on a throwaway PostgreSQL + PostGIS cluster (:mod:`tests.pg`), on the real
data.police.uk months when they are here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from scipy.spatial import cKDTree

from clic_geo.geo.areas import load_areas
from clic_geo.hotspots.cluster import DBSCAN
from clic_geo.ingest.importer import import_file
from clic_geo.settings import load_settings
from clic_geo.store import SCHEMA_VERSION, Store
from clic_geo.store.base import REVISIONS
from tests.conftest import police_files
from tests.pg import new_database

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_stores(pg_cluster: str, tmp_path_factory) -> Iterator[tuple[Store, Store]]:
    """The last three real months imported into a SQLite store and a PostGIS store."""
    files = police_files()[-3:]
    tmp = tmp_path_factory.mktemp("real")
    out = []
    for name, url in (("sqlite", None), ("postgis", new_database(pg_cluster))):
        settings = load_settings(tmp / name, **({"database_url": url} if url else {}))
        store = Store.open(settings)
        for f in files:
            import_file(f, "incidents", settings=settings, store=store, police_uk=True)
        out.append(store)
    yield out[0], out[1]
    for s in out:
        s.close()


def test_postgis_schema_geometry_and_spatial_indexes(pg_url: str) -> None:
    store = Store(pg_url, "/nonexistent")
    assert store.postgis and store.schema_version() == SCHEMA_VERSION
    with store.engine.connect() as conn:
        cols = conn.execute(
            sa.text(
                "SELECT f_table_name, type, srid FROM geometry_columns "
                "WHERE f_geometry_column = 'geom' ORDER BY 1"
            )
        ).all()
        gist = conn.execute(
            sa.text("SELECT indexname FROM pg_indexes WHERE indexdef ILIKE '%USING gist%'")
        ).scalars()
        assert set(gist) >= {"ix_incidents_geom", "ix_addresses_geom", "ix_visits_geom"}
    assert [tuple(c) for c in cols] == [
        ("addresses", "POINT", 27700),
        ("incidents", "POINT", 27700),
        ("visits", "POINT", 27700),
    ]
    store.close()


def test_a_postgresql_store_made_before_alembic_upgrades(
    pg_url: str, tmp_path: Path, write
) -> None:
    """A PostgreSQL store at schema version 2 (no alembic_version) gains its geometry."""
    settings = load_settings(tmp_path / "pg", database_url=pg_url)
    store = Store.open(settings)
    f = write("i.csv", "id,date,type,lat,lon\nP1,2026-10-05,drugs,54.115,-3.227\n")
    import_file(f, "incidents", settings=settings, store=store)
    with store.engine.begin() as conn:  # back to what the code before Alembic left
        for ix in ("ix_visits_import_id", "ix_incidents_import_id", "ix_imports_status"):
            conn.execute(sa.text(f"DROP INDEX {ix}"))
        conn.execute(sa.text("ALTER TABLE imports DROP COLUMN status"))
        for t in ("incidents", "addresses", "visits"):
            conn.execute(sa.text(f"ALTER TABLE {t} DROP COLUMN geom"))
        for t in ("derived_results", "base_layers", "plans"):  # revisions 0005-0007
            conn.execute(sa.text(f"DROP TABLE {t}"))
        conn.execute(sa.text("DROP TABLE alembic_version"))
        conn.execute(sa.text("UPDATE meta SET value = '2' WHERE key = 'schema_version'"))
    store.close()
    store = Store.open(settings)
    assert store.schema_version() == SCHEMA_VERSION
    with store.engine.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            == (REVISIONS[-1])
        )
        e, n, x, y = conn.execute(
            sa.text("SELECT easting, northing, ST_X(geom), ST_Y(geom) FROM incidents")
        ).one()
    assert (e, n) == (x, y)
    assert store.counts()["incidents"] == 1
    store.close()


def test_area_and_period_queries_in_the_database_match_sqlite(real_stores, tmp_path) -> None:
    lite, pg = real_stores
    areas = load_areas(load_settings(tmp_path).areas_dir)
    start, end = pd.Timestamp(police_files()[-1].name[:7] + "-01"), None
    for area in areas.ids:
        outline = areas.get(area).geometry
        a = lite.incidents(within=outline, start=start, end=end)
        b = pg.incidents(within=outline, start=start, end=end)
        assert len(a) > 0 and sorted(a["id"]) == sorted(b["id"]), area
        # the outline, not the stored area_id: same answer when nothing was redrawn
        assert set(a["id"]) == set(lite.incidents(area=area, start=start)["id"]), area
    # the planner can use the spatial index (forced: on small tables it may prefer a scan)
    wkt = areas.get("barrow").geometry.wkt
    with pg.engine.connect() as conn:
        conn.execute(sa.text("SET enable_seqscan = off"))
        plan = "\n".join(
            conn.execute(
                sa.text(
                    "EXPLAIN SELECT id FROM incidents WHERE ST_Intersects(geom, "
                    "ST_Transform(ST_GeomFromText(:w, 4326), 27700))"
                ),
                {"w": wkt},
            ).scalars()
        )
    assert "ix_incidents_geom" in plan, plan


def _core(xy: np.ndarray, eps_m: float, min_points: int) -> np.ndarray:
    """Which rows are core points (``min_points`` rows within ``eps_m``, itself included)."""
    tree = cKDTree(xy)
    return np.array([len(n) for n in tree.query_ball_point(xy, eps_m)]) >= min_points


def test_st_clusterdbscan_and_our_dbscan_find_the_same_clusters(real_stores) -> None:
    """Same points (every incident, duplicates kept), same eps and minimum count.

    Our DBSCAN collapses the rows to distinct points weighted by how many incidents
    share them; PostGIS has no weights and clusters the rows themselves: a place with
    k incidents is k coincident points, which counts the same. Core points and noise
    must agree exactly and the clusters of core points must be the same partition.
    Border points (within eps of cores of two clusters) may differ: ours joins the
    nearest core's cluster, PostGIS the first cluster that reaches it.
    """
    _lite, pg = real_stores
    for eps_m, min_points in ((150.0, 8), (100.0, 5)):
        db = pg.db_clusters(eps_m=eps_m, min_points=min_points)
        xy = db[["easting", "northing"]].to_numpy()
        ours = DBSCAN(eps_m=eps_m, min_samples=min_points).fit(xy).labels_
        theirs = db["cluster"].to_numpy()
        assert len(db) > 5000 and ours.max() > 10
        core = _core(xy, eps_m, min_points)
        assert np.array_equal(ours == -1, theirs == -1), "the same noise"
        pairs = set(zip(ours[core], theirs[core], strict=True))
        assert len(pairs) == len(set(ours[core])) == len(set(theirs[core])), "one-to-one"
        # every border point went to a cluster it touches, in both
        mapping = dict(pairs)
        border = np.flatnonzero(~core & (ours >= 0))
        differ = sum(mapping[ours[i]] != theirs[i] for i in border)
        print(
            f"eps {eps_m} m, min {min_points}: {len(db)} rows, {ours.max() + 1} clusters, "
            f"{int(core.sum())} core rows identical, {len(border)} border rows of which "
            f"{differ} in another (touching) cluster"
        )
        tree = cKDTree(xy[core])
        core_idx = np.flatnonzero(core)
        for i in border:
            near = core_idx[tree.query_ball_point(xy[i], eps_m)]
            assert theirs[i] in {mapping[c] for c in ours[near]}
