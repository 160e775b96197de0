"""Route quality and speed of the visit planner, against references run in the same process.

    .venv/bin/python benchmarks/bench_planner.py [--instances 10]

- 10 stops: the route's walk against the exact shortest path (Held-Karp), and its
  prize-collecting objective against the exact optimum under a binding time budget.
- 40 stops: the route's walk against nearest-neighbour (uniform and clustered stops),
  and the solve time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clic_geo.geo import crs
from clic_geo.geo.network import StraightLine
from clic_geo.planning.baselines import exact_prize_route, held_karp_path, nearest_neighbour_path
from clic_geo.planning.route_model import DayOptions
from clic_geo.planning.routing import plan_route

BASE = (54.114, -3.2268)
T0 = datetime(2026, 11, 23, 9, 30)


def instance(seed: int, n: int, *, clustered: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    e0, n0 = crs.to_bng([BASE[1]], [BASE[0]])
    if clustered:  # addresses of concern bunch in a few estates
        centres = rng.uniform(-1500, 1500, (4, 2))
        xy = centres[rng.integers(0, 4, n)] + rng.normal(0, 150, (n, 2))
    else:
        xy = rng.uniform(-1500, 1500, (n, 2))
    lon, lat = crs.to_wgs84(e0 + xy[:, 0], n0 + xy[:, 1])
    return pd.DataFrame(
        {
            "id": [f"s{i}" for i in range(n)],
            "latitude": lat,
            "longitude": lon,
            "priority": rng.integers(1, 40, n).astype(float),
            "visit_minutes": rng.choice([10.0, 15.0, 20.0], n),
            "must_visit": False,
        }
    )


def matrix(stops: pd.DataFrame) -> np.ndarray:
    lats = np.r_[BASE[0], stops["latitude"], BASE[0]]
    lons = np.r_[BASE[1], stops["longitude"], BASE[1]]
    return StraightLine(1.3).matrix_m(*crs.to_bng(lons, lats))[0]


def summary(xs: list[float], fmt: str = "{:.4f}") -> str:
    return (
        f"mean {fmt.format(statistics.mean(xs))}, median {fmt.format(statistics.median(xs))}, "
        f"min {fmt.format(min(xs))}, max {fmt.format(max(xs))}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--instances", type=int, default=10)
    k = ap.parse_args().instances
    day = DayOptions(BASE[0], BASE[1], T0, 10_000)

    tsp, tsp_t, hk_t = [], [], []
    for seed in range(k):
        stops = instance(seed, 10)
        t = time.perf_counter()
        r = plan_route(stops, day)
        tsp_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        opt, _ = held_karp_path(matrix(stops))
        hk_t.append(time.perf_counter() - t)
        tsp.append(r.total_walk_m / opt)
    print(f"10 stops, all fit ({k} instances): route / Held-Karp optimum: {summary(tsp)}")
    print(f"  solve s: {summary(tsp_t, '{:.2f}')}; Held-Karp s: {summary(hk_t, '{:.2f}')}")

    prize, prize_t, proven = [], [], 0
    budget = 120
    per_point = np.ceil(budget * 60 * 4.5 / 3.6) + 1
    for seed in range(k):
        stops = instance(100 + seed, 10)
        t = time.perf_counter()
        r = plan_route(stops, DayOptions(BASE[0], BASE[1], T0, budget))
        prize_t.append(time.perf_counter() - t)
        proven += r.proven_optimal
        pen = np.round(stops["priority"].to_numpy() * 100) * per_point
        exact, _ = exact_prize_route(
            matrix(stops), 4.5 / 3.6, stops["visit_minutes"].to_numpy() * 60, pen,
            budget * 60 - 12, np.zeros(10, dtype=bool),
        )  # fmt: skip
        visited = {s.id for s in r.stops}
        got = r.total_walk_m + sum(
            p for i, p in zip(stops["id"], pen, strict=True) if i not in visited
        )
        prize.append(got / exact)
    print(f"10 stops, {budget}-minute budget ({k} instances): objective / exact optimum:")
    print(f"  {summary(prize)}")
    print(f"  solve s: {summary(prize_t, '{:.2f}')}; proven optimal by CP-SAT: {proven}/{k}")

    for label, clustered in (("uniform", False), ("clustered", True)):
        ratios, times = [], []
        for seed in range(k):
            stops = instance(1000 + seed, 40, clustered=clustered)
            t = time.perf_counter()
            r = plan_route(stops, day)
            times.append(time.perf_counter() - t)
            nn, _ = nearest_neighbour_path(matrix(stops))
            ratios.append(r.total_walk_m / nn)
        print(f"40 stops, {label} ({k} instances): route / nearest-neighbour: {summary(ratios)}")
        print(f"  solve s: {summary(times, '{:.2f}')}")


if __name__ == "__main__":
    main()
