"""The hotspot map of a national data set on Dask (``clic-geo hotspots --engine dask``).

All 43 forces publish the same monthly files; together they do not fit one process.
Dask distributed does the work (a local cluster, or a scheduler's address), and the
answer is the single-process one (:func:`clic_geo.hotspots.forecast.recommended_map`):
same hotspots, ranks, scores, trends and p-values. Steps, each a set of Dask tasks:

1. **read**: each file is read, validated (every row accepted or rejected with its
   reason, as an import would) and filtered (types, months, study area) on a worker;
   the rows stay there. Each row keeps its place in the single run's order.
2. **partition**: the distinct locations get a home partition (force areas from any
   polygon layer, or a grid) and each partition, with a halo of the largest radius,
   finds its islands of locations; islands joined across borders are merged and
   each is given to one partition (:mod:`clic_geo.hotspots.partition`). A cluster
   across a border is thus found once, whole.
3. **fit**: each partition runs the same pipeline as one process (the point layer,
   :class:`~clic_geo.hotspots.engine.HotspotFinder`) on the rows of its islands,
   with the whole run's months, area counts and extents (:class:`FitContext`).
4. **merge**: hotspots are numbered as one run numbers them, their Monte Carlo
   p-values drawn as one run draws them (in order, one random stream), and ranked
   together.

The radius (``eps_m="auto"``) is chosen as :func:`~clic_geo.hotspots.backtest.choose_scale`
does, each candidate map built by steps 2-4. HDBSCAN has no partitioned form (its
hierarchy is global): the Dask engine runs DBSCAN, the recommended method.
"""

from __future__ import annotations

import logging
import operator
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from clic_geo._errors import ConfigError
from clic_geo.geo.crs import BNG, WGS84
from clic_geo.hotspots.backtest import (
    FALLBACK_SCALE_M,
    MIN_SCALE_TEST_INCIDENTS,
    RECOMMENDED,
    SCALES_M,
    select_within_budget,
)
from clic_geo.hotspots.engine import _OTHER, HOTSPOT_COLUMNS, HotspotFinder, _extent_km2
from clic_geo.hotspots.expected import add_expected
from clic_geo.hotspots.layers import build_layer
from clic_geo.hotspots.partition import (
    FitContext,
    Partitions,
    halo,
    islands,
    merge_islands,
    owners,
)
from clic_geo.hotspots.trends import month_range
from clic_geo.schema import Col

__all__ = [
    "DaskRun",
    "LoadSpec",
    "dask_hotspots",
    "local_client",
    "worker_cpu_seconds",
    "worker_peak_mb",
]

log = logging.getLogger(__name__)

#: Each row's place in the single run's order: file number << 32 | row in the file.
GID = "_gid"
_KEEP = [Col.EASTING, Col.NORTHING, Col.CATEGORY, Col.MONTH, Col.WHEN, Col.AREA]


@dataclass(frozen=True)
class LoadSpec:
    """How the workers read each file (as :func:`clic_geo.ingest.police_uk.load_police_uk`).

    ``study`` is a polygon in EPSG:27700: rows outside it are left out.
    """

    settings: Any
    types: tuple[str, ...] | None = None
    months: tuple[str, str] | None = None
    study: shapely.Geometry | None = None
    now: datetime | None = None


@dataclass
class DaskRun:
    """What a Dask run did: rows accounted for, partitions, timings, memory."""

    files: int = 0
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    kept: int = 0
    locations: int = 0
    partitions: int = 0
    partitions_used: int = 0
    islands: int = 0
    cross_border_islands: int = 0
    eps_m: float = float("nan")
    seconds: dict[str, float] = field(default_factory=dict)
    #: Seconds each file took to read, validate and filter (one task each).
    file_seconds: list[float] = field(default_factory=list)
    #: Seconds each partition's fit took (one task each), for the last map built.
    partition_seconds: list[float] = field(default_factory=list)
    #: CPU seconds of the same tasks (steadier than wall time on a shared machine).
    file_cpu: list[float] = field(default_factory=list)
    partition_cpu: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


# --------------------------------------------------------------------------- worker tasks


def _area_text(values: pd.Series) -> np.ndarray:
    """The engine's area key of each row (``"other"`` outside every operating area)."""
    return values.astype(object).fillna(_OTHER).astype(str).to_numpy(dtype=object)


def _load_file(index: int, path: str, spec: LoadSpec) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read, validate and filter one file; the rows the map needs, in file order."""
    from clic_geo.ingest.importer import validation_context
    from clic_geo.ingest.readers import read_table
    from clic_geo.ingest.validate import validate

    t0, c0 = time.perf_counter(), time.process_time()
    ctx = validation_context(spec.settings, now=spec.now)
    raw = read_table(path)
    v = validate(raw, "incidents", ctx, source="police-uk", police_uk=True)
    df = v.accepted
    types = df["original_type"].str.lower()
    stats = {
        "read": raw.n_read,
        "accepted": len(df),
        "rejected": len(v.rejected),
        "types": sorted(set(types)),
    }
    del raw, v
    keep = np.ones(len(df), dtype=bool)
    if spec.types:
        keep &= types.isin({t.strip().lower() for t in spec.types}).to_numpy()
    if spec.months:
        m = df[Col.MONTH]
        keep &= ((m >= spec.months[0]) & (m <= spec.months[1])).to_numpy()
    if spec.study is not None:
        keep &= shapely.contains_xy(
            spec.study, df[Col.EASTING].to_numpy(), df[Col.NORTHING].to_numpy()
        )
    out = df.loc[keep, _KEEP].reset_index(drop=True)
    out[GID] = (np.int64(index) << 32) + np.arange(len(out), dtype=np.int64)
    stats["kept"] = len(out)
    stats["seconds"] = time.perf_counter() - t0
    stats["cpu"] = time.process_time() - c0
    return out, stats


def _subset(rows: pd.DataFrame, before: str | None) -> pd.DataFrame:
    return rows if before is None else rows[rows[Col.MONTH] < before]


def _summary(rows: pd.DataFrame, before: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows per (area, location) and per (area, month) of one file's rows."""
    r = _subset(rows, before)
    area = _area_text(r[Col.AREA])
    pts = (
        pd.DataFrame({"area": area, "e": r[Col.EASTING].to_numpy(), "n": r[Col.NORTHING]})
        .groupby(["area", "e", "n"], sort=False)
        .size()
        .rename("rows")
        .reset_index()
    )
    months = (
        pd.DataFrame({"area": area, "month": r[Col.MONTH].to_numpy(dtype=object)})
        .groupby(["area", "month"], sort=False)
        .size()
        .rename("rows")
        .reset_index()
    )
    return pts, months


def _islands_task(
    xy: np.ndarray, home: np.ndarray, part: int, link_m: float
) -> tuple[np.ndarray, np.ndarray]:
    own, near = halo(xy, home, part, link_m)
    seen = np.concatenate([own, near])
    return seen, islands(xy[seen], link_m)


def _split(
    rows: pd.DataFrame, owner: pd.DataFrame, n_parts: int, before: str | None
) -> list[pd.DataFrame | None]:
    """One file's rows, by the partition that owns their location's island."""
    r = _subset(rows, before)
    part = r[[Col.EASTING, Col.NORTHING]].merge(
        owner, how="left", left_on=[Col.EASTING, Col.NORTHING], right_on=["e", "n"]
    )["part"]
    part = part.to_numpy()
    out: list[pd.DataFrame | None] = [None] * n_parts
    for p in np.unique(part):
        out[int(p)] = r[part == p]
    return out


def _fit_partition(
    pieces: Sequence[pd.DataFrame | None],
    params: Mapping[str, Any],
    context: FitContext,
    *,
    layer: bool,
    with_rows: bool,
) -> dict[str, Any]:
    """The single-process pipeline on one partition's rows, and what the merge needs."""
    t0, c0 = time.perf_counter(), time.process_time()
    got = [p for p in pieces if p is not None and len(p)]
    rows = pd.concat(got, ignore_index=True).sort_values(GID, kind="stable")
    rows = rows.reset_index(drop=True)
    points = build_layer("incidents", incidents=rows) if layer else rows
    finder = HotspotFinder(**{**params, "n_simulations": 0})
    finder.fit(points, context=context)
    hs = finder.hotspots_
    lab = pd.Series(finder.labels_, dtype=object)
    info = pd.DataFrame(
        {
            "hotspot_id": lab,
            "area": _area_text(rows[Col.AREA]),
            "e": rows[Col.EASTING].to_numpy(),
            "n": rows[Col.NORTHING].to_numpy(),
            GID: rows[GID].to_numpy(),
            "w": points[Col.WEIGHT].to_numpy() if Col.WEIGHT in points else np.ones(len(rows)),
        }
    )
    inside = info[lab.notna().to_numpy()]
    # what numbers a hotspot in one run: a cluster by its first location in (e, n)
    # order, an isolated location by its first row
    meta = (
        inside.sort_values(["e", "n", GID])
        .groupby("hotspot_id", sort=False)
        .agg(area=("area", "first"), e0=("e", "first"), n0=("n", "first"), gid0=(GID, "min"))
        .reset_index()
    )
    return {
        "hotspots": hs,
        "meta": meta,
        "rows": info if with_rows else None,
        "seconds": time.perf_counter() - t0,
        "cpu": time.process_time() - c0,
    }


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------- the run


def local_client(n_workers: int = 2, *, processes: bool = True, memory_limit: str = "auto"):
    """A Dask client on a local cluster (one thread per worker, nothing listening beyond
    this machine)."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - the extra is installed for tests
        raise ConfigError(
            "the Dask engine needs the optional extra: pip install 'clic-geo[dask]'"
        ) from exc
    where = {"host": "127.0.0.1"} if processes else {}  # only this machine may connect
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=processes,
        memory_limit=memory_limit,
        # the scheduler's web endpoints (status, metrics): a free port, this machine only
        dashboard_address="127.0.0.1:0",
        **where,
    )
    client = Client(cluster)
    client.run(_warm)  # imports once per worker, before anything is timed
    return client


def _warm() -> None:
    import clic_geo.hotspots.engine
    import clic_geo.hotspots.layers
    import clic_geo.ingest.importer
    import clic_geo.ingest.validate  # noqa: F401


def _cpu_seconds() -> float:
    return time.process_time()


def worker_peak_mb(client: Any) -> dict[str, float]:
    """Each worker process's peak resident memory so far (MB)."""
    return {str(k): float(v) for k, v in client.run(_peak_rss_mb).items()}


def worker_cpu_seconds(client: Any) -> dict[str, float]:
    """CPU seconds each worker process has used so far (all its threads)."""
    return {str(k): float(v) for k, v in client.run(_cpu_seconds).items()}


class _Runner:
    """One national data set loaded on the workers; builds maps from it."""

    def __init__(
        self, client: Any, paths: Sequence[str | Path], spec: LoadSpec, parts: Partitions | None
    ) -> None:
        self.client, self.parts_given, self.report = client, parts, DaskRun()
        t0 = time.perf_counter()
        loaded = client.map(_load_file, range(len(paths)), [str(p) for p in paths], spec=spec)
        self.frames = [client.submit(operator.getitem, f, 0) for f in loaded]
        stats = client.gather([client.submit(operator.getitem, f, 1) for f in loaded])
        del loaded
        r = self.report
        r.files = len(paths)
        r.read = sum(s["read"] for s in stats)
        r.accepted = sum(s["accepted"] for s in stats)
        r.rejected = sum(s["rejected"] for s in stats)
        r.kept = sum(s["kept"] for s in stats)
        r.file_seconds = [s["seconds"] for s in stats]
        r.file_cpu = [s["cpu"] for s in stats]
        if r.rejected:
            log.info("%d rows left out (no location or outside the service area)", r.rejected)
        if spec.types:
            want = {t.strip().lower() for t in spec.types}
            known = set().union(*(s["types"] for s in stats))
            if not want & known:
                raise ConfigError(
                    f"no rows of type {', '.join(sorted(spec.types))}; the files have: "
                    + ", ".join(sorted(known))
                )
        if r.kept == 0:
            raise ConfigError("no incidents match the given files, months, types and area")
        r.seconds["read"] = time.perf_counter() - t0

    def month_counts(self) -> pd.Series:
        """Incidents per month (all areas)."""
        _, months = self._summaries(None)
        return months.groupby("month")["rows"].sum()

    def _summaries(self, before: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
        got = self.client.gather(self.client.map(_summary, self.frames, before=before))
        pts = pd.concat([g[0] for g in got]).groupby(["area", "e", "n"], sort=False)["rows"].sum()
        months = pd.concat([g[1] for g in got]).groupby(["area", "month"], sort=True)["rows"].sum()
        return pts.reset_index(), months.reset_index()

    def test_points(self, month: str) -> np.ndarray:
        """Eastings and northings of one month's incidents (the scale test)."""

        def pick(rows: pd.DataFrame, month: str) -> np.ndarray:
            r = rows[rows[Col.MONTH] == month]
            return r[[Col.EASTING, Col.NORTHING]].to_numpy()

        got = self.client.gather(self.client.map(pick, self.frames, month=month))
        return np.vstack([*got, np.zeros((0, 2))])

    def hotspots(
        self,
        params: Mapping[str, Any],
        *,
        before: str | None = None,
        layer: bool = True,
        n_simulations: int = 0,
    ) -> gpd.GeoDataFrame:
        """The map of the rows (those before month ``before``), as one run makes it."""
        client, r = self.client, self.report
        t0 = time.perf_counter()
        finder = HotspotFinder(**{**params, "n_simulations": n_simulations})
        if finder.method.lower() != "dbscan":
            raise ConfigError(
                f"the Dask engine runs DBSCAN (the recommended method), not {finder.method!r}"
            )
        finder._validate()
        pts, months = self._summaries(before)
        if pts.empty:
            return _empty()
        # each area's settings, as the one run resolves them (the area file's, else these)
        area_params, eps = {}, {}
        for area in sorted(pts["area"].unique()):
            sub = pts[pts["area"] == area]
            p = finder._resolve(area, sub[["e", "n"]].to_numpy(), sub["rows"].to_numpy(float))
            area_params[area] = {
                "eps_m": p.eps_m,
                "min_samples": p.min_samples,
                "buffer_m": p.buffer_m,
            }
            eps[area] = p.eps_m
        all_months = month_range(months["month"].min(), months["month"].max())
        per = months.pivot_table(index="area", columns="month", values="rows", fill_value=0)
        per = per.reindex(columns=all_months, fill_value=0)
        context = FitContext(
            months=tuple(all_months),
            newest_mi=int(pd.Period(all_months[-1], "M").ordinal + 1970 * 12),
            month_counts={a: per.loc[a].to_numpy(dtype=np.int64) for a in per.index},
            extent_km2={
                a: _extent_km2(g[["e", "n"]].to_numpy(), eps[a]) for a, g in pts.groupby("area")
            },
        )
        # locations, their home partitions and islands (halo = the largest radius)
        loc = pts.groupby(["e", "n"], sort=False)["rows"].sum().reset_index()
        xy = loc[["e", "n"]].to_numpy()
        parts = self.parts_given or Partitions.grid(_bounds(xy), 50.0)
        home = parts.home(xy[:, 0], xy[:, 1])
        link = max(eps.values())
        xy_f, home_f = client.scatter([xy, home], broadcast=True)
        used = np.unique(home)
        runs = client.gather(
            [client.submit(_islands_task, xy_f, home_f, int(p), link) for p in used]
        )
        island = merge_islands(len(xy), runs)
        owner_of = owners(island, home, loc["rows"].to_numpy())
        owner = pd.DataFrame({"e": xy[:, 0], "n": xy[:, 1], "part": owner_of[island]})
        r.locations, r.partitions, r.islands = len(xy), len(parts), len(owner_of)
        r.cross_border_islands = int(
            (pd.DataFrame({"i": island, "h": home}).groupby("i")["h"].nunique() > 1).sum()
        )
        r.seconds["partition"] = r.seconds.get("partition", 0) + time.perf_counter() - t0
        # the fits, one task per partition, fed by every file's share of its rows
        t1 = time.perf_counter()
        owner_f = client.scatter(owner, broadcast=True)
        splits = client.map(_split, self.frames, owner=owner_f, n_parts=len(parts), before=before)
        fits = []
        for p in np.unique(owner_of):
            pieces = [client.submit(operator.getitem, s, int(p)) for s in splits]
            fits.append(
                client.submit(
                    _fit_partition,
                    pieces,
                    {**params, "area_params": area_params},
                    context,
                    layer=layer,
                    with_rows=n_simulations > 0,
                )
            )
        done = client.gather(fits)
        del splits, fits
        r.partitions_used = len(done)
        r.partition_seconds = [d["seconds"] for d in done]
        r.partition_cpu = [d["cpu"] for d in done]
        r.seconds["fit"] = r.seconds.get("fit", 0) + time.perf_counter() - t1
        t2 = time.perf_counter()
        out = _merge(done, finder, area_params, n_simulations)
        r.seconds["merge"] = r.seconds.get("merge", 0) + time.perf_counter() - t2
        return out


def _bounds(xy: np.ndarray) -> tuple[float, float, float, float]:
    return (*xy.min(axis=0), *xy.max(axis=0))


def _empty() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns=[*HOTSPOT_COLUMNS, "geometry"], geometry="geometry", crs=WGS84)


def _merge(
    done: Sequence[Mapping[str, Any]],
    finder: HotspotFinder,
    area_params: Mapping[str, Mapping[str, float]],
    n_simulations: int,
) -> gpd.GeoDataFrame:
    """The partitions' hotspots numbered, tested and ranked as one run does it."""
    frames, metas = [], []
    for i, d in enumerate(done):
        if len(d["hotspots"]):
            frames.append(d["hotspots"].assign(_part=i))
            metas.append(d["meta"].assign(_part=i))
    if not frames:
        return _empty()
    hs = pd.concat(frames, ignore_index=True)
    meta = pd.concat(metas, ignore_index=True)
    hs = hs.merge(meta, on=["_part", "hotspot_id"], how="left", validate="one_to_one")
    # number within each area: clusters by first location, then isolated by first row
    iso = (hs["kind"] == "isolated").to_numpy()
    hs["_o"] = iso.astype(np.int64)
    hs["_s1"] = np.where(iso, hs["gid0"].to_numpy(dtype="float64"), hs["e0"].to_numpy())
    hs["_s2"] = np.where(iso, 0.0, hs["n0"].to_numpy())
    hs = hs.sort_values(["area", "_o", "_s1", "_s2"], kind="stable")
    hs["_k"] = hs.groupby("area").cumcount()
    hs["_tmp_id"] = hs["area"] + "#" + hs["_k"].astype(str)
    if n_simulations > 0:
        hs = _p_values(hs, done, finder, area_params)
    hs = hs.drop(columns=["_part", "area", "e0", "n0", "gid0", "_o", "_s1", "_s2"])
    hs = hs.reset_index(drop=True)
    hs = finder._rank(hs.drop(columns=["_k"]))
    hs.pop("_tmp_id")
    cats = sorted(c for c in hs.columns if c.startswith("n_") and c not in HOTSPOT_COLUMNS)
    cols = [c for c in HOTSPOT_COLUMNS if c in hs] + cats
    return gpd.GeoDataFrame(hs[cols], geometry=hs.geometry.to_numpy(), crs=WGS84)


def _p_values(
    hs: pd.DataFrame,
    done: Sequence[Mapping[str, Any]],
    finder: HotspotFinder,
    area_params: Mapping[str, Mapping[str, float]],
) -> pd.DataFrame:
    """Monte Carlo p-values, area by area in one random stream as one run draws them."""
    rows = pd.concat(
        [d["rows"].assign(_part=i) for i, d in enumerate(done) if d["rows"] is not None],
        ignore_index=True,
    ).sort_values(GID, kind="stable")
    k_of = hs.set_index(["_part", "hotspot_id"])["_k"]
    keyed = pd.MultiIndex.from_arrays([rows["_part"], rows["hotspot_id"]])
    rows["k"] = k_of.reindex(keyed).fillna(-1).to_numpy(dtype=np.int64)
    rng = np.random.default_rng(finder.random_state)
    p_value = pd.Series(np.nan, index=hs.index)
    for area, sub in rows.groupby("area", sort=True):
        xy = sub[["e", "n"]].to_numpy()
        w = sub["w"].to_numpy(dtype="float64")
        mine = (hs["area"] == area).to_numpy()
        p = finder._resolve(str(area), xy, w)
        pv = finder._p_values(xy, w, None, p, sub["k"].to_numpy(), int(mine.sum()), rng)
        p_value[mine] = pv[hs.loc[mine, "_k"].to_numpy()]
    return hs.assign(p_value=p_value.to_numpy())


def dask_hotspots(
    paths: Sequence[str | Path],
    spec: LoadSpec,
    *,
    client: Any,
    partitions: Partitions | None = None,
    n_simulations: int = 99,
    on_report: Callable[[DaskRun], None] | None = None,
    **params: Any,
) -> tuple[gpd.GeoDataFrame, DaskRun]:
    """The recommended map of some data.police.uk files, computed on a Dask cluster.

    The same map as :func:`~clic_geo.hotspots.forecast.recommended_map` of the same
    rows (:func:`~clic_geo.ingest.police_uk.load_police_uk`, then the study area).

    Parameters
    ----------
    paths : sequence of path
        data.police.uk street-level files (CSV, or Parquet with the same columns).
    spec : LoadSpec
        Settings (service area, operating areas), types, months, study area.
    client : dask.distributed.Client
        :func:`local_client`, or ``Client("tcp://scheduler:8786")``.
    partitions : Partitions, optional
        Force areas (:meth:`Partitions.from_layer`); default 50 km grid squares.
    n_simulations : int
        Monte Carlo runs for the p-values.
    **params
        :class:`~clic_geo.hotspots.engine.HotspotFinder` settings over
        :data:`~clic_geo.hotspots.backtest.RECOMMENDED` (``eps_m``, ``area_params``, ...).

    Returns
    -------
    (GeoDataFrame, DaskRun)
        The hotspots (WGS84, rank 1 first) and what the run did.
    """
    if not paths:
        raise ConfigError("give at least one data.police.uk file")
    t0 = time.perf_counter()
    run = _Runner(client, paths, spec, partitions)
    p = {**RECOMMENDED, **params}
    if p["eps_m"] == "auto":
        p["eps_m"] = _choose_scale(run, p)
    run.report.eps_m = float(p["eps_m"])
    hs = add_expected(run.hotspots(p, n_simulations=n_simulations), p.get("half_life_months"))
    run.report.seconds["total"] = time.perf_counter() - t0
    if on_report:
        on_report(run.report)
    return hs, run.report


def _choose_scale(run: _Runner, p: Mapping[str, Any], budget_km2: float = 1.0) -> float:
    """:func:`~clic_geo.hotspots.backtest.choose_scale` with each candidate map built on Dask."""
    counts = run.month_counts()
    months = sorted(counts.index)
    testable = [m for m in months[1:] if counts[m] >= MIN_SCALE_TEST_INCIDENTS]
    if not testable:
        return FALLBACK_SCALE_M
    test_month = testable[-1]
    check = run.test_points(test_month)
    params = {k: v for k, v in p.items() if k != "eps_m"}
    best, best_hit = FALLBACK_SCALE_M, -1.0
    for eps in SCALES_M:
        hs = run.hotspots({**params, "eps_m": eps}, before=test_month, layer=False)
        chosen, _ = select_within_budget(list(hs.to_crs(BNG).geometry), budget_km2)
        hit = float(shapely.contains_xy(chosen, check[:, 0], check[:, 1]).mean())
        if hit > best_hit + 1e-12:
            best, best_hit = float(eps), hit
    return best
