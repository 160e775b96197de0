"""What a day's walk is: the options, the stops visited, the stops left out, the route.

Plain frozen values returned by :func:`clic_geo.planning.routing.plan_route` and read by
the route sheet, the planner service and the pages.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from clic_geo._errors import ClicGeoError, ConfigError

__all__ = [
    "DEFAULT_METRES_PER_PRIORITY_POINT",
    "DEFAULT_WALK_SPEED_KMH",
    "STOP_COLUMNS",
    "DayOptions",
    "DroppedStop",
    "InfeasiblePlanError",
    "Route",
    "RouteStop",
]

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
