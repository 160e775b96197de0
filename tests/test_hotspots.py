"""The hotspot engine: planted clusters, polygons, statistics, CRS, layers, area settings."""

from __future__ import annotations

import json
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from clic_geo._errors import ConfigError, CRSError
from clic_geo.geo.areas import load_areas
from clic_geo.geo.crs import BNG, WGS84, to_wgs84
from clic_geo.hotspots.engine import (
    HOTSPOT_COLUMNS,
    HotspotFinder,
    area_hotspot_params,
    find_hotspots,
)
from clic_geo.hotspots.layers import build_layer, points_bng
from clic_geo.schema import Col, Trend
from clic_geo.settings import REPO_ROOT


def _points(xy, crs=BNG, **cols):
    return gpd.GeoDataFrame(cols, geometry=gpd.points_from_xy(*np.asarray(xy).T), crs=crs)


def generate_demo():
    """The demo world."""
    from clic_geo.demo.world import generate

    return generate(today=date(2025, 6, 15))


@pytest.fixture(scope="module")
def demo():
    return generate_demo()


@pytest.fixture(scope="module")
def demo_layer(demo):
    inc = demo.incidents
    areas = load_areas(REPO_ROOT / "boundaries")
    when = pd.to_datetime(inc["date"])
    df = pd.DataFrame(
        {
            Col.CATEGORY: "drugs",
            Col.WHEN: when,
            Col.MONTH: when.dt.strftime("%Y-%m"),
            Col.AREA: areas.assign(inc["longitude"].to_numpy(), inc["latitude"].to_numpy()),
            "planted": inc["planted_hotspot"],
        }
    )
    gdf = gpd.GeoDataFrame(
        df, geometry=gpd.points_from_xy(inc["longitude"], inc["latitude"]), crs=WGS84
    )
    last3 = list(demo.months[-4:-1])  # the last three complete months (the last is partial)
    return gdf[gdf[Col.MONTH].isin(last3)].reset_index(drop=True), last3


def test_planted_cluster_of_twelve_is_one_hotspot_with_statistics():
    rng = np.random.default_rng(5)
    xy = np.vstack([rng.normal([330_000, 470_000], 30, (12, 2)), [[340_000, 480_000]]])
    cats = ["drugs"] * 8 + ["weapons"] * 4 + ["drugs"]
    months = ["2024-01"] * 4 + ["2024-02"] * 4 + ["2024-03"] * 4 + ["2024-03"]
    hs = find_hotspots(_points(xy, category=cats, month=months), eps_m=100, min_samples=5)
    assert len(hs) == 1
    h = hs.iloc[0]
    assert list(hs.columns[: len(HOTSPOT_COLUMNS)]) == HOTSPOT_COLUMNS
    assert hs.crs == WGS84
    assert h["rank"] == 1
    assert hs["rank"].dtype == np.int64
    assert (h["n_incidents"], h["n_drugs"], h["n_weapons"], h["n_locations"]) == (12, 8, 4, 12)
    assert (h["first_seen"], h["last_seen"], h["history"]) == ("2024-01", "2024-03", "4,4,4")
    assert h["kind"] == "cluster"
    assert h["p_value"] <= 0.05
    assert h["significant"]
    poly = gpd.GeoSeries([h.geometry], crs=WGS84).to_crs(BNG).iloc[0]
    assert shapely.contains_xy(poly, xy[:12, 0], xy[:12, 1]).all()
    assert abs(poly.area / 1e6 - h["area_km2"]) < 1e-9


def test_frontages_split_a_cluster_into_the_groups_whose_discs_touch():
    # one DBSCAN cluster at 300 m: a busy frontage of 30 crimes and, 200 m along the
    # street, a quieter one of 10; split, each is a hotspot with its own facts
    rng = np.random.default_rng(1)
    busy = rng.normal([330_000, 470_000], 5, (30, 2))
    quiet = rng.normal([330_200, 470_000], 5, (10, 2))
    xy = np.vstack([busy, quiet])
    months = ["2024-01", "2024-02"] * 15 + ["2024-02"] * 10
    pts = _points(xy, month=months)
    kw = {"eps_m": 300, "min_samples": 3, "concave_ratio": None, "n_simulations": 0}
    whole = HotspotFinder(**kw).fit(pts)
    assert len(whole.hotspots_) == 1
    split = HotspotFinder(**kw, frontages=True).fit(pts)
    hs = split.hotspots_
    assert list(hs["n_incidents"]) == [30, 10]
    assert list(hs["history"]) == ["15,15", "0,10"]
    assert (hs["kind"] == "cluster").all()
    # every point labelled with its own frontage, and each outline holds its points only
    assert list(split.labels_) == ["HS0001"] * 30 + ["HS0002"] * 10
    polys = gpd.GeoSeries(hs.geometry, crs=WGS84).to_crs(BNG)
    assert shapely.contains_xy(polys.iloc[0], busy[:, 0], busy[:, 1]).all()
    assert not shapely.contains_xy(polys.iloc[0], quiet[:, 0], quiet[:, 1]).any()
    assert abs(polys.area.sum() / 1e6 - hs["area_km2"].sum()) < 1e-9


def test_units_closer_than_their_discs_get_outlines_that_do_not_overlap():
    # three snap points 30 m apart on one street, a fourth point alone 40 m off its
    # end: at a 12.5 m step every point is a unit of its own, and their 25 m discs
    # overlap; each outline must hold its own crimes and none of a neighbour's
    spots = np.array([[330_000, 470_000], [330_030, 470_000], [330_060, 470_000]], float)
    lone = np.array([[330_100, 470_000]], float)
    xy = np.vstack([np.repeat(spots, [8, 3, 5], axis=0), np.repeat(lone, 1, axis=0)])
    kw = {"eps_m": 35, "min_samples": 3, "concave_ratio": None, "n_simulations": 0}
    finder = HotspotFinder(
        **kw, frontages=True, frontage_reach_m=12.5, include_isolated=True, patrol_km2=0.005
    )
    hs = finder.fit(_points(xy)).hotspots_
    assert sorted(hs["n_incidents"]) == [1, 3, 5, 8]
    assert list(hs.sort_values("n_incidents")["kind"]) == ["isolated"] + ["cluster"] * 3
    polys = gpd.GeoSeries(hs.geometry.values, crs=WGS84).to_crs(BNG).to_numpy()
    for i in range(len(polys)):
        assert polys[i].is_valid
        inside = shapely.contains_xy(polys[i], xy[:, 0], xy[:, 1])
        assert inside.sum() == hs["n_incidents"].iloc[i]
        for j in range(i + 1, len(polys)):
            assert shapely.intersection(polys[i], polys[j]).area < 1e-6
    # nothing lost where no neighbour is nearer: the street's outer end is a full disc
    assert shapely.Point(330_000 - 24, 470_000).within(shapely.union_all(polys))
    assert abs(shapely.area(polys).sum() / 1e6 - hs["area_km2"].sum()) < 1e-9


@pytest.mark.parametrize("n_distinct", [1, 2], ids=["one-point", "two-points"])
def test_one_or_two_distinct_points_still_get_an_area(n_distinct):
    xy = np.repeat([[330_000.0, 470_000.0], [330_060.0, 470_000.0]][:n_distinct], 6, axis=0)
    hs = find_hotspots(_points(xy), eps_m=100, min_samples=5, buffer_m=25, n_simulations=0)
    assert len(hs) == 1
    g = hs.iloc[0].geometry
    assert not g.is_empty
    assert g.is_valid
    assert hs.iloc[0]["area_km2"] >= np.pi * 25**2 / 1e6 * 0.95


def test_every_planted_demo_hotspot_with_activity_is_found(demo, demo_layer):
    layer, last3 = demo_layer
    hs = find_hotspots(layer, min_samples=5, n_simulations=19)
    hb = hs.to_crs(BNG)
    truth = demo.truth[demo.truth["month"].isin(last3)]
    active = truth.groupby("hotspot_id").agg(
        count=("count", "sum"), e=("easting", "last"), n=("northing", "last")
    )
    active = active[active["count"] >= 15]
    assert len(active) >= 12  # enough planted hotspots to make the check meaningful
    for hid, r in active.iterrows():
        d = hb.distance(shapely.Point(r["e"], r["n"])).min()
        assert d <= 50, f"planted hotspot {hid} ({r['count']} incidents) not found"


def test_uniform_noise_gives_few_phantom_hotspots():
    # 30 layers of 300 incidents spread uniformly over 10 x 10 km: the Monte Carlo test
    # flags a hotspot as significant in at most 5 % of layers (the family-wise rate)
    flagged = 0
    for seed in range(30):
        rng = np.random.default_rng(seed)
        xy = np.round(rng.uniform([320_000, 460_000], [330_000, 470_000], (300, 2)) / 50) * 50
        hs = find_hotspots(_points(xy), eps_m=150, min_samples=5, n_simulations=39, random_state=1)
        flagged += bool(hs["significant"].any()) if len(hs) else 0
    assert flagged <= 3


def test_hotspots_are_ranked_by_score_per_area():
    rng = np.random.default_rng(2)
    big = rng.normal([330_000, 470_000], 40, (40, 2))
    small = rng.normal([335_000, 470_000], 40, (10, 2))
    hs = find_hotspots(_points(np.vstack([big, small])), eps_m=100, min_samples=5)
    assert hs["rank"].tolist() == [1, 2]
    assert hs["priority"].is_monotonic_decreasing
    assert hs.iloc[0]["n_incidents"] == 40
    assert hs["hotspot_id"].tolist() == ["HS0001", "HS0002"]


def test_input_is_not_mutated_and_labels_point_to_hotspots():
    rng = np.random.default_rng(1)
    pts = _points(rng.normal([330_000, 470_000], 30, (12, 2)))
    before = pts.copy()
    est = HotspotFinder(eps_m=100, min_samples=5, n_simulations=0).fit(pts)
    pd.testing.assert_frame_equal(pts, before)
    assert set(est.labels_) == {"HS0001"}


def test_recency_weighting_counts_older_months_less():
    xy = np.repeat([[330_000.0, 470_000.0]], 8, axis=0)
    months = ["2024-01"] * 4 + ["2024-03"] * 4
    hs = find_hotspots(_points(xy, month=months), eps_m=100, half_life_months=2, n_simulations=0)
    assert hs.iloc[0]["score"] == pytest.approx(4 + 4 * 0.5)


def test_isolated_locations_are_optional_and_ranked_last():
    rng = np.random.default_rng(3)
    xy = np.vstack([rng.normal([330_000, 470_000], 30, (12, 2)), [[336_000, 470_000]]])
    assert len(find_hotspots(_points(xy), eps_m=100, n_simulations=0)) == 1
    hs = find_hotspots(_points(xy), eps_m=100, n_simulations=0, include_isolated=True)
    assert hs["kind"].tolist() == ["cluster", "isolated"]


@pytest.mark.parametrize("method", ["dbscan", "st-dbscan", "hdbscan"])
def test_every_strategy_has_the_same_output_columns(method):
    rng = np.random.default_rng(4)
    xy = np.vstack(
        [rng.normal([330_000, 470_000], 30, (10, 2)), rng.normal([332_000, 470_000], 30, (10, 2))]
    )
    when = pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 8, 20), unit="D")
    hs = find_hotspots(
        _points(xy, occurred_at=when), method=method, eps_m=150, min_samples=5, n_simulations=9
    )
    assert len(hs) >= 1
    assert list(hs.columns[: len(HOTSPOT_COLUMNS)]) == HOTSPOT_COLUMNS
    assert set(hs["trend"]) <= {t.value for t in Trend}
    assert hs["n_incidents"].sum() <= 20


def test_knee_default_differs_between_dense_and_sparse_areas():
    rng = np.random.default_rng(6)
    dense = rng.normal([340_000, 555_000], 250, (400, 2))  # a city
    sparse = rng.normal([303_000, 536_000], 900, (120, 2))  # a small town
    xy = np.vstack([dense, sparse])
    area = ["carlisle"] * 400 + ["maryport"] * 120
    est = HotspotFinder(n_simulations=0).fit(_points(xy, area_id=area))
    p = est.params_
    assert p["carlisle"].source == "k-distance knee"
    assert p["carlisle"].eps_m < p["maryport"].eps_m


def test_area_file_settings_override_the_defaults(tmp_path):
    src = REPO_ROOT / "boundaries"
    (tmp_path / "areas").mkdir()
    for f in (src / "areas").glob("*.geojson"):
        feat = json.loads(f.read_text())
        if feat["properties"]["id"] == "barrow":
            feat["properties"]["hotspots"] = {"eps_m": 120, "min_samples": 4}
        (tmp_path / "areas" / f.name).write_text(json.dumps(feat))
    areas = load_areas(tmp_path)
    params = area_hotspot_params(areas)
    assert params == {"barrow": {"eps_m": 120.0, "min_samples": 4.0}}
    rng = np.random.default_rng(0)
    xy = rng.normal([319_500, 470_100], 60, (30, 2))
    est = HotspotFinder(eps_m=300, area_params=params, n_simulations=0).fit(
        _points(xy, area_id=["barrow"] * 30)
    )
    assert (est.params_["barrow"].eps_m, est.params_["barrow"].source) == (120.0, "area file")


def test_area_file_with_bad_hotspot_settings_is_rejected(tmp_path):
    (tmp_path / "areas").mkdir()
    feat = json.loads((REPO_ROOT / "boundaries" / "areas" / "barrow.geojson").read_text())
    feat["properties"]["hotspots"] = {"eps": 120, "min_samples": -1}
    (tmp_path / "areas" / "barrow.geojson").write_text(json.dumps(feat))
    with pytest.raises(ConfigError, match=r"unknown key 'eps'.*min_samples must be a positive"):
        load_areas(tmp_path)


# --------------------------------------------------------------------------- CRS


def test_crs_mismatch_raises_with_the_fix():
    metres_as_degrees = _points([[330_000, 470_000]] * 6, crs=WGS84)
    with pytest.raises(CRSError, match=r"set_crs\('EPSG:27700', allow_override=True\)"):
        find_hotspots(metres_as_degrees)
    degrees_as_metres = _points([[-3.2, 54.1]] * 6, crs=BNG)
    with pytest.raises(CRSError, match=r"set_crs\('EPSG:4326', allow_override=True\)"):
        find_hotspots(degrees_as_metres)
    no_crs = gpd.GeoDataFrame(geometry=gpd.points_from_xy([1.0], [2.0]))
    with pytest.raises(CRSError, match="have no CRS"):
        find_hotspots(no_crs)


def test_points_off_the_grid_raise():
    with pytest.raises(CRSError, match="outside the British National Grid"):
        points_bng(pd.DataFrame({Col.EASTING: [-5_000.0], Col.NORTHING: [100.0]}))


@pytest.mark.parametrize(
    ("e", "n"),
    [
        (1_000.0, 1_000.0),
        (699_000.0, 1_000.0),
        (1_000.0, 1_299_000.0),
        (465_000.0, 1_219_000.0),
        (330_000.0, 470_000.0),
    ],
    ids=["south-west", "south-east", "north-west", "shetland", "cumbria"],
)
def test_hotspots_near_the_edges_of_the_grid(e, n):
    # points given in WGS84 near the grid's corners: clustered in metres, drawn back in WGS84
    rng = np.random.default_rng(0)
    c_lon, c_lat = to_wgs84([e], [n])
    lon = c_lon[0] + rng.normal(0, 0.0005, 12)
    lat = c_lat[0] + rng.normal(0, 0.0003, 12)
    hs = find_hotspots(_points(np.column_stack([lon, lat]), crs=WGS84), eps_m=100, n_simulations=0)
    assert len(hs) == 1
    poly = hs.iloc[0].geometry  # WGS84
    assert shapely.contains_xy(poly, lon, lat).all()
    assert 0 < hs.iloc[0]["area_km2"] < 0.1


def test_other_projected_crs_is_reprojected():
    rng = np.random.default_rng(0)
    xy = rng.normal([330_000, 470_000], 30, (12, 2))
    pts = _points(xy).to_crs("EPSG:3857")
    hs = find_hotspots(pts, eps_m=100, n_simulations=0)
    assert len(hs) == 1
    assert hs.iloc[0]["n_locations"] == 12


# --------------------------------------------------------------------------- layers


def _frames():
    inc = pd.DataFrame(
        {
            Col.EASTING: [330_000.0, 330_010.0],
            Col.NORTHING: [470_000.0, 470_000.0],
            Col.CATEGORY: ["weapons", "anti_social_behaviour"],
            Col.WHEN: pd.to_datetime(["2024-01-05", "2024-02-05"]),
            Col.AREA: ["barrow", "barrow"],
        }
    )
    adr = pd.DataFrame(
        {
            Col.EASTING: [330_020.0, 330_030.0, 330_040.0],
            Col.NORTHING: [470_000.0] * 3,
            Col.STATUS: ["confirmed", "suspected", "resolved"],
            Col.STATUS_SINCE: pd.to_datetime(["2024-01-01"] * 3),
            Col.AREA: ["barrow"] * 3,
        }
    )
    vis = pd.DataFrame(
        {
            Col.EASTING: [330_000.0],
            Col.NORTHING: [470_000.0],
            "visited_at": pd.to_datetime(["2024-02-01"]),
            Col.AREA: ["barrow"],
        }
    )
    return inc, adr, vis


def test_problem_layer_weights_by_severity_and_keeps_only_cuckooed_addresses():
    inc, adr, vis = _frames()
    layer = build_layer("problem", incidents=inc, addresses=adr)
    assert layer[Col.WEIGHT].tolist() == [3.0, 0.5, 4.0, 2.0]
    assert layer.crs == WGS84
    assert build_layer("incidents", incidents=inc)[Col.WEIGHT].tolist() == [1.0, 1.0]
    assert len(build_layer("addresses", addresses=adr)) == 2
    v = build_layer("visits", visits=vis)
    assert v[Col.MONTH].tolist() == ["2024-02"]
    assert v[Col.CATEGORY].tolist() == ["visit"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "crimes"}, "unknown layer"),
        ({"kind": "problem"}, "needs the incidents frame"),
        ({"kind": "visits"}, "needs the visits frame"),
    ],
    ids=["unknown", "no-incidents", "no-visits"],
)
def test_layer_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        build_layer(**kwargs)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"eps_m": -5}, "eps_m must be a positive number of metres"),
        ({"buffer_m": 0}, "buffer_m must be a positive"),
        ({"concave_ratio": 2}, "concave_ratio must be between 0 and 1"),
        ({"method": "kmeans"}, "method must be"),
    ],
    ids=["eps", "buffer", "ratio", "method"],
)
def test_invalid_parameters_are_reported(params, match):
    with pytest.raises(ConfigError, match=match):
        find_hotspots(_points([[330_000, 470_000]]), **params)


def test_empty_layer_gives_an_empty_frame_with_the_columns():
    empty = _points(np.zeros((0, 2)))
    hs = find_hotspots(empty)
    assert hs.empty
    assert Col.RANK in hs
    assert hs.crs == WGS84
