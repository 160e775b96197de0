"""Hotspots over time: Mann-Kendall trends, trend categories, identity between periods.

The trend categories follow ArcGIS Pro's Emerging Hot Spot Analysis (EHSA), adapted
to one hotspot's monthly counts instead of a space-time cube of Gi* bins. The rules
(``classify_trend``) are documented in ``docs/hotspots.md``; in short, with *hot*
meaning "more incidents than the area's background could put there by chance"
(a one-sided Poisson test at ``alpha``) and *cold* meaning "far fewer than the
hotspot's own usual level, after it first became hot" (the quiet months before a
hotspot existed are not cold, only not yet hot):

=============  =================================================================
new            hot in the last month only
consecutive    one unbroken run of >= 2 hot months up to the last month, none before
intensifying   hot in >= 90 % of months incl. the last, counts rise (Mann-Kendall)
persistent     hot in >= 90 % of months incl. the last, no significant trend
diminishing    hot in >= 90 % of months incl. the last, counts fall (Mann-Kendall)
sporadic       last month hot, on and off before, never cold
oscillating    last month hot, on and off before, cold at least once
historical     last month not hot, hot in >= 90 % of months up to its last hot one
no_pattern     anything else
=============  =================================================================
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import stats

from clic_geo._errors import ConfigError
from clic_geo.schema import Col, Trend

__all__ = [
    "MannKendall",
    "area_monthly_series",
    "classify_trend",
    "classify_trends",
    "mann_kendall",
    "month_range",
    "track_hotspots",
]

log = logging.getLogger(__name__)

#: Share of months a hotspot must be hot to be persistent / intensifying / diminishing.
PERSISTENT_SHARE = 0.9


@dataclass(frozen=True)
class MannKendall:
    """Result of a Mann-Kendall trend test."""

    s: float
    z: float
    p_value: float
    tau: float

    @property
    def direction(self) -> int:
        """+1 rising, -1 falling, 0 no significant trend (at 5 %)."""
        if self.p_value >= 0.05:
            return 0
        return 1 if self.s > 0 else -1


def mann_kendall(values: Sequence[float]) -> MannKendall:
    """Mann-Kendall test for a monotonic trend, with the variance corrected for ties.

    Parameters
    ----------
    values : sequence of float
        Equally spaced observations (here: monthly counts).

    Returns
    -------
    MannKendall
        ``s`` (sum of signs of later-minus-earlier), the continuity-corrected
        ``z``, its two-sided ``p_value`` and Kendall's ``tau``.

    Examples
    --------
    >>> r = mann_kendall([1, 2, 3, 4, 5, 6, 7, 8])
    >>> r.s, r.direction
    (28.0, 1)
    >>> mann_kendall([3, 3, 3, 3]).p_value
    1.0
    """
    x = np.asarray(values, dtype="float64")
    n = len(x)
    if n < 3:
        return MannKendall(0.0, 0.0, 1.0, 0.0)
    diff = x[np.newaxis, :] - x[:, np.newaxis]
    s = float(np.sign(diff[np.triu_indices(n, 1)]).sum())
    _, counts = np.unique(x, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - np.sum(counts * (counts - 1) * (2 * counts + 5))) / 18.0
    if var <= 0:
        return MannKendall(s, 0.0, 1.0, 0.0)
    z = (s - np.sign(s)) / np.sqrt(var)
    p = float(2 * stats.norm.sf(abs(z)))
    return MannKendall(s, float(z), p, float(s / (n * (n - 1) / 2)))


def _hot_cold(
    counts: np.ndarray, background: np.ndarray | float, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Hot and cold months of each row of ``counts`` (one hotspot a row; 1-D works too).

    Hot: more than the background could give (Poisson, one-sided). Cold: far below
    the hotspot's own hot-month level, in a month after its first hot one (before
    that the place was simply not a hotspot yet).
    """
    c = np.asarray(counts, dtype="float64")
    one = c.ndim == 1
    c = np.atleast_2d(c)
    bg = np.maximum(np.broadcast_to(np.asarray(background, dtype="float64"), c.shape), 1e-9)
    hot = (c >= 1) & (stats.poisson.sf(c - 1, bg) < alpha)
    n_hot = hot.sum(axis=1)
    any_hot = n_hot > 0
    level = np.where(any_hot, (c * hot).sum(axis=1) / np.maximum(n_hot, 1), 1.0)
    since_first = np.cumsum(hot, axis=1) > 0
    cold = (stats.poisson.cdf(c, level[:, np.newaxis]) < alpha) & since_first & ~hot
    return (hot[0], cold[0]) if one else (hot, cold)


def classify_trend(
    counts: Sequence[float],
    background: Sequence[float] | float = 0.05,
    *,
    alpha: float = 0.05,
) -> Trend:
    """The trend category of one hotspot from its monthly counts.

    Parameters
    ----------
    counts : sequence of float
        Incidents in the hotspot per month, oldest first, months without any as 0.
    background : float or sequence of float
        Incidents the area's background rate would put in the hotspot's outline in
        each month (the area's count per km² times the hotspot's km²).
    alpha : float
        Significance level of the hot/cold tests.

    Examples
    --------
    >>> classify_trend([0, 0, 0, 0, 0, 6], 0.1)
    <Trend.NEW: 'new'>
    >>> classify_trend([5, 6, 5, 6, 5, 6, 5, 6, 5, 6], 0.1)
    <Trend.PERSISTENT: 'persistent'>
    >>> classify_trend([0, 0, 0, 0, 3, 1, 3, 3], 0.3)  # quiet before it began: not cold
    <Trend.SPORADIC: 'sporadic'>
    >>> classify_trend([8, 8, 8, 0, 0, 8, 8, 8], 0.1)  # went cold, came back
    <Trend.OSCILLATING: 'oscillating'>
    """
    c = np.asarray(counts, dtype="float64")
    if c.ndim != 1 or len(c) == 0:
        raise ConfigError("counts must be a non-empty sequence of monthly counts")
    bg = np.broadcast_to(np.asarray(background, dtype="float64"), c.shape)
    return classify_trends(c[np.newaxis, :], bg[np.newaxis, :], alpha=alpha)[0]


def _mann_kendall_directions(x: np.ndarray) -> np.ndarray:
    """:attr:`MannKendall.direction` of every row of ``x`` at once (same arithmetic)."""
    k, n = x.shape
    out = np.zeros(k, dtype=np.int64)
    if n < 3 or k == 0:
        return out
    iu = np.triu_indices(n, 1)
    step = max(1, 4_000_000 // (n * n))  # rows per chunk: bounded memory for long series
    for a in range(0, k, step):
        xb = x[a : a + step]
        diff = xb[:, np.newaxis, :] - xb[:, :, np.newaxis]
        s = np.sign(diff[:, iu[0], iu[1]]).sum(axis=1)
        # sum over tie groups of t(t-1)(2t+5) = sum over values of (t-1)(2t+5), t = ties
        t = (xb[:, np.newaxis, :] == xb[:, :, np.newaxis]).sum(axis=2).astype(np.int64)
        ties = ((t - 1) * (2 * t + 5)).sum(axis=1)
        var = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
        ok = var > 0
        z = np.zeros(len(xb))
        z[ok] = (s[ok] - np.sign(s[ok])) / np.sqrt(var[ok])
        p = np.ones(len(xb))
        p[ok] = 2 * stats.norm.sf(np.abs(z[ok]))
        out[a : a + step] = np.where(p >= 0.05, 0, np.where(s > 0, 1, -1))
    return out


def classify_trends(
    counts: np.ndarray, background: np.ndarray | float = 0.05, *, alpha: float = 0.05
) -> list[Trend]:
    """:func:`classify_trend` of every row of ``counts`` at once (one hotspot a row).

    ``background`` is broadcast to ``counts``' shape. The rules and the arithmetic are
    those of :func:`classify_trend` (which calls this), without a loop over hotspots.

    Examples
    --------
    >>> [str(t) for t in classify_trends(np.array([[0, 0, 6], [0, 0, 0]]), 0.1)]
    ['new', 'no_pattern']
    """
    c = np.asarray(counts, dtype="float64")
    if c.ndim != 2 or c.shape[1] == 0:
        raise ConfigError("counts must be a table of monthly counts, one hotspot a row")
    k, n = c.shape
    bg = np.maximum(np.broadcast_to(np.asarray(background, dtype="float64"), c.shape), 1e-9)
    hot, cold = _hot_cold(c, bg, alpha)
    n_hot = hot.sum(axis=1)
    any_hot = n_hot > 0
    share = n_hot / n
    last = hot[:, -1]
    names = [
        Trend.NO_PATTERN,
        Trend.PERSISTENT,
        Trend.INTENSIFYING,
        Trend.DIMINISHING,
        Trend.NEW,
        Trend.CONSECUTIVE,
        Trend.OSCILLATING,
        Trend.SPORADIC,
        Trend.HISTORICAL,
    ]
    code = np.zeros(k, dtype=np.int64)  # index into names
    steady = any_hot & last & (n >= 2) & (share >= PERSISTENT_SHARE)
    if steady.any():
        d = _mann_kendall_directions(c[steady])
        code[steady] = np.where(d > 0, 2, np.where(d < 0, 3, 1))
    rest = any_hot & last & ~steady
    new = rest & (n_hot == 1)
    code[new] = 4
    # length of the run of hot months that ends with the last month
    run = n - 1 - np.where(~hot, np.arange(n), -1).max(axis=1)
    consecutive = rest & ~new & (n_hot == run) & (run >= 2)
    code[consecutive] = 5
    onoff = rest & ~new & ~consecutive
    was_cold = cold[:, :-1].any(axis=1)
    code[onoff & was_cold] = 6
    code[onoff & ~was_cold] = 7
    last_hot = np.where(hot, np.arange(n), -1).max(axis=1)
    past = any_hot & ~last & (last_hot >= 1)
    code[past & (n_hot / np.maximum(last_hot + 1, 1) >= PERSISTENT_SHARE)] = 8
    return [names[i] for i in code]


def month_range(first: str, last: str) -> list[str]:
    """Every ``YYYY-MM`` from ``first`` to ``last`` inclusive.

    >>> month_range("2023-11", "2024-02")
    ['2023-11', '2023-12', '2024-01', '2024-02']
    """
    a, b = pd.Period(first, freq="M"), pd.Period(last, freq="M")
    if b < a:
        raise ConfigError(f"month range ends ({last}) before it starts ({first})")
    return [str(a + i) for i in range((b - a).n + 1)]


def area_monthly_series(
    incidents: pd.DataFrame,
    *,
    months: Sequence[str] | None = None,
    area_col: str = Col.AREA,
    category_col: str = Col.CATEGORY,
) -> pd.DataFrame:
    """Incidents per area, month and category, zeros included (the partners' trend view).

    Returns a long frame ``area_id, month, category, count`` over every month from
    the first to the last in the data (or ``months``), so a chart shows gaps as 0.
    Points outside every area are counted under ``area_id`` "other".
    """
    if Col.MONTH not in incidents:
        raise ConfigError(f"incidents need a {Col.MONTH!r} column (YYYY-MM)")
    df = pd.DataFrame(
        {
            "area_id": incidents[area_col].astype(object).fillna("other")
            if area_col in incidents
            else "other",
            "month": incidents[Col.MONTH].astype(str),
            "category": incidents[category_col].astype(str),
        }
    )
    if months is None:
        months = month_range(df["month"].min(), df["month"].max()) if len(df) else []
    counts = df.groupby(["area_id", "month", "category"]).size().rename("count")
    idx = pd.MultiIndex.from_product(
        [sorted(df["area_id"].unique()), list(months), sorted(df["category"].unique())],
        names=["area_id", "month", "category"],
    )
    return counts.reindex(idx, fill_value=0).reset_index()


def track_hotspots(
    periods: Sequence[tuple[str, gpd.GeoDataFrame]],
    *,
    min_overlap: float = 0.1,
) -> pd.DataFrame:
    """Give hotspots of successive periods a lasting identity by overlap.

    Parameters
    ----------
    periods : sequence of (label, GeoDataFrame)
        Hotspot maps in time order (e.g. one per month), each with ``hotspot_id``,
        ``score`` and polygon geometry (any one CRS; projected internally).
    min_overlap : float
        Smallest overlap, as a share of the smaller of two polygons, that links a
        hotspot to one of the previous period.

    Returns
    -------
    pandas.DataFrame
        One row per hotspot and period: ``period``, ``hotspot_id`` (within the
        period), ``track_id`` (lasting), ``score`` and ``overlap`` with the hotspot
        it continues (NaN when new). Matching is greedy by overlap, so a hotspot
        continues at most one track, and a track at most one hotspot per period;
        if a track skips a period it is still matched against its last outline.
    """
    from clic_geo.geo.crs import BNG

    rows: list[dict[str, object]] = []
    last_geom: dict[str, object] = {}
    next_id = 1
    for label, gdf in periods:
        if gdf.crs is None:
            raise ConfigError(f"hotspots of period {label!r} have no CRS; set one first")
        g = gdf.to_crs(BNG)
        geoms = list(g.geometry)
        ids = list(g[Col.HOTSPOT_ID])
        scores = list(g[Col.SCORE]) if Col.SCORE in g else [np.nan] * len(g)
        cand: list[tuple[float, int, str]] = []
        for i, geom in enumerate(geoms):
            for tid, prev in last_geom.items():
                inter = geom.intersection(prev).area  # type: ignore[attr-defined]
                if inter <= 0:
                    continue
                share = inter / max(min(geom.area, prev.area), 1e-9)  # type: ignore[attr-defined]
                if share >= min_overlap:
                    cand.append((share, i, tid))
        cand.sort(key=lambda t: (-t[0], t[1], t[2]))
        taken_i: dict[int, tuple[str, float]] = {}
        taken_t: set[str] = set()
        for share, i, tid in cand:
            if i in taken_i or tid in taken_t:
                continue
            taken_i[i] = (tid, share)
            taken_t.add(tid)
        for i, geom in enumerate(geoms):
            if i in taken_i:
                tid, share = taken_i[i]
            else:
                tid, share = f"T{next_id:04d}", np.nan
                next_id += 1
            last_geom[tid] = geom
            rows.append(
                {
                    "period": label,
                    Col.HOTSPOT_ID: ids[i],
                    "track_id": tid,
                    Col.SCORE: scores[i],
                    "overlap": share,
                }
            )
    return pd.DataFrame(rows, columns=["period", Col.HOTSPOT_ID, "track_id", Col.SCORE, "overlap"])


def _month_index(month: np.ndarray) -> np.ndarray:
    """Months since year 0 of ``YYYY-MM`` texts (computed once per distinct month)."""
    codes, uniq = pd.factorize(pd.Series(month).astype(str))
    p = pd.PeriodIndex(uniq, freq="M")
    return np.asarray(p.year * 12 + p.month - 1)[codes]


def _days(when: pd.Series) -> np.ndarray:
    """Days since 2000-01-01 (ST-DBSCAN's time axis)."""
    return (pd.to_datetime(when) - pd.Timestamp("2000-01-01")).dt.total_seconds().to_numpy() / 86400
