"""Benchmark: the whole hotspot pipeline against scikit-learn's DBSCAN alone.

Synthetic data.police.uk-style CSV files with N incidents spread like national data:
towns of very different sizes (a few cities, many small towns) over an England-sized
area, every incident snapped onto a fixed set of street points (so many rows share
exact coordinates). For each N, each run in a child process of its own (so its peak
resident memory, ``ru_maxrss``, is its own and nothing else's):

- ``pipeline``: read CSV -> validate -> project (the point layer) -> cluster
  (weighted DBSCAN on distinct points) -> polygons -> per-hotspot statistics and
  trends, timed per stage;
- ``reference``: scikit-learn's ``DBSCAN`` alone (same eps/min_samples) on the same
  projected coordinates, every row as its own point (raw points, no duplicates
  collapsed, no weights): the "bare DBSCAN" of the goal. Reading the two columns and
  projecting them is timed separately and not counted in the reference.
- ``minimal``: the least a hotspot map of the same file needs, end to end: pyarrow's
  CSV reader (every column, types inferred), one vectorised pyproj transform of all
  rows, scikit-learn's ``DBSCAN`` with ``sample_weight`` on the distinct points, and
  a concave hull (plus the same 25 m margin) per cluster. No validation, no row
  accounting, no statistics: the floor the whole pipeline is judged against.

and prints min/median/max wall time over the repeats, the median CPU time (user +
system, all threads: steadier than wall time on a shared machine), peak RSS, the
ratios of the medians (time and peak memory against ``minimal``) and the scaling
exponent from the smallest to the largest N.

    .venv/bin/python benchmarks/bench_pipeline.py 10000 100000 1000000

The Monte Carlo p-values re-cluster random data ``n_simulations`` times; they are off
here (``--simulations`` to include them) because their cost is that of the clustering
times the number of runs.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

EPS_M = 150.0
MIN_SAMPLES = 8


def make_csv(n: int, path: Path, seed: int = 0) -> None:
    """A street-level CSV of ``n`` incidents over England (3 months)."""
    from clic_geo.geo.crs import to_wgs84

    rng = np.random.default_rng(seed)
    n_towns = 400
    # town sizes: Zipf-like (a few cities, many small towns)
    size = 1.0 / np.arange(1, n_towns + 1) ** 1.1
    size /= size.sum()
    ce = rng.uniform(360_000, 620_000, n_towns)
    cn = rng.uniform(100_000, 560_000, n_towns)
    radius = 800 + 9_000 * np.sqrt(size / size.max())
    # snap points: street points per town, ~1 per 40 incidents, at least 30
    n_snap = np.maximum(30, (size * n / 40).astype(int))
    se = np.concatenate([rng.normal(ce[i], radius[i] / 2, k) for i, k in enumerate(n_snap)])
    sn = np.concatenate([rng.normal(cn[i], radius[i] / 2, k) for i, k in enumerate(n_snap)])
    town_of = np.repeat(np.arange(n_towns), n_snap)
    # incidents: town by size, then a snap point of that town (some points much busier)
    town = rng.choice(n_towns, n, p=size)
    first = np.concatenate([[0], np.cumsum(n_snap)[:-1]])
    busy = rng.pareto(1.5, len(se)) + 1
    pick = np.empty(n, dtype=np.int64)
    for t in np.unique(town):
        idx = np.flatnonzero(town == t)
        w = busy[town_of == t]
        pick[idx] = first[t] + rng.choice(len(w), len(idx), p=w / w.sum())
    lon, lat = to_wgs84(se[pick], sn[pick])
    month = rng.choice(["2024-01", "2024-02", "2024-03"], n)
    types = rng.choice(
        ["Drugs", "Violence and sexual offences", "Anti-social behaviour", "Burglary"],
        n,
        p=[0.1, 0.4, 0.3, 0.2],
    )
    ids = [f"{i:064x}" for i in range(n)]
    pd.DataFrame(
        {
            "Crime ID": ids,
            "Month": month,
            "Reported by": "Synthetic Constabulary",
            "Falls within": "Synthetic Constabulary",
            "Longitude": np.round(lon, 6),
            "Latitude": np.round(lat, 6),
            "Location": "On or near Somewhere",
            "LSOA code": "E01000000",
            "LSOA name": "Synthetic 001A",
            "Crime type": types,
            "Last outcome category": "Under investigation",
            "Context": "",
        }
    ).to_csv(path, index=False)


def peak_mb() -> float:
    """This process's peak resident set (MB): run in a child, it is the child's own."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def context():
    from clic_geo.geo.areas import ServiceArea, load_areas
    from clic_geo.ingest.checks import ValidationContext
    from clic_geo.settings import REPO_ROOT

    england = ServiceArea("England (benchmark)", shapely.box(-6.5, 49.8, 2.0, 56.0))
    return ValidationContext(
        service_area=england,
        areas=load_areas(REPO_ROOT / "boundaries"),
        now=datetime(2024, 6, 1),
    )


STAGES = ("read", "validate", "project", "cluster", "polygons", "statistics")


def run_pipeline(path: Path, n_simulations: int) -> dict:
    """One pipeline run, timed per stage (in this process)."""
    from clic_geo.hotspots.engine import HotspotFinder
    from clic_geo.hotspots.layers import build_layer
    from clic_geo.ingest.readers import read_table
    from clic_geo.ingest.validate import validate

    ctx = context()
    t, c = {}, {}
    c0 = time.process_time()
    t0 = time.perf_counter()
    raw = read_table(path)
    t["read"], c["read"] = time.perf_counter() - t0, time.process_time() - c0
    t1, c1 = time.perf_counter(), time.process_time()
    v = validate(raw, "incidents", ctx, source="police-uk", police_uk=True)
    t["validate"], c["validate"] = time.perf_counter() - t1, time.process_time() - c1
    del raw
    t1, c1 = time.perf_counter(), time.process_time()
    layer = build_layer("incidents", incidents=v.accepted)
    t["project"], c["project"] = time.perf_counter() - t1, time.process_time() - c1
    rows = len(v.accepted)
    del v
    est = HotspotFinder(eps_m=EPS_M, min_samples=MIN_SAMPLES, n_simulations=n_simulations)
    t1, c1 = time.perf_counter(), time.process_time()
    hs = est.fit(layer).hotspots_
    fit = time.perf_counter() - t1
    c["fit"] = time.process_time() - c1
    total = time.perf_counter() - t0
    cpu = time.process_time() - c0
    st = est.timings_
    t["project"] += st["prepare"]
    t["cluster"] = st["cluster"] + st["significance"]
    t["polygons"] = st["polygons"]
    t["statistics"] = st["statistics"]
    t["other"] = fit - sum(st.values())
    return {
        "seconds": total,
        "cpu": cpu,
        "stages": t,
        "stages_cpu": c,
        "rows": rows,
        "hotspots": len(hs),
    }


def run_reference(path: Path) -> dict:
    """scikit-learn's DBSCAN on every row's projected point (as the pipeline projects)."""
    from sklearn.cluster import DBSCAN

    from clic_geo.geo.crs import to_bng

    t0 = time.perf_counter()
    df = pd.read_csv(path, usecols=["Longitude", "Latitude"])
    e, n = to_bng(df["Longitude"].to_numpy(), df["Latitude"].to_numpy())
    # the pipeline keeps eastings/northings to 0.1 m (validate.py): the same points
    xy = np.column_stack([np.round(e, 1), np.round(n, 1)])
    prep = time.perf_counter() - t0
    c1 = time.process_time()
    t1 = time.perf_counter()
    lab = DBSCAN(eps=EPS_M, min_samples=MIN_SAMPLES).fit(xy).labels_
    secs = time.perf_counter() - t1
    return {
        "seconds": secs,
        "cpu": time.process_time() - c1,
        "prepare": prep,
        "rows": len(xy),
        "distinct": len(np.unique(xy, axis=0)),
        "clusters": int(lab.max() + 1),
    }


def run_minimal(path: Path) -> dict:
    """The minimal pipeline: read, one projection, weighted DBSCAN, concave hulls."""
    import pyarrow.csv as pacsv
    from sklearn.cluster import DBSCAN

    from clic_geo.geo.crs import to_bng

    c0 = time.process_time()
    t0 = time.perf_counter()
    table = pacsv.read_csv(path)
    lon = table["Longitude"].to_numpy(zero_copy_only=False)
    lat = table["Latitude"].to_numpy(zero_copy_only=False)
    ok = np.isfinite(lon) & np.isfinite(lat)
    e, n = to_bng(lon[ok], lat[ok])
    xy = np.column_stack([np.round(e, 1), np.round(n, 1)])
    uniq, count = np.unique(xy, axis=0, return_counts=True)
    lab = DBSCAN(eps=EPS_M, min_samples=MIN_SAMPLES).fit(uniq, sample_weight=count).labels_
    inside = lab >= 0
    order = np.argsort(lab[inside], kind="stable")
    k = lab[inside][order]
    mps = shapely.multipoints(uniq[inside][order], indices=k)
    n_loc = np.bincount(k)
    hulls = np.where(n_loc > 3, shapely.concave_hull(mps, ratio=0.3), shapely.convex_hull(mps))
    polys = shapely.buffer(hulls, 25.0, quad_segs=4)
    return {
        "seconds": time.perf_counter() - t0,
        "cpu": time.process_time() - c0,
        "rows": int(ok.sum()),
        "distinct": len(uniq),
        "clusters": len(polys),
        "clustered_locations": int(inside.sum()),
    }


def child(which: str, path: Path, n_simulations: int) -> dict:
    """Run one measurement in a fresh interpreter; its own peak RSS comes back with it."""
    cmd = [sys.executable, __file__, "--child", which, "--csv", str(path)]
    cmd += ["--simulations", str(n_simulations)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{which} run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _spread(xs: list[float]) -> str:
    return f"{min(xs):6.2f} / {statistics.median(xs):6.2f} / {max(xs):6.2f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000])
    ap.add_argument("--simulations", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3, help="runs per size (default 3)")
    ap.add_argument(
        "--large-repeats", type=int, default=2, help="runs per size from 1M on (default 2)"
    )
    ap.add_argument(
        "--which",
        default="pipeline,minimal,reference",
        help="comma-separated runs: pipeline, minimal, reference (default all three)",
    )
    ap.add_argument("--csv", help="use this CSV (with one size) instead of generating one")
    ap.add_argument("--child", choices=["pipeline", "reference", "minimal"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        path = Path(args.csv)
        run = {
            "pipeline": lambda: run_pipeline(path, args.simulations),
            "reference": lambda: run_reference(path),
            "minimal": lambda: run_minimal(path),
        }[args.child]
        res = run()
        res["peak_mb"] = peak_mb()
        print(json.dumps(res))
        return 0
    with tempfile.TemporaryDirectory(prefix="clic-bench-") as tmp:
        _measure(args, Path(tmp))
    return 0


def _measure(args: argparse.Namespace, tmp: Path) -> None:
    """Generate the files (in ``tmp``), run every measurement and print the results."""
    print(
        f"eps {EPS_M:g} m, min_samples {MIN_SAMPLES}, Monte Carlo runs {args.simulations}; "
        "each run in its own process; times min / median / max (s); peak = the run's own "
        "maximum resident set.\nReference: sklearn.cluster.DBSCAN on the same projected "
        "points, raw (every row, no duplicates collapsed, no weights), fit() only.\n"
        "Minimal: pyarrow read -> one pyproj transform -> weighted DBSCAN on distinct "
        "points -> concave hulls, end to end.",
        flush=True,
    )
    summary = {}
    for n in args.sizes:
        path = Path(args.csv) if args.csv else tmp / f"incidents_{n}.csv"
        if not path.exists():
            make_csv(n, path)
        reps = args.repeats if n < 1_000_000 else min(args.repeats, args.large_repeats)
        pipe, ref, mini = [], [], []
        for _ in range(reps):
            # interleaved, so a burst of load on the shared machine hits all alike
            if "pipeline" in args.which:
                pipe.append(child("pipeline", path, args.simulations))
            if "minimal" in args.which:
                mini.append(child("minimal", path, 0))
            if "reference" in args.which:
                ref.append(child("reference", path, 0))
        print(f"\nn = {n:,} ({reps} run(s))", flush=True)
        row = {}
        if pipe:
            secs = [r["seconds"] for r in pipe]
            row["pipeline"] = statistics.median(secs)
            row["pipeline_cpu"] = statistics.median(r["cpu"] for r in pipe)
            print(
                f"  pipeline   {_spread(secs)} s (CPU {row['pipeline_cpu']:.2f} s), "
                f"peak {max(r['peak_mb'] for r in pipe):,.0f} MB"
                f" ({pipe[0]['rows']:,} rows accepted, {pipe[0]['hotspots']:,} hotspots)"
            )
            stages = "  ".join(
                f"{k} {statistics.median(r['stages'][k] for r in pipe):.2f}"
                for k in (*STAGES, "other")
            )
            print(f"    stages (median s): {stages}")
            cpus = "  ".join(
                f"{k} {statistics.median(r['stages_cpu'][k] for r in pipe):.2f}"
                for k in ("read", "validate", "project", "fit")
            )
            print(f"    CPU (median s): {cpus}")
        if ref:
            secs = [r["seconds"] for r in ref]
            row["reference"] = statistics.median(secs)
            row["reference_cpu"] = statistics.median(r["cpu"] for r in ref)
            print(
                f"  reference  {_spread(secs)} s (CPU {row['reference_cpu']:.2f} s), "
                f"peak {max(r['peak_mb'] for r in ref):,.0f} MB"
                f" ({ref[0]['rows']:,} points, {ref[0]['distinct']:,} distinct, "
                f"{ref[0]['clusters']:,} clusters; reading + projecting "
                f"{statistics.median(r['prepare'] for r in ref):.2f} s, not counted)"
            )
        if mini:
            secs = [r["seconds"] for r in mini]
            row["minimal"] = statistics.median(secs)
            row["minimal_cpu"] = statistics.median(r["cpu"] for r in mini)
            print(
                f"  minimal    {_spread(secs)} s (CPU {row['minimal_cpu']:.2f} s), "
                f"peak {max(r['peak_mb'] for r in mini):,.0f} MB"
                f" ({mini[0]['rows']:,} rows, {mini[0]['distinct']:,} distinct points, "
                f"{mini[0]['clusters']:,} clusters)"
            )
        if pipe and ref:
            wall = row["pipeline"] / row["reference"]
            cpu = row["pipeline_cpu"] / row["reference_cpu"]
            print(f"  ratio pipeline / reference (medians): wall {wall:.2f}, CPU {cpu:.2f}")
        if pipe and mini:
            wall = row["pipeline"] / row["minimal"]
            cpu = row["pipeline_cpu"] / row["minimal_cpu"]
            mem = max(r["peak_mb"] for r in pipe) / max(r["peak_mb"] for r in mini)
            print(
                f"  ratio pipeline / minimal (medians): wall {wall:.2f}, CPU {cpu:.2f}, "
                f"peak memory {mem:.2f}"
            )
        summary[n] = row
        sys.stdout.flush()
    if len(summary) > 1:
        lo, hi = min(summary), max(summary)
        for k in ("pipeline", "reference", "minimal", "pipeline_cpu", "reference_cpu"):
            if k in summary[lo] and k in summary[hi]:
                grow = summary[hi][k] / summary[lo][k]
                b = math.log(grow) / math.log(hi / lo)
                name = k.replace("_cpu", " CPU")
                print(
                    f"scaling {lo:,} -> {hi:,}: {name} time x{grow:.1f} "
                    f"for x{hi / lo:g} rows (time ~ n^{b:.2f})"
                )


if __name__ == "__main__":
    sys.exit(main())
