"""The demo generator: deterministic, believable, on land inside the towns, truth kept."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
import shapely

from clic_geo.demo.scenario import last_complete_month
from clic_geo.demo.seeding import seed_demo
from clic_geo.demo.world import generate, write_demo
from clic_geo.geo.areas import load_areas
from clic_geo.settings import REPO_ROOT
from tests.conftest import TODAY


@pytest.fixture(scope="module")
def demo():
    return generate(today=TODAY)


def test_deterministic(demo) -> None:
    again = generate(today=TODAY)
    pd.testing.assert_frame_equal(demo.incidents, again.incidents)
    pd.testing.assert_frame_equal(demo.visits, again.visits)
    pd.testing.assert_frame_equal(demo.addresses, again.addresses)
    other = generate(seed=7, today=TODAY)
    assert not demo.incidents["latitude"].equals(other.incidents["latitude"])


def test_shape_of_the_world(demo) -> None:
    # 36 months, the last one partial: the data run to yesterday, as a live store would
    assert len(demo.months) == 36 and demo.months[-1] == "2026-11"
    assert last_complete_month(TODAY) == "2026-10"
    inc = demo.incidents
    assert 12_000 < len(inc) < 25_000
    when = pd.to_datetime(inc["date"])
    assert when.dt.strftime("%Y-%m").min() == "2023-12"
    assert when.max().date() == date(2026, 11, 21)
    assert (pd.to_datetime(demo.visits["date"]).dt.date < TODAY).all()
    # many incidents share a street point, as in data.police.uk
    distinct = inc[["latitude", "longitude"]].drop_duplicates()
    assert len(distinct) < 0.6 * len(inc)


def test_every_point_on_land_inside_its_town(demo) -> None:
    areas = load_areas(REPO_ROOT / "boundaries")
    for name, df in (
        ("incidents", demo.incidents),
        ("addresses", demo.addresses[demo.addresses["latitude"] != ""]),
        ("visits", demo.visits[demo.visits["latitude"] != ""]),
    ):
        lon = df["longitude"].astype(float).to_numpy()
        lat = df["latitude"].astype(float).to_numpy()
        assigned = areas.assign(lon, lat)
        assert all(a is not None for a in assigned), name


def test_planted_truth(demo) -> None:
    truth = demo.truth
    areas = load_areas(REPO_ROOT / "boundaries")
    assert set(truth["lifecycle"]) >= {
        "persistent",
        "intensifying",
        "diminishing",
        "emerging",
        "historical",
        "sporadic",
        "oscillating",
        "moving",
        "fading_after_start",
    }
    for h in demo.hotspots:
        assert areas.get(h.area).geometry.contains(shapely.Point(h.lon, h.lat))
    # planted incidents are where the truth says
    inc = demo.incidents[demo.incidents["planted_hotspot"] != ""]
    counts = inc.groupby("planted_hotspot").size()
    assert counts.to_dict() == truth.groupby("hotspot_id")["count"].sum()[lambda s: s > 0].to_dict()
    # an emerging hotspot is silent at first; a historical one is silent at the end
    emerging = truth[truth["hotspot_id"] == "BAR-WALNEY"].set_index("month")["count"]
    assert emerging.iloc[:-5].sum() == 0 and emerging.iloc[-5:].sum() > 10
    historical = truth[truth["hotspot_id"] == "BAR-ROOSE"].set_index("month")["count"]
    assert historical.iloc[-12:].sum() == 0 and historical.iloc[:-12].sum() > 50
    # a moving hotspot drifts 100 m a month for 8 months
    moving = truth[truth["hotspot_id"] == "CAR-CURROCK"].sort_values("month")
    steps = np.diff(moving["easting"].to_numpy())
    assert sorted(set(np.round(steps))) == [0.0, 100.0] and (np.round(steps) == 100).sum() == 8


def test_threats_to_life_fall_after_the_partnership_starts(demo) -> None:
    areas = load_areas(REPO_ROOT / "boundaries")
    inc = demo.incidents
    ttl = inc[inc["type"] == "Threat to life"]
    area = areas.assign(ttl["longitude"].to_numpy(float), ttl["latitude"].to_numpy(float))
    when = pd.to_datetime(ttl["date"])
    west = area == "west_cumbria"  # 1-CLIC starts there in 2025-09
    before = (west & (when >= "2024-09-01") & (when < "2025-09-01")).sum()
    last_year = (west & (when >= "2025-11-01")).sum()
    assert before >= 8
    assert last_year < 0.75 * before
    # where the partnership began long before the data (Barrow, 2022), they stay low
    barrow = area == "barrow"
    assert (barrow & (when < "2024-11-01")).sum() <= 0.4 * before + 3


def test_visits_follow_the_hotspots_and_start_with_the_partnership(demo) -> None:
    v = demo.visits
    when = pd.to_datetime(v["date"])
    lat = pd.to_numeric(v["latitude"], errors="coerce")
    # no West Cumbria visits before 2025-09 (Workington/Whitehaven latitudes, west of -3.4)
    west = (lat < 54.75) & (lat > 54.5) & (pd.to_numeric(v["longitude"], errors="coerce") < -3.4)
    assert not (west & (when < "2025-09-01")).any()
    assert (when.dt.date <= TODAY).all()
    assert {"engaged", "no_answer"} <= set(v["outcome"])


def test_seeding_imports_everything_without_rejections(settings, store) -> None:
    reports = seed_demo(settings, store, today=TODAY)
    assert [r.kind for r in reports] == ["lines", "addresses", "incidents", "visits"]
    for r in reports:
        assert r.rejected == 0 and r.duplicates == 0, (r.kind, r.reasons)
    assert store.counts()["incidents"] == reports[2].accepted
    assert seed_demo(settings, store, today=TODAY) == []  # never twice
    assert (settings.data_dir / "demo" / "incidents.csv").exists()
    due = store.addresses()["next_visit_due"].dropna()
    assert ((due - pd.Timestamp(TODAY)).dt.days.abs() <= 21).all() and len(due) > 20
    assert store.active_lines(date(2022, 3, 1), area="barrow") >= 4
    assert store.active_lines(TODAY, area="kendal") <= 1


def test_write_demo(tmp_path, demo) -> None:
    paths = write_demo(demo, tmp_path)
    assert set(paths) == {"lines", "addresses", "incidents", "visits", "truth"}
    assert len(pd.read_csv(paths["truth"])) == len(demo.truth)
