"""Partner grids hold only the squares of the area's outline (issue 14, finding 3).

A partner's 250 m grid once listed every square holding one of the area's events,
from any year: after an outline was redrawn (without ``clic-geo areas reassign``)
a partner saw squares wholly outside the area, each holding one or two incidents.
Here Barrow's outline is redrawn 400 m smaller on the demo store, and every grid a
partner can ask for is checked square by square against the new outline, scanned
with the leak scanner, and attacked for the events left outside.
"""

from __future__ import annotations

import json
import shutil
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import mapping, shape

from clic_geo.access import privacy
from clic_geo.access.auth import AuthPolicy, login
from clic_geo.access.isa import LAYER_CATEGORIES, Layer
from clic_geo.access.suppression import Line, Status
from clic_geo.demo.accounts import DEMO_ACCOUNTS, sync_demo_accounts
from clic_geo.demo.seeding import seed_demo
from clic_geo.geo.crs import BNG, WGS84, to_bng
from clic_geo.settings import load_settings
from clic_geo.store import Store
from tests.attacks import assert_safe
from tests.leaks import result_text, scan, store_secrets

TODAY = date(2026, 11, 22)
PW = {a.username: a.password for a in DEMO_ACCOUNTS}
LAYER = "incidents_drugs"
QUARTERS = [f"{y}-Q{q}" for y in (2025, 2026) for q in (1, 2, 3, 4)][:-1]  # to 2026-Q3


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    """The demo store, its settings, and the same settings with Barrow redrawn smaller."""
    d = tmp_path_factory.mktemp("grid_scope")
    settings = load_settings(d, demo=True, extra={"privacy": {"round_to": 1}})
    store = Store.open(settings)
    seed_demo(settings, store, today=TODAY)
    policy = AuthPolicy(bcrypt_rounds=4, demo=True)
    sync_demo_accounts(settings, store, policy=policy)
    moved_dir = d / "boundaries"
    shutil.copytree(settings.areas_dir, moved_dir)
    f = moved_dir / "areas" / "barrow.geojson"
    feat = json.loads(f.read_text(encoding="utf-8"))
    bng = gpd.GeoSeries([shape(feat["geometry"])], crs=WGS84).to_crs(BNG)
    feat["geometry"] = mapping(bng.buffer(-400).to_crs(WGS84).iloc[0])
    f.write_text(json.dumps(feat), encoding="utf-8")
    session = login(store, "demo-housing", PW["demo-housing"], policy=policy)
    yield settings, settings.with_(areas_dir=moved_dir), store, session
    store.close()


def _outline_squares(settings) -> set[tuple[int, int]]:
    """The squares Barrow's outline touches, worked out here independently."""
    feat = json.loads((settings.areas_dir / "areas" / "barrow.geojson").read_text("utf-8"))
    geom = gpd.GeoSeries([shape(feat["geometry"])], crs=WGS84).to_crs(BNG).iloc[0]
    minx, miny, maxx, maxy = (int(v // 250) for v in geom.bounds)
    return {
        (x, y)
        for x in range(minx, maxx + 1)
        for y in range(miny, maxy + 1)
        if geom.intersects(shapely.box(x * 250, y * 250, x * 250 + 250, y * 250 + 250))
    }


def _key(poly) -> tuple[int, int]:
    lon, lat = np.array(poly.exterior.coords).T
    e, n = to_bng(lon, lat)
    return round(e.min() / 250), round(n.min() / 250)


def _events(store: Store) -> pd.DataFrame:
    inc = store.incidents()
    cats = [str(c) for c in LAYER_CATEGORIES[Layer.INCIDENTS_DRUGS]]
    inc = inc[(inc["area_id"] == "barrow") & inc["category"].isin(cats)]
    return inc.assign(
        q=[f"{t.year}-Q{t.quarter}" for t in pd.to_datetime(inc["occurred_at"])],
        key=list(zip(inc["easting"] // 250, inc["northing"] // 250, strict=True)),
    )


def test_grid_squares_are_the_outline_only_after_a_redraw(world) -> None:
    _, moved, store, session = world
    inside = _outline_squares(moved)
    ev = _events(store)
    outside_ev = ev[np.array([k not in inside for k in ev["key"]]) & ev["q"].isin(QUARTERS)]
    # the redraw leaves events outside, in squares wholly outside the new outline
    assert len(outside_ev) >= 10, "the test must be able to fail"
    secrets = store_secrets(store)
    for quarter in QUARTERS:
        g = privacy.partner_grid(
            store, session, LAYER, quarter, settings=moved, areas=["barrow"], today=TODAY
        )
        keys = {_key(p) for p in g.cells.geometry}
        assert keys == inside, f"{quarter}: squares outside the outline, or missing"
        payload = g.to_geojson() + result_text(g)
        assert scan(payload, secrets) == [], quarter


def test_events_outside_still_count_and_cannot_be_worked_out(world) -> None:
    settings, moved, store, session = world
    t = settings.suppression_threshold
    kw = {"layers": [LAYER], "areas": ["barrow"], "years": [2025, 2026], "today": TODAY}
    before = privacy.partner_area_table(store, session, settings=settings, **kw).frame
    after = privacy.partner_area_table(store, session, settings=moved, **kw).frame
    cols = ["period", "count", "status"]
    pd.testing.assert_frame_equal(before[cols], after[cols])  # the area's totals stand
    inside = _outline_squares(moved)
    ev = _events(store)
    totals = after.set_index("period")
    attacked = 0
    for quarter in QUARTERS:
        g = privacy.partner_grid(
            store, session, LAYER, quarter, settings=moved, areas=["barrow"], today=TODAY
        ).cells
        evq = ev[ev["q"] == quarter]
        counts = pd.Series(evq["key"]).value_counts()
        values = [int((evq["q"] == quarter).sum())]
        status = [Status(totals.loc[quarter, "status"])]
        for r in g.itertuples():
            values.append(int(counts.get(_key(r.geometry), 0)))
            status.append(Status(r.status))
        out = sum(1 for k in evq["key"] if k not in inside)
        # never published: at best an attacker knows on which side of the threshold it is
        values.append(out)
        status.append(Status.FEWER_THAN if out < t else Status.WITHHELD)
        assert sum(values[1:]) == values[0]
        p = type("P", (), {"status": np.array(status, dtype=object)})
        assert_safe(np.array(values), p, [Line(0, tuple(range(1, len(values))))], nonzero_only=True)
        attacked += out > 0
    assert attacked >= 3
