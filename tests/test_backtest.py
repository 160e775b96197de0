"""Backtest, reference methods, the trust summary and the two commands."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from clic_geo._errors import ConfigError
from clic_geo.cli import main
from clic_geo.hotspots.backtest import (
    Window,
    backtest,
    grid_count,
    naive_dbscan,
    rolling_windows,
    select_within_budget,
    summarise,
)
from clic_geo.hotspots.forecast import period_folds, trust_summary

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "police_uk_cumbria" / "street"


def _synthetic(months=6, seed=0):
    """Two stable hotspots on snap points plus scattered noise, per month."""
    rng = np.random.default_rng(seed)
    snap = np.array([[320_000, 470_000], [320_040, 470_030], [325_000, 471_000]], float)
    rows = []
    for m in range(months):
        month = f"2024-{m + 1:02d}"
        for _ in range(12):
            rows.append((*snap[rng.integers(0, 3)], month))
        for _ in range(8):
            rows.append((*rng.uniform([315_000, 465_000], [330_000, 476_000]).round(-1), month))
    return pd.DataFrame(rows, columns=["easting", "northing", "month"])


def test_grid_count_breaks_ties_by_neighbourhood():
    train = pd.DataFrame(
        {"easting": [50.0, 150.0, 5050.0], "northing": [50.0, 50.0, 50.0], "month": "2024-01"}
    )
    cells = grid_count(train)
    # all three cells hold one; the two neighbours outrank the lone cell
    assert {c.bounds[0] for c in cells[:2]} == {0.0, 100.0}
    assert cells[2].bounds[0] == 5000.0


def test_street_points_rank_discs_by_decayed_count():
    from clic_geo.hotspots.backtest import street_points

    # A: three crimes long ago; B: two crimes last month; C: one crime last month
    train = pd.DataFrame(
        {
            "easting": [0.0] * 3 + [1000.0] * 2 + [5000.0],
            "northing": 0.0,
            "month": ["2023-01"] * 3 + ["2024-01"] * 2 + ["2024-01"],
        }
    )
    first = [g.centroid.x for g in street_points(train)]
    assert first == pytest.approx([1000.0, 5000.0, 0.0], abs=1e-6)  # 3 x 0.5**4 < 1
    undecayed = [g.centroid.x for g in street_points(train, half_life_months=None)]
    assert undecayed == pytest.approx([0.0, 1000.0, 5000.0], abs=1e-6)
    last1 = street_points(train, last=1, half_life_months=None)
    assert len(last1) == 2  # only 2024-01 is the last month present
    (disc, *_) = last1
    assert disc.area == pytest.approx(np.pi * 25**2, rel=0.02)


def test_references_keep_their_own_history():
    from clic_geo.hotspots.backtest import STREET_3, reference_methods

    far = pd.DataFrame({"easting": [9000.0], "northing": [9000.0], "month": ["2023-01"]})
    recent = pd.DataFrame(
        {"easting": [50.0, 150.0], "northing": [50.0, 50.0], "month": ["2024-02", "2024-03"]}
    )
    months = pd.DataFrame({"easting": [70.0] * 2, "northing": 70.0, "month": ["2024-01"] * 2})
    train = pd.concat([far, months, recent], ignore_index=True)
    refs = reference_methods()
    # the 2023 point is older than the last three months present: only the decayed count has it
    assert len(refs[STREET_3](train)) == 3
    assert len(refs["street points, decayed"](train)) == 4
    assert len(refs["grid count"](train)) == 2


def test_select_within_budget_skips_what_does_not_fit():
    big = shapely.box(0, 0, 1000, 1000)  # 1 km²
    small = shapely.box(5000, 0, 5100, 100)  # 0.01 km²
    union, used = select_within_budget([big, small], 0.5)
    assert used == pytest.approx(0.01)
    assert union.equals(small)


def test_rolling_windows_straddle_gaps():
    wins = rolling_windows(["2016-03", "2018-10", "2018-11", "2018-12", "2024-01"])
    assert wins == [
        Window("2018-12", ("2016-03", "2018-10", "2018-11")),
        Window("2024-01", ("2018-10", "2018-11", "2018-12")),
    ]
    folds = period_folds(rolling_windows([f"2018-{m:02d}" for m in range(1, 7)] + ["2024-01"]))
    assert [[w.test_month for w in f] for f in folds] == [
        ["2018-04", "2018-05", "2018-06"],
        ["2024-01"],
    ]


def test_backtest_on_stable_hotspots_beats_the_references():
    res = backtest(_synthetic(), study_area_km2=150.0)
    assert set(res["test_month"]) == {"2024-04", "2024-05", "2024-06"}
    s = summarise(res).set_index(["method", "budget_km2"])
    ours = s.loc[("ours", 0.25)]
    assert ours["hit_mean"] >= 0.55  # 12 of 20 a month fall on the three snap points
    assert ours["hit_mean"] >= s.loc[("naive DBSCAN", 0.25), "hit_mean"]
    assert (res["pei"].dropna() <= 1.0 + 1e-9).all() or (res["method"] == "ours").any()
    assert (res["area_km2"] <= res["budget_km2"] + 1e-9).all()
    row = res.iloc[0]
    assert row["pai"] == pytest.approx(row["hit_rate"] / (row["area_km2"] / 150.0))


def test_backtest_needs_coordinates():
    with pytest.raises(ConfigError, match="'month'"):
        backtest(pd.DataFrame({"easting": [1.0], "northing": [1.0]}))


def test_naive_dbscan_hulls_are_buffered_100_m():
    train = pd.DataFrame({"easting": [0.0] * 5, "northing": [0.0] * 5, "month": "2024-01"})
    (g,) = naive_dbscan(train)
    assert g.area == pytest.approx(np.pi * 100**2, rel=0.01)


def test_trust_summary_is_plain_on_the_demo():
    from clic_geo.hotspots.layers import build_layer
    from tests.test_hotspots import generate_demo

    inc = generate_demo().incidents
    df = pd.DataFrame(
        {
            "category": "drugs",
            "occurred_at": pd.to_datetime(inc["date"]),
        }
    )
    gdf = gpd.GeoDataFrame(
        df, geometry=gpd.points_from_xy(inc["longitude"], inc["latitude"]), crs="EPSG:4326"
    )
    layer = build_layer("incidents", incidents=gdf)
    ts = trust_summary(layer)
    assert ts.months_tested == 12
    assert 0 <= ts.ours_min <= ts.ours_median <= ts.ours_max <= 1
    assert ts.months_won + ts.months_lost <= 12
    assert "%" in ts.verdict
    assert "street-point count" in ts.verdict
    assert ts.street_method in ("street points, decayed", "street points, 3 months")
    assert 0 <= ts.street_median <= 1
    assert json.dumps(ts.to_dict())


def test_trust_summary_with_too_little_history():
    ts = trust_summary(_synthetic(months=2))
    assert ts.months_tested == 0
    assert "at least 4 months" in ts.verdict


# --------------------------------------------------------------------------- commands


#: the snap points' labels, as data.police.uk writes them
PLACES = ("On or near Test Street", "On or near Mill Lane", "Supermarket", "On or near Quay Road")


def _police_csv(path: Path, months=("2024-01", "2024-02", "2024-03", "2024-04")) -> list[Path]:
    from clic_geo.geo.crs import to_wgs84

    rng = np.random.default_rng(1)
    files = []
    snap_e = np.array([319_500.0, 319_540.0, 340_400.0, 340_450.0])
    snap_n = np.array([470_100.0, 470_120.0, 555_500.0, 555_520.0])
    for m in months:
        k = rng.integers(0, 4, 30)
        lon, lat = to_wgs84(snap_e[k], snap_n[k])
        df = pd.DataFrame(
            {
                "Crime ID": [f"{m}-{i:04d}" for i in range(30)],
                "Month": m,
                "Reported by": "Cumbria Constabulary",
                "Falls within": "Cumbria Constabulary",
                "Longitude": lon.round(6),
                "Latitude": lat.round(6),
                "Location": np.array(PLACES)[k],
                "LSOA code": "E01019000",
                "LSOA name": "Barrow-in-Furness 001A",
                "Crime type": np.where(np.arange(30) < 24, "Drugs", "Burglary"),
                "Last outcome category": "",
                "Context": "",
            }
        )
        f = path / f"{m}-cumbria-street.csv"
        df.to_csv(f, index=False)
        files.append(f)
    return files


def test_hotspots_command_writes_ranked_polygons(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CLIC_DATA_DIR", str(tmp_path / "store"))
    files = _police_csv(tmp_path)
    out = tmp_path / "hotspots.geojson"
    argv = ["hotspots", "--police-uk", *map(str, files), "--from", "2024-01", "--to", "2024-03"]
    rc = main([*argv, "--types", "Drugs", "--out", str(out), "--json"])
    assert rc == 0
    hs = gpd.read_file(out)
    assert hs.crs.to_epsg() == 4326
    assert hs["rank"].tolist() == list(range(1, len(hs) + 1))
    assert pd.api.types.is_integer_dtype(hs["rank"])
    assert pd.api.types.is_float_dtype(hs["score"])
    assert hs["n_incidents"].sum() == 72  # 24 Drugs a month, three months
    printed = capsys.readouterr().out
    assert json.loads(printed.strip().splitlines()[-1])["hotspots"] == len(hs)
    # each hotspot named by the commonest location inside it, as a person says it
    names = {p.removeprefix("On or near ") for p in PLACES}
    assert set(hs["place"]) <= names and hs["place"].str.len().gt(0).all()
    assert f"HS0001 {hs['place'].iloc[0]}: score" in printed


def test_backtest_command_prints_the_table(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CLIC_DATA_DIR", str(tmp_path / "store"))
    files = _police_csv(tmp_path)
    rc = main(["backtest", "--police-uk", *map(str, files), "--types", "Drugs", "--per-month"])
    captured = capsys.readouterr()
    assert rc == 0
    assert "grid count" in captured.out
    assert "naive DBSCAN" in captured.out
    assert "hit@1km²" in captured.out
    assert "2024-04" in captured.out
    assert "1/1" in captured.err  # the progress bar
    assert "street points, decayed" in captured.out
    assert "street points, 3 months" in captured.out
    # with leading indicators: the forecast is "ours"; the hotspots carry expected counts
    rc = main(
        [
            "backtest",
            "--police-uk",
            *map(str, files),
            "--types",
            "Drugs",
            "--indicators",
            "Burglary",
            "--json",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    rows = json.loads(out.strip().splitlines()[-1])
    assert {r["method"] for r in rows} >= {"ours", "street points, decayed", "grid count"}
    geo = tmp_path / "h.geojson"
    rc = main(
        [
            "hotspots",
            "--police-uk",
            *map(str, files),
            "--types",
            "Drugs",
            "--indicators",
            "Burglary",
            "--simulations",
            "0",
            "--out",
            str(geo),
        ]
    )
    assert rc == 0 and "expected about" in capsys.readouterr().out
    fc = gpd.read_file(geo)
    assert fc["expected_words"].str.contains("next month").all()
    assert fc["place"].isin([p.removeprefix("On or near ") for p in PLACES]).all()


def test_commands_report_bad_input(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CLIC_DATA_DIR", str(tmp_path / "store"))
    files = _police_csv(tmp_path)
    rc = main(["backtest", "--police-uk", str(files[0]), "--types", "Nonsense"])
    assert rc == 1
    assert "no rows of type Nonsense" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(not REAL.is_dir(), reason="real data.police.uk files not present")
def test_real_months_hold_out_beats_grid_count(monkeypatch, tmp_path):
    """Cross-period protocol on the real Cumbria Drugs months (docs/hotspots.md)."""
    from clic_geo.hotspots.forecast import tune
    from clic_geo.ingest.police_uk import load_police_uk

    monkeypatch.setenv("CLIC_DATA_DIR", str(tmp_path))
    lad = REAL.parent.parent / "boundaries_cumbria" / "lad_2013_cumbria_districts.geojson"
    study = shapely.union_all(gpd.read_file(lad).to_crs(27700).geometry.make_valid().to_numpy())
    inc = load_police_uk(sorted(REAL.glob("*.csv")), types=["Drugs"])
    _, held = tune(inc, study_area=study)
    assert len(held) == 7
    assert held["hit_rate"].mean() > held["grid_count"].mean()
    # ranked per patrol (issue 11) the plain map's median month ties the grid count's
    # (it beat it ranked by density); the forecast with indicators is what beats the
    # street-point count (tests/test_walkable_rank.py)
    assert held["hit_rate"].median() >= held["grid_count"].median()
    # docs/hotspots.md: 3 won, 2 tied, 2 lost since the per-patrol ranking (was 6 of 7)
    assert (held["hit_rate"] > held["grid_count"]).sum() >= 3
    assert (held["hit_rate"] < held["grid_count"]).sum() <= 2


def test_choose_scale_uses_only_the_input_and_picks_the_radius_that_forecasts_it():
    """Tight repeat spots 1 km apart: 75 m keeps them apart; 300 m would merge them."""
    from clic_geo.hotspots.backtest import FALLBACK_SCALE_M, choose_scale

    rng = np.random.default_rng(3)
    spots = np.array([[330_000 + 400 * i, 470_000 + 250 * (i % 2)] for i in range(30)], float)
    rows = []
    for m in ("2024-01", "2024-02", "2024-03"):
        # every spot busy every month, plus scattered one-offs around them
        xy = np.vstack(
            [
                np.repeat(spots[:10], 6, axis=0),
                rng.uniform(-150, 150, (300, 2)) + np.repeat(spots, 10, axis=0),
            ]
        )
        rows.append(pd.DataFrame({"easting": xy[:, 0], "northing": xy[:, 1], "month": m}))
    df = pd.concat(rows, ignore_index=True)
    assert choose_scale(df, budget_km2=0.25) == 75.0
    # sparse, diffuse hotspots (15 incidents a month spread over ~250 m): 300 m
    centres = np.array([[330_000 + 3000 * i, 470_000] for i in range(6)], float)
    rng = np.random.default_rng(4)
    sparse = []
    for m in ("2024-01", "2024-02", "2024-03"):
        xy = np.vstack(
            [
                np.repeat(centres, 15, axis=0) + rng.normal(0, 250, (90, 2)),
                rng.uniform([325_000, 465_000], [350_000, 475_000], (100, 2)),
            ]
        )
        sparse.append(pd.DataFrame({"easting": xy[:, 0], "northing": xy[:, 1], "month": m}))
    # (ranked by density with isolated spots last: ranked per patrol, a lone crime in a
    # 25 m disc outranks a 300 m outline of 45, and the smaller radius forecasts better)
    dense_first = {"patrol_km2": None}
    assert (
        choose_scale(pd.concat(sparse, ignore_index=True), budget_km2=1.0, **dense_first) == 300.0
    )
    # a last month that has only just begun is passed over: the month before is tested
    thin = pd.concat([df[df["month"] < "2024-03"], df[df["month"] == "2024-03"].head(3)])
    for budget in (0.25, 1.0):
        before = choose_scale(df[df["month"] < "2024-03"], budget_km2=budget)
        assert choose_scale(thin, budget_km2=budget) == before
    # nothing to test on: one month only
    assert choose_scale(df[df["month"] == "2024-01"]) == FALLBACK_SCALE_M


@pytest.mark.slow
@pytest.mark.skipif(not REAL.is_dir(), reason="real data.police.uk files not present")
@pytest.mark.parametrize(
    "crime_type", ["Drugs", "Violence and sexual offences", "Anti-social behaviour"]
)
def test_shipped_map_beats_grid_count_on_sparse_and_dense_layers(crime_type):
    """The shipped settings (scale chosen per map from its own input) on real months.

    Violence and anti-social behaviour (~1,300 and ~580 a month) were never used to choose any
    setting; with one fixed 300 m radius they lost every month to the grid count.
    """
    from clic_geo.hotspots.backtest import grid_count, recommended
    from clic_geo.ingest.police_uk import load_police_uk

    inc = load_police_uk(sorted(REAL.glob("*.csv")), types=[crime_type])
    res = backtest(inc, methods={"ours": recommended, "grid": grid_count}, budgets_km2=(1.0,))
    t = res.pivot(index="test_month", columns="method", values="hit_rate")
    assert len(t) == 7
    assert t["ours"].mean() > t["grid"].mean()
    assert (t["ours"] > t["grid"]).sum() >= 5
