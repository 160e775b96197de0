"""``clic-geo evaluate``: did crime fall where the partnership worked, and did it just move?"""

from __future__ import annotations

import argparse
import logging
import math
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd

from clic_geo._errors import ConfigError, InputFileError
from clic_geo.cli._common import open_store, print_json, settings_of
from clic_geo.cli._hotspots import _month
from clic_geo.cli._pack import _day

log = logging.getLogger(__name__)

#: Columns of the store's incidents the evaluation reads.
COLUMNS = (
    *("occurred_at", "month", "category", "original_type", "area_id"),
    *("easting", "northing", "latitude", "longitude"),
)


#: ``--hotspots`` with no months: the months just before ``--since``.
BEFORE = "before"


def _months(text: str) -> tuple[str, str] | str:
    """``YYYY-MM`` or ``YYYY-MM:YYYY-MM`` (the months the hotspots are chosen from)."""
    if text == BEFORE:
        return BEFORE
    first, _, last = text.partition(":")
    return _month(first), _month(last or first)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="did crime fall in the treated zones, against a comparison area, and did it move?",
        description="Impact evaluation: a difference-in-differences of the monthly counts in "
        "the treated zones against the rest of the force area (Poisson regression with "
        "month effects: relative change, 95 % interval, p-value), the naive before/after "
        "beside it, and the weighted displacement quotient for the ring round the zones. "
        "Says so when the data cannot tell. Reads the store, or data.police.uk files.",
    )
    treated = p.add_mutually_exclusive_group(required=True)
    treated.add_argument(
        "--treated", metavar="FILE", help="the treated zones: polygons (GeoJSON, GPKG, SHP...)"
    )
    treated.add_argument(
        "--hotspots",
        nargs="?",
        const=BEFORE,
        type=_months,
        metavar="YYYY-MM[:YYYY-MM]",
        help="the treated zones are the hotspots as they stood at --since (built from the 3 "
        "months before it, or from the months given); those months are left out of 'before'",
    )
    p.add_argument(
        "--since", required=True, type=_day, metavar="YYYY-MM-DD", help="when the work began"
    )
    p.add_argument("--area", help="operating area id: its hotspots, or the treated zones in it")
    p.add_argument(
        "--comparison",
        default="rest",
        metavar="FILE|rest",
        help="comparison polygons, or 'rest' (default): the force area minus the treated "
        "zones and the buffer",
    )
    p.add_argument(
        "--buffer-m",
        type=float,
        default=250.0,
        metavar="M",
        help="width of the displacement ring round the treated zones (default 250 m)",
    )
    p.add_argument(
        "--types",
        nargs="+",
        metavar="TYPE",
        help="categories (drug_supply drugs ...) or data.police.uk crime types (Drugs ...); "
        "default all",
    )
    p.add_argument(
        "--window-months",
        type=int,
        default=12,
        metavar="N",
        help="at most N months with data on each side of the date (default 12)",
    )
    p.add_argument(
        "--police-uk",
        nargs="+",
        metavar="FILE",
        help="read these data.police.uk street-level CSV files instead of the store",
    )
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    p.set_defaults(func=_run)


def _polygons(path: str, what: str) -> gpd.GeoDataFrame:
    f = Path(path)
    if not f.exists():
        raise InputFileError(f"{what} {path!r}: no such file")
    try:
        g = gpd.read_file(f)
    except Exception as exc:
        raise InputFileError(f"{what} {f.name!r} cannot be read as polygons: {exc}") from None
    if g.crs is None:
        raise ConfigError(f"{what} {f.name!r} has no CRS; set one (e.g. EPSG:4326)")
    if g.empty or not g.geom_type.isin(["Polygon", "MultiPolygon"]).any():
        raise ConfigError(f"{what} {f.name!r} holds no polygon")
    return g[g.geom_type.isin(["Polygon", "MultiPolygon"])]


def _incidents(args: argparse.Namespace) -> tuple[pd.DataFrame, str | None]:
    """The force's incidents (all types) and the last complete month, if known."""
    if args.police_uk:
        from clic_geo.ingest.police_uk import load_police_uk

        df = load_police_uk(args.police_uk, settings=settings_of(args))
        return pd.DataFrame(df.drop(columns="geometry")), None
    _, store = open_store(args)
    try:
        df = store.incidents(columns=list(COLUMNS))
        demo_today = store.get_meta("demo_today")
    finally:
        store.close()
    today = date.fromisoformat(demo_today) if demo_today else date.today()
    last = str(pd.Period(today, "M") - 1)
    return pd.DataFrame(df.drop(columns="geometry")), last


def _n(x: float | None, fmt: str = "{:+.1f} %") -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt.format(x)


def _run(args: argparse.Namespace) -> int:
    from clic_geo.geo.areas import load_areas, load_service_area
    from clic_geo.hotspots.evaluation import evaluate_incidents, selection_months

    hotspot_months = args.hotspots if isinstance(args.hotspots, tuple) else 3
    if args.hotspots:
        selection_months(args.since, hotspot_months)  # checked before reading anything
    settings = settings_of(args)
    areas = load_areas(settings.areas_dir)
    area_geom = None
    if args.area:
        area_geom = gpd.GeoSeries([areas.get(args.area).geometry], crs="EPSG:4326")
    force = gpd.GeoSeries([load_service_area(settings.areas_dir).geometry], crs="EPSG:4326")
    treated = _polygons(args.treated, "--treated") if args.treated else None
    comparison = None if args.comparison == "rest" else _polygons(args.comparison, "--comparison")
    df, last = _incidents(args)
    if df.empty:
        raise ConfigError("no incidents: import some first (clic-geo import ...) or give files")
    ev, zones = evaluate_incidents(
        df,
        since=args.since,
        force_area=force,
        treated=treated,
        area=args.area,
        area_geometry=area_geom if treated is not None else None,
        comparison=comparison,
        buffer_m=args.buffer_m,
        types=args.types,
        window_months=args.window_months,
        hotspot_months=hotspot_months,
        area_km2={a.id: a.area_km2 for a in areas},
        last_month=last,
    )
    d = ev.to_dict()
    print(f"Impact evaluation from {args.since:%d %b %Y}: {d['treated_from']}")
    print(
        f"  treated zones: {zones.n_treated} polygons, {d['treated_km2']:.3f} km²; buffer "
        f"{zones.buffer_m:g} m ({d['buffer_km2']:.2f} km²); comparison: {d['comparison']} "
        f"({d['comparison_km2']:,.0f} km²)"
    )
    print(f"  types: {', '.join(args.types) if args.types else 'all'}")
    print(f"  months before: {', '.join(ev.months_before) or 'none'}")
    print(f"  months after:  {', '.join(ev.months_after) or 'none'}")
    print()
    print(f"  {'month':<8} {'':>6} {'treated':>8} {'buffer':>8} {'comparison':>11}")
    for r in ev.monthly.itertuples():
        side = "after" if r.after else "before"
        print(f"  {r.month:<8} {side:>6} {r.treated:>8} {r.buffer:>8} {r.comparison:>11}")
    print(
        f"  {'total':<8} {'before':>6} {ev.treated_before:>8} {ev.buffer_before:>8} "
        f"{ev.comparison_before:>11}"
    )
    print(
        f"  {'total':<8} {'after':>6} {ev.treated_after:>8} {ev.buffer_after:>8} "
        f"{ev.comparison_after:>11}"
    )
    print()
    if ev.estimate is not None:
        e = ev.estimate
        print(
            f"  difference-in-differences: {e.effect_pct:+.1f} % (95 % CI {e.ci_low_pct:+.1f} % "
            f"to {e.ci_high_pct:+.1f} %), p = {e.p_value:.3g} [{e.method}, dispersion "
            f"{e.dispersion:.2f}, {e.df_resid} df]"
        )
    print(f"  naive before/after in the treated zones: {_n(d['naive_change_pct'])}")
    print(f"  weighted displacement quotient (buffer): {_n(d['wdq'], '{:+.2f}')}")
    print()
    print(ev.verdict)
    print(ev.displacement)
    if args.json:
        print_json(d)
    return 0
