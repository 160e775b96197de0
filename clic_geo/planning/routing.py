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
times never exceed the budget. Distances come from a :class:`~clic_geo.geo.network.DistanceModel`:
a walking street network when the user supplies one, otherwise straight-line
distance times a detour factor (:data:`DEFAULT_DETOUR_FACTOR`).
"""

from __future__ import annotations

import logging
import time as _time
from datetime import timedelta

import pandas as pd

from clic_geo._errors import ClicGeoError, ConfigError
from clic_geo.geo.network import DEFAULT_DETOUR_FACTOR, DistanceModel, StraightLine
from clic_geo.planning._route_input import _prepare
from clic_geo.planning._route_solver import (
    _EXACT_STOPS,
    _build_model,
    _cost,
    _diagnose,
    _minutes,
    _schedule,
    _solve,
    _solve_exact,
    _why_dropped,
)
from clic_geo.planning.route_model import DayOptions, DroppedStop, Route, RouteStop

__all__ = ["plan_route"]

log = logging.getLogger(__name__)


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
        Default: straight line times :data:`~clic_geo.geo.network.DEFAULT_DETOUR_FACTOR`.

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
