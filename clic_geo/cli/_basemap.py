"""``clic-geo basemap``: import, list and remove the base map drawn under the data."""

from __future__ import annotations

import argparse
import getpass

from clic_geo.cli._common import open_store, print_json
from clic_geo.geo import basemap as bm
from clic_geo.geo.areas import load_service_area


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "basemap", help="base map layers (roads, water, buildings, places): import, list, remove"
    )
    a = p.add_subparsers(dest="basemap_command", metavar="ACTION")
    a.required = True
    i = a.add_parser(
        "import",
        help="store a base layer from a vector file (GeoJSON, GeoPackage, Shapefile, "
        "FlatGeobuf, OpenStreetMap .osm.pbf; any CRS); it replaces the shipped layer of its kind",
    )
    i.add_argument("file")
    i.add_argument(
        "--kind",
        choices=bm.KINDS,
        help="what the file holds (default: guessed; an .osm.pbf gives roads, water and places)",
    )
    i.add_argument("--name", help="a name for the layer (default: the file name)")
    i.add_argument(
        "--attribution",
        default="",
        help='shown on every map, e.g. "Contains OS data © Crown copyright and database right 2025"'
        " (OpenStreetMap files: © OpenStreetMap contributors)",
    )
    i.add_argument(
        "--whole-file",
        action="store_true",
        help="keep features outside the service area (default: clip to its box plus 3 km)",
    )
    i.add_argument(
        "--simplify-m", type=float, default=2.0, help="simplify to this many metres (default 2)"
    )
    i.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    i.set_defaults(func=_import)

    ls = a.add_parser("list", help="list the stored base layers (and the shipped one)")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_list)

    rm = a.add_parser("remove", help="remove a stored base layer (the shipped one returns)")
    rm.add_argument("id", type=int, help="the layer's id (see basemap list)")
    rm.set_defaults(func=_remove)


def _import(args: argparse.Namespace) -> int:
    settings, store = open_store(args)
    bbox = None
    if not args.whole_file:
        minx, miny, maxx, maxy = load_service_area(settings.areas_dir).geometry.bounds
        bbox = (minx - 0.045, miny - 0.045, maxx + 0.045, maxy + 0.045)
    stored = store.import_base_layer(
        args.file,
        kind=args.kind,
        name=args.name,
        actor=f"cli:{getpass.getuser()}",
        attribution=args.attribution,
        bbox=bbox,
        simplify_m=args.simplify_m,
    )
    for r in stored:
        print(
            f"stored base layer {r['id']}: {r['kind']}, {r['features']:,} features "
            f"from {r['file_name']}"
        )
    if not any(r["attribution"] for r in stored):
        print("note: no --attribution given; most licences require one on the map")
    if args.json:
        print_json({"stored": stored})
    return 0


def _list(args: argparse.Namespace) -> int:
    _, store = open_store(args)
    rows = store.base_layers()
    if args.json:
        print_json({"layers": rows, "builtin": str(bm.BUILTIN)})
        return 0
    stored = {r["kind"] for r in rows}
    for r in rows:
        print(
            f"{r['id']:>4}  {r['kind']:<9} {r['features']:>8,}  {r['name']}  "
            f"({r['file_name']}, {r['imported_at']:%Y-%m-%d %H:%M} by {r['actor']})"
        )
    shipped = [k for k in ("roads", "water") if k not in stored]
    if shipped:
        print(f"   -  {', '.join(shipped)}: the shipped Cumbria layer ({bm.BUILTIN_ATTRIBUTION})")
    return 0


def _remove(args: argparse.Namespace) -> int:
    _, store = open_store(args)
    r = store.remove_base_layer(args.id)
    print(f"removed base layer {r['id']}: {r['kind']} from {r['file_name']}")
    return 0
