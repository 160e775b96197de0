"""Reference route solvers the planner is measured against (tests and benchmarks).

These are deliberately simple and independent of OR-Tools:

- :func:`held_karp_path`: the exact shortest open path start -> every stop -> end
  (Held-Karp dynamic programme, O(2^n n^2); fine up to ~12 stops).
- :func:`exact_prize_route`: the exact optimum of the planner's prize-collecting
  objective (walking metres + penalty of the stops left out) under a time budget,
  by the same dynamic programme over every subset.
- :func:`nearest_neighbour_path`: the greedy baseline (always walk to the closest
  stop not yet visited).

Node 0 is the start, nodes ``1..n`` the stops and node ``n + 1`` the end.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

__all__ = ["exact_prize_route", "held_karp_path", "nearest_neighbour_path", "path_length"]


def path_length(dist: np.ndarray, order: list[int]) -> float:
    """Length of the path 0 -> ``order`` -> n+1 over the matrix ``dist``."""
    n = dist.shape[0] - 2
    nodes = [0, *order, n + 1]
    return float(sum(dist[a, b] for a, b in itertools.pairwise(nodes)))


def _subset_table(dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``best[S, j]``: shortest path from the start through subset S ending at stop j."""
    n = dist.shape[0] - 2
    full = 1 << n
    best = np.full((full, n), math.inf)
    parent = np.full((full, n), -1, dtype=np.int64)
    for j in range(n):
        best[1 << j, j] = dist[0, j + 1]
    for s in range(1, full):
        for j in range(n):
            cost = best[s, j]
            if not (s >> j) & 1 or cost == math.inf:
                continue
            for k in range(n):
                if (s >> k) & 1:
                    continue
                t = s | (1 << k)
                c = cost + dist[j + 1, k + 1]
                if c < best[t, k]:
                    best[t, k] = c
                    parent[t, k] = j
    return best, parent


def _unwind(parent: np.ndarray, s: int, j: int) -> list[int]:
    order = []
    while j >= 0:
        order.append(j + 1)
        s, j = s & ~(1 << j), int(parent[s, j])
    return order[::-1]


def held_karp_path(dist: np.ndarray) -> tuple[float, list[int]]:
    """Exact shortest path start -> all stops -> end.

    Returns ``(length, order of stop nodes)``.

    Examples
    --------
    >>> d = np.array([[0, 1, 2, 0], [1, 0, 1, 1], [2, 1, 0, 3], [0, 1, 3, 0]], float)
    >>> held_karp_path(d)
    (4.0, [2, 1])
    """
    n = dist.shape[0] - 2
    if n == 0:
        return float(dist[0, 1]), []
    best, parent = _subset_table(dist)
    full = (1 << n) - 1
    totals = best[full] + dist[1 : n + 1, n + 1]
    j = int(np.argmin(totals))
    return float(totals[j]), _unwind(parent, full, j)


def exact_prize_route(
    dist: np.ndarray,
    speed_mps: float,
    service_s: np.ndarray,
    penalty: np.ndarray,
    budget_s: float,
    must: np.ndarray,
) -> tuple[float, list[int]]:
    """Exact optimum of ``walk metres + sum(penalty of stops left out)`` within a budget.

    Walking time is distance / ``speed_mps``, so the shortest path through a set of
    stops is also the quickest. ``service_s[i]`` is the visit time of stop node
    ``i + 1``. Time windows are not modelled. Returns ``(objective, order)``, or
    ``(inf, [])`` when no set of stops holding every must-visit fits the budget.
    """
    n = dist.shape[0] - 2
    must_mask = sum(1 << i for i in range(n) if must[i])
    best_obj, best_order = math.inf, []
    if must_mask == 0 and dist[0, n + 1] / speed_mps <= budget_s:
        best_obj = float(dist[0, n + 1] + penalty.sum())
    if n == 0:
        return best_obj, best_order
    best, parent = _subset_table(dist)
    for s in range(1, 1 << n):
        if s & must_mask != must_mask:
            continue
        members = [i for i in range(n) if (s >> i) & 1]
        service = float(sum(service_s[i] for i in members))
        left_out = float(penalty.sum() - sum(penalty[i] for i in members))
        totals = best[s] + dist[1 : n + 1, n + 1]
        j = int(np.argmin(totals))
        d = float(totals[j])
        if d == math.inf or d / speed_mps + service > budget_s + 1e-9:
            continue
        if d + left_out < best_obj - 1e-9:
            best_obj, best_order = d + left_out, _unwind(parent, s, j)
    return best_obj, best_order


def nearest_neighbour_path(dist: np.ndarray) -> tuple[float, list[int]]:
    """Greedy path: from the start, always walk to the nearest stop not yet visited."""
    n = dist.shape[0] - 2
    todo = set(range(1, n + 1))
    here, order = 0, []
    while todo:
        nxt = min(todo, key=lambda k: (dist[here, k], k))
        order.append(nxt)
        todo.remove(nxt)
        here = nxt
    return path_length(dist, order), order
