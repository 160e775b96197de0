"""Next month's expected crimes: at each street point, then in each walkable outline.

The forecast (:func:`point_forecast`) gives every recorded location (a data.police.uk
snap point) a score for next month from

- its own crimes of every month given, each weighted 0.5^(age / ``half_life_months``)
  (or, with ``self_model="etas"``, the expectation of a self-exciting process fitted
  by EM to them: :mod:`clic_geo.hotspots.etas`);
- **leading indicators**: the crimes of *other* layers at the same place (for drugs:
  violence and anti-social behaviour), weighted ``indicator_weight`` each, decayed
  the same way. Drug crime is mostly found where people and trouble already are,
  and those layers are ten times denser, so they show busy places drugs have not
  reached *yet* in the record;
- optionally a **near-repeat** share (``near_repeat_weight``) of the scores within
  ``near_repeat_m``.

Scores are made expected counts by one factor fitted on the input itself: the
forecast built from all but the newest month, against what the newest month
recorded within 25 m of the scored points (:func:`calibration`).

The sergeant's unit stays a DBSCAN outline (:func:`forecast_units`): the recommended
map's walkable polygons, each cluster split into its frontages (its points whose 25 m
discs touch: ``frontages``), and 25 m discs round lone busy spots, including those only
the indicators point at, each with the expected crimes of the points inside it;
ranked by expected crimes per patrol (:func:`patrol_priority`). The backtest
(:func:`model_method`) scores exactly that ordering.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy import stats
from scipy.spatial import cKDTree

from clic_geo.hotspots.backtest import DISC_M, PATROL_KM2, Method, _month_index, recommended
from clic_geo.hotspots.cluster import disjoint_discs
from clic_geo.hotspots.engine import patrol_priority

__all__ = [
    "ForecastSettings",
    "calibration",
    "expected_in_words",
    "forecast_units",
    "model_method",
    "patrol_priority",
    "point_forecast",
]


@dataclass(frozen=True)
class ForecastSettings:
    """What the point forecast uses (chosen by the protocol in docs/hotspots.md)."""

    half_life_months: float | None = 3.0
    self_model: str = "decay"  # or "etas"
    indicator_weight: float = 0.3
    indicator_half_life_months: float | None = 3.0
    near_repeat_weight: float = 0.0
    near_repeat_m: float = 100.0
    patrol_km2: float = PATROL_KM2
    #: the outlines' shape: None = each DBSCAN cluster drawn as its points' 25 m discs
    #: (no area spent between spots), else the concave hull ratio of the plain map
    concave_ratio: float | None = None
    #: each cluster split into its frontages (its spots joined by steps of at most
    #: ``frontage_reach_m``), each a unit of its own (``HotspotFinder(frontages=True)``)
    frontages: bool = True
    #: 12.5 m (chosen by the held-out protocol on every real month of anti-social
    #: behaviour and violence): a unit is one data.police.uk snap point, i.e. the street
    #: or place its crimes were snapped to, with any point closer than 12.5 m; units'
    #: outlines are cut where a neighbour's point is nearer, so they never overlap
    #: (docs/hotspots.md, "The shipped units"). None: 2 x buffer_m
    frontage_reach_m: float | None = 12.5

    def outlines(self) -> dict[str, Any]:
        """The map settings (``HotspotFinder``'s) that draw this forecast's units."""
        return {
            "concave_ratio": self.concave_ratio,
            "frontages": self.frontages,
            "frontage_reach_m": self.frontage_reach_m,
        }


def _points(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    xy = np.round(frame[["easting", "northing"]].to_numpy(float), 1)
    uniq, inv = np.unique(xy, axis=0, return_inverse=True)
    return uniq, inv.ravel()


def _decayed(frame: pd.DataFrame, newest: int, half_life: float | None) -> np.ndarray:
    w = frame["weight"].to_numpy(float) if "weight" in frame else np.ones(len(frame))
    if half_life:
        w = w * 0.5 ** ((newest - _month_index(frame["month"])) / half_life)
    return w


def point_forecast(
    train: pd.DataFrame,
    indicators: pd.DataFrame | None = None,
    settings: ForecastSettings = ForecastSettings(),
) -> pd.DataFrame:
    """A score per location for the month after ``train``'s newest (higher = more crime).

    ``indicators``: other layers' crimes (``easting, northing, month``); only months
    up to ``train``'s newest are used, so a backtest never sees the month it scores.
    Returns ``easting, northing, score, own`` (``own``: the location's own part).
    """
    if len(train) == 0:
        return pd.DataFrame(columns=["easting", "northing", "score", "own"])
    newest = int(_month_index(train["month"]).max())
    pts, inv = _points(train)
    if settings.self_model == "etas":
        from clic_geo.hotspots.etas import fit_etas_months

        fit, start = fit_etas_months(train, location_codes=inv, n_locations=len(pts))
        own = fit.expected(start)
    else:
        own = np.bincount(inv, _decayed(train, newest, settings.half_life_months))
    parts = [pd.DataFrame({"easting": pts[:, 0], "northing": pts[:, 1], "own": own, "ind": 0.0})]
    if indicators is not None and len(indicators) and settings.indicator_weight > 0:
        ind = indicators[_month_index(indicators["month"]) <= newest]
        if len(ind):
            ip, iinv = _points(ind)
            w = np.bincount(iinv, _decayed(ind, newest, settings.indicator_half_life_months))
            parts.append(pd.DataFrame({"easting": ip[:, 0], "northing": ip[:, 1], "own": 0.0}))
            parts[-1]["ind"] = w
    out = pd.concat(parts).groupby(["easting", "northing"], as_index=False).sum()
    out["score"] = out["own"] + settings.indicator_weight * out["ind"]
    if settings.near_repeat_weight > 0 and len(out):
        xy = out[["easting", "northing"]].to_numpy()
        s = out["score"].to_numpy()
        near = np.array(
            [s[nb].sum() for nb in cKDTree(xy).query_ball_point(xy, settings.near_repeat_m)]
        )
        out["score"] = s + settings.near_repeat_weight * (near - s)
    return out[["easting", "northing", "score", "own"]]


def calibration(
    train: pd.DataFrame,
    indicators: pd.DataFrame | None = None,
    settings: ForecastSettings = ForecastSettings(),
) -> float:
    """Crimes per unit of score: the forecast from all but ``train``'s newest month,
    against the newest month's crimes within 25 m of the scored points. 0 when the
    input has one month only (then no count is claimed)."""
    months = sorted(set(train["month"]))
    if len(months) < 2:
        return 0.0
    before = point_forecast(train[train["month"] < months[-1]], indicators, settings)
    last = train[train["month"] == months[-1]]
    if before.empty or before["score"].sum() <= 0:
        return 0.0
    tree = cKDTree(before[["easting", "northing"]].to_numpy())
    d, _ = tree.query(last[["easting", "northing"]].to_numpy(float))
    return float((d <= DISC_M).sum() / before["score"].sum())


def forecast_units(
    train: pd.DataFrame,
    indicators: pd.DataFrame | None = None,
    settings: ForecastSettings = ForecastSettings(),
    *,
    polygons: Sequence[shapely.Geometry] | None = None,
    **map_params: Any,
) -> pd.DataFrame:
    """The walkable units with their expected crimes next month, best first.

    ``polygons``: the outlines (EPSG:27700) to score, default the recommended map of
    ``train`` (DBSCAN outlines and lone spots). Locations only the indicators point at
    that fall in no outline become 25 m discs. Returns ``geometry, area_km2, score,
    expected, priority, unit`` (expected crimes per patrol; ``unit``: the position in
    ``polygons``, or -1 for a disc added for an indicator), ranked.
    """
    if polygons is None:
        polygons = recommended(train, **{**settings.outlines(), **map_params})
    polys = list(polygons)
    pf = point_forecast(train, indicators, settings)
    if pf.empty:
        return pd.DataFrame(
            columns=["geometry", "area_km2", "score", "expected", "priority", "unit"]
        )
    xy = pf[["easting", "northing"]].to_numpy()
    score = pf["score"].to_numpy()
    covered = np.zeros(len(pf), bool)
    unit_score = np.zeros(len(polys))
    if polys:
        tree = shapely.STRtree(polys)
        pi, gi = tree.query(shapely.points(xy), predicate="intersects")
        # a point inside two outlines counts in the first (the forecast's own outlines
        # never overlap; a hull map's barely do)
        first = pd.Series(gi).groupby(pi).min()
        unit_score = np.bincount(first.to_numpy(), score[first.index], minlength=len(polys))
        covered[first.index] = True
    extra = ~covered & (score > 0)
    discs = _indicated_discs(xy[extra], polys)
    geoms = [*polys, *discs]
    s = np.r_[unit_score, score[extra]]
    area = shapely.area(np.array(geoms, dtype=object)) / 1e6 if geoms else np.zeros(0)
    k = calibration(train, indicators, settings)
    out = pd.DataFrame({"geometry": geoms, "area_km2": area, "score": s, "expected": k * s})
    out["unit"] = np.r_[np.arange(len(polys)), np.full(int(extra.sum()), -1)]
    out["priority"] = patrol_priority(out["score"], out["area_km2"], settings.patrol_km2)
    order = np.lexsort((np.arange(len(out)), -out["score"].to_numpy(), -out["priority"]))
    return out.iloc[order].reset_index(drop=True)


def _indicated_discs(xy: np.ndarray, polys: Sequence[shapely.Geometry]) -> list:
    """25 m discs round places only the indicators point at, disjoint from each other
    (:func:`~.cluster.disjoint_discs`) and from the map's outlines (which none of
    these places is in), so no crime is scored or counted in two units."""
    if len(xy) == 0:
        return []
    discs = disjoint_discs(xy, np.arange(len(xy)), DISC_M)
    if polys:
        di, pj = shapely.STRtree(polys).query(discs, predicate="intersects")
        for i, g in pd.Series(pj).groupby(di):
            discs[i] = shapely.difference(discs[i], shapely.union_all([polys[j] for j in g]))
    return list(discs)


def model_method(
    indicators: pd.DataFrame | None = None,
    settings: ForecastSettings = ForecastSettings(),
    **map_params: Any,
) -> Method:
    """The forecast as a backtest method: its units in the map's own order."""

    def run(train: pd.DataFrame) -> list[shapely.Geometry]:
        units = forecast_units(train, indicators, settings, **map_params)
        return list(units.loc[units["score"] > 0, "geometry"])

    return run


def with_settings(base: ForecastSettings, changes: Mapping[str, Any]) -> ForecastSettings:
    """``base`` with some fields changed (for the tuning grid)."""
    return replace(base, **dict(changes))


def expected_in_words(expected: float) -> str:
    """A count and its uncertainty as a sergeant would say it (Poisson, 80 % range).

    >>> expected_in_words(4.2)
    'about 4 next month (likely 2 to 7)'
    >>> expected_in_words(0.3)
    'under 1 next month (most likely none)'
    """
    if not np.isfinite(expected) or expected <= 0:
        return "no forecast (too little history)"
    if expected < 0.5:
        return "under 1 next month (most likely none)"
    lo, hi = (int(x) for x in stats.poisson.ppf([0.1, 0.9], expected))
    n = max(1, round(expected))
    if lo == hi:
        return f"about {n} next month"
    return f"about {n} next month (likely {lo} to {hi})"


def add_expected(hotspots: pd.DataFrame, half_life_months: float | None) -> pd.DataFrame:
    """The map with ``expected`` (crimes next month) and ``expected_words`` added.

    A hotspot's expected count is its recency-weighted average monthly count over the
    months of its ``history`` that the map has data for (a month with no incident in
    any hotspot is a gap in the record and is left out), weights 0.5^(age /
    ``half_life_months``), the same decay as the score that ranks it. It needs only the
    map, so the single-process and the Dask maps get the same figures.
    """
    out = hotspots.copy()
    if len(out) == 0:
        out["expected"] = pd.Series(dtype=float)
        out["expected_words"] = pd.Series(dtype=object)
        return out
    rows = [[int(x) for x in str(h).split(",") if x != ""] for h in out["history"]]
    width = max(len(r) for r in rows)
    hist = np.array([[0] * (width - len(r)) + r for r in rows], dtype=float)
    seen = hist.sum(axis=0) > 0
    age = np.arange(width)[::-1]
    w = np.where(seen, 0.5 ** (age / half_life_months) if half_life_months else 1.0, 0.0)
    exp = hist @ w / w.sum() if w.sum() > 0 else np.zeros(len(out))
    out["expected"] = np.round(exp, 2)
    out["expected_words"] = [expected_in_words(x) for x in exp]
    return out


def with_indicators(
    hotspots: Any,
    incidents: pd.DataFrame,
    indicators: pd.DataFrame,
    settings: ForecastSettings = ForecastSettings(),
) -> Any:
    """The map (WGS84 GeoDataFrame) rescored by the point forecast with leading indicators.

    Each outline's ``score`` becomes its forecast score, ``expected`` the calibrated
    expected crimes next month (:func:`calibration`), ``priority`` per patrol; places
    only the indicators point at are added as 25 m discs of ``kind="indicated"``
    (no crime of the map's own kind yet); everything is ranked again, in the order
    :func:`model_method` scores in the backtest.
    """
    import geopandas as gpd

    from clic_geo.geo.crs import BNG

    bng = hotspots.to_crs(BNG)
    units = forecast_units(incidents, indicators, settings, polygons=list(bng.geometry))
    units = units[units["score"] > 0].reset_index(drop=True)
    own = units[units["unit"] >= 0]
    out = hotspots.iloc[own["unit"].to_numpy()].reset_index(drop=True)
    extra = units[units["unit"] < 0]
    if len(extra):
        add = pd.DataFrame(index=range(len(extra)), columns=out.columns)
        for c in out.columns:
            if c.startswith("n_") or c in ("weight",):
                add[c] = 0
        width = len(str(out["history"].iloc[0]).split(",")) if len(out) else 1
        add = add.assign(
            kind="indicated",
            n_locations=1,
            trend="no_pattern",
            significant=False,
            p_value=np.nan,
            history=",".join(["0"] * width),
        )
        add = gpd.GeoDataFrame(add, geometry=list(extra["geometry"]), crs=BNG).to_crs(4326)
        out = pd.concat([out, add], ignore_index=True)
    ordered = pd.concat([own, extra], ignore_index=True)
    order = np.lexsort((np.arange(len(ordered)), -ordered["score"], -ordered["priority"]))
    out = out.iloc[order].reset_index(drop=True)
    ordered = ordered.iloc[order].reset_index(drop=True)
    out["score"] = ordered["score"].to_numpy()
    out["area_km2"] = ordered["area_km2"].to_numpy()
    out["priority"] = ordered["priority"].to_numpy()
    out["rank"] = np.arange(1, len(out) + 1, dtype=np.int64)
    out["hotspot_id"] = [f"HS{r:04d}" for r in out["rank"]]
    out["expected"] = np.round(ordered["expected"].to_numpy(float), 2)
    out["expected_words"] = [expected_in_words(x) for x in ordered["expected"]]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=hotspots.crs)
