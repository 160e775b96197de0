"""Benchmark: the national run on Dask, with 1 and 2 local workers.

The generated national-like data set (``benchmarks/national_data.py``: 43 force
areas, ~10.5 million street crimes over 24 months, Parquet, written once into
``--data``) goes through exactly the command a user runs::

    CLIC_AREAS_DIR=DATA/boundaries clic-geo --data-dir DATA/store hotspots \\
        --engine dask --workers N --police-uk DATA/data/*.parquet \\
        --partitions DATA/forces.geojson --eps-m 150 --simulations 0 \\
        --out DATA/hotspots-N.geojson --json

once with ``--workers 1`` and once with ``--workers 2`` (a fresh local cluster each,
one thread per worker), and prints wall time, the stages, CPU seconds and peak
resident memory per worker and of the client, the speed-up from 1 to 2 workers
measured in the same run, and what the same work would take on a real cluster:
every file and every partition is one task, so with W workers the run takes about
``(sum of file tasks + sum of partition tasks) / W`` plus the serial steps
(partitioning, merge), and never less than its longest task.

    .venv/bin/python benchmarks/bench_national.py --data /tmp/clic-national

The radius is fixed (150 m) and the Monte Carlo p-values are off: choosing the
radius nationally builds four maps (``--eps-m auto``), and the Monte Carlo test
re-clusters each area 99 times in one random stream, as one process does; both
multiply the same steps measured here.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def run(data: Path, workers: int, eps_m: float) -> dict:
    """One CLI run; its JSON summary plus the wall time seen from outside."""
    exe = Path(sys.executable).parent / "clic-geo"
    files = sorted(glob.glob(str(data / "data" / "*.parquet")))
    cmd = [str(exe), "--data-dir", str(data / "store"), "hotspots", "--engine", "dask"]
    cmd += ["--workers", str(workers), "--police-uk", *files]
    cmd += ["--partitions", str(data / "forces.geojson"), "--eps-m", f"{eps_m:g}"]
    cmd += ["--simulations", "0", "--out", str(data / f"hotspots-{workers}.geojson"), "--json"]
    env = {**os.environ, "CLIC_AREAS_DIR": str(data / "boundaries")}
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"run with {workers} worker(s) failed:\n{p.stderr[-3000:]}")
    out = json.loads(p.stdout.strip().splitlines()[-1])
    out["wall"] = wall
    return out


def _projection(d: dict, workers: int, key: str = "cpu") -> float:
    """Seconds for the same tasks spread over ``workers``, each with a core of its own
    (CPU seconds of each task; the serial steps as measured)."""
    tasks = d[f"file_{key}"] + d[f"partition_{key}"]
    serial = d["seconds"].get("partition", 0) + d["seconds"].get("merge", 0)
    return max(sum(tasks) / workers, max(tasks)) + serial


def main(argv: list[str] | None = None) -> int:
    from benchmarks.national_data import ensure

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("/tmp/clic-national"))
    ap.add_argument("--rows", type=int, default=10_500_000)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--eps-m", type=float, default=150.0)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    about = ensure(args.data, rows=args.rows, months=args.months)
    print(
        f"data: {about['rows']:,} rows, {about['forces']} forces, {about['months']} months "
        f"({time.perf_counter() - t0:.0f} s to make or find); crimes per km² a month "
        f"{about['crimes_per_km2_month']['min']:.2f}-{about['crimes_per_km2_month']['max']:.1f} "
        f"(median {about['crimes_per_km2_month']['median']:.2f}; Cumbria "
        f"{about['cumbria_per_km2_month']:.2f})",
        flush=True,
    )
    results = {}
    for w in args.workers:
        r = run(args.data, w, args.eps_m)
        d = r["dask"]
        results[w] = r
        peaks = list(d["worker_peak_mb"].values())
        cpus = list(d["worker_cpu_s"].values())
        print(
            f"\n{w} worker(s): {r['wall']:.0f} s wall ({d['seconds']['total']:.0f} s in the run: "
            + ", ".join(f"{k} {v:.0f}" for k, v in d["seconds"].items() if k != "total")
            + ")",
            flush=True,
        )
        print(
            f"  rows: {d['read']:,} read = {d['accepted']:,} accepted + {d['rejected']:,} "
            f"rejected; {r['incidents']:,} mapped -> {r['hotspots']:,} hotspots "
            f"({r['clusters']:,} clusters)"
        )
        print(
            f"  partitions: {d['partitions_used']} of {d['partitions']}, {d['islands']:,} "
            f"islands of {d['locations']:,} locations, {d['cross_border_islands']} across a "
            "border"
        )
        print(
            "  peak memory per worker: "
            + ", ".join(f"{v:,.0f} MB" for v in peaks)
            + f"; client {d['client_peak_mb']:,.0f} MB; CPU per worker: "
            + ", ".join(f"{v:.0f} s" for v in cpus)
        )
        for what, key in (("wall", "seconds"), ("CPU", "cpu")):
            fs, ps = d[f"file_{key}"], d[f"partition_{key}"]
            print(
                f"  tasks ({what} s): {len(fs)} files, median {statistics.median(fs):.1f}, "
                f"max {max(fs):.1f}, sum {sum(fs):.0f}; {len(ps)} partitions, median "
                f"{statistics.median(ps):.1f}, max {max(ps):.1f}, sum {sum(ps):.0f}"
            )
    if len(results) > 1:
        lo, hi = min(results), max(results)
        speed = results[lo]["wall"] / results[hi]["wall"]
        print(f"\nspeed-up {lo} -> {hi} workers (same run): x{speed:.2f} wall")
    d = results[min(results)]["dask"]
    print(
        "on a real cluster (one core a worker; the tasks' CPU seconds measured above with "
        f"{min(results)} worker, plus the serial steps): "
        + ", ".join(f"{w} workers ~{_projection(d, w):.0f} s" for w in (1, 2, 8, 16, 43))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
