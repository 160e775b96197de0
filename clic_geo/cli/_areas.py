"""``clic-geo areas``: list operating areas, build outlines from official boundaries."""

from __future__ import annotations

import argparse
from pathlib import Path

from clic_geo.cli._common import open_store, print_json, settings_of
from clic_geo.geo.areas import (
    BasePoint,
    build_area_from_boundaries,
    build_service_area_from_boundaries,
    load_areas,
    write_area,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("areas", help="operating areas: list, build from ONS boundaries, reassign")
    a = p.add_subparsers(dest="areas_command", metavar="ACTION")
    a.required = True
    ls = a.add_parser("list", help="list the operating areas")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_list)

    b = a.add_parser(
        "build",
        help="make or replace an area's outline from an official boundary file "
        "(GeoJSON, GeoPackage or Shapefile of districts, wards or LSOAs)",
    )
    b.add_argument("--from", dest="source", required=True, help="the boundary file")
    b.add_argument(
        "--codes", required=True, help="comma-separated feature codes to dissolve, e.g. E07000027"
    )
    b.add_argument("--id", required=True, help="area id (the file name), e.g. barrow")
    b.add_argument("--name", help="display name (default: keep the existing area's name)")
    b.add_argument("--field", help="the code field (default: any field that holds the codes)")
    b.add_argument("--base", help="base point as LAT,LON (default: keep the existing one)")
    b.add_argument("--base-name", default="Start point")
    b.add_argument("--out-dir", help="areas directory (default: the installation's)")
    b.add_argument(
        "--reassign",
        action="store_true",
        help="afterwards, recompute the area of every record in the store",
    )
    b.set_defaults(func=_build)

    s = a.add_parser(
        "service-area", help="make the service area (force outline) from official boundaries"
    )
    s.add_argument("--from", dest="source", required=True)
    s.add_argument("--codes", required=True)
    s.add_argument("--name", default="Cumbria")
    s.add_argument("--field")
    s.add_argument("--simplify-m", type=float, default=0.0)
    s.add_argument("--buffer-m", type=float, default=0.0)
    s.add_argument("--out-dir")
    s.set_defaults(func=_service)

    r = a.add_parser("reassign", help="recompute every record's area after areas changed")
    r.set_defaults(func=_reassign)


def _list(args: argparse.Namespace) -> int:
    s = settings_of(args)
    areas = load_areas(s.areas_dir)
    rows = []
    for area in areas:
        rows.append(
            {
                "id": area.id,
                "name": area.name,
                "area_km2": round(area.area_km2, 2),
                "base_point": area.base_point.name,
                "partnership_start": area.partnership_start.isoformat()
                if area.partnership_start
                else None,
            }
        )
        print(
            f"{area.id:<14} {area.name:<22} {area.area_km2:7.1f} km²  start "
            f"{rows[-1]['partnership_start'] or '-':<10}  base: {area.base_point.name}"
        )
    print(f"(from {s.areas_dir})")
    if args.json:
        print_json(rows)
    return 0


def _codes(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def _build(args: argparse.Namespace) -> int:
    s = settings_of(args)
    out_dir = Path(args.out_dir) if args.out_dir else s.areas_dir
    existing = None
    try:
        existing = load_areas(out_dir).get(args.id)
    except Exception:
        existing = None
    base = None
    if args.base:
        lat, lon = (float(x) for x in args.base.split(","))
        base = BasePoint(args.base_name, lat, lon)
    feat = build_area_from_boundaries(
        args.source,
        _codes(args.codes),
        area_id=args.id,
        name=args.name,
        field=args.field,
        base_point=base,
        existing=existing,
    )
    path = write_area(feat, out_dir / "areas" / f"{args.id}.geojson")
    load_areas(out_dir)  # validate the result with everything else
    print(f"wrote {path}")
    if args.reassign:
        return _reassign(args)
    return 0


def _service(args: argparse.Namespace) -> int:
    s = settings_of(args)
    out_dir = Path(args.out_dir) if args.out_dir else s.areas_dir
    feat = build_service_area_from_boundaries(
        args.source,
        _codes(args.codes),
        name=args.name,
        field=args.field,
        simplify_m=args.simplify_m,
        buffer_m=args.buffer_m,
    )
    print(f"wrote {write_area(feat, out_dir / 'service_area.geojson')}")
    return 0


def _reassign(args: argparse.Namespace) -> int:
    s, store = open_store(args)
    try:
        changed = store.reassign_areas(load_areas(s.areas_dir).assign)
    finally:
        store.close()
    print("records whose area changed: " + ", ".join(f"{k} {v}" for k, v in changed.items()))
    return 0
