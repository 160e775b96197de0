"""``clic-geo plan`` (the day's walking route) and ``clic-geo record-visit``.

Two forms of ``plan``, one router (:func:`clic_geo.planning.routing.plan_route`):

- ``--stops FILE.csv`` with columns ``id,latitude,longitude,priority,visit_minutes,
  must_visit`` (optional ``window_start``, ``window_end``, ``kind``, ``label``...);
- ``--area AREA --date DAY``: candidates from the store
  (:func:`clic_geo.planning.plan_service.plan_day`); ``--save`` keeps it in the store
  as the newest version of the area's plan for the day (what the Plan page reopens).

``clic-geo plan show --area AREA --day DAY`` prints the saved plan.
"""

from __future__ import annotations

import argparse
import math
from datetime import date, datetime, time

import geopandas as gpd

from clic_geo._errors import ConfigError, InputFileError, NotFoundError
from clic_geo.cli._common import open_store, print_json, settings_of
from clic_geo.files import write_private
from clic_geo.geo.areas import load_areas
from clic_geo.geo.network import DEFAULT_DETOUR_FACTOR, StraightLine, load_network
from clic_geo.ingest.readers import read_table
from clic_geo.planning.plan_service import DayRequest, check_in_area, plan_day
from clic_geo.planning.route_model import DEFAULT_WALK_SPEED_KMH, DayOptions, Route
from clic_geo.planning.route_sheet import route_gpx, route_sheet_html, write_route_csv
from clic_geo.planning.routing import plan_route
from clic_geo.planning.saved_plan_service import SavedPlan, open_plan, save_plan


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "plan",
        help="plan a day's walking route (from a stops CSV, or from the store for an area)",
    )
    p.add_argument("--stops", help="CSV: id,latitude,longitude,priority,visit_minutes,must_visit")
    p.add_argument("--area", help="operating area id (with no --stops: candidates from the store)")
    p.add_argument("--date", help="the day, YYYY-MM-DD (default today)")
    p.add_argument("--start", help="start point LAT,LON (default the area's base point)")
    p.add_argument("--end", help="end point LAT,LON (default the start)")
    p.add_argument("--start-time", default="09:30", help="HH:MM (default 09:30)")
    p.add_argument("--minutes", help="minutes available, back at the end point (default 240)")
    p.add_argument("--speed-kmh", default=str(DEFAULT_WALK_SPEED_KMH), help="walking speed")
    p.add_argument(
        "--detour",
        default=str(DEFAULT_DETOUR_FACTOR),
        help="straight line x this when no --network (default 1.3)",
    )
    p.add_argument("--network", help="street network: .osm.pbf, .osm, .graphml or a line file")
    p.add_argument("--must", action="append", default=[], help="pin a stop id (repeatable)")
    p.add_argument("--exclude", action="append", default=[], help="leave a stop id out")
    p.add_argument("--window", action="append", default=[], help="ID=HH:MM-HH:MM (store form)")
    p.add_argument("--hotspots", help="hotspot GeoJSON (hotspot_id, rank, score, trend)")
    p.add_argument("--seconds", help="routing search time limit (default by size)")
    p.add_argument("--html", help="write the printable route sheet here")
    p.add_argument("--csv", help="write the route as CSV here")
    p.add_argument("--gpx", help="write the route as GPX here")
    p.add_argument("--json", action="store_true", help="print the route as one JSON line")
    p.add_argument(
        "--save",
        action="store_true",
        help="with --area: save the plan in the store (a new version of the day's plan)",
    )
    p.set_defaults(func=_plan)
    shows = p.add_subparsers(dest="plan_command", metavar="show")
    show = shows.add_parser("show", help="print the saved plan of an area and day")
    show.add_argument("--area", required=True, help="operating area id")
    show.add_argument("--day", help="the day, YYYY-MM-DD (default today)")
    show.add_argument("--version", type=int, help="an earlier version (default the newest)")
    show.add_argument("--json", action="store_true", help="print the plan as one JSON line")
    show.set_defaults(func=_show)

    r = sub.add_parser("record-visit", help="record a visit's outcome, support and referrals")
    r.add_argument("--address", help="address id in the store (e.g. demo:DEMO-ADR-0001)")
    r.add_argument("--at", help="LAT,LON when the visit is not at a known address")
    r.add_argument("--area", help="area id (for --at)")
    r.add_argument("--when", help="YYYY-MM-DD HH:MM (default now)")
    r.add_argument("--outcome", required=True, help="engaged, no answer, declined, ...")
    r.add_argument("--support", default="", help="comma-separated, e.g. 'calling card, HR kit'")
    r.add_argument("--referrals", default="", help="comma-separated, e.g. 'food bank, housing'")
    r.add_argument("--officers", default="")
    r.add_argument("--next-due", help="next protection-plan visit due, YYYY-MM-DD")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=_record)


def _number(text: str | None, name: str, default: float) -> float:
    if text is None:
        return default
    try:
        v = float(text)
    except ValueError:
        raise ConfigError(f"--{name}: not a number: {text!r}") from None
    if not math.isfinite(v):
        raise ConfigError(f"--{name}: not a finite number: {text!r}")
    return v


def _point(text: str | None, name: str) -> tuple[float, float] | None:
    if text is None:
        return None
    parts = text.replace(" ", "").split(",")
    try:
        lat, lon = (float(x) for x in parts)
    except ValueError:
        raise ConfigError(
            f"--{name}: expected LAT,LON (e.g. 54.114,-3.2268), got {text!r}"
        ) from None
    if not (abs(lat) <= 90 and abs(lon) <= 180):
        raise ConfigError(f"--{name}: ({lat}, {lon}) is not a latitude, longitude")
    return lat, lon


def _day(text: str | None) -> date:
    try:
        return date.fromisoformat(text) if text else date.today()
    except ValueError:
        raise ConfigError(f"--date: expected YYYY-MM-DD, got {text!r}") from None


def _clock(text: str, name: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--{name}: expected HH:MM, got {text!r}") from None


def _windows(items: list[str]) -> dict[str, tuple[time, time]]:
    out = {}
    for it in items:
        sid, sep, span = it.rpartition("=")
        a, dash, b = span.partition("-")
        if not (sep and dash and sid):
            raise ConfigError(f"--window: expected ID=HH:MM-HH:MM, got {it!r}")
        out[sid] = (_clock(a, "window"), _clock(b, "window"))
    return out


def _read_stops(path: str):
    raw = read_table(path)
    if len(raw.ragged):
        rows = ", ".join(str(r) for r in raw.ragged["row"].head(5))
        raise InputFileError(f"{raw.name}: row(s) {rows} have more fields than the header")
    return raw.frame.rename(columns=lambda c: str(c).strip().lower())


def _write_outputs(route: Route, args: argparse.Namespace, title: str, start_name: str) -> None:
    if args.html:
        write_private(args.html, route_sheet_html(route, title=title, start_name=start_name))
    if args.csv:
        write_route_csv(route, args.csv)
    if args.gpx:
        write_private(args.gpx, route_gpx(route, name=title))


def _print(route: Route, args: argparse.Namespace) -> None:
    if args.json:
        print_json(route.to_dict())
        return
    print(
        f"{len(route.stops)} stops, {route.total_walk_m / 1000:.1f} km walking, "
        f"{route.total_minutes:.0f} of {route.minutes_available:.0f} minutes "
        f"({route.distance_method})"
    )
    for s in route.stops:
        pin = " [must]" if s.must_visit else ""
        print(f"  {s.order:>2}. {s.arrive_at:%H:%M} {s.id}{pin} ({s.leg_walk_m:,.0f} m walk)")
    if route.dropped:
        print(f"left out: {len(route.dropped)}")
        for d in route.dropped[:10]:
            print(f"  - {d.id}: {d.reason}")
    for n in route.notes:
        print(f"note: {n}")


def _plan(args: argparse.Namespace) -> int:
    day = _day(args.date)
    start = _point(args.start, "start")
    end = _point(args.end, "end")
    start_time = _clock(args.start_time, "start-time")
    minutes = _number(args.minutes, "minutes", 240.0)
    speed = _number(args.speed_kmh, "speed-kmh", DEFAULT_WALK_SPEED_KMH)
    detour = _number(args.detour, "detour", DEFAULT_DETOUR_FACTOR)
    seconds = _number(args.seconds, "seconds", math.nan)
    settings = settings_of(args)
    area = load_areas(settings.areas_dir).get(args.area) if args.area else None
    bbox = None
    if area is not None:
        minx, miny, maxx, maxy = area.geometry.bounds
        bbox = (minx - 0.03, miny - 0.02, maxx + 0.03, maxy + 0.02)
    distances = (
        load_network(args.network, bbox=bbox, fallback_detour=detour)
        if args.network
        else StraightLine(detour)
    )
    if args.stops:
        if args.save:
            raise ConfigError("--save keeps a plan from the store: use --area without --stops")
        if start is None and area is None:
            raise ConfigError("--stops needs --start LAT,LON (or --area for its base point)")
        if start is None:
            start = (area.base_point.lat, area.base_point.lon)
        if area is not None:
            check_in_area(area, *start, what="start point")
        options = DayOptions(
            start_lat=start[0],
            start_lon=start[1],
            end_lat=end[0] if end else None,
            end_lon=end[1] if end else None,
            start_at=datetime.combine(day, start_time),
            minutes_available=minutes,
            walk_speed_kmh=speed,
            solver_seconds=None if math.isnan(seconds) else seconds,
            must_visit=frozenset(args.must),
            exclude=frozenset(args.exclude),
        )
        route = plan_route(_read_stops(args.stops), options, distances=distances)
        _write_outputs(route, args, f"Visit route, {day:%A %d %B %Y}", "Start")
        _print(route, args)
        return 0
    if area is None:
        raise ConfigError("give --stops FILE.csv, or --area AREA to plan from the store")
    hotspots = None
    if args.hotspots:
        try:
            hotspots = gpd.read_file(args.hotspots)
        except Exception as exc:
            raise InputFileError(f"cannot read hotspots {args.hotspots}: {exc}") from exc
    request = DayRequest(
        area_id=area.id,
        day=day,
        start_time=start_time,
        hours_available=minutes / 60,
        walk_speed_kmh=speed,
        detour_factor=detour,
        start=start,
        end=end,
        must_visit=frozenset(args.must),
        exclude=frozenset(args.exclude),
        windows=_windows(args.window),
    )
    _, store = open_store(args)
    try:
        plan = plan_day(
            store, load_areas(settings.areas_dir), request, hotspots=hotspots, network=distances
        )
        saved = save_plan(store, "cli", plan) if args.save else None
    finally:
        store.close()
    _write_outputs(plan.route, args, f"{area.name}, {day:%A %d %B %Y}", plan.start_name)
    if saved is not None:
        print(f"saved as version {saved.version} of the plan for {area.id} on {day}")
    _print(plan.route, args)
    return 0


def _saved_header(saved: SavedPlan) -> str:
    r = saved.route
    return (
        f"{saved.area.name}, {saved.day:%A %d %B %Y}: version {saved.version} of "
        f"{saved.versions}, saved by {saved.made_by} at {saved.made_at:%Y-%m-%d %H:%M} UTC; "
        f"set off {r.start_at:%H:%M} from {saved.start_name}, back by {r.finish_at:%H:%M}"
    )


def _show(args: argparse.Namespace) -> int:
    day = _day(args.day)
    settings, store = open_store(args)
    try:
        areas = load_areas(settings.areas_dir)
        saved = open_plan(store, "cli", areas, areas.get(args.area).id, day, version=args.version)
    finally:
        store.close()
    if saved is None:
        which = f"version {args.version} of the " if args.version else ""
        raise NotFoundError(f"no saved {which}plan for {args.area} on {day}")
    if args.json:
        print_json(
            saved.route.to_dict()
            | {
                "area_id": saved.area.id,
                "day": saved.day.isoformat(),
                "version": saved.version,
                "versions": saved.versions,
                "made_by": saved.made_by,
                "made_at": saved.made_at.isoformat(),
            }
        )
        return 0
    print(_saved_header(saved))
    for s in saved.route.stops:
        pin = " [must]" if s.must_visit else ""
        print(f"  {s.order:>2}. {s.arrive_at:%H:%M} {s.label or s.id}{pin} ({s.kind})")
    return 0


def _record(args: argparse.Namespace) -> int:
    at = _point(args.at, "at")
    try:
        when = datetime.fromisoformat(args.when) if args.when else datetime.now()
        due = date.fromisoformat(args.next_due) if args.next_due else None
    except ValueError as exc:
        raise ConfigError(f"--when/--next-due: {exc}") from None
    split = [x.strip() for x in args.support.split(",") if x.strip()]
    refs = [x.strip() for x in args.referrals.split(",") if x.strip()]
    _, store = open_store(args)
    try:
        vid = store.record_visit(
            visited_at=when,
            outcome=args.outcome,
            address_id=args.address,
            latitude=at[0] if at else None,
            longitude=at[1] if at else None,
            area_id=args.area,
            support=split,
            referrals=refs,
            officers=args.officers,
            next_visit_due=due,
        )
    finally:
        store.close()
    print(f"visit {vid} recorded")
    if args.json:
        print_json({"id": vid})
    return 0
