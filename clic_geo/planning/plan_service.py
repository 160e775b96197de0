"""Tomorrow's visit plan from the store: candidates, priorities and the walking route.

:func:`plan_day` is the one call the dashboard's planner page and ``clic-geo plan
--area`` make. It reads the area's addresses, visits and incidents as of the day,
builds the candidates (:func:`clic_geo.planning.priority.build_candidates`), and routes the
best of them (:func:`clic_geo.planning.routing.plan_route`) from the area's base point.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

import geopandas as gpd
import pandas as pd
import shapely

from clic_geo._errors import ConfigError
from clic_geo.geo import crs
from clic_geo.geo.areas import BASE_POINT_TOLERANCE_M, Area, AreaSet
from clic_geo.geo.network import DEFAULT_DETOUR_FACTOR, DistanceModel, StraightLine
from clic_geo.planning.priority import DEFAULT_VISIT_MINUTES, PriorityWeights, build_candidates
from clic_geo.planning.route_model import DEFAULT_WALK_SPEED_KMH, DayOptions, DroppedStop, Route
from clic_geo.planning.routing import plan_route
from clic_geo.store import Store

__all__ = ["DayPlan", "DayRequest", "check_in_area", "day_candidates", "plan_day"]

log = logging.getLogger(__name__)

#: How far back incidents are read for the near-repeat and follow-up parts.
INCIDENT_LOOKBACK_DAYS = 30


@dataclass(frozen=True)
class DayRequest:
    """What the sergeant sets for the day.

    Attributes
    ----------
    area_id : str
    day : date
    start_time : time
        When the team sets off.
    hours_available : float
        The whole day on foot, back at the end point included.
    walk_speed_kmh, detour_factor : float
        The detour factor is used when no street network is given.
    start, end : tuple of float, optional
        ``(lat, lon)``; default the area's base point.
    must_visit, exclude : frozenset of str
        Candidate ids pinned, or left out.
    visit_minutes : Mapping[str, float]
        Minutes per visit by kind (address, incident, hotspot).
    windows : Mapping[str, tuple[time, time]]
        Optional time windows by candidate id: ``(not before, not after)``.
    max_stops_routed : int
        Only the highest-priority candidates (and every pin) go to the router;
        the rest are reported as not shortlisted. 40 keeps a solve under 5 s.
    """

    area_id: str
    day: date
    start_time: time = time(9, 30)
    hours_available: float = 4.0
    walk_speed_kmh: float = DEFAULT_WALK_SPEED_KMH
    detour_factor: float = DEFAULT_DETOUR_FACTOR
    start: tuple[float, float] | None = None
    end: tuple[float, float] | None = None
    must_visit: frozenset[str] = field(default_factory=frozenset)
    exclude: frozenset[str] = field(default_factory=frozenset)
    visit_minutes: Mapping[str, float] = field(default_factory=lambda: DEFAULT_VISIT_MINUTES)
    windows: Mapping[str, tuple[time, time]] = field(default_factory=dict)
    max_stops_routed: int = 40


@dataclass(frozen=True)
class DayPlan:
    """A planned day: every candidate with its priority parts, and the route."""

    request: DayRequest
    area: Area
    start_name: str
    candidates: gpd.GeoDataFrame
    route: Route


def check_in_area(area: Area, lat: float, lon: float, *, what: str = "start point") -> None:
    """Raise :class:`ConfigError` if a point is more than 2 km outside the area.

    Examples
    --------
    >>> from clic_geo.geo.areas import load_areas
    >>> from clic_geo.settings import REPO_ROOT
    >>> barrow = load_areas(REPO_ROOT / "boundaries").get("barrow")
    >>> check_in_area(barrow, 54.114, -3.2268)
    >>> try:
    ...     check_in_area(barrow, 54.89, -2.93)  # Carlisle
    ... except ConfigError as exc:
    ...     print(str(exc)[:60])
    start point (54.89, -2.93) is 82.3 km outside Barrow-in-Furn
    """
    if area.geometry.contains(shapely.Point(lon, lat)):
        return
    gs = gpd.GeoSeries([area.geometry, shapely.Point(lon, lat)], crs=crs.WGS84).to_crs(crs.BNG)
    d = float(gs.iloc[0].distance(gs.iloc[1]))
    if d > BASE_POINT_TOLERANCE_M:
        raise ConfigError(
            f"{what} ({lat}, {lon}) is {d / 1000:.1f} km outside {area.name}; it must be within "
            f"{BASE_POINT_TOLERANCE_M / 1000:.0f} km (check the coordinates or the area)"
        )


def _stops(cands: gpd.GeoDataFrame, request: DayRequest) -> pd.DataFrame:
    stops = pd.DataFrame(cands.drop(columns="geometry"))
    day = request.day
    stops["window_start"] = stops["id"].map(
        lambda i: datetime.combine(day, request.windows[i][0]) if i in request.windows else None
    )
    stops["window_end"] = stops["id"].map(
        lambda i: datetime.combine(day, request.windows[i][1]) if i in request.windows else None
    )
    return stops


def day_candidates(
    store: Store,
    area: Area,
    request: DayRequest,
    *,
    hotspots: gpd.GeoDataFrame | None = None,
    weights: PriorityWeights | None = None,
) -> gpd.GeoDataFrame:
    """The day's candidates with their priorities, exactly as :func:`plan_day` sees them.

    For showing the list (to pin and exclude) before routing. Reads the area's
    addresses as of the day, visits and incidents before it.
    """
    day = request.day
    before = day - timedelta(days=1)
    return build_candidates(
        store.addresses(area=area.id, as_of=day),
        store.visits(area=area.id, end=before),
        store.incidents(
            area=area.id, start=day - timedelta(days=INCIDENT_LOOKBACK_DAYS), end=before
        ),
        day=day,
        hotspots=hotspots,
        area=area.id,
        weights=weights,
        visit_minutes=request.visit_minutes,
    )


def plan_day(
    store: Store,
    areas: AreaSet,
    request: DayRequest,
    *,
    hotspots: gpd.GeoDataFrame | None = None,
    network: DistanceModel | None = None,
    weights: PriorityWeights | None = None,
) -> DayPlan:
    """Plan a day's visits in one area from what the store holds.

    Parameters
    ----------
    store : Store
    areas : AreaSet
    request : DayRequest
    hotspots : GeoDataFrame, optional
        The hotspot engine's frame (EPSG:4326, ``hotspot_id, rank, score, trend``,
        polygons, ``area_id``).
    network : DistanceModel, optional
        A :class:`~clic_geo.geo.network.WalkNetwork` (see
        :func:`~clic_geo.geo.network.load_network`); default straight line times
        ``request.detour_factor``.
    weights : PriorityWeights, optional

    Returns
    -------
    DayPlan

    Raises
    ------
    NotFoundError
        Unknown area.
    ConfigError
        Start or end point outside the area, a pinned id that is not a candidate.
    InfeasiblePlanError
        The must-visits cannot fit; the message says which and by how much.
    """
    area = areas.get(request.area_id)
    start = request.start or (area.base_point.lat, area.base_point.lon)
    end = request.end or start
    check_in_area(area, *start, what="start point")
    check_in_area(area, *end, what="end point")
    day = request.day
    cands = day_candidates(store, area, request, hotspots=hotspots, weights=weights)
    unknown = sorted((set(request.must_visit) | set(request.windows)) - set(cands["id"]))
    if unknown:
        raise ConfigError(f"not among the day's candidates: {', '.join(unknown)}")
    stops = _stops(cands, request)
    # candidates are sorted by priority: route the pins, the exclusions (to report
    # them) and the best of the rest
    pinned = stops["id"].isin(request.must_visit)
    excluded = stops["id"].isin(request.exclude)
    eligible = ~pinned & ~excluded
    routed = pinned | excluded | (eligible & (eligible.cumsum() <= request.max_stops_routed))
    options = DayOptions(
        start_lat=start[0],
        start_lon=start[1],
        end_lat=end[0],
        end_lon=end[1],
        start_at=datetime.combine(day, request.start_time),
        minutes_available=request.hours_available * 60,
        walk_speed_kmh=request.walk_speed_kmh,
        must_visit=frozenset(request.must_visit),
        exclude=frozenset(request.exclude),
    )
    route = plan_route(
        stops[routed], options, distances=network or StraightLine(request.detour_factor)
    )
    extra = tuple(
        DroppedStop(
            r.id,
            "not_shortlisted",
            f"priority {r.priority:g} is below the top {request.max_stops_routed} routed",
            float(r.priority),
            None,
            r.kind,
            r.label,
        )
        for r in stops[~routed].itertuples()
    )
    if extra:
        route = replace(route, dropped=route.dropped + extra)
    start_name = area.base_point.name if request.start is None else "Start point"
    log.info("day plan %s %s: %d candidates, %d stops", area.id, day, len(cands), len(route.stops))
    return DayPlan(request, area, start_name, cands, route)
