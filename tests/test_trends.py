"""Trend categories, Mann-Kendall, identity tracking and the per-area series."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import stats

from clic_geo._errors import ConfigError
from clic_geo.hotspots.trends import (
    _hot_cold,
    area_monthly_series,
    classify_trend,
    classify_trends,
    mann_kendall,
    month_range,
    track_hotspots,
)
from clic_geo.schema import Col, Trend

BG = 0.1  # incidents the area's background would put in the hotspot per month

CASES = [
    ([0, 0, 0, 0, 0, 0, 0, 0, 0, 7], Trend.NEW),
    ([0, 0, 0, 0, 0, 0, 0, 5, 6, 7], Trend.CONSECUTIVE),
    ([2, 3, 3, 4, 5, 6, 7, 8, 9, 11], Trend.INTENSIFYING),
    ([6, 5, 7, 6, 5, 6, 7, 5, 6, 6], Trend.PERSISTENT),
    ([11, 10, 9, 8, 7, 6, 5, 4, 3, 2], Trend.DIMINISHING),
    ([3, 0, 2, 0, 0, 3, 0, 2, 0, 3], Trend.SPORADIC),
    ([9, 9, 9, 0, 0, 0, 9, 9, 0, 9], Trend.OSCILLATING),
    ([6, 7, 6, 7, 6, 7, 6, 0, 0, 0], Trend.HISTORICAL),
    ([0, 1, 0, 0, 1, 0, 0, 1, 0, 0], Trend.NO_PATTERN),
]


@pytest.mark.parametrize(("counts", "expected"), CASES, ids=[c[1].value for c in CASES])
def test_each_trend_category_has_a_constructed_case(counts, expected):
    assert classify_trend(counts, BG) == expected


def test_every_category_is_covered():
    assert {c[1] for c in CASES} == set(Trend)


def test_a_high_background_makes_nothing_hot():
    assert classify_trend([3, 3, 3, 3, 3], 10.0) == Trend.NO_PATTERN


def test_mann_kendall_known_values():
    up = mann_kendall(range(10))
    assert up.s == 45
    assert up.direction == 1
    assert up.tau == pytest.approx(1.0)
    down = mann_kendall([5, 4, 3, 2, 1, 0])
    assert down.direction == -1
    flat = mann_kendall([1, 2, 1, 2, 1, 2, 1, 2])
    assert flat.direction == 0
    # without ties, tau is Kendall's tau of the series against time
    from scipy.stats import kendalltau

    x = [1, 3, 2, 0, 5, 4, 6, 9, 8, 7]
    assert mann_kendall(x).tau == pytest.approx(kendalltau(range(10), x).statistic)


def test_classify_rejects_empty_input():
    with pytest.raises(ConfigError, match="non-empty"):
        classify_trend([])


def _hotspot(e, n, r=120.0, hid="HS0001", score=5.0):
    return gpd.GeoDataFrame(
        {Col.HOTSPOT_ID: [hid], Col.SCORE: [score]},
        geometry=[shapely.Point(e, n).buffer(r)],
        crs="EPSG:27700",
    )


def test_tracking_follows_a_hotspot_drifting_100_m_a_month():
    periods = []
    for t in range(8):
        a = _hotspot(330_000 + 100 * t, 470_000, hid="HS0001")
        b = _hotspot(335_000, 470_000, hid="HS0002")  # a second, still one
        periods.append((f"2024-{t + 1:02d}", pd.concat([b, a], ignore_index=True)))
    tr = track_hotspots(periods)
    drifting = tr[tr[Col.HOTSPOT_ID] == "HS0001"]
    assert drifting["track_id"].nunique() == 1
    assert tr[tr[Col.HOTSPOT_ID] == "HS0002"]["track_id"].nunique() == 1
    assert tr["track_id"].nunique() == 2
    assert drifting["overlap"].iloc[1:].between(0.1, 1).all()


def test_tracking_starts_a_new_track_after_a_jump():
    periods = [("2024-01", _hotspot(330_000, 470_000)), ("2024-02", _hotspot(331_000, 470_000))]
    assert track_hotspots(periods)["track_id"].nunique() == 2


def test_tracking_needs_a_crs():
    g = _hotspot(330_000, 470_000).set_crs(None, allow_override=True)
    with pytest.raises(ConfigError, match="no CRS"):
        track_hotspots([("2024-01", g)])


def test_area_monthly_series_fills_missing_months_with_zero():
    df = pd.DataFrame(
        {
            Col.AREA: ["barrow", "barrow", None],
            Col.MONTH: ["2024-01", "2024-03", "2024-01"],
            Col.CATEGORY: ["drugs", "weapons", "drugs"],
        }
    )
    s = area_monthly_series(df)
    assert len(s) == 2 * 3 * 2
    b = s[(s["area_id"] == "barrow") & (s["category"] == "drugs")]
    assert b["count"].tolist() == [1, 0, 0]
    assert s[s["area_id"] == "other"]["count"].sum() == 1
    assert month_range("2023-12", "2024-02") == ["2023-12", "2024-01", "2024-02"]
    with pytest.raises(ConfigError, match="ends"):
        month_range("2024-02", "2024-01")


def _demo_last12(truth: pd.DataFrame, col: str) -> dict[str, np.ndarray]:
    """Each planted hotspot's ``col`` over the last 12 complete months of the demo."""
    months = sorted(truth["month"].unique())[-13:-1]  # the demo's last month is part-way
    return {
        h: g.set_index("month")[col].reindex(months).to_numpy(float)
        for h, g in truth.groupby("hotspot_id")
    }


def test_planted_lifecycles_map_to_their_trend_categories():
    """Noise-free: the rates the demo planted give the category each lifecycle means."""
    from tests.test_hotspots import generate_demo

    t = generate_demo().truth
    life = t.groupby("hotspot_id")["lifecycle"].first()
    got = {h: classify_trend(r, 0.3) for h, r in _demo_last12(t, "rate").items()}
    expected = {
        "persistent": {Trend.PERSISTENT},
        "intensifying": {Trend.INTENSIFYING},
        "diminishing": {Trend.DIMINISHING},
        "emerging": {Trend.CONSECUTIVE},
        "historical": {Trend.NO_PATTERN},
    }
    checked = 0
    for h, kind in life.items():
        if kind in expected:
            assert got[h] in expected[kind], (h, kind, got[h])
            checked += 1
    assert checked >= 10
    assert got["WC-KELLS"] == Trend.OSCILLATING  # hot, quiet for four months, hot again


def test_demo_lifecycles_get_matching_trends():
    """With the Poisson noise of the drawn counts, the robust cases still come out."""
    from tests.test_hotspots import generate_demo

    t = generate_demo().truth
    per = _demo_last12(t, "count")
    got = {h: classify_trend(c, 0.3) for h, c in per.items()}
    assert got["CAR-BOTCHERGATE"] in {Trend.PERSISTENT, Trend.INTENSIFYING, Trend.DIMINISHING}
    assert got["BAR-ROOSE"] == Trend.NO_PATTERN  # ended 12 months ago: nothing in this window
    assert got["WC-MIREHOUSE"] == Trend.CONSECUTIVE
    # Belah emerged in the last months: hot now, never hot before it was planted
    hot, _ = _hot_cold(per["CAR-BELAH"], np.full(12, 0.3), 0.05)
    planted = _demo_last12(t, "rate")["CAR-BELAH"] > 0
    assert hot[-1] and not hot[~planted].any()
    assert got["CAR-BELAH"] in {Trend.CONSECUTIVE, Trend.NEW, Trend.SPORADIC}
    assert np.all([isinstance(v, Trend) for v in got.values()])


def _one_by_one(c: np.ndarray, bg: np.ndarray, alpha: float = 0.05) -> Trend:
    """The rules of docs/hotspots.md applied to one row, plainly (the test's oracle)."""
    n = len(c)
    hot = (c >= 1) & (stats.poisson.sf(c - 1, np.maximum(bg, 1e-9)) < alpha)
    if not hot.any():
        return Trend.NO_PATTERN
    cold = (stats.poisson.cdf(c, c[hot].mean()) < alpha) & ~hot
    cold[: int(np.flatnonzero(hot)[0])] = False  # not cold before it was ever hot
    if hot[-1]:
        if n >= 2 and hot.mean() >= 0.9:
            d = mann_kendall(c).direction
            return {1: Trend.INTENSIFYING, -1: Trend.DIMINISHING}.get(d, Trend.PERSISTENT)
        if not hot[:-1].any():
            return Trend.NEW
        start = n - 1
        while start > 0 and hot[start - 1]:
            start -= 1
        if not hot[:start].any() and n - start >= 2:
            return Trend.CONSECUTIVE
        return Trend.OSCILLATING if cold[:-1].any() else Trend.SPORADIC
    last = int(np.flatnonzero(hot)[-1])
    if last >= 1 and hot[: last + 1].mean() >= 0.9:
        return Trend.HISTORICAL
    return Trend.NO_PATTERN


@pytest.mark.parametrize("months", [1, 2, 3, 5, 12, 36])
def test_classify_trends_equals_the_rules_row_by_row(months):
    rng = np.random.default_rng(months)
    c = rng.poisson(rng.uniform(0, 5, (1500, 1)), (1500, months)).astype(float)
    bg = rng.uniform(0.05, 2, (1500, months))
    got = classify_trends(c, bg)
    assert got == [_one_by_one(c[i], bg[i]) for i in range(len(c))]
    assert all(isinstance(t, Trend) for t in got)
    if 5 <= months <= 12:  # the random table reaches most categories
        assert len(set(got)) >= 7
