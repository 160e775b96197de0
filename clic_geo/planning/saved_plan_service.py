"""Saved plans: the day's route kept in the store per area and day, reopened after a reload.

The sergeant plans at 4 pm and walks at 9 am: :func:`save_plan` keeps a planned day
(:class:`~clic_geo.planning.plan_service.DayPlan`) as a new *version* of the area's
plan for that day, with who saved it and when; earlier versions are kept, the newest
is the plan. :func:`open_plan` reads it back as a :class:`SavedPlan`, which the pages
use exactly as they use a fresh plan (``area``, ``request``, ``start_name``,
``route``). Saving and opening need an officer or admin (a plan names the places to
visit) and are audited (``save_plan``, ``open_plan``) with counts and ids only.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, fields
from datetime import date, datetime, time
from typing import Any, Literal

from clic_geo._errors import StoreError
from clic_geo.access.audit import Action, record, utcnow
from clic_geo.access.auth import require_role, validate_session
from clic_geo.access.identity import Role, Session, User
from clic_geo.geo.areas import Area, AreaSet
from clic_geo.planning.plan_service import DayPlan, DayRequest
from clic_geo.planning.route_model import DroppedStop, Route, RouteStop
from clic_geo.store import Store

__all__ = [
    "SavedPlan",
    "latest_plan",
    "open_plan",
    "plan_from_json",
    "plan_to_json",
    "record_open",
    "save_plan",
]

log = logging.getLogger(__name__)

#: Who acts: a signed-in session, or the command line (trusted like the store's owner).
Actor = Session | Literal["cli"]

_STOP_TIMES = frozenset({"arrive_at", "leave_at", "window_start", "window_end"})
_ROUTE_TIMES = frozenset({"start_at", "finish_at"})


@dataclass(frozen=True)
class SavedPlan:
    """A saved version of an area's plan for a day.

    ``area``, ``request``, ``start_name`` and ``route`` are as in a
    :class:`~clic_geo.planning.plan_service.DayPlan`; ``made_at`` is UTC.
    """

    request: DayRequest
    area: Area
    start_name: str
    route: Route
    version: int
    made_by: str
    made_at: datetime
    versions: int

    @property
    def day(self) -> date:
        """The planned day."""
        return self.request.day


def _plain(value: Any) -> Any:
    """JSON for a value of a route or request (datetimes as ISO text, numpy as Python)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if hasattr(value, "item"):  # a numpy scalar
        return value.item()
    raise TypeError(f"cannot save a {type(value).__name__} in a plan")


def _when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _route_dict(route: Route) -> dict[str, Any]:
    out = {f.name: getattr(route, f.name) for f in fields(Route)}
    out["stops"] = [{f.name: getattr(s, f.name) for f in fields(RouteStop)} for s in route.stops]
    out["dropped"] = [
        {f.name: getattr(d, f.name) for f in fields(DroppedStop)} for d in route.dropped
    ]
    return out


def _route_from(d: dict[str, Any]) -> Route:
    stops = tuple(
        RouteStop(**{k: (_when(v) if k in _STOP_TIMES else v) for k, v in s.items()})
        for s in d["stops"]
    )
    dropped = tuple(DroppedStop(**x) for x in d["dropped"])
    rest = {
        k: (_when(v) if k in _ROUTE_TIMES else v)
        for k, v in d.items()
        if k not in ("stops", "dropped")
    }
    rest["start"], rest["end"] = tuple(rest["start"]), tuple(rest["end"])
    rest["notes"] = tuple(rest.get("notes") or ())
    return Route(stops=stops, dropped=dropped, **rest)


def _request_dict(request: DayRequest) -> dict[str, Any]:
    return {
        "area_id": request.area_id,
        "day": request.day,
        "start_time": request.start_time,
        "hours_available": request.hours_available,
        "walk_speed_kmh": request.walk_speed_kmh,
        "detour_factor": request.detour_factor,
        "start": request.start,
        "end": request.end,
        "must_visit": sorted(request.must_visit),
        "exclude": sorted(request.exclude),
        "visit_minutes": dict(request.visit_minutes),
        "windows": {k: list(v) for k, v in request.windows.items()},
        "max_stops_routed": request.max_stops_routed,
    }


def _request_from(d: dict[str, Any]) -> DayRequest:
    return DayRequest(
        area_id=d["area_id"],
        day=date.fromisoformat(d["day"]),
        start_time=time.fromisoformat(d["start_time"]),
        hours_available=float(d["hours_available"]),
        walk_speed_kmh=float(d["walk_speed_kmh"]),
        detour_factor=float(d["detour_factor"]),
        start=tuple(d["start"]) if d.get("start") else None,
        end=tuple(d["end"]) if d.get("end") else None,
        must_visit=frozenset(d.get("must_visit") or ()),
        exclude=frozenset(d.get("exclude") or ()),
        visit_minutes={k: float(v) for k, v in (d.get("visit_minutes") or {}).items()},
        windows={
            k: (time.fromisoformat(a), time.fromisoformat(b))
            for k, (a, b) in (d.get("windows") or {}).items()
        },
        max_stops_routed=int(d.get("max_stops_routed", 40)),
    )


def plan_to_json(plan: DayPlan | SavedPlan) -> tuple[str, str]:
    """``(settings, route)``: the plan as the two JSON texts the store keeps."""
    settings = _request_dict(plan.request) | {"start_name": plan.start_name}
    return (
        json.dumps(settings, default=_plain, ensure_ascii=False),
        json.dumps(_route_dict(plan.route), default=_plain, ensure_ascii=False),
    )


def plan_from_json(settings: str, route: str) -> tuple[DayRequest, str, Route]:
    """``(request, start_name, route)`` back from :func:`plan_to_json`'s texts."""
    s = json.loads(settings)
    return _request_from(s), str(s.get("start_name") or "Start"), _route_from(json.loads(route))


def _user(store: Store, who: Actor, action: Action, area_id: str) -> User | str:
    """The acting user (officers and admins only; a refusal is logged), or ``"cli"``."""
    if who == "cli":
        return "cli"
    user = validate_session(store, who, touch=False)
    require_role(store, user, Role.OFFICER, Role.ADMIN, action=action, area_id=area_id)
    return user


def _name(actor: User | str) -> str:
    return actor if isinstance(actor, str) else actor.username


def save_plan(
    store: Store, who: Actor, plan: DayPlan | SavedPlan, *, now: datetime | None = None
) -> SavedPlan:
    """Save a planned day as the newest version of its area's plan for the day (audited).

    Raises
    ------
    AuthenticationError
        The session is not valid.
    PermissionDeniedError
        A partner (the refusal is logged).
    StoreError
        The plan could not be written (nothing is half-written).
    """
    area_id, day = plan.area.id, plan.request.day
    actor = _user(store, who, Action.SAVE_PLAN, area_id)
    made_at = (now or utcnow()).replace(microsecond=0)
    settings, route = plan_to_json(plan)
    version = store.save_plan(
        area_id=area_id,
        day=day,
        made_by=_name(actor),
        made_at=made_at,
        stops=len(plan.route.stops),
        settings=settings,
        route=route,
    )
    record(
        store,
        Action.SAVE_PLAN,
        actor=actor,
        area_id=area_id,
        subject="route",
        detail={"to": day, "version": version, "stops": len(plan.route.stops)},
        now=now,
    )
    return SavedPlan(
        request=plan.request,
        area=plan.area,
        start_name=plan.start_name,
        route=plan.route,
        version=version,
        made_by=_name(actor),
        made_at=made_at,
        versions=version,
    )


def record_open(store: Store, who: Actor, saved: SavedPlan, *, now: datetime | None = None) -> None:
    """Log that a saved plan was opened (the pages call it once per session and version)."""
    actor = "cli" if who == "cli" else validate_session(store, who, touch=False)
    record(
        store,
        Action.OPEN_PLAN,
        actor=actor,
        area_id=saved.area.id,
        subject="route",
        detail={"to": saved.day, "version": saved.version, "stops": len(saved.route.stops)},
        now=now,
    )


def _from_row(row: dict[str, Any], areas: AreaSet) -> SavedPlan:
    try:
        request, start_name, route = plan_from_json(row["settings"], row["route"])
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(
            f"the saved plan for {row['area_id']} on {row['day']} (version {row['version']}) "
            f"cannot be read: {exc.__class__.__name__}"
        ) from exc
    made_at = row["made_at"]
    return SavedPlan(
        request=request,
        area=areas.get(row["area_id"]),
        start_name=start_name,
        route=route,
        version=int(row["version"]),
        made_by=str(row["made_by"]),
        made_at=made_at if isinstance(made_at, datetime) else datetime.fromisoformat(made_at),
        versions=int(row["versions"]),
    )


def open_plan(
    store: Store,
    who: Actor,
    areas: AreaSet,
    area_id: str,
    day: date,
    *,
    version: int | None = None,
    audit: bool = True,
    now: datetime | None = None,
) -> SavedPlan | None:
    """The saved plan for an area and day (the newest version unless ``version``), or None.

    ``audit=False`` reads without logging, for a page that logs once per session
    with :func:`record_open`.

    Raises
    ------
    AuthenticationError, PermissionDeniedError
        As :func:`save_plan`.
    NotFoundError
        The plan's area is no longer configured.
    StoreError
        The saved plan cannot be read.
    """
    _user(store, who, Action.OPEN_PLAN, area_id)
    row = store.saved_plan(area_id, day, version)
    if not row:
        return None
    saved = _from_row(row, areas)
    if audit:
        record_open(store, who, saved, now=now)
    return saved


def latest_plan(
    store: Store,
    who: Actor,
    areas: AreaSet,
    area_id: str | None = None,
    *,
    audit: bool = True,
    now: datetime | None = None,
) -> SavedPlan | None:
    """The most recently saved plan (of an area, or of any configured area), or None."""
    _user(store, who, Action.OPEN_PLAN, area_id or "all")
    listed = store.saved_plans(area_id=area_id, limit=50)
    listed = listed[listed["area_id"].isin([a.id for a in areas])] if len(listed) else listed
    if not len(listed):
        return None
    top = listed.iloc[0]
    saved = _from_row(store.saved_plan(top["area_id"], top["day"], int(top["version"])), areas)
    if audit:
        record_open(store, who, saved, now=now)
    return saved
