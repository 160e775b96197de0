"""Benchmark: the whole hotspot pipeline against scikit-learn's DBSCAN alone.

Synthetic data.police.uk-style CSV files with N incidents spread like national data:
towns of very different sizes (a few cities, many small towns) over an England-sized
area, every incident snapped onto a fixed set of street points (so many rows share
exact coordinates). For each N the script times, in one process:

- the pipeline: read CSV -> validate -> project (BNG) -> cluster (weighted DBSCAN on
  distinct points) -> polygons -> per-hotspot statistics and trends;
- scikit-learn's ``DBSCAN`` alone on the same coordinates (the same eps/min_samples),

and prints wall time, peak memory (resident set, whole process) and their ratio.

    .venv/bin/python benchmarks/bench_pipeline.py 10000 100000 1000000

The Monte Carlo p-values re-cluster random data ``n_simulations`` times; they are off
here (``--simulations`` to include them) because their cost is that of the clustering
times the number of runs.
"""

from __future__ import annotations

import argparse
import gc
import resource
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
    from clic_geo.geo import to_wgs84

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
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def context():
    from clic_geo.areas import ServiceArea, load_areas
    from clic_geo.settings import REPO_ROOT
    from clic_geo.validate import ValidationContext

    england = ServiceArea("England (benchmark)", shapely.box(-6.5, 49.8, 2.0, 56.0))
    return ValidationContext(
        service_area=england,
        areas=load_areas(REPO_ROOT / "boundaries"),
        now=datetime(2024, 6, 1),
    )


def pipeline(path: Path, n_simulations: int) -> tuple[int, int]:
    from clic_geo.hotspots import HotspotFinder
    from clic_geo.layers import build_layer
    from clic_geo.readers import read_table
    from clic_geo.validate import validate

    raw = read_table(path)
    v = validate(raw, "incidents", context(), source="police-uk", police_uk=True)
    layer = build_layer("incidents", incidents=v.accepted)
    est = HotspotFinder(eps_m=EPS_M, min_samples=MIN_SAMPLES, n_simulations=n_simulations)
    hs = est.fit(layer).hotspots_
    return len(v.accepted), len(hs)


def sklearn_only(path: Path) -> int:
    from sklearn.cluster import DBSCAN

    from clic_geo.geo import to_bng

    df = pd.read_csv(path, usecols=["Longitude", "Latitude"])
    e, n = to_bng(df["Longitude"].to_numpy(), df["Latitude"].to_numpy())
    lab = DBSCAN(eps=EPS_M, min_samples=MIN_SAMPLES).fit(np.column_stack([e, n])).labels_
    return int(lab.max() + 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000])
    ap.add_argument("--simulations", type=int, default=0)
    ap.add_argument("--which", choices=["both", "pipeline", "sklearn"], default="both")
    ap.add_argument("--csv", help="use this CSV (with one size) instead of generating one")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="clic-bench-"))
    for n in args.sizes:
        path = Path(args.csv) if args.csv else tmp / f"incidents_{n}.csv"
        if not path.exists():
            make_csv(n, path)
        gc.collect()
        out = [f"n={n:>9,}"]
        if args.which in ("both", "pipeline"):
            t = time.perf_counter()
            rows, n_hs = pipeline(path, args.simulations)
            tp = time.perf_counter() - t
            out.append(f"pipeline {tp:7.2f} s ({rows:,} rows, {n_hs:,} hotspots)")
        if args.which in ("both", "sklearn"):
            t = time.perf_counter()
            k = sklearn_only(path)
            ts = time.perf_counter() - t
            out.append(f"sklearn DBSCAN {ts:7.2f} s ({k:,} clusters)")
        if args.which == "both":
            out.append(f"ratio {tp / ts:.2f}")
        out.append(f"peak RSS {peak_mb():,.0f} MB")
        print(" | ".join(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
