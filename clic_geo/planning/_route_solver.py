"""The routing model and its solvers: OR-Tools for the day, an exact search for small days.

Also explains what the solver decided: why a stop was left out, and which must-visits
cannot fit the day.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.sat.python import cp_model
from ortools.util.optional_boolean_pb2 import BOOL_TRUE

from clic_geo.geo import crs
from clic_geo.geo.network import DistanceModel
from clic_geo.planning.route_model import DayOptions, DroppedStop, InfeasiblePlanError

__all__ = []


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class _Model:
    """The numbers OR-Tools sees. Node 0 = start, 1..n = stops, n+1 = end."""

    dist_m: np.ndarray  # float metres
    walk_s: np.ndarray  # int seconds, rounded up
    service_s: np.ndarray  # int seconds per node (0 at start and end)
    open_s: np.ndarray  # earliest arrival per node
    close_s: np.ndarray  # latest arrival per node
    penalty: np.ndarray  # per node; -1 = must-visit
    budget_s: int


def _build_model(
    table: pd.DataFrame, options: DayOptions, distances: DistanceModel
) -> tuple[_Model, tuple[str, ...]]:
    lats = np.r_[options.start_lat, table["latitude"].to_numpy(float), options.end[0]]
    lons = np.r_[options.start_lon, table["longitude"].to_numpy(float), options.end[1]]
    e, n = crs.to_bng(lons, lats)
    dist, notes = distances.matrix_m(e, n)
    dist = np.asarray(dist, dtype=float)
    speed = options.walk_speed_kmh / 3.6
    walk = np.ceil(dist / speed - 1e-9).astype(np.int64)
    service = np.r_[0, np.ceil(table["visit_minutes"].to_numpy(float) * 60 - 1e-9), 0].astype(
        np.int64
    )
    budget = math.floor(options.minutes_available * 60 + 1e-9)
    t0 = options.start_at

    def secs(col: str, default: int) -> np.ndarray:
        out = np.full(len(table) + 2, default, dtype=np.int64)
        for i, v in enumerate(table[col]):
            if pd.notna(v):
                s = (pd.Timestamp(v).to_pydatetime() - t0).total_seconds()
                out[i + 1] = math.ceil(s) if col == "window_start" else math.floor(s)
        return out

    open_s = np.maximum(secs("window_start", 0), 0)
    close_s = np.minimum(secs("window_end", budget), budget)
    prio = table["priority"].to_numpy(float)
    if options.metres_per_priority_point is None:
        # lexicographic: 0.01 point outweighs the longest walk the day allows
        per_point = 100 * (math.ceil(budget * speed) + 1)
        raw = np.round(prio * 100) * (per_point / 100)
    else:
        raw = np.round(prio * options.metres_per_priority_point)
    pen = np.r_[-1, np.where(table["must_visit"].to_numpy(bool), -1, raw), -1].astype(np.int64)
    return _Model(dist, walk, service, open_s, close_s, pen, budget), tuple(notes)


def _solve(
    m: _Model, nodes: list[int], seconds: float, *, budget_s: int | None = None
) -> list[int] | None:
    """Solve on a subset of stop nodes (always with start 0 and end n+1).

    Returns the visited stop nodes in order, or ``None`` if no solution was found.
    """
    end = m.dist_m.shape[0] - 1
    sub = [0, *nodes, end]
    budget = m.budget_s if budget_s is None else budget_s
    manager = pywrapcp.RoutingIndexManager(len(sub), 1, [0], [len(sub) - 1])
    routing = pywrapcp.RoutingModel(manager)
    dist = np.rint(m.dist_m[np.ix_(sub, sub)]).astype(np.int64).tolist()
    transit = (m.walk_s[np.ix_(sub, sub)] + m.service_s[sub][:, None]).tolist()

    def dist_cb(i: int, j: int) -> int:
        return dist[manager.IndexToNode(i)][manager.IndexToNode(j)]

    def time_cb(i: int, j: int) -> int:
        return transit[manager.IndexToNode(i)][manager.IndexToNode(j)]

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(dist_cb))
    t_idx = routing.RegisterTransitCallback(time_cb)
    routing.AddDimension(t_idx, budget, budget, True, "time")
    time_dim = routing.GetDimensionOrDie("time")
    for k, node in enumerate(sub):
        idx = routing.End(0) if k == len(sub) - 1 else manager.NodeToIndex(k)
        lo, hi = int(m.open_s[node]), int(min(m.close_s[node], budget))
        if node == end:
            lo, hi = 0, budget
        time_dim.CumulVar(idx).SetRange(lo, hi)
        if 0 < k < len(sub) - 1 and m.penalty[node] >= 0:
            routing.AddDisjunction([manager.NodeToIndex(k)], int(m.penalty[node]))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    ops = params.local_search_operators
    # moves that swap a visited stop for one left out, which the choice of stops needs
    for name in (
        "use_extended_swap_active",
        "use_relocate_and_make_active",
        "use_exchange_and_make_active",
        "use_inactive_lns",
    ):
        setattr(ops, name, BOOL_TRUE)
    params.time_limit.FromMilliseconds(max(10, int(seconds * 1000)))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        return None
    order, idx = [], routing.Start(0)
    while not routing.IsEnd(idx):
        k = manager.IndexToNode(idx)
        if k != 0:
            order.append(sub[k])
        idx = solution.Value(routing.NextVar(idx))
    return order


def _solve_exact(
    m: _Model, nodes: list[int], seconds: float, hint: list[int] | None
) -> tuple[list[int] | None, bool]:
    """The same model in CP-SAT (a circuit with optional nodes), warm-started.

    Returns ``(order or None, proven)``: ``proven`` is True when CP-SAT proved the
    order optimal, or proved that no route exists (order None).
    """
    end = m.dist_m.shape[0] - 1
    sub = [0, *nodes, end]
    size = len(sub)
    dist = np.rint(m.dist_m[np.ix_(sub, sub)]).astype(np.int64)
    transit = m.walk_s[np.ix_(sub, sub)] + m.service_s[sub][:, None]
    budget = m.budget_s
    model = cp_model.CpModel()
    t = [model.new_int_var(0, budget, f"t{k}") for k in range(size)]
    model.add(t[0] == 0)
    arcs, x = [], {}
    back = model.new_bool_var("back")
    model.add(back == 1)
    arcs.append((size - 1, 0, back))
    skip = {}
    objective = []
    for k in range(1, size - 1):
        node = sub[k]
        if m.penalty[node] >= 0:
            skip[k] = model.new_bool_var(f"skip{k}")
            arcs.append((k, k, skip[k]))
            objective.append(int(m.penalty[node]) * skip[k])
            on = skip[k].Not()
            model.add(t[k] >= int(m.open_s[node])).only_enforce_if(on)
            model.add(t[k] <= int(min(m.close_s[node], budget))).only_enforce_if(on)
        else:
            model.add(t[k] >= int(m.open_s[node]))
            model.add(t[k] <= int(min(m.close_s[node], budget)))
    for i in range(size - 1):
        for j in range(1, size):
            if i == j or (i == 0 and j == size - 1 and len(skip) < size - 2):
                continue
            lit = model.new_bool_var(f"x{i}_{j}")
            x[i, j] = lit
            arcs.append((i, j, lit))
            model.add(t[j] >= t[i] + int(transit[i, j])).only_enforce_if(lit)
            objective.append(int(dist[i, j]) * lit)
    model.add_circuit(arcs)
    model.minimize(sum(objective))
    if hint is not None:
        pos = {node: k for k, node in enumerate(sub)}
        path = [0, *[pos[h] for h in hint], size - 1]
        used = set(itertools.pairwise(path))
        for (i, j), lit in x.items():
            model.add_hint(lit, (i, j) in used)
        for k, lit in skip.items():
            model.add_hint(lit, k not in path)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, seconds)
    solver.parameters.num_workers = 2
    status = solver.solve(model)
    if status == cp_model.INFEASIBLE:
        return None, True
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, False
    order, here = [], 0
    nxt = {i: j for (i, j), lit in x.items() if solver.boolean_value(lit)}
    while nxt.get(here, size - 1) != size - 1:
        here = nxt[here]
        order.append(sub[here])
    return order, status == cp_model.OPTIMAL


def _schedule(m: _Model, order: list[int]) -> tuple[list[tuple[float, float]], float] | None:
    """Arrival and wait per stop (seconds), and the finish; None if a time window is missed."""
    end = m.dist_m.shape[0] - 1
    t, here, out = 0.0, 0, []
    for k in order:
        t += float(m.walk_s[here, k])
        wait = max(0.0, float(m.open_s[k]) - t)
        t += wait
        if m.close_s[k] < m.budget_s and t > m.close_s[k] + 1e-6:
            return None  # a real time window missed (the budget is checked on the finish)
        out.append((t, wait))
        t += float(m.service_s[k])
        here = k
    t += float(m.walk_s[here, end])
    return out, t


#: Up to this many stops CP-SAT gets up to 2 s to prove the route optimal (it stops
#: as soon as it has); above, a quarter of the routing time to improve it.
_EXACT_STOPS = 20


def _cost(m: _Model, order: list[int]) -> int:
    """The objective: whole walking metres plus the penalties of stops left out."""
    end = m.dist_m.shape[0] - 1
    path = [0, *order, end]
    walk = sum(int(np.rint(m.dist_m[a, b])) for a, b in itertools.pairwise(path))
    out = set(range(1, end)) - set(order)
    return walk + int(sum(m.penalty[k] for k in out if m.penalty[k] > 0))


def _minutes(seconds: float) -> str:
    return f"{math.ceil(seconds / 60 - 1e-9):.0f}"


def _clock(t0: datetime, seconds: float) -> str:
    return (t0 + timedelta(seconds=float(seconds))).strftime("%H:%M")


def _diagnose(m: _Model, table: pd.DataFrame, options: DayOptions, seconds: float) -> None:
    """Explain why the must-visit stops cannot fit; always raises."""
    must = [k for k in range(1, len(table) + 1) if m.penalty[k] < 0]
    ids = [table["id"].iloc[k - 1] for k in must]
    end = m.dist_m.shape[0] - 1
    budget = m.budget_s
    single = []
    for k, sid in zip(must, ids, strict=True):
        arrive = max(m.walk_s[0, k], m.open_s[k])
        if m.close_s[k] < budget and m.walk_s[0, k] > m.close_s[k]:
            late = m.walk_s[0, k] - m.close_s[k]
            single.append(
                f"{sid} must be reached by {_clock(options.start_at, m.close_s[k])} but the "
                f"walk there ends at {_clock(options.start_at, m.walk_s[0, k])} "
                f"({_minutes(late)} minutes late)"
            )
            continue
        alone = arrive + m.service_s[k] + m.walk_s[k, end]
        if alone > budget:
            single.append(
                f"{sid} alone needs {_minutes(alone)} minutes (walk there and back, "
                f"{_minutes(m.service_s[k])}-minute visit); {_minutes(budget)} are available "
                f"({_minutes(alone - budget)} over)"
            )
    if single:
        raise InfeasiblePlanError(
            "the must-visit stops cannot all fit: " + "; ".join(single), ids, math.nan
        )
    relaxed = replace(m, close_s=np.where(m.close_s >= budget, 100 * budget, m.close_s))
    order = _solve(relaxed, must, seconds, budget_s=100 * budget)
    if order is None:
        raise InfeasiblePlanError(
            f"the time windows of the must-visit stops {', '.join(ids)} cannot all be met "
            "in one walk; widen a window or unpin a stop",
            ids,
            math.nan,
        )
    sched = _schedule(relaxed, order)
    assert sched is not None
    need = sched[1]
    walk = sum(m.walk_s[a, b] for a, b in zip([0, *order], [*order, end], strict=True))
    visits = sum(m.service_s[k] for k in order)
    over = need - budget
    raise InfeasiblePlanError(
        f"the {len(ids)} must-visit stops ({', '.join(ids)}) need about {_minutes(need)} "
        f"minutes (walking {_minutes(walk)}, visits {_minutes(visits)}"
        + (f", waiting {_minutes(need - walk - visits)}" if need - walk - visits > 59 else "")
        + f"); {_minutes(budget)} are available: {_minutes(over)} minutes over. "
        "Unpin a stop or allow more time.",
        ids,
        over / 60,
    )


def _insertion(m: _Model, order: list[int], k: int) -> tuple[float | None, float]:
    """Cheapest feasible insertion of ``k``: (extra metres or None, least overrun seconds)."""
    best_m: float | None = None
    least_over = math.inf
    end = m.dist_m.shape[0] - 1
    nodes = [0, *order, end]
    for p in range(1, len(nodes)):
        trial = [*order[: p - 1], k, *order[p - 1 :]]
        sched = _schedule(m, trial)
        extra = m.dist_m[nodes[p - 1], k] + m.dist_m[k, nodes[p]] - m.dist_m[nodes[p - 1], nodes[p]]
        if sched is None:
            continue
        over = sched[1] - m.budget_s
        if over <= 0:
            best_m = extra if best_m is None else min(best_m, extra)
        least_over = min(least_over, over)
    return best_m, least_over


def _why_dropped(m: _Model, table: pd.DataFrame, order: list[int], k: int) -> DroppedStop:
    r = table.iloc[k - 1]
    extra, over = _insertion(m, order, k)
    if extra is not None:
        code = "not_worth_detour"
        reason = (
            f"left out: the extra {extra:,.0f} m of walking outweighs its priority "
            f"({r['priority']:g})"
            if r["priority"] > 0
            else "left out: priority 0"
        )
    elif math.isfinite(over):
        code = "no_time"
        reason = (
            f"no time left: fitting it in would take the day {_minutes(over)} minutes over "
            f"(priority {r['priority']:g}; the stops chosen make more of the time)"
        )
    else:
        code = "window"
        reason = "its time window cannot be met with the stops chosen"
    return DroppedStop(
        r["id"], code, reason, float(r["priority"]), int(r["_row"]), r["kind"], r["label"]
    )
