"""Walks that respect the ground: round water, over bridges, along the streets when known."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from clic_geo.geo import basemap as bm
from clic_geo.geo import crs as geo
from clic_geo.geo.network import WalkNetwork, route_path
from clic_geo.geo.water import WaterAwareLine

BARROW = (-3.2715, 54.092, -3.17, 54.164)
#: Barrow's town centre, North Walney, and Hindpool (mainland, across the channel).
TOWN = (54.1140, -3.2268)
NORTH_WALNEY = (54.1240, -3.2640)
HINDPOOL = (54.1240, -3.2380)


@pytest.fixture(scope="module")
def barrow() -> WaterAwareLine:
    layer = bm.read_builtin()
    return WaterAwareLine(
        layer[layer["kind"] == "water"], layer[layer["kind"] == "roads"], bounds=BARROW
    )


def _bng(*latlon: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    lat, lon = np.array(latlon, dtype=float).T
    return geo.to_bng(lon, lat)


def _length_m(path: list[tuple[float, float]]) -> float:
    e, n = _bng(*path)
    return float(np.hypot(np.diff(e), np.diff(n)).sum())


def _wet(model: WaterAwareLine) -> shapely.Geometry:
    return model.water.buffer(-5.0)  # a line may touch a bank, not cross the water


def test_a_walk_to_walney_goes_over_the_jubilee_bridge(barrow: WaterAwareLine) -> None:
    e, n = _bng(HINDPOOL, NORTH_WALNEY)
    crow = float(np.hypot(e[1] - e[0], n[1] - n[0]))
    m, notes = barrow.matrix_m(e, n)
    assert barrow.n_bridges >= 1
    assert m[0, 1] == m[1, 0]
    assert m[0, 1] > 1.3 * crow * 1.5  # far more than the straight-line estimate
    assert notes and "over a bridge" in notes[0]
    path = route_path(barrow, [HINDPOOL, NORTH_WALNEY])
    assert path[0] == HINDPOOL and path[-1] == NORTH_WALNEY
    # it passes the bridge (Jubilee Bridge is at 54.1076, -3.2437)
    be, bn = _bng((54.1076, -3.2437))
    pe, pn = _bng(*path)
    assert float(np.min(np.hypot(pe - be[0], pn - bn[0]))) < 250
    # and the drawn line crosses water only on a road (the bridge)
    line = shapely.LineString(np.c_[pe, pn])
    roads = bm.read_builtin().query("kind == 'roads'").clip(shapely.box(*BARROW))
    roads = roads.to_crs(geo.BNG).union_all()
    wet = line.intersection(_wet(barrow))
    assert wet.length > 100  # the Walney Channel, on the bridge
    assert wet.difference(roads.buffer(10)).length < 1
    assert m[0, 1] == pytest.approx(1.3 * _length_m(path), rel=0.03)  # the bridge: x 1
    # the same leg as the crow flies would cross the Walney Channel
    assert shapely.LineString(np.c_[e, n]).intersects(_wet(barrow))


def test_a_walk_on_dry_land_is_the_plain_estimate(barrow: WaterAwareLine) -> None:
    e, n = _bng(TOWN, (54.1200, -3.2200))
    m, notes = barrow.matrix_m(e, n)
    assert m[0, 1] == pytest.approx(1.3 * np.hypot(e[1] - e[0], n[1] - n[0]))
    assert notes == ()
    assert route_path(barrow, [TOWN, (54.12, -3.22)]) == [TOWN, (54.12, -3.22)]
    assert "bridge" in barrow.describe()


def test_an_island_with_no_bridge_keeps_the_straight_line_and_says_so() -> None:
    # a lake with an island in it and no road: the island cannot be reached round the water
    e0, n0 = 320_000.0, 469_000.0
    lake = shapely.box(e0, n0, e0 + 1000, n0 + 1000).difference(
        shapely.box(e0 + 400, n0 + 400, e0 + 600, n0 + 600)
    )
    water = gpd.GeoDataFrame(geometry=[lake], crs=geo.BNG)
    model = WaterAwareLine(water, None)
    e = np.array([e0 - 300, e0 + 500, e0 + 1300])
    n = np.array([n0 + 500, n0 + 500, n0 + 500])
    m, notes = model.matrix_m(e, n)
    assert m[0, 1] == pytest.approx(1.3 * 800)  # to the island: straight, flagged
    assert any("no bridge" in x for x in notes)
    # a point in the water (on a quay) is walked from the nearest bank
    q = np.array([e0 - 300, e0 + 150]), np.array([n0 + 500, n0 + 500])
    mq, _ = model.matrix_m(*q)
    assert mq[0, 1] == pytest.approx(1.3 * 450)
    mq, notes = model.matrix_m(np.array([e0 + 1300, e0 + 150]), np.array([n0 + 500, n0 + 500]))
    assert mq[0, 1] > 1.3 * 1300 + 150  # round the lake to its west bank, then out to the quay
    assert not any("no bridge" in x for x in notes)
    # round the lake from west to east: longer than across, and stays dry
    assert m[0, 2] > 1.3 * 1600
    path = model.leg_path((e[0], n[0]), (e[2], n[2]))
    assert len(path) > 2
    assert not shapely.LineString(path).intersects(lake.buffer(-5))
    assert model.n_bridges == 0 and "0 bridges" in model.describe()


def test_a_bridge_over_a_river_is_used_and_walked_as_drawn() -> None:
    e0, n0 = 320_000.0, 469_000.0
    river = shapely.box(e0 - 5000, n0, e0 + 5000, n0 + 100)  # 100 m wide, 10 km long
    bridge = shapely.LineString([(e0 + 1000, n0 - 50), (e0 + 1000, n0 + 150)])
    model = WaterAwareLine(
        gpd.GeoDataFrame(geometry=[river], crs=geo.BNG),
        gpd.GeoDataFrame(geometry=[bridge], crs=geo.BNG),
    )
    assert model.n_bridges == 1
    e, n = np.array([e0, e0]), np.array([n0 - 100, n0 + 200])
    m, _ = model.matrix_m(e, n)
    # over the bridge 1 km east: about 1.3 * (1005 + 1010) + 100 on the bridge
    assert m[0, 1] == pytest.approx(1.3 * (np.hypot(1000, 100) * 2) + 100, rel=0.02)
    path = model.leg_path((e[0], n[0]), (e[1], n[1]))
    xs = [p[0] for p in path]
    assert max(xs) == pytest.approx(e0 + 1000, abs=1)


def test_on_a_street_network_the_leg_follows_the_streets() -> None:
    # an L of streets: A (0,0) -> (500,0) -> (500,500) = B; the straight line cuts across
    e0, n0 = 320_000.0, 469_000.0
    net = WalkNetwork.from_edges(
        [np.array([e0, e0 + 250, e0 + 500, e0 + 500])],
        [np.array([n0, n0, n0, n0 + 500])],
        source="test",
    )
    path = net.leg_path((e0, n0 - 5), (e0 + 500, n0 + 500))
    assert path[0] == (e0, n0 - 5) and path[-1] == (e0 + 500, n0 + 500)
    assert (e0 + 500, n0) in path  # the corner
    lon, lat = geo.to_wgs84(np.array([e0, e0 + 500]), np.array([n0, n0 + 500]))
    drawn = route_path(net, [(lat[0], lon[0]), (lat[1], lon[1])])
    assert len(drawn) >= 4
    assert _length_m(drawn) == pytest.approx(1000, abs=2)
    m, _ = net.matrix_m(np.array([e0, e0 + 500]), np.array([n0, n0 + 500]))
    assert m[0, 1] == pytest.approx(1000, abs=1)
