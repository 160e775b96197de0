"""Statistics that say whether a set of incidents behaves like data.police.uk months.

Used to calibrate the demo world on the real Cumbria months (``docs/demo.md``): the
same functions measure both, from frames with ``easting``, ``northing`` (metres,
EPSG:27700), ``month``, ``category`` and ``area_id``.

- :func:`measure`: how often a month's incidents land on a point (or a 100 m square)
  used in the months before it, incidents per point, the share of points used more
  than once, the spacing of the points, how concentrated a month is;
- :func:`profile`: :func:`measure` for every area and category group, plus the
  monthly count per category;
- :func:`trust_by_area` and :func:`edge`: the dashboard's trust backtest
  (:func:`~clic_geo.hotspots.forecast.trust_summary`) for every area, and the
  method's edge over the grid count pooled over areas and months.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import cKDTree

from clic_geo.hotspots.backtest import CELL_M, rolling_windows
from clic_geo.hotspots.forecast import TrustSummary, trust_summary
from clic_geo.schema import COUNTY_LINES_CATEGORIES, Category

__all__ = [
    "ALL_AREAS",
    "CATEGORY_GROUPS",
    "Edge",
    "edge",
    "measure",
    "monthly_counts",
    "profile",
    "published_category",
    "trust_by_area",
]

#: The area label for every incident together (the dashboard's "All Cumbria").
ALL_AREAS = "all"

#: Category groups the statistics are given for: what the dashboard maps by default
#: (its county-lines categories) and everything.
CATEGORY_GROUPS: Mapping[str, tuple[str, ...]] = {
    "county lines": tuple(str(c) for c in COUNTY_LINES_CATEGORIES),
    "all categories": tuple(str(c) for c in Category),
}

#: Our categories as data.police.uk publishes them (it has no supply/possession split
#: and no intelligence, cuckooing or threat-to-life records).
_PUBLISHED = {
    Category.DRUG_SUPPLY: "drugs",
    Category.DRUG_POSSESSION: "drugs",
    Category.DRUGS: "drugs",
    Category.WEAPONS: "weapons",
    Category.VIOLENCE: "violence",
    Category.ASB: "anti_social_behaviour",
    Category.OTHER: "other",
}


def published_category(category: pd.Series) -> pd.Series:
    """Each category as data.police.uk would publish it (``not published`` for
    intelligence, cuckooing and threat-to-life records)."""
    return category.map(lambda c: _PUBLISHED.get(c, "not published"))


def _keys(e: np.ndarray, n: np.ndarray, size: float) -> np.ndarray:
    return np.floor(e / size).astype(np.int64) * 10_000_000 + np.floor(n / size).astype(np.int64)


def measure(incidents: pd.DataFrame, *, lookback: int = 3, max_windows: int | None = None) -> dict:
    """Point statistics of some incidents (one area, one category group).

    Windows are the backtest's (:func:`~clic_geo.hotspots.backtest.rolling_windows`):
    each month with ``lookback`` months present before it; ``max_windows`` keeps the
    last ones (the trust panel tests the last 12). Returns:

    - ``months``, ``per_month``: months tested and their mean incident count;
    - ``repeat_point``: share of a month's incidents on a point (to the metre) used in
      the ``lookback`` months before it; ``repeat_cell``: the same for 100 m squares;
    - ``per_point``: mean incidents per distinct point in a month; ``points_1``,
      ``points_2``, ``points_3_5``, ``points_6``: shares of a month's points with
      1, 2, 3-5 and 6 or more incidents; ``repeated_points``: share of a month's
      points with two or more; ``max_point``: the most on one point in a month;
    - ``spacing_m``: median distance from a point used in those months to the nearest
      other one;
    - ``top_cells``: share of a month's incidents in its own busiest hundred 100 m
      squares (1 km², the backtest's oracle).

    Means are over the tested months; NaN where there is nothing to test.
    """
    df = incidents[["easting", "northing", "month"]].dropna()
    e = df["easting"].to_numpy(float)
    n = df["northing"].to_numpy(float)
    pt = _keys(e, n, 1.0)
    cell = _keys(e, n, CELL_M)
    month = df["month"].to_numpy()
    wins = rolling_windows(df["month"], lookback)
    if max_windows is not None:
        wins = wins[-max_windows:]
    rows = []
    used_months: set[str] = set()
    for w in wins:
        test = month == w.test_month
        if not test.any():
            continue
        train = np.isin(month, w.train_months)
        used_months.update((w.test_month, *w.train_months))
        counts = np.unique(pt[test], return_counts=True)[1]
        cells = np.sort(np.unique(cell[test], return_counts=True)[1])[::-1]
        rows.append(
            {
                "per_month": int(test.sum()),
                "repeat_point": float(np.isin(pt[test], pt[train]).mean()),
                "repeat_cell": float(np.isin(cell[test], cell[train]).mean()),
                "per_point": float(counts.mean()),
                "points_1": float((counts == 1).mean()),
                "points_2": float((counts == 2).mean()),
                "points_3_5": float(((counts >= 3) & (counts <= 5)).mean()),
                "points_6": float((counts >= 6).mean()),
                "repeated_points": float((counts >= 2).mean()),
                "max_point": int(counts.max()),
                "top_cells": float(cells[:100].sum() / test.sum()),
            }
        )
    out: dict = {"months": len(rows)}
    keys = [
        "per_month",
        "repeat_point",
        "repeat_cell",
        "per_point",
        "points_1",
        "points_2",
        "points_3_5",
        "points_6",
        "repeated_points",
        "max_point",
        "top_cells",
    ]
    for k in keys:
        out[k] = float(np.mean([r[k] for r in rows])) if rows else np.nan
    sel = np.isin(month, sorted(used_months))
    xy = np.unique(np.column_stack([np.round(e[sel]), np.round(n[sel])]), axis=0)
    if len(xy) >= 2:
        d, _ = cKDTree(xy).query(xy, k=2)
        out["spacing_m"] = float(np.median(d[:, 1]))
    else:
        out["spacing_m"] = np.nan
    return out


def _by_area(incidents: pd.DataFrame, areas: Sequence[str]) -> dict[str, pd.DataFrame]:
    out = {ALL_AREAS: incidents}
    for a in areas:
        out[a] = incidents[incidents["area_id"] == a]
    return out


def profile(
    incidents: pd.DataFrame,
    areas: Sequence[str],
    *,
    groups: Mapping[str, Sequence[str]] = CATEGORY_GROUPS,
    max_windows: int | None = None,
) -> pd.DataFrame:
    """:func:`measure` for every area (and all of them) and category group.

    One row per ``area, group`` with the statistics as columns.
    """
    rows = []
    for a, inc in _by_area(incidents, areas).items():
        for g, cats in groups.items():
            sub = inc[inc["category"].isin(cats)]
            rows.append({"area": a, "group": g, **measure(sub, max_windows=max_windows)})
    return pd.DataFrame(rows)


def monthly_counts(incidents: pd.DataFrame, areas: Sequence[str]) -> pd.DataFrame:
    """Mean incidents a month per area and published category (:func:`published_category`).

    Rows are areas (and ``all``), columns categories.
    """
    months = incidents["month"].nunique()
    rows = {}
    for a, inc in _by_area(incidents, areas).items():
        c = published_category(inc["category"]).value_counts()
        rows[a] = c / max(months, 1)
    return pd.DataFrame(rows).T.fillna(0.0)


def trust_by_area(
    incidents: pd.DataFrame,
    areas: Sequence[str],
    *,
    categories: Sequence[str] = CATEGORY_GROUPS["county lines"],
    before_month: str | None = None,
) -> dict[str, TrustSummary]:
    """The dashboard's trust backtest for every area and for all of them, on the
    ``categories`` it maps by default and complete months before ``before_month``."""
    inc = incidents[incidents["category"].isin(categories)]
    if before_month is not None:
        inc = inc[inc["month"] < before_month]
    return {a: trust_summary(sub) for a, sub in _by_area(inc, areas).items()}


@dataclass(frozen=True)
class Edge:
    """The method's edge over the grid count, pooled over area-months."""

    direction: str  # "better", "level" or "worse"
    months: int
    won: int
    lost: int
    mean_diff: float  # mean hit rate of ours minus the grid count's
    p_value: float  # two-sided sign test of won against lost


def edge(summaries: Mapping[str, TrustSummary], *, alpha: float = 0.05) -> Edge:
    """Pool the areas' months (not the all-areas row, which repeats them): ``better``
    or ``worse`` if a two-sided sign test of months won against months lost says so
    at ``alpha``, else ``level``."""
    per = [s.per_month for a, s in summaries.items() if a != ALL_AREAS and len(s.per_month)]
    if not per:
        return Edge("level", 0, 0, 0, np.nan, 1.0)
    t = pd.concat(per, ignore_index=True)
    diff = t["ours"].astype(float) - t["grid count"].astype(float)
    won, lost = int((diff > 1e-12).sum()), int((diff < -1e-12).sum())
    p = float(stats.binomtest(won, won + lost).pvalue) if won + lost else 1.0
    direction = "level" if p >= alpha else ("better" if won > lost else "worse")
    return Edge(direction, len(t), won, lost, float(diff.mean()), p)
