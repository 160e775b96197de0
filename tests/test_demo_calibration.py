"""The demo world behaves like the real data.police.uk months (docs/demo.md).

The fast tests check the measuring functions on frames small enough to count by hand;
the slow ones measure the real Cumbria months and the demo world the same way and
hold the demo to the tolerances docs/demo.md states, and its trust verdict to the
real months' one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clic_geo.hotspots import calibration as cal
from clic_geo.hotspots.forecast import TrustSummary
from tests.conftest import POLICE_UK, TODAY, police_files


def _frame(rows: list[tuple[float, float, str]], category: str = "drugs") -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["easting", "northing", "month"])
    return df.assign(category=category, area_id="barrow")


def test_measure_counts_repeats_points_and_squares_by_hand() -> None:
    # three months of history, then a month of 4: one on an old point, one new point in
    # an old 100 m square, two on one new point far away
    hist = [(300_010.0, 500_010.0, m) for m in ("2024-01", "2024-02", "2024-03")]
    test = [
        (300_010.0, 500_010.0, "2024-04"),
        (300_060.0, 500_060.0, "2024-04"),
        (305_000.0, 505_000.0, "2024-04"),
        (305_000.0, 505_000.0, "2024-04"),
    ]
    got = cal.measure(_frame(hist + test))
    assert got["months"] == 1
    assert got["per_month"] == 4
    assert got["repeat_point"] == pytest.approx(1 / 4)
    assert got["repeat_cell"] == pytest.approx(2 / 4)
    assert got["per_point"] == pytest.approx(4 / 3)
    assert (got["points_1"], got["points_2"], got["points_6"]) == (
        pytest.approx(2 / 3),
        pytest.approx(1 / 3),
        0.0,
    )
    assert got["repeated_points"] == pytest.approx(1 / 3)
    assert got["max_point"] == 2
    assert got["top_cells"] == 1.0  # four incidents, three squares: all in the best hundred
    # three distinct points: two 71 m apart, one ~7 km away; the median nearest is 71 m
    assert got["spacing_m"] == pytest.approx(np.hypot(50, 50))
    # nothing to test (no month with three before it): NaN, not zero
    short = cal.measure(_frame(hist))
    assert short["months"] == 0 and np.isnan(short["repeat_point"])


def test_profile_and_counts_split_by_area_and_group() -> None:
    df = pd.concat(
        [
            _frame([(300_000.0, 500_000.0, f"2024-0{m}") for m in range(1, 5)], "drug_supply"),
            _frame([(300_000.0, 500_000.0, f"2024-0{m}") for m in range(1, 5)], "violence"),
        ]
    )
    prof = cal.profile(df, ["barrow", "kendal"])
    row = prof[(prof["area"] == "barrow") & (prof["group"] == "county lines")].iloc[0]
    assert row["per_month"] == 1 and row["repeat_point"] == 1.0
    allc = prof[(prof["area"] == "barrow") & (prof["group"] == "all categories")].iloc[0]
    assert allc["per_month"] == 2
    assert prof[prof["area"] == "kendal"]["months"].eq(0).all()
    counts = cal.monthly_counts(df, ["barrow"])
    assert counts.loc["barrow", "drugs"] == 1.0 and counts.loc["barrow", "violence"] == 1.0
    pub = cal.published_category(pd.Series(["drug_possession", "intelligence_report"]))
    assert pub.tolist() == ["drugs", "not published"]


def _summary(ours: list[float], grid: list[float]) -> TrustSummary:
    per = pd.DataFrame(
        {"test_month": [f"m{i}" for i in range(len(ours))], "ours": ours, "grid count": grid}
    )
    return TrustSummary(len(ours), 1.0, 0, 0, 0, 0, 0, 0, "", per)


def test_edge_pools_areas_and_needs_a_sign_test_to_call_a_direction() -> None:
    worse = {a: _summary([0.1] * 8, [0.2] * 8) for a in ("a", "b")}
    assert cal.edge(worse).direction == "worse"  # 0 won, 16 lost
    better = {a: _summary([0.3] * 8, [0.2] * 8) for a in ("a", "b")}
    e = cal.edge(better)
    assert (e.direction, e.won, e.lost, e.months) == ("better", 16, 0, 16)
    assert e.mean_diff == pytest.approx(0.1)
    mixed = {"a": _summary([0.3] * 5, [0.2] * 5), "b": _summary([0.1] * 4, [0.2] * 4)}
    assert cal.edge(mixed).direction == "level"  # 5 won, 4 lost
    # the all-areas row repeats the areas' months and is left out of the pool
    assert cal.edge({**mixed, cal.ALL_AREAS: _summary([0.9] * 20, [0.1] * 20)}).months == 9


# --------------------------------------------------------------------------- real months

#: Tolerances docs/demo.md states for the county-lines categories, per area and for all
#: four together (demo minus real): absolute for shares, relative for counts.
TOL_SHARE = 0.06
TOL_PER_POINT = 0.25
TOL_COUNT = 0.3


@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    from clic_geo.demo.calibration import demo_incidents, measure_side, real_incidents
    from clic_geo.geo.areas import load_areas
    from clic_geo.settings import REPO_ROOT, load_settings

    police_files()  # skips if the real months are not here
    settings = load_settings(tmp_path_factory.mktemp("cal") / "store")
    areas = list(load_areas(REPO_ROOT / "boundaries").ids)
    real = measure_side(real_incidents(POLICE_UK, settings), areas)
    demo = measure_side(demo_incidents(today=TODAY, settings=settings), areas)
    return real, demo, areas


def _row(side, area: str, group: str = "county lines") -> pd.Series:
    p = side.profile
    return p[(p["area"] == area) & (p["group"] == group)].iloc[0]


@pytest.mark.slow
def test_demo_statistics_are_within_the_stated_tolerances_of_the_real_months(sides) -> None:
    real, demo, areas = sides
    for a in [cal.ALL_AREAS, *areas]:
        r, d = _row(real, a), _row(demo, a)
        assert r["months"] >= 5 and d["months"] == 12, a
        for k in ("repeat_point", "repeat_cell"):
            assert abs(d[k] - r[k]) <= TOL_SHARE, (a, k, r[k], d[k])
        assert abs(d["per_point"] - r["per_point"]) <= TOL_PER_POINT, a
        assert abs(d["per_month"] / r["per_month"] - 1) <= TOL_COUNT, (a, r["per_month"])
        # the published drugs count per area (supply and possession together)
        rc, dc = real.counts.loc[a, "drugs"], demo.counts.loc[a, "drugs"]
        assert abs(dc / rc - 1) <= TOL_COUNT, (a, rc, dc)
    r, d = _row(real, cal.ALL_AREAS), _row(demo, cal.ALL_AREAS)
    assert abs(d["spacing_m"] / r["spacing_m"] - 1) <= TOL_COUNT
    assert abs(d["repeated_points"] - r["repeated_points"]) <= 2 * TOL_SHARE
    # everyday crime (violence, anti-social behaviour, other) is kept at about a fifth of
    # the real volume so the demo seeds in seconds; its mix follows the real one
    everyday = ["violence", "anti_social_behaviour", "other"]
    rv, dv = real.counts.loc[cal.ALL_AREAS, everyday], demo.counts.loc[cal.ALL_AREAS, everyday]
    assert 0.12 <= dv.sum() / rv.sum() <= 0.3
    assert (abs(dv / dv.sum() - rv / rv.sum()) <= 0.12).all()


@pytest.mark.slow
def test_demo_trust_verdict_agrees_with_the_real_months(sides) -> None:
    """The dashboard's own backtest (county-lines categories, every area): the method's
    edge over counting squares, pooled over area-months, points the same way on both."""
    real, demo, _ = sides
    assert real.edge.months >= 20 and demo.edge.months >= 40
    assert demo.edge.direction == real.edge.direction, (real.edge, demo.edge)
    # the hit rates themselves are of the same size (averaged over the areas: seven real
    # months per area are too few to hold each area to it): the demo is not an easy world
    for key in ("grid_median", "ours_median"):
        r = np.mean([getattr(t, key) for a, t in real.trust.items() if a != cal.ALL_AREAS])
        d = np.mean([getattr(t, key) for a, t in demo.trust.items() if a != cal.ALL_AREAS])
        assert abs(d - r) <= 0.1, (key, r, d)
