"""The walking route for a day of visits: a prize-collecting routing problem.

Given candidate stops (each with a priority, a visit time and optionally a time
window and a must-visit pin), a start and end point and the time available,
:func:`plan_route` chooses which stops to make and in what order:

- every must-visit stop is in the route (or :class:`InfeasiblePlanError` says which
  cannot fit and by how many minutes);
- optional stops are chosen by priority: by default the route makes the set of
  stops with the largest total priority that fits the time budget (walking + visits
  + waiting for time windows + the walk back to the end point) and, among those,
  walks the least (the orienteering problem). Technically leaving a stop out costs
  a penalty and OR-Tools minimises walking metres plus penalties; by default one
  hundredth of a priority point outweighs the longest walk the day allows, or set
  ``metres_per_priority_point`` for a softer trade-off;
- every stop not in the route is reported with the reason.

The model is solved with OR-Tools' routing library (guided local search with a time
limit). Times are modelled in whole seconds, rounded up, so the reported float
times never exceed the budget. Distances come from a :class:`~clic_geo.network.DistanceModel`:
a walking street network when the user supplies one, otherwise straight-line
distance times a detour factor (:data:`DEFAULT_DETOUR_FACTOR`).
"""

from __future__ import annotations

import itertools
import logging
import math
import time as _time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.sat.python import cp_model
from ortools.util.optional_boolean_pb2 import BOOL_TRUE

from clic_geo import geo
from clic_geo._errors import ClicGeoError, ConfigError, InputFileError
from clic_geo._parse import parse_bool
from clic_geo.network import DEFAULT_DETOUR_FACTOR, DistanceModel, StraightLine

__all__ = [
    "DEFAULT_METRES_PER_PRIORITY_POINT",
    "DEFAULT_WALK_SPEED_KMH",
    "STOP_COLUMNS",
    "DayOptions",
    "DroppedStop",
    "InfeasiblePlanError",
    "Route",
    "RouteStop",
    "plan_route",
]

log = logging.getLogger(__name__)

#: Two people walking together and talking, with kerbs and crossings: a little under
#: the 5 km/h of a lone adult (Knoblauch et al. 1996 measured 4.8-5.4 km/h at crossings).
DEFAULT_WALK_SPEED_KMH = 4.5
#: Set ``DayOptions.metres_per_priority_point`` to trade priority against walking
#: instead (e.g. 200: a stop of priority 20 is worth a 4 km detour). ``None`` (the
#: default) collects the most priority the day allows, then walks the least.
DEFAULT_METRES_PER_PRIORITY_POINT: float | None = None

#: Columns a stops table must have; ``window_start``/``window_end`` (clock time on the
#: day or a date-time) and any other columns (``kind``, ``label``, ``reasons``,
#: ``bring``...) are optional and carried through to the result.
STOP_COLUMNS = ("id", "latitude", "longitude", "priority", "visit_minutes", "must_visit")
_CARRIED = ("kind", "label", "reasons", "bring", "hotspot_id")


class InfeasiblePlanError(ClicGeoError, ValueError):
    """The must-visit stops cannot all be made in the time available.

    Attributes
    ----------
    stop_ids : tuple of str
        The must-visit stops concerned.
    over_minutes : float
        By how many minutes the day is too short (``nan`` if a time window, not
        the length of the day, is what cannot be met).
    """

    def __init__(self, message: str, stop_ids: Iterable[str], over_minutes: float) -> None:
        super().__init__(message)
        self.stop_ids = tuple(stop_ids)
        self.over_minutes = over_minutes


@dataclass(frozen=True)
class DayOptions:
    """The day the sergeant sets: where, when, how long, how fast.

    Attributes
    ----------
    start_lat, start_lon : float
        Where the team starts (WGS84 degrees), e.g. the area's base point.
    start_at : datetime
        When the team sets off.
    minutes_available : float
        The whole time budget, including the walk back to the end point.
    end_lat, end_lon : float, optional
        Where the day ends; default the start point.
    walk_speed_kmh : float
        Walking speed.
    metres_per_priority_point : float
        The trade-off between priority and walking (see the module docstring).
    solver_seconds : float, optional
        Time limit of the OR-Tools routing search; default ``0.1 + 0.05 * stops``,
        at most 3 s. CP-SAT then gets up to 2 s (up to 20 stops, stopping once
        optimal) or a quarter of this (more stops).
    must_visit, exclude : frozenset of str
        Stop ids pinned as must-visit, and ids to leave out.
    """

    start_lat: float
    start_lon: float
    start_at: datetime
    minutes_available: float
    end_lat: float | None = None
    end_lon: float | None = None
    walk_speed_kmh: float = DEFAULT_WALK_SPEED_KMH
    metres_per_priority_point: float | None = DEFAULT_METRES_PER_PRIORITY_POINT
    solver_seconds: float | None = None
    must_visit: frozenset[str] = field(default_factory=frozenset)
    exclude: frozenset[str] = field(default_factory=frozenset)

    @property
    def end(self) -> tuple[float, float]:
        """``(lat, lon)`` of the end point."""
        if self.end_lat is None or self.end_lon is None:
            return (self.start_lat, self.start_lon)
        return (self.end_lat, self.end_lon)

    def validate(self) -> None:
        """Raise :class:`ConfigError` listing every invalid setting."""
        problems = []
        for name, (la, lo) in {"start": (self.start_lat, self.start_lon), "end": self.end}.items():
            if not (_finite(la) and _finite(lo) and abs(la) <= 90 and abs(lo) <= 180):
                problems.append(f"{name} point ({la}, {lo}) is not a latitude, longitude")
        if not (_finite(self.minutes_available) and self.minutes_available > 0):
            problems.append(f"minutes available must be positive, got {self.minutes_available}")
        if not (_finite(self.walk_speed_kmh) and 0.5 <= self.walk_speed_kmh <= 15):
            problems.append(f"walking speed must be 0.5-15 km/h, got {self.walk_speed_kmh}")
        mpp = self.metres_per_priority_point
        if mpp is not None and not (_finite(mpp) and mpp > 0):
            problems.append("metres_per_priority_point must be positive")
        if problems:
            raise ConfigError("; ".join(problems))


@dataclass(frozen=True)
class RouteStop:
    """One stop of the route, in walking order."""

    order: int
    id: str
    latitude: float
    longitude: float
    arrive_at: datetime
    leave_at: datetime
    wait_minutes: float
    visit_minutes: float
    leg_walk_m: float  # from the previous stop (or the start)
    leg_walk_minutes: float
    priority: float
    must_visit: bool
    window_start: datetime | None = None
    window_end: datetime | None = None
    kind: str = ""
    label: str = ""
    reasons: str = ""
    bring: str = ""
    hotspot_id: str = ""


@dataclass(frozen=True)
class DroppedStop:
    """A stop that is not in the route, and why.

    ``code`` is one of ``excluded``, ``no_location``, ``bad_value``, ``duplicate``,
    ``window``, ``too_far``, ``no_time``, ``not_worth_detour``.
    """

    id: str
    code: str
    reason: str
    priority: float | None = None
    row: int | None = None
    kind: str = ""
    label: str = ""


@dataclass(frozen=True)
class Route:
    """The planned walk. Every input row is in ``stops`` or in ``dropped``."""

    stops: tuple[RouteStop, ...]
    dropped: tuple[DroppedStop, ...]
    start: tuple[float, float]
    end: tuple[float, float]
    start_at: datetime
    finish_at: datetime
    minutes_available: float
    return_walk_m: float
    return_walk_minutes: float
    walk_speed_kmh: float
    distance_method: str
    solve_seconds: float
    proven_optimal: bool = False
    notes: tuple[str, ...] = ()

    @property
    def total_walk_m(self) -> float:
        """Walking metres, start to end."""
        return sum(s.leg_walk_m for s in self.stops) + self.return_walk_m

    @property
    def total_walk_minutes(self) -> float:
        """Walking minutes, start to end."""
        return sum(s.leg_walk_minutes for s in self.stops) + self.return_walk_minutes

    @property
    def total_visit_minutes(self) -> float:
        """Minutes spent at stops."""
        return sum(s.visit_minutes for s in self.stops)

    @property
    def total_wait_minutes(self) -> float:
        """Minutes waiting for a time window to open."""
        return sum(s.wait_minutes for s in self.stops)

    @property
    def total_minutes(self) -> float:
        """Minutes from setting off to arriving at the end point."""
        return (self.finish_at - self.start_at).total_seconds() / 60

    @property
    def collected_priority(self) -> float:
        """Sum of the priorities of the stops made."""
        return sum(s.priority for s in self.stops)

    def to_frame(self) -> pd.DataFrame:
        """The stops as a table, one row per stop in walking order."""
        cols = [f.name for f in RouteStop.__dataclass_fields__.values()]
        return pd.DataFrame([[getattr(s, c) for c in cols] for s in self.stops], columns=cols)

    def dropped_frame(self) -> pd.DataFrame:
        """The stops left out, with reasons."""
        cols = [f.name for f in DroppedStop.__dataclass_fields__.values()]
        return pd.DataFrame([[getattr(d, c) for c in cols] for d in self.dropped], columns=cols)

    def to_dict(self, *, include_labels: bool = True) -> dict[str, Any]:
        """JSON-ready summary (the command line prints this)."""

        def stop(s: RouteStop) -> dict[str, Any]:
            out = {
                "id": s.id,
                "order": s.order,
                "latitude": s.latitude,
                "longitude": s.longitude,
                "arrive_at": s.arrive_at.isoformat(timespec="minutes"),
                "leave_at": s.leave_at.isoformat(timespec="minutes"),
                "leg_walk_m": round(s.leg_walk_m, 1),
                "leg_walk_minutes": round(s.leg_walk_minutes, 1),
                "wait_minutes": round(s.wait_minutes, 1),
                "visit_minutes": s.visit_minutes,
                "priority": s.priority,
                "must_visit": s.must_visit,
            }
            if include_labels:
                out |= {"kind": s.kind, "label": s.label, "reasons": s.reasons, "bring": s.bring}
            return out

        return {
            "stops": [stop(s) for s in self.stops],
            "dropped": [
                {"id": d.id, "code": d.code, "reason": d.reason, "priority": d.priority}
                for d in self.dropped
            ],
            "total_walk_m": round(self.total_walk_m, 1),
            "total_walk_minutes": round(self.total_walk_minutes, 1),
            "total_visit_minutes": round(self.total_visit_minutes, 1),
            "total_wait_minutes": round(self.total_wait_minutes, 1),
            "total_minutes": round(self.total_minutes, 1),
            "minutes_available": self.minutes_available,
            "return_walk_m": round(self.return_walk_m, 1),
            "start_at": self.start_at.isoformat(timespec="minutes"),
            "finish_at": self.finish_at.isoformat(timespec="minutes"),
            "collected_priority": round(self.collected_priority, 2),
            "distance_method": self.distance_method,
            "walk_speed_kmh": self.walk_speed_kmh,
            "solve_seconds": round(self.solve_seconds, 3),
            "proven_optimal": self.proven_optimal,
            "notes": list(self.notes),
        }


def _finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------- input


@dataclass(frozen=True)
class _Stops:
    table: pd.DataFrame  # usable stops, positional index 0..n-1
    dropped: tuple[DroppedStop, ...]


def _text(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), "").astype(str).str.strip()


def _window(values: pd.Series, day: datetime) -> tuple[pd.Series, pd.Series]:
    """Parse window times (``HH:MM`` on the day, or a date-time); returns (when, bad)."""
    text = _text(values)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    bad = pd.Series(False, index=values.index)
    for i, t in text.items():
        if not t:
            continue
        try:
            if len(t) <= 5 and ":" in t:
                hh, mm = (int(x) for x in t.split(":"))
                out[i] = datetime.combine(day.date(), datetime.min.time()).replace(
                    hour=hh, minute=mm
                )
            else:
                out[i] = pd.Timestamp(t).to_pydatetime()
        except (ValueError, TypeError):
            bad[i] = True
    return out, bad


def _prepare(stops: pd.DataFrame, options: DayOptions) -> _Stops:
    """Check the stops table; unusable rows become :class:`DroppedStop`."""
    missing = [c for c in STOP_COLUMNS if c not in stops.columns]
    if missing:
        raise InputFileError(
            f"stops table lacks column(s) {', '.join(missing)}; expected "
            f"{', '.join(STOP_COLUMNS)} (found {', '.join(map(str, stops.columns))})"
        )
    df = stops.reset_index(drop=True).copy()
    df["_row"] = np.arange(len(df)) + 1
    df["id"] = _text(df["id"])
    for c in _CARRIED:
        df[c] = _text(df[c]) if c in df.columns else ""
    lat = pd.to_numeric(df["latitude"], errors="coerce")
    lon = pd.to_numeric(df["longitude"], errors="coerce")
    prio = pd.to_numeric(df["priority"], errors="coerce")
    mins = pd.to_numeric(df["visit_minutes"], errors="coerce")
    must_text = _text(df["must_visit"]).str.lower()
    must, must_ok = parse_bool(must_text)
    must = must | df["id"].isin(options.must_visit)
    w_start, bad_ws = (
        _window(df["window_start"], options.start_at)
        if ("window_start" in df)
        else (pd.Series(pd.NaT, index=df.index), pd.Series(False, index=df.index))
    )
    w_end, bad_we = (
        _window(df["window_end"], options.start_at)
        if ("window_end" in df)
        else (
            pd.Series(pd.NaT, index=df.index),
            pd.Series(False, index=df.index),
        )
    )
    df = df.assign(
        latitude=lat,
        longitude=lon,
        priority=prio.fillna(0.0),
        visit_minutes=mins,
        must_visit=must,
        window_start=w_start,
        window_end=w_end,
    )
    unknown_pins = sorted(set(options.must_visit) - set(df["id"]))
    if unknown_pins:
        raise ConfigError(f"pinned stop(s) not among the candidates: {', '.join(unknown_pins)}")
    dropped: list[DroppedStop] = []
    keep = np.ones(len(df), dtype=bool)
    first_row: dict[str, int] = {}
    bad_pins: list[str] = []
    for i, r in df.iterrows():
        sid = r["id"] or f"(row {r['_row']})"
        problems, code = [], "bad_value"
        if not r["id"]:
            problems.append("no id")
        if not (_finite(r["latitude"]) and _finite(r["longitude"])):
            problems, code = ["no coordinates"], "no_location"
        elif abs(r["latitude"]) > 90 or abs(r["longitude"]) > 180:
            problems, code = ["coordinates out of range"], "no_location"
        if code != "no_location":
            if not _finite(r["visit_minutes"]) or r["visit_minutes"] < 0:
                problems.append(
                    f"visit minutes not a number >= 0 ({stops.iloc[i]['visit_minutes']!r})"
                )
            if not _finite(r["priority"]) or r["priority"] < 0:
                problems.append("priority not a number >= 0")
            if not must_ok.iloc[i]:
                problems.append(f"must_visit not yes/no ({must_text.iloc[i]!r})")
            if bad_ws.iloc[i] or bad_we.iloc[i]:
                problems.append("time window not HH:MM or a date-time")
        if r["id"] and r["id"] in first_row:
            # the first copy keeps the stop; a pin on any copy pins it
            if r["must_visit"]:
                df.loc[first_row[r["id"]], "must_visit"] = True
            problems, code = (
                [f"duplicate of the stop on row {df.loc[first_row[r['id']], '_row']}"],
                "duplicate",
            )
        elif r["id"] in options.exclude:
            problems, code = ["excluded by the sergeant"], "excluded"
        if problems:
            keep[i] = False
            if r["must_visit"] and code not in ("duplicate", "excluded"):
                bad_pins.append(f"{sid}: {'; '.join(problems)}")
            dropped.append(
                DroppedStop(
                    sid,
                    code,
                    "; ".join(problems),
                    float(r["priority"]) if _finite(r["priority"]) else None,
                    int(r["_row"]),
                    r["kind"],
                    r["label"],
                )
            )
        elif r["id"]:
            first_row[r["id"]] = i
    if bad_pins:
        raise InputFileError("must-visit stop(s) cannot be routed: " + " | ".join(bad_pins))
    return _Stops(df[keep].reset_index(drop=True), tuple(dropped))


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
    e, n = geo.to_bng(lons, lats)
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


def plan_route(
    stops: pd.DataFrame,
    options: DayOptions,
    *,
    distances: DistanceModel | None = None,
) -> Route:
    """Choose and order the day's stops.

    Parameters
    ----------
    stops : pandas.DataFrame
        One row per candidate with the columns :data:`STOP_COLUMNS`; optional
        ``window_start``/``window_end`` (``HH:MM`` on the day or a date-time) and
        ``kind``, ``label``, ``reasons``, ``bring``, ``hotspot_id`` carried through.
    options : DayOptions
        Start and end point, start time, time available, speed, pins, exclusions.
    distances : DistanceModel, optional
        Default: straight line times :data:`~clic_geo.network.DEFAULT_DETOUR_FACTOR`.

    Returns
    -------
    Route
        Every input row is either a :class:`RouteStop` or a :class:`DroppedStop`.

    Raises
    ------
    InputFileError
        The table lacks a column, or a must-visit stop has no usable location.
    ConfigError
        An option is invalid, or a pinned id is not a candidate.
    InfeasiblePlanError
        The must-visit stops cannot all fit; the message says which and by how much.

    Examples
    --------
    >>> from datetime import datetime
    >>> stops = pd.DataFrame({"id": ["a", "b"], "latitude": [54.115, 54.12],
    ...     "longitude": [-3.225, -3.22], "priority": [10, 5], "visit_minutes": [15, 15],
    ...     "must_visit": [False, False]})
    >>> day = DayOptions(54.114, -3.2268, datetime(2026, 11, 23, 9, 30), 120)
    >>> r = plan_route(stops, day)
    >>> sorted(s.id for s in r.stops), r.total_minutes <= 120
    (['a', 'b'], True)
    """
    options.validate()
    if options.must_visit & options.exclude:
        raise ConfigError(
            "stop(s) both pinned and excluded: "
            + ", ".join(sorted(options.must_visit & options.exclude))
        )
    distances = distances or StraightLine(DEFAULT_DETOUR_FACTOR)
    began = _time.perf_counter()
    prepared = _prepare(stops, options)
    table = prepared.table
    dropped = list(prepared.dropped)
    m, notes = _build_model(table, options, distances)
    n = len(table)
    end = n + 1
    # stops that cannot be made even alone are dropped before solving
    candidates: list[int] = []
    for k in range(1, n + 1):
        arrive = max(m.walk_s[0, k], m.open_s[k])
        alone = arrive + m.service_s[k] + m.walk_s[k, end]
        if m.penalty[k] < 0:
            candidates.append(k)
        elif m.open_s[k] > m.close_s[k] or m.walk_s[0, k] > m.close_s[k]:
            r = table.iloc[k - 1]
            dropped.append(
                DroppedStop(
                    r["id"],
                    "window",
                    "its time window is over before the team can get there",
                    float(r["priority"]),
                    int(r["_row"]),
                    r["kind"],
                    r["label"],
                )
            )
        elif alone > m.budget_s:
            r = table.iloc[k - 1]
            dropped.append(
                DroppedStop(
                    r["id"],
                    "too_far",
                    f"too far for the day: alone it needs {_minutes(alone)} minutes "
                    f"({_minutes(m.budget_s)} available)",
                    float(r["priority"]),
                    int(r["_row"]),
                    r["kind"],
                    r["label"],
                )
            )
        else:
            candidates.append(k)
    seconds = options.solver_seconds
    if seconds is None:
        seconds = min(3.0, 0.1 + 0.05 * len(candidates))
    order: list[int] | None = []
    proven = True
    if candidates:
        # OR-Tools routing (guided local search) finds a good route fast; CP-SAT,
        # started from it, improves it and proves small instances optimal
        order = _solve(m, candidates, seconds)
        exact_seconds = 2.0 if len(candidates) <= _EXACT_STOPS else 0.25 * seconds
        exact, proven = _solve_exact(m, candidates, exact_seconds, order)
        if exact is not None and (order is None or _cost(m, exact) <= _cost(m, order)):
            order = exact
        else:
            proven = False
    if order is None:
        _diagnose(m, table, options, seconds)
    sched = _schedule(m, order)
    if sched is None or sched[1] > m.budget_s:  # pragma: no cover - the model forbids it
        raise ClicGeoError("internal: the solver returned a route that breaks the time budget")
    visited = set(order)
    for k in candidates:
        if k not in visited:
            dropped.append(_why_dropped(m, table, order, k))
    times, finish = sched
    t0 = options.start_at
    route_stops = []
    prev = 0
    for i, (k, (arrive, wait)) in enumerate(zip(order, times, strict=True), 1):
        r = table.iloc[k - 1]
        route_stops.append(
            RouteStop(
                order=i,
                id=r["id"],
                latitude=float(r["latitude"]),
                longitude=float(r["longitude"]),
                arrive_at=t0 + timedelta(seconds=arrive),
                leave_at=t0 + timedelta(seconds=arrive + float(m.service_s[k])),
                wait_minutes=wait / 60,
                visit_minutes=float(r["visit_minutes"]),
                leg_walk_m=float(m.dist_m[prev, k]),
                leg_walk_minutes=float(m.walk_s[prev, k]) / 60,
                priority=float(r["priority"]),
                must_visit=bool(r["must_visit"]),
                window_start=None
                if pd.isna(r["window_start"])
                else pd.Timestamp(r["window_start"]).to_pydatetime(),
                window_end=None
                if pd.isna(r["window_end"])
                else pd.Timestamp(r["window_end"]).to_pydatetime(),
                kind=r["kind"],
                label=r["label"],
                reasons=r["reasons"],
                bring=r["bring"],
                hotspot_id=r["hotspot_id"],
            )
        )
        prev = k
    elapsed = _time.perf_counter() - began
    log.info(
        "route: %d of %d stops, %.0f m, %.2f s",
        len(route_stops),
        len(stops),
        float(sum(s.leg_walk_m for s in route_stops) + m.dist_m[prev, end]),
        elapsed,
    )
    return Route(
        stops=tuple(route_stops),
        dropped=tuple(sorted(dropped, key=lambda d: (-(d.priority or 0), d.id))),
        start=(options.start_lat, options.start_lon),
        end=options.end,
        start_at=t0,
        finish_at=t0 + timedelta(seconds=finish),
        minutes_available=float(options.minutes_available),
        return_walk_m=float(m.dist_m[prev, end]),
        return_walk_minutes=float(m.walk_s[prev, end]) / 60,
        walk_speed_kmh=options.walk_speed_kmh,
        distance_method=distances.describe(),
        solve_seconds=elapsed,
        proven_optimal=bool(proven),
        notes=notes,
    )
