"""The hotspot engine: cluster a point layer, draw polygons, score, test and rank them.

>>> import geopandas as gpd
>>> from clic_geo.hotspots.engine import find_hotspots
>>> hs = find_hotspots(layer)                                  # doctest: +SKIP
>>> hs[["hotspot_id", "rank", "score", "trend", "geometry"]]   # doctest: +SKIP

Steps, each in metres in British National Grid (EPSG:27700):

1. group the points by operating area (``area_id``) and resolve each area's
   parameters: keyword > the area file's ``"hotspots"`` property > data-driven
   default (``eps_m`` from the weighted k-distance knee of that area's points);
2. cluster with a strategy from :mod:`clic_geo.hotspots.cluster` (DBSCAN, ST-DBSCAN or
   HDBSCAN; duplicates collapsed into ``sample_weight``);
3. draw each cluster as the concave hull of its distinct points plus ``buffer_m``
   (one or two distinct points give a disc or a capsule, never an empty shape);
4. per hotspot: counts by category, weighted and recency-weighted score, distinct
   locations, first and last seen, area, a Monte Carlo p-value and the monthly
   history's trend (:mod:`clic_geo.hotspots.trends`);
5. rank: 1 = go here first, by score per km² of effort (the hotspot's area plus a
   fixed ``overhead_km2`` for getting there and back, so a single busy doorstep
   does not outrank a busy street); or, with ``patrol_km2``, by the score one foot
   patrol covers: all of an outline up to ``patrol_km2``, that share of a larger one
   (a minimum useful size, not a density: Koper's 15-minute stops).

The output is in WGS84 with the columns of :class:`~clic_geo.schema.Col`
(``hotspot_id``, ``rank``, ``score``, ``trend``, ``geometry``) plus statistics.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sklearn.base import BaseEstimator

from clic_geo._errors import ConfigError
from clic_geo.geo.crs import WGS84, to_wgs84
from clic_geo.hotspots.cluster import (
    DBSCAN,
    _row_codes,
    disjoint_discs,
    frontage_labels,
    k_distance_knee,
    make_clusterer,
)
from clic_geo.hotspots.layers import points_bng
from clic_geo.hotspots.trends import _days, _month_index, classify_trends, month_range
from clic_geo.ingest.parse import strftime_distinct
from clic_geo.schema import Col

__all__ = [
    "HOTSPOT_COLUMNS",
    "AreaParams",
    "HotspotFinder",
    "area_hotspot_params",
    "find_hotspots",
]

log = logging.getLogger(__name__)

#: Columns every hotspot frame has, in order (category counts ``n_<category>`` follow).
HOTSPOT_COLUMNS = [
    Col.HOTSPOT_ID,
    Col.RANK,
    Col.SCORE,
    Col.TREND,
    Col.AREA,
    "kind",
    "n_incidents",
    "weight",
    "n_locations",
    "first_seen",
    "last_seen",
    "area_km2",
    "priority",
    "p_value",
    "significant",
    "history",
]
_OTHER = "other"


@dataclass(frozen=True)
class AreaParams:
    """Parameters resolved for one area (what was used, and where it came from)."""

    area_id: str
    eps_m: float
    min_samples: float
    buffer_m: float
    source: str
    n_points: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)


class HotspotFinder(BaseEstimator):
    """Find, describe and rank hotspots in a point layer.

    Parameters
    ----------
    method : str
        ``"dbscan"`` (default), ``"st-dbscan"`` or ``"hdbscan"``.
    eps_m : float, optional
        Neighbourhood radius (DBSCAN, ST-DBSCAN). Default: the k-distance knee of
        each area's points (``k = min_samples``), clipped to 80-400 m.
    min_samples : float
        Weighted count that makes a core point (also HDBSCAN's smallest cluster).
    eps_days : float
        ST-DBSCAN's time radius.
    buffer_m : float
        Margin drawn around each hotspot's points, metres.
    concave_ratio : float, optional
        0 = tightest concave hull, 1 = convex hull; None = no hull: the ``buffer_m`` discs
        round the points, cut where another point is nearer (:func:`~.cluster.disjoint_discs`).
    half_life_months : float, optional
        Recency weighting of the score: an incident ``h`` months older than the
        newest month counts half. None = no decay.
    overhead_km2 : float
        Fixed effort added to each hotspot's area when ranking.
    patrol_km2 : float, optional
        Rank by the score one patrol of this area covers (score x min(1,
        patrol_km2 / area)), every kind of hotspot together; None = by score per
        km² of effort (``overhead_km2``), isolated locations last.
    include_isolated : bool
        Also return locations left out of every cluster, as ``kind="isolated"``
        hotspots ranked after the clusters (the forecast map uses them).
    frontages, frontage_reach_m : bool, float
        Split each cluster into its frontages (:func:`~.cluster.frontage_labels`), each a
        hotspot of its own: its points joined by steps of at most ``frontage_reach_m``
        (None: ``2 x buffer_m``, the points' discs touch).
    n_simulations : int
        Monte Carlo runs for the p-values (0 = skip, p-value NaN).
    alpha : float
        Significance level of ``significant`` and of the trend tests.
    area_params : mapping, optional
        ``{area_id: {"eps_m": ..., "min_samples": ..., "buffer_m": ...}}``, e.g.
        from :func:`area_hotspot_params`: an area's own settings win over the
        keywords above, which are the defaults for every area.
    random_state : int
        Seed of the Monte Carlo test.

    Attributes
    ----------
    hotspots_ : GeoDataFrame
        The hotspots (WGS84), ranked.
    labels_ : ndarray
        ``hotspot_id`` of every input point (None when in none).
    params_ : dict
        :class:`AreaParams` per area, as used.
    timings_ : dict
        Seconds spent per stage of the last ``fit``: ``prepare``, ``cluster`` (radius
        choice and clustering), ``polygons``, ``significance`` (Monte Carlo) and
        ``statistics`` (counts, trends, ranking, back to WGS84).
    """

    def __init__(
        self,
        method: str = "dbscan",
        *,
        eps_m: float | None = None,
        min_samples: float = 5,
        eps_days: float = 10.0,
        buffer_m: float = 25.0,
        concave_ratio: float | None = 0.3,
        half_life_months: float | None = None,
        overhead_km2: float = 0.01,
        patrol_km2: float | None = None,
        include_isolated: bool = False,
        frontages: bool = False,
        frontage_reach_m: float | None = None,
        n_simulations: int = 99,
        alpha: float = 0.05,
        area_params: Mapping[str, Mapping[str, Any]] | None = None,
        random_state: int = 0,
    ) -> None:
        self.method = method
        self.eps_m = eps_m
        self.min_samples = min_samples
        self.eps_days = eps_days
        self.buffer_m = buffer_m
        self.concave_ratio = concave_ratio
        self.half_life_months = half_life_months
        self.overhead_km2 = overhead_km2
        self.patrol_km2 = patrol_km2
        self.include_isolated = include_isolated
        self.frontages = frontages
        self.frontage_reach_m = frontage_reach_m
        self.n_simulations = n_simulations
        self.alpha = alpha
        self.area_params = area_params
        self.random_state = random_state

    # ------------------------------------------------------------------ checks

    def _validate(self) -> None:
        problems = []
        for name in ("min_samples", "buffer_m", "eps_days"):
            v = getattr(self, name)
            if not isinstance(v, int | float) or not np.isfinite(v) or v <= 0:
                problems.append(f"{name} must be a positive number, got {v!r}")
        if self.eps_m is not None and (not np.isfinite(self.eps_m) or self.eps_m <= 0):
            problems.append(f"eps_m must be a positive number of metres, got {self.eps_m!r}")
        if self.concave_ratio is not None and not 0 <= self.concave_ratio <= 1:
            problems.append(f"concave_ratio must be between 0 and 1, got {self.concave_ratio!r}")
        if self.half_life_months is not None and self.half_life_months <= 0:
            problems.append(f"half_life_months must be positive, got {self.half_life_months!r}")
        if self.overhead_km2 < 0:
            problems.append(f"overhead_km2 must be >= 0, got {self.overhead_km2!r}")
        if self.frontage_reach_m is not None and not self.frontage_reach_m > 0:
            problems.append(f"frontage_reach_m must be positive, got {self.frontage_reach_m!r}")
        if self.patrol_km2 is not None and not self.patrol_km2 > 0:
            problems.append(f"patrol_km2 must be positive, got {self.patrol_km2!r}")
        if self.n_simulations < 0:
            problems.append(f"n_simulations must be >= 0, got {self.n_simulations!r}")
        if self.method.lower().replace("_", "-") not in ("dbscan", "st-dbscan", "hdbscan"):
            problems.append(
                f"method must be 'dbscan', 'st-dbscan' or 'hdbscan', got {self.method!r}"
            )
        if problems:
            raise ConfigError("invalid hotspot parameters: " + "; ".join(problems))

    def _resolve(self, area_id: str, xy: np.ndarray, w: np.ndarray) -> AreaParams:
        given = dict((self.area_params or {}).get(area_id, {}))
        unknown = set(given) - {"eps_m", "min_samples", "buffer_m"}
        if unknown:
            raise ConfigError(
                f"area {area_id!r}: unknown hotspot setting(s) {sorted(unknown)}; "
                "valid: eps_m, min_samples, buffer_m"
            )
        ms = float(given.get("min_samples", self.min_samples))
        buf = float(given.get("buffer_m", self.buffer_m))
        if "eps_m" in given:
            eps, src = float(given["eps_m"]), "area file"
        elif self.eps_m is not None:
            eps, src = float(self.eps_m), "argument"
        else:
            eps, src = k_distance_knee(xy, w, k=ms), "k-distance knee"
        return AreaParams(area_id, eps, ms, buf, src, len(xy))

    # ------------------------------------------------------------------ fit

    def fit(self, X: gpd.GeoDataFrame, y: Any = None, *, context: Any = None) -> HotspotFinder:
        """Find the hotspots of a point layer (see :func:`clic_geo.hotspots.layers.build_layer`).

        ``X`` needs point geometry with a CRS (or ``easting``/``northing``), and may
        have ``weight``, ``category``, ``month``/``occurred_at`` and ``area_id``.
        ``context``: when ``X`` is one partition of a larger run, months, decay and
        trend backgrounds from the whole (:class:`clic_geo.hotspots.partition.FitContext`).
        """
        self._validate()
        self._fit_context = context
        # one line per clustering run: the app's cache is judged by counting these
        # (CLIC_LOG=debug; benchmarks/bench_map_page.py, tests/test_map_cache.py)
        log.debug("hotspot clustering run: %d points", len(X))
        self.timings_: dict[str, float] = dict.fromkeys(
            ("prepare", "cluster", "polygons", "significance", "statistics"), 0.0
        )
        t0 = time.perf_counter()
        e, n = points_bng(X)
        ok = np.isfinite(e) & np.isfinite(n)
        df = pd.DataFrame(
            {
                "e": e[ok],
                "n": n[ok],
                "w": X[Col.WEIGHT].to_numpy(dtype="float64")[ok] if Col.WEIGHT in X else 1.0,
                "cat": _text_of(X[Col.CATEGORY])[ok] if Col.CATEGORY in X else "all",
                "area": _text_of(X[Col.AREA], missing=_OTHER)[ok] if Col.AREA in X else _OTHER,
            }
        )
        when = None
        if Col.WHEN in X:
            when = pd.to_datetime(X[Col.WHEN]).to_numpy()[ok]
        elif Col.MONTH in X:
            when = pd.to_datetime(X[Col.MONTH].astype(str) + "-01").to_numpy()[ok]
        df["when"] = when if when is not None else pd.Timestamp("2000-01-01")
        df["month"] = strftime_distinct(pd.to_datetime(df["when"]), "%Y-%m")
        df["mi"] = _month_index(df["month"])
        newest = int(df["mi"].max()) if len(df) else 0
        if context is not None:
            newest = context.newest_mi
        if self.half_life_months:
            df["decayed"] = df["w"] * np.power(0.5, (newest - df["mi"]) / self.half_life_months)
        else:
            df["decayed"] = df["w"]
        months = month_range(df["month"].min(), df["month"].max()) if len(df) else []
        if context is not None:
            months = list(context.months)
        rng = np.random.default_rng(self.random_state)
        frames, labels = [], np.full(len(df), None, dtype=object)
        self.params_: dict[str, AreaParams] = {}
        self._tick("prepare", t0)
        for area_id, idx in df.groupby("area", sort=True).indices.items():
            t0 = time.perf_counter()
            sub = df if len(idx) == len(df) else df.iloc[idx]
            xy = sub[["e", "n"]].to_numpy()
            p = self._resolve(str(area_id), xy, sub["w"].to_numpy())
            self.params_[str(area_id)] = p
            self._tick("cluster", t0)
            hs, lab = self._fit_area(sub, p, months, rng)
            frames.append(hs)
            labels[idx] = lab
        t0 = time.perf_counter()
        cols = [*HOTSPOT_COLUMNS, "geometry"]
        found = [f for f in frames if len(f)]
        hs = pd.concat(found, ignore_index=True) if found else None
        if hs is None or hs.empty:
            self.hotspots_ = gpd.GeoDataFrame(columns=cols, geometry="geometry", crs=WGS84)
            self.labels_ = np.full(len(X), None, dtype=object)
            self._tick("statistics", t0)
            return self
        hs = self._rank(hs)
        old_ids = hs.pop("_tmp_id").to_numpy()
        rename = dict(zip(old_ids, hs[Col.HOTSPOT_ID], strict=True))
        full = np.full(len(X), None, dtype=object)
        codes, uniq = pd.factorize(labels)  # None -> -1 -> the None appended below
        full[np.flatnonzero(ok)] = np.array([*(rename.get(u) for u in uniq), None], object)[codes]
        self.labels_ = full
        # back to WGS84 with the same transformation the points came in by (clic_geo.geo.crs)
        g = gpd.GeoSeries(
            shapely.transform(
                hs.pop("geometry").to_numpy(),
                lambda c: np.column_stack(to_wgs84(c[:, 0], c[:, 1])),
            ),
            crs=WGS84,
        )
        cats = sorted(c for c in hs.columns if c.startswith("n_") and c not in cols)
        self.hotspots_ = gpd.GeoDataFrame(
            hs[[c for c in HOTSPOT_COLUMNS if c in hs] + cats], geometry=g.to_numpy(), crs=WGS84
        )
        self._tick("statistics", t0)
        return self

    def _tick(self, stage: str, since: float) -> float:
        """Add the time since ``since`` to ``stage``; return now."""
        now = time.perf_counter()
        self.timings_[stage] += now - since
        return now

    def _is_st(self) -> bool:
        return self.method.lower().replace("_", "-") == "st-dbscan"

    def _clusterer(self, p: AreaParams) -> BaseEstimator:
        m = self.method.lower().replace("_", "-")
        if m == "dbscan":
            return DBSCAN(eps_m=p.eps_m, min_samples=p.min_samples)
        if m == "st-dbscan":
            return make_clusterer(
                m, eps_m=p.eps_m, eps_days=self.eps_days, min_samples=p.min_samples
            )
        return make_clusterer(m, min_cluster_size=max(2, round(p.min_samples)))

    def _fit_area(
        self, sub: pd.DataFrame, p: AreaParams, months: list[str], rng: np.random.Generator
    ) -> tuple[pd.DataFrame, np.ndarray]:
        t0 = time.perf_counter()
        xy = sub[["e", "n"]].to_numpy()
        w = sub["w"].to_numpy()
        est = self._clusterer(p)
        days = _days(sub["when"]) if self._is_st() else None
        est.fit(xy if days is None else np.column_stack([xy, days]), sample_weight=w)
        clusters = np.asarray(est.labels_)
        if self.frontages:
            clusters = frontage_labels(xy, clusters, self.frontage_reach_m or 2 * p.buffer_m)
        lab = clusters
        if self.include_isolated:
            # every location outside all clusters becomes an "isolated" hotspot
            noise = lab < 0
            if noise.any():
                loc = pd.MultiIndex.from_arrays([sub["e"].to_numpy(), sub["n"].to_numpy()])
                codes = pd.factorize(loc[noise])[0]
                lab = lab.copy()
                lab[noise] = lab.max(initial=-1) + 1 + codes
        n_clusters = int(lab.max(initial=-1)) + 1
        kind = np.array(["cluster"] * n_clusters, dtype=object)
        if self.include_isolated:
            cl_max = int(clusters.max(initial=-1))
            kind[cl_max + 1 :] = "isolated"
        t0 = self._tick("cluster", t0)
        pvals = self._p_values(xy, w, days, p, lab, n_clusters, rng)
        t0 = self._tick("significance", t0)
        whole = getattr(self, "_fit_context", None)
        if whole is not None:  # one partition of a larger run: the area as a whole
            area_geom_km2 = whole.extent_km2[p.area_id]
            month_counts = np.asarray(whole.month_counts[p.area_id])
        else:
            area_geom_km2 = _extent_km2(xy, p.eps_m)
            month_counts = sub.groupby("month").size().reindex(months, fill_value=0).to_numpy()
        names = np.array([*(f"{p.area_id}#{k}" for k in range(n_clusters)), None], dtype=object)
        labels_out = names[np.where(lab >= 0, lab, n_clusters)]
        inc = lab >= 0
        if not inc.any():
            self._tick("statistics", t0)
            return pd.DataFrame(), labels_out
        s = sub[inc].assign(k=lab[inc])
        g = s.groupby("k")
        out = g.agg(
            n_incidents=("w", "size"),
            weight=("w", "sum"),
            score=("decayed", "sum"),
            first_mi=("mi", "min"),
            last_mi=("mi", "max"),
        )
        # months as text: "YYYY-MM" sorts as the month index does
        mi_u, first_row = np.unique(s["mi"].to_numpy(), return_index=True)
        text_u = s["month"].iloc[first_row].to_numpy(dtype=object)
        out.insert(3, "first_seen", text_u[np.searchsorted(mi_u, out.pop("first_mi"))])
        out.insert(4, "last_seen", text_u[np.searchsorted(mi_u, out.pop("last_mi"))])
        t0 = self._tick("statistics", t0)
        # polygons, all at once: the distinct points of each cluster as a multipoint
        # stable: a cluster's points keep their order whatever else is in the run
        pts = s.iloc[_first_rows([s["k"], s["e"], s["n"]])].sort_values("k", kind="stable")
        ks, n_loc = np.unique(pts["k"].to_numpy(), return_counts=True)
        mps = shapely.multipoints(pts[["e", "n"]].to_numpy(), indices=pts["k"].to_numpy())
        mps = mps[ks] if len(mps) > len(ks) else mps
        if self.concave_ratio is None and not self._is_st():  # the points' discs, disjoint
            geoms = disjoint_discs(pts[["e", "n"]].to_numpy(), pts["k"].to_numpy(), p.buffer_m)
        else:  # (ST-DBSCAN: one place in two spates, two outlines that overlap)
            hulls = mps
            if self.concave_ratio is not None:
                concave = shapely.concave_hull(mps, ratio=self.concave_ratio)
                hulls = np.where(n_loc > 3, concave, shapely.convex_hull(mps))
            geoms = shapely.buffer(hulls, p.buffer_m, quad_segs=4)
        t0 = self._tick("polygons", t0)
        out = out.loc[ks]
        out["n_locations"] = n_loc
        out["area_km2"] = shapely.area(geoms) / 1e6
        kpos = np.searchsorted(ks, s["k"].to_numpy())
        hist = _count_table(kpos, len(ks), s["month"], months)
        bg = month_counts[np.newaxis, :] * (
            out["area_km2"].to_numpy()[:, np.newaxis]
            / np.maximum(area_geom_km2, out["area_km2"].to_numpy())[:, np.newaxis]
        )

        out[Col.TREND] = (
            [str(t) for t in classify_trends(hist, bg, alpha=self.alpha)] if len(months) else ""
        )
        out["history"] = [",".join(map(str, row)) for row in hist.tolist()]
        cat_names = sorted(pd.unique(s["cat"].dropna()))
        cats = _count_table(kpos, len(ks), s["cat"], cat_names)
        for j, c in enumerate(cat_names):
            out[f"n_{c}"] = cats[:, j]
        out["_tmp_id"] = [f"{p.area_id}#{k}" for k in ks]
        out[Col.AREA] = None if p.area_id == _OTHER else p.area_id
        out["kind"] = kind[ks]
        out["p_value"] = pvals[ks]
        out["geometry"] = geoms
        self._tick("statistics", t0)
        return out.reset_index(drop=True), labels_out

    def _p_values(
        self,
        xy: np.ndarray,
        w: np.ndarray,
        days: np.ndarray | None,
        p: AreaParams,
        lab: np.ndarray,
        n_clusters: int,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Monte Carlo p-values against incidents placed at random over the area.

        Null hypothesis: the area's incidents (each with its weight, and its time for
        ST-DBSCAN) fall uniformly at random over the area's extent (the convex hull
        of its points, padded by ``eps_m``). Each run re-clusters the random points
        with the same settings and keeps the heaviest cluster's weight; a hotspot's
        p-value is the share of runs (plus one) whose heaviest cluster weighed at
        least as much. Comparing with the heaviest cluster anywhere is a scan
        statistic: it allows for having searched the whole area, so the chance of
        any false hotspot in an area is at most ``alpha``.
        """
        out = np.full(n_clusters, np.nan)
        if self.n_simulations == 0 or n_clusters == 0:
            return out
        obs = np.bincount(lab[lab >= 0], weights=w[lab >= 0], minlength=n_clusters)
        extent = _extent(xy, p.eps_m)
        maxima = np.zeros(self.n_simulations)
        for s in range(self.n_simulations):
            sim = _uniform_in(extent, len(w), rng)
            if days is not None:
                sim = np.column_stack([sim, days])
            sl = self._clusterer(p).fit(sim, sample_weight=w).labels_
            if (sl >= 0).any():
                maxima[s] = np.bincount(sl[sl >= 0], weights=w[sl >= 0]).max()
        return (1 + (maxima[np.newaxis, :] >= obs[:, np.newaxis] - 1e-9).sum(axis=1)) / (
            self.n_simulations + 1
        )

    def _rank(self, hs: pd.DataFrame) -> pd.DataFrame:
        hs = hs.copy()
        if self.patrol_km2 is None:
            hs["priority"] = hs[Col.SCORE] / (hs["area_km2"] + self.overhead_km2)
            isolated = (hs["kind"] == "isolated").to_numpy()
        else:
            hs["priority"] = patrol_priority(hs[Col.SCORE], hs["area_km2"], self.patrol_km2)
            isolated = np.zeros(len(hs), bool)
        hs["significant"] = hs["p_value"] <= self.alpha
        order = np.lexsort(
            (
                hs["_tmp_id"].to_numpy(),
                -hs[Col.SCORE].to_numpy(),
                -hs["priority"].to_numpy(),
                isolated,
            )
        )
        hs = hs.iloc[order].reset_index(drop=True)
        hs[Col.RANK] = np.arange(1, len(hs) + 1, dtype=np.int64)
        hs[Col.HOTSPOT_ID] = [f"HS{r:04d}" for r in hs[Col.RANK]]
        for c in [c for c in hs.columns if c.startswith("n_") and c not in HOTSPOT_COLUMNS]:
            hs[c] = hs[c].fillna(0).astype(np.int64)
        return hs


def patrol_priority(score: Any, area_km2: Any, patrol_km2: float) -> np.ndarray:
    """The score one patrol covers: all of a unit up to ``patrol_km2``, that share beyond."""
    a = np.asarray(area_km2, dtype=float)
    return np.asarray(score, dtype=float) * np.minimum(1.0, patrol_km2 / np.maximum(a, 1e-12))


def _text_of(values: pd.Series, missing: str | None = None) -> np.ndarray:
    """``values.astype(str)`` as an object array (``missing`` for missing values when
    given), converting each distinct value once."""
    codes, uniq = pd.factorize(values, use_na_sentinel=False)
    u = pd.Series(uniq, dtype=values.dtype)
    u = u.astype(object).fillna(missing).astype(str) if missing is not None else u.astype(str)
    return u.to_numpy(dtype=object)[codes]


def _count_table(row: np.ndarray, n_rows: int, value: pd.Series, columns: list) -> np.ndarray:
    """Rows of each ``row`` number having each value in ``columns`` (a cross-table).

    ``value`` entries not among ``columns`` (and missing ones) are not counted.
    """
    codes, uniq = pd.factorize(value)  # looked up once per distinct value
    col = np.append(pd.Index(columns).get_indexer(uniq), -1)[codes]
    ok = col >= 0
    flat = np.bincount(row[ok] * len(columns) + col[ok], minlength=n_rows * len(columns))
    return flat.reshape(n_rows, len(columns)).astype(np.int64)


def area_hotspot_params(areas: Any) -> dict[str, dict[str, Any]]:
    """``{area_id: {...}}`` from the optional ``"hotspots"`` property of each area file.

    An area file may say, for example, ``"hotspots": {"eps_m": 150, "min_samples": 4}``
    when its towns are denser or sparser than the data-driven default suits.
    """
    return {a.id: dict(a.hotspots) for a in areas if a.hotspots}


def _first_rows(columns: list[pd.Series]) -> np.ndarray:
    """Positions of the first row of each distinct combination of ``columns``, in row
    order (``drop_duplicates``' rows, found without sorting every row)."""
    return np.sort(_row_codes([c.to_numpy() for c in columns])[1])


def _unique_rows(xy: np.ndarray) -> np.ndarray:
    """``np.unique(xy, axis=0)`` of (easting, northing) rows, without sorting every row:
    data.police.uk repeats a few thousand points a million times."""
    u = xy[_row_codes([xy[:, 0], xy[:, 1]])[1]]
    return u[np.lexsort(u.T[::-1])]


def _extent(xy: np.ndarray, pad_m: float) -> shapely.Geometry:
    """Where an area's incidents could have been: hull of its points, padded."""
    hull = shapely.convex_hull(shapely.multipoints(_unique_rows(xy)))
    return shapely.buffer(hull, max(pad_m, 100.0))


def _extent_km2(xy: np.ndarray, pad_m: float) -> float:
    """Area over which an area's background rate is spread (km²)."""
    return max(_extent(xy, pad_m).area / 1e6, 1e-3) if len(xy) else 1.0


def _uniform_in(poly: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points uniformly at random inside ``poly`` (rejection sampling)."""
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    out = np.empty((0, 2))
    while len(out) < n:
        k = max(2 * (n - len(out)), 16)
        cand = rng.uniform([minx, miny], [maxx, maxy], (k, 2))
        out = np.vstack([out, cand[shapely.contains_xy(poly, cand[:, 0], cand[:, 1])]])
    return out[:n]


def find_hotspots(points: gpd.GeoDataFrame, **params: Any) -> gpd.GeoDataFrame:
    """Hotspots of a point layer: the function form of :class:`HotspotFinder`.

    Parameters
    ----------
    points : GeoDataFrame
        A layer from :func:`clic_geo.hotspots.layers.build_layer`, or any points with a CRS.
    **params
        :class:`HotspotFinder` parameters (``method``, ``eps_m``, ``min_samples``,
        ``buffer_m``, ...).

    Returns
    -------
    GeoDataFrame
        WGS84 polygons with :data:`HOTSPOT_COLUMNS` and ``n_<category>`` counts,
        ``rank`` 1 first.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> xy = np.vstack([rng.normal([330000, 470000], 40, (30, 2)),
    ...                 rng.uniform([320000, 460000], [340000, 480000], (30, 2))])
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*xy.T), crs="EPSG:27700")
    >>> hs = find_hotspots(pts, eps_m=100, min_samples=5, n_simulations=19)
    >>> len(hs), int(hs["rank"].iloc[0]), bool(hs["significant"].iloc[0])
    (1, 1, True)
    """
    return HotspotFinder(**params).fit(points).hotspots_
