"""Measure hotspot maps the way the field does: build from past months, score the next.

A *map* is a ranked list of polygons (British National Grid). For an area budget
(0.25, 0.5, 1, 2 km²) the map's polygons are taken in rank order while they fit;
one that would overflow the budget is skipped and smaller ones after it are still
tried. For month *t* (see ``docs/hotspots.md`` and ``../shared/docs/EVALUATION.md``):

- hit rate = n / N: incidents of month *t* inside the selected polygons / all of them;
- PAI = hit rate / (a / A), with a the area used and A the study area;
- PEI = hit rate / the oracle's hit rate: the better of month *t*'s own best 100 m
  cells and its own busiest 25 m street-point discs (the best selection of that
  month's actual crimes any map of that area could have made).

Methods are strategies with one signature, ``method(train) -> list of polygons``,
``train`` a frame with ``easting, northing, month`` (and ``weight``):
:func:`grid_count`, :func:`kde_cells`, :func:`naive_dbscan`, :func:`street_points`
(the references) and :func:`recommended` (ours). Every method is given the same
history (all the months before the test month, ``all_history=True``); the references
defined on "the last 3 months" keep only those themselves (:func:`last_months`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from clic_geo._errors import ConfigError
from clic_geo.hotspots.cluster import DBSCAN
from clic_geo.hotspots.engine import HotspotFinder

__all__ = [
    "BUDGETS_KM2",
    "RECOMMENDED",
    "Window",
    "backtest",
    "choose_scale",
    "grid_count",
    "kde_cells",
    "last_months",
    "naive_dbscan",
    "recommended",
    "reference_methods",
    "rolling_windows",
    "select_within_budget",
    "street_points",
    "summarise",
]

log = logging.getLogger(__name__)

BUDGETS_KM2 = (0.25, 0.5, 1.0, 2.0)
CELL_M = 100.0
#: Radius of a street point's disc (metres): data.police.uk's resolution.
DISC_M = 25.0
#: Half-life (months) of the decayed street-point count, EVALUATION.md's reference.
STREET_HALF_LIFE = 3.0

#: The recommended forecast settings (chosen by the protocol in docs/hotspots.md).
#: ``eps_m="auto"``: the scale is chosen for each map from its own input
#: (:func:`choose_scale`), because no one scale suits both sparse layers (drugs)
#: and dense ones (violence, anti-social behaviour).
RECOMMENDED: Mapping[str, Any] = {
    "eps_m": "auto",
    "min_samples": 5,
    "buffer_m": 25.0,
    "concave_ratio": 0.3,
    "half_life_months": 3.0,
    "overhead_km2": 0.0,
    "patrol_km2": 0.005,
    "include_isolated": True,
}
#: The least a 15-minute foot stop covers (km²): one street segment, ~100 m of street
#: with its frontages (Koper; hot-spots trials use segments). An outline is ranked by
#: the expected crimes one stop covers: all of it up to this size, that share beyond.
PATROL_KM2 = RECOMMENDED["patrol_km2"]

Method = Callable[[pd.DataFrame], list[shapely.Geometry]]

#: The DBSCAN radii (metres) :func:`choose_scale` chooses among, smallest first.
SCALES_M: tuple[float, ...] = (75.0, 150.0, 300.0)
#: The radius used when the input cannot test the scales (one month, or a last
#: month with too few incidents): the smallest, best on every real layer tested.
FALLBACK_SCALE_M = 75.0
#: Incidents the input's last month needs for a scale test to mean anything.
MIN_SCALE_TEST_INCIDENTS = 10


@dataclass(frozen=True)
class Window:
    """One backtest step: build from ``train_months``, score ``test_month``."""

    test_month: str
    train_months: tuple[str, ...]


def rolling_windows(
    months: Sequence[str], lookback: int = 3, *, all_history: bool = False
) -> list[Window]:
    """Windows over the months present: each month after the first ``lookback``.

    The training months are the ``lookback`` months *present in the data* before
    the test month (every month before it with ``all_history``: the same test
    months, more history); where the data has gaps a window straddles them (as in
    EVALUATION.md's figures).

    >>> [w.test_month for w in rolling_windows(["2024-01", "2024-02", "2024-03", "2024-04"])]
    ['2024-04']
    """
    ms = sorted(set(months))
    return [
        Window(ms[i], tuple(ms[:i] if all_history else ms[i - lookback : i]))
        for i in range(lookback, len(ms))
    ]


def _month_index(months: pd.Series | np.ndarray) -> np.ndarray:
    """Months ("YYYY-MM") as a count of months (for ages)."""
    m = np.asarray(months).astype(str)
    return np.array([int(x[:4]) * 12 + int(x[5:7]) - 1 for x in m], dtype=np.int64)


def last_months(method: Method, k: int = 3) -> Method:
    """``method`` built on the last ``k`` months present in its input only."""

    def run(train: pd.DataFrame) -> list[shapely.Geometry]:
        keep = sorted(set(train["month"]))[-k:]
        return method(train[train["month"].isin(keep)])

    run.__name__ = f"{getattr(method, '__name__', 'method')}_last_{k}"
    return run


# --------------------------------------------------------------------------- cells


def _cells(e: np.ndarray, n: np.ndarray, cell_m: float) -> np.ndarray:
    return np.column_stack([np.floor(e / cell_m), np.floor(n / cell_m)]).astype(np.int64)


def _cell_polys(cells: np.ndarray, cell_m: float) -> list[shapely.Geometry]:
    x0, y0 = cells[:, 0] * cell_m, cells[:, 1] * cell_m
    return list(shapely.box(x0, y0, x0 + cell_m, y0 + cell_m))


def _count_cells(train: pd.DataFrame, cell_m: float) -> tuple[np.ndarray, np.ndarray]:
    c = _cells(train["easting"].to_numpy(), train["northing"].to_numpy(), cell_m)
    w = train["weight"].to_numpy() if "weight" in train else np.ones(len(train))
    uniq, inv = np.unique(c, axis=0, return_inverse=True)
    return uniq, np.bincount(inv.ravel(), weights=w)


def grid_count(train: pd.DataFrame, *, cell_m: float = CELL_M) -> list[shapely.Geometry]:
    """100 m cells ranked by count, ties broken by the 3x3 neighbourhood's count.

    Remaining ties go to the cell further south-west (a fixed, data-free order).
    """
    uniq, cnt = _count_cells(train, cell_m)
    if len(uniq) == 0:
        return []
    lookup = {tuple(c): v for c, v in zip(uniq.tolist(), cnt, strict=True)}
    smooth = np.array(
        [
            sum(lookup.get((a + i, b + j), 0.0) for i in (-1, 0, 1) for j in (-1, 0, 1))
            for a, b in uniq.tolist()
        ]
    )
    order = np.lexsort((uniq[:, 1], uniq[:, 0], -smooth, -cnt))
    return _cell_polys(uniq[order], cell_m)


def kde_cells(
    train: pd.DataFrame, *, bandwidth_m: float = 250.0, cell_m: float = CELL_M
) -> list[shapely.Geometry]:
    """100 m cells ranked by a Gaussian kernel density (bandwidth 250 m)."""
    uniq, cnt = _count_cells(train, cell_m)
    if len(uniq) == 0:
        return []
    pts = (uniq + 0.5) * cell_m
    r = int(np.ceil(3 * bandwidth_m / cell_m))
    off = np.array([(i, j) for i in range(-r, r + 1) for j in range(-r, r + 1)])
    cand = np.unique((uniq[:, None, :] + off[None, :, :]).reshape(-1, 2), axis=0)
    centres = (cand + 0.5) * cell_m
    tree = cKDTree(pts)
    dens = np.zeros(len(cand))
    for i, nb in enumerate(tree.query_ball_point(centres, 3 * bandwidth_m)):
        if nb:
            d2 = np.sum((pts[nb] - centres[i]) ** 2, axis=1)
            dens[i] = np.sum(cnt[nb] * np.exp(-d2 / (2 * bandwidth_m**2)))
    order = np.lexsort((cand[:, 1], cand[:, 0], -dens))
    return _cell_polys(cand[order], cell_m)


def street_points(
    train: pd.DataFrame,
    *,
    last: int | None = None,
    half_life_months: float | None = STREET_HALF_LIFE,
    radius_m: float = DISC_M,
    neighbourhood_m: float = 100.0,
) -> list[shapely.Geometry]:
    """A ``radius_m`` disc round every point that had a crime, ranked by its count.

    ``last``: only the last ``last`` months present (unweighted when
    ``half_life_months`` is None); otherwise every month, each crime weighted
    0.5^(age / ``half_life_months``), age in months before the newest month given.
    Ties (many points hold one or two crimes) go to the point with more weight within
    ``neighbourhood_m``, then to the more recent point, then south-west first.
    """
    df = train
    if last is not None:
        keep = sorted(set(df["month"]))[-last:]
        df = df[df["month"].isin(keep)]
    if len(df) == 0:
        return []
    w = df["weight"].to_numpy(float) if "weight" in df else np.ones(len(df))
    mi = _month_index(df["month"])
    if half_life_months:
        w = w * 0.5 ** ((mi.max() - mi) / half_life_months)
    xy = np.round(df[["easting", "northing"]].to_numpy(float), 1)
    uniq, inv = np.unique(xy, axis=0, return_inverse=True)
    inv = inv.ravel()
    cnt = np.bincount(inv, weights=w)
    newest = np.zeros(len(uniq), dtype=np.int64)
    np.maximum.at(newest, inv, mi)
    tree = cKDTree(uniq)
    near = np.array([cnt[nb].sum() for nb in tree.query_ball_point(uniq, neighbourhood_m)])
    # rounding keeps float noise in decayed sums from breaking ties at random
    order = np.lexsort((uniq[:, 1], uniq[:, 0], -newest, -np.round(near, 9), -np.round(cnt, 9)))
    return list(shapely.buffer(shapely.points(uniq[order]), radius_m, quad_segs=8))


def naive_dbscan(
    train: pd.DataFrame, *, eps_m: float = 200.0, min_samples: float = 5, buffer_m: float = 100.0
) -> list[shapely.Geometry]:
    """DBSCAN 200 m / 5 (weighted), convex hull + 100 m buffer, ranked by count per km²."""
    xy = train[["easting", "northing"]].to_numpy()
    if len(xy) == 0:
        return []
    lab = DBSCAN(eps_m=eps_m, min_samples=min_samples).fit(xy).labels_
    out = []
    for k in range(int(lab.max(initial=-1)) + 1):
        m = lab == k
        g = shapely.convex_hull(shapely.multipoints(xy[m])).buffer(buffer_m)
        out.append((m.sum() / (g.area / 1e6), g))
    out.sort(key=lambda t: -t[0])
    return [g for _, g in out]


def choose_scale(
    incidents: pd.DataFrame,
    *,
    scales_m: Sequence[float] = SCALES_M,
    budget_km2: float = 1.0,
    **params: Any,
) -> float:
    """The DBSCAN radius that best forecasts the input's own latest month.

    The test month is the input's latest month with at least
    :data:`MIN_SCALE_TEST_INCIDENTS` incidents (so a month that has only just begun
    is passed over). Each radius in ``scales_m`` builds a map from the months before
    it and is scored by how many of the test month's incidents fall in its best
    ``budget_km2`` (hit rate, as the backtest scores). The best wins; ties go to the
    smaller radius. Only the input is used, never the month being forecast, so a
    backtest of the recommended map stays honest. With no testable month,
    :data:`FALLBACK_SCALE_M`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> spots = rng.uniform(0, 20_000, (40, 2))
    >>> xy = np.repeat(spots, 12, axis=0) + rng.normal(0, 20, (480, 2))
    >>> df = pd.DataFrame({"easting": xy[:, 0] + 300_000, "northing": xy[:, 1] + 500_000,
    ...                    "month": np.tile(["2024-01", "2024-02", "2024-03"], 160)})
    >>> choose_scale(df) in SCALES_M
    True
    """
    counts = incidents["month"].value_counts() if len(incidents) else pd.Series(dtype=int)
    months = sorted(counts.index)
    # the test month: the latest with enough incidents and a month before it (a month
    # that has only just begun, as live data has, is left out of the test)
    testable = [m for m in months[1:] if counts[m] >= MIN_SCALE_TEST_INCIDENTS]
    if not testable:
        return FALLBACK_SCALE_M
    test_month = testable[-1]
    fit = incidents[incidents["month"] < test_month]
    check = incidents[incidents["month"] == test_month]
    e, n = check["easting"].to_numpy(float), check["northing"].to_numpy(float)
    params = {k: v for k, v in params.items() if k != "eps_m"}  # the radius is what varies
    best, best_hit = FALLBACK_SCALE_M, -1.0
    for eps in scales_m:
        chosen, _ = select_within_budget(recommended(fit, **{**params, "eps_m": eps}), budget_km2)
        hit = float(shapely.contains_xy(chosen, e, n).mean())
        if hit > best_hit + 1e-12:
            best, best_hit = float(eps), hit
    log.debug("scale %s m chosen (hit rate %.3f on %s)", best, best_hit, months[-1])
    return best


def recommended(train: pd.DataFrame, **params: Any) -> list[shapely.Geometry]:
    """Our forecast map: :class:`~clic_geo.hotspots.engine.HotspotFinder` with ``RECOMMENDED``.

    ``eps_m="auto"`` (the default) chooses the radius from ``train`` itself
    (:func:`choose_scale`).
    """
    from clic_geo.geo.crs import BNG

    p = {**RECOMMENDED, **params, "n_simulations": 0}
    if len(train) == 0:
        return []
    if p["eps_m"] == "auto":
        p["eps_m"] = choose_scale(train, **p)
    hs = HotspotFinder(**p).fit(train).hotspots_
    return list(hs.to_crs(BNG).geometry)


#: Names of the two street-point references (EVALUATION.md).
STREET_3 = "street points, 3 months"
STREET_DECAYED = "street points, decayed"


def reference_methods() -> dict[str, Method]:
    """The reference methods of EVALUATION.md, by name; each given all the history, the
    ones defined on the last 3 months keep only those."""
    return {
        STREET_3: partial(street_points, last=3, half_life_months=None),
        STREET_DECAYED: street_points,
        "grid count": last_months(grid_count),
        "KDE 250 m": last_months(kde_cells),
        "naive DBSCAN": last_months(naive_dbscan),
    }


# --------------------------------------------------------------------------- scoring


def select_within_budget(
    polys: Sequence[shapely.Geometry], budget_km2: float
) -> tuple[shapely.Geometry, float]:
    """The union of polygons taken in rank order while they fit, and its area (km²)."""
    chosen, used = [], 0.0
    for g in polys:
        a = g.area / 1e6
        if used + a <= budget_km2 + 1e-9:
            chosen.append(g)
            used += a
        if used >= budget_km2 - 1e-6:
            break
    if not chosen:
        return shapely.Polygon(), 0.0
    return shapely.union_all(chosen), used


def _oracle_hits(test: pd.DataFrame, budget_km2: float, cell_m: float = CELL_M) -> int:
    """The best any map of ``budget_km2`` could catch of ``test``: its busiest 100 m
    cells or its busiest 25 m discs (street points), whichever catches more."""
    _, cnt = _count_cells(test.assign(weight=1.0), cell_m)
    k = round(budget_km2 * 1e6 / cell_m**2)
    cells = int(np.sort(cnt)[::-1][:k].sum())
    xy = np.round(test[["easting", "northing"]].to_numpy(float), 1)
    _, per_point = np.unique(xy, axis=0, return_counts=True)
    disc_km2 = shapely.buffer(shapely.Point(0, 0), DISC_M, quad_segs=8).area / 1e6
    discs = int(np.sort(per_point)[::-1][: int(budget_km2 / disc_km2)].sum())
    return max(cells, discs)


def backtest(
    incidents: pd.DataFrame,
    *,
    methods: Mapping[str, Method] | None = None,
    budgets_km2: Sequence[float] = BUDGETS_KM2,
    lookback: int = 3,
    all_history: bool = True,
    study_area: shapely.Geometry | None = None,
    study_area_km2: float | None = None,
    windows: Sequence[Window] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> pd.DataFrame:
    """Rolling forecast test: build each method's map from months t-k..t-1, score month t.

    Parameters
    ----------
    incidents : DataFrame
        Points with ``easting``, ``northing`` (metres, EPSG:27700) and ``month``.
    methods : mapping name -> method, optional
        Default: ``ours`` (:func:`recommended`) and :func:`reference_methods`.
    budgets_km2 : sequence of float
        Map areas at which the methods are compared.
    lookback : int
        Months of history a test month needs (and per map, without ``all_history``).
    all_history : bool
        Give every method all the months before the test month (default), the same
        history for each; the references defined on 3 months keep only those.
    study_area : shapely geometry (EPSG:27700), optional
        Incidents outside it are dropped; its area is A of the PAI.
    study_area_km2 : float, optional
        A when no ``study_area`` is given (default: the convex hull of the points).
    windows : sequence of Window, optional
        Default :func:`rolling_windows`.
    progress : callable(i, n, label), optional
        Called before each window.

    Returns
    -------
    DataFrame
        One row per window, method and budget: ``test_month, method, budget_km2,
        n_test, hits, hit_rate, area_km2, pai, pei``.
    """
    for c in ("easting", "northing", "month"):
        if c not in incidents:
            raise ConfigError(f"backtest needs a {c!r} column; got {list(incidents.columns)}")
    df = incidents[["easting", "northing", "month"]].copy()
    df["weight"] = incidents["weight"].to_numpy() if "weight" in incidents else 1.0
    df = df[np.isfinite(df["easting"]) & np.isfinite(df["northing"])]
    if study_area is not None:
        df = df[
            shapely.contains_xy(study_area, df["easting"].to_numpy(), df["northing"].to_numpy())
        ]
        a_km2 = study_area.area / 1e6
    elif study_area_km2 is not None:
        a_km2 = float(study_area_km2)
    else:
        a_km2 = shapely.convex_hull(shapely.multipoints(df[["easting", "northing"]].to_numpy()))
        a_km2 = max(a_km2.area / 1e6, 1.0)
    methods = dict(methods) if methods is not None else {"ours": recommended, **reference_methods()}
    wins = (
        list(windows)
        if windows is not None
        else rolling_windows(df["month"], lookback, all_history=all_history)
    )
    rows = []
    for i, w in enumerate(wins, 1):
        if progress:
            progress(i, len(wins), w.test_month)
        train = df[df["month"].isin(w.train_months)]
        test = df[df["month"] == w.test_month]
        if test.empty:
            continue
        te, tn = test["easting"].to_numpy(), test["northing"].to_numpy()
        oracle = {b: _oracle_hits(test, b) for b in budgets_km2}
        for name, method in methods.items():
            polys = method(train)
            for b in budgets_km2:
                union, used = select_within_budget(polys, b)
                hits = int(shapely.contains_xy(union, te, tn).sum()) if used else 0
                rate = hits / len(test)
                rows.append(
                    {
                        "test_month": w.test_month,
                        "method": name,
                        "budget_km2": b,
                        "n_test": len(test),
                        "hits": hits,
                        "hit_rate": rate,
                        "area_km2": used,
                        "pai": rate / (used / a_km2) if used else 0.0,
                        "pei": hits / oracle[b] if oracle[b] else np.nan,
                    }
                )
    return pd.DataFrame(
        rows,
        columns=[
            "test_month",
            "method",
            "budget_km2",
            "n_test",
            "hits",
            "hit_rate",
            "area_km2",
            "pai",
            "pei",
        ],
    )


def summarise(results: pd.DataFrame, *, baseline: str = "grid count") -> pd.DataFrame:
    """Per method and budget: mean, median, min and max hit rate, mean PAI and PEI, and
    in how many months the method beat / tied / lost to ``baseline`` on hit rate."""
    if results.empty:
        return pd.DataFrame()
    base = results[results["method"] == baseline].set_index(["test_month", "budget_km2"])[
        "hit_rate"
    ]
    out = []
    for (m, b), g in results.groupby(["method", "budget_km2"], sort=False):
        diff = g.set_index(["test_month", "budget_km2"])["hit_rate"] - base.reindex(
            g.set_index(["test_month", "budget_km2"]).index
        )
        out.append(
            {
                "method": m,
                "budget_km2": b,
                "months": len(g),
                "hit_mean": g["hit_rate"].mean(),
                "hit_median": g["hit_rate"].median(),
                "hit_min": g["hit_rate"].min(),
                "hit_max": g["hit_rate"].max(),
                "pai_mean": g["pai"].mean(),
                "pei_mean": g["pei"].mean(),
                "wins": int((diff > 1e-12).sum()),
                "ties": int((diff.abs() <= 1e-12).sum()),
                "losses": int((diff < -1e-12).sum()),
            }
        )
    return pd.DataFrame(out)


def with_params(**params: Any) -> Method:
    """:func:`recommended` with some settings changed (for tuning)."""
    return partial(recommended, **params)
