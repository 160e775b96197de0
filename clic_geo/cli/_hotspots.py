"""``clic-geo hotspots`` and ``clic-geo backtest``: the hotspot map and how well it forecasts."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from clic_geo._errors import ConfigError
from clic_geo.cli._common import open_store, print_json, progress, settings_of
from clic_geo.cli._dask import add_engine_args, run_dask
from clic_geo.geo.crs import BNG

log = logging.getLogger(__name__)


def _month(text: str) -> str:
    try:
        return str(pd.Period(text, freq="M"))
    except (ValueError, TypeError) as exc:
        raise argparse.ArgumentTypeError(f"not a month (YYYY-MM): {text!r}") from exc


def _inputs(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--police-uk", nargs="+", metavar="FILE", help="data.police.uk street-level CSV files"
    )
    src.add_argument(
        "--from-store", action="store_true", help="use the incidents in the store (--data-dir)"
    )
    p.add_argument("--area", help="operating area id (store only), e.g. barrow")
    p.add_argument("--from", dest="first", type=_month, metavar="YYYY-MM", help="first month")
    p.add_argument("--to", dest="last", type=_month, metavar="YYYY-MM", help="last month")
    p.add_argument(
        "--types",
        nargs="+",
        metavar="TYPE",
        help="data.police.uk crime types (e.g. Drugs 'Possession of weapons') or, for "
        "the store, categories (e.g. drug_supply weapons); default all",
    )
    p.add_argument(
        "--indicators",
        nargs="+",
        metavar="TYPE",
        help="other crime types (or store categories) whose crimes forecast these "
        "(leading indicators, e.g. for Drugs: 'Violence and sexual offences' "
        "'Anti-social behaviour'); the map is ranked by that forecast",
    )
    p.add_argument(
        "--study-area",
        metavar="FILE",
        help="polygons (any CRS) bounding the study: incidents outside are dropped and its "
        "area is the A of the PAI (default: the operating area, else the service area)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "hotspots",
        help="write the recommended hotspot map (GeoJSON, rank 1 = go here first)",
        description="Build the recommended hotspot map from some months of incidents and "
        "write it as GeoJSON polygons in WGS84 with rank, score, trend and statistics.",
    )
    _inputs(p)
    p.add_argument("--out", required=True, help="output GeoJSON file")
    p.add_argument("--eps-m", type=float, help="override the clustering radius (metres)")
    p.add_argument("--min-samples", type=float, help="override the core-point weight")
    p.add_argument("--buffer-m", type=float, help="override the margin around points (metres)")
    p.add_argument(
        "--clusters-only",
        action="store_true",
        help="leave out isolated single locations (kind=isolated)",
    )
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    add_engine_args(p)
    p.set_defaults(func=_run_hotspots)

    b = sub.add_parser(
        "backtest",
        help="rolling forecast test of the hotspot map against the reference methods",
        description="Build each method's map from the months before month t (every method "
        "given the same months; grid count, KDE, naive DBSCAN and the 3-month street-point "
        "count use the last 3) and count month t's incidents inside its best "
        "0.25/0.5/1/2 km² (hit rate, PAI, PEI).",
    )
    _inputs(b)
    b.add_argument(
        "--lookback", type=int, default=3, help="months of history a test month needs (default 3)"
    )
    b.add_argument("--per-month", action="store_true", help="also print the per-month table")
    b.add_argument("--csv", help="write every window's figures to this CSV file")
    b.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    b.set_defaults(func=_run_backtest)


def _load(args: argparse.Namespace) -> tuple[pd.DataFrame, shapely.Geometry | None]:
    from clic_geo.geo.areas import load_areas, load_service_area
    from clic_geo.ingest.police_uk import load_police_uk

    settings = settings_of(args)
    months = (args.first or "0000-01", args.last or "9999-12")
    if args.police_uk:
        if args.area:
            raise ConfigError("--area works with --from-store; for files use --study-area")
        df = load_police_uk(args.police_uk, types=args.types, months=months, settings=settings)
    else:
        _, store = open_store(args)
        try:
            df = store.incidents(area=args.area, categories=args.types or None)
        finally:
            store.close()
        df = df[(df["month"] >= months[0]) & (df["month"] <= months[1])]
    if df.empty:
        raise ConfigError("no incidents match the given files, months, types and area")
    if args.study_area:
        g = gpd.read_file(args.study_area)
        if g.crs is None:
            raise ConfigError(f"{args.study_area} has no CRS; set one (e.g. EPSG:4326)")
        study = shapely.union_all(g.to_crs(BNG).geometry.make_valid().to_numpy())
    elif args.area:
        study = load_areas(settings.areas_dir).get(args.area).geometry
        study = gpd.GeoSeries([study], crs="EPSG:4326").to_crs(BNG).iloc[0]
    else:
        sa = load_service_area(settings.areas_dir).geometry
        study = gpd.GeoSeries([sa], crs="EPSG:4326").to_crs(BNG).iloc[0]
    return df, study


def _indicators(args: argparse.Namespace, study: shapely.Geometry) -> pd.DataFrame | None:
    """The leading-indicator layers (``--indicators``), within the study area, or None."""
    if not getattr(args, "indicators", None):
        return None
    ind, _ = _load(argparse.Namespace(**{**vars(args), "types": args.indicators}))
    keep = shapely.contains_xy(study, ind["easting"].to_numpy(), ind["northing"].to_numpy())
    return ind[keep]


def _run_hotspots(args: argparse.Namespace) -> int:
    from clic_geo.hotspots.current import places_inside
    from clic_geo.hotspots.forecast import recommended_map

    if args.engine == "dask":
        if args.indicators:
            raise ConfigError("--indicators works with the single-process engine only")
        return run_dask(args)
    df, study = _load(args)
    keep = shapely.contains_xy(study, df["easting"].to_numpy(), df["northing"].to_numpy())
    df = df[keep]
    params = {
        k: v
        for k, v in {
            "eps_m": args.eps_m,
            "min_samples": args.min_samples,
            "buffer_m": args.buffer_m,
        }.items()
        if v is not None
    }
    if args.clusters_only:
        params["include_isolated"] = False
    from clic_geo.geo.areas import load_areas
    from clic_geo.hotspots.engine import area_hotspot_params

    area_params = area_hotspot_params(load_areas(settings_of(args).areas_dir))
    ind = _indicators(args, study)
    hs = recommended_map(
        df, area_params=area_params, n_simulations=args.simulations, indicators=ind, **params
    )
    if len(hs):  # each outline named by the commonest location inside ("On or near ...")
        named = df if ind is None else pd.concat([df, ind], ignore_index=True)
        hs["place"] = places_inside(hs.to_crs(BNG).geometry, named)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    hs.to_file(out, driver="GeoJSON")
    n_cl = int((hs["kind"] == "cluster").sum()) if len(hs) else 0
    print(
        f"{len(df)} incidents ({df['month'].min()}..{df['month'].max()}) -> {len(hs)} hotspots "
        f"({n_cl} clusters, {int(hs['significant'].sum()) if len(hs) else 0} significant at 5%) "
        f"written to {out}"
    )
    for _, r in hs.head(10).iterrows():
        n = int(r["n_incidents"])
        p = "no crime of its own yet" if pd.isna(r["p_value"]) else f"p={r['p_value']:.2f}"
        print(
            f"  #{int(r['rank']):>3} {r['hotspot_id']} {r['place'] or '(no name)'}: "
            f"score {r['score']:.1f} ({n} incident{'' if n == 1 else 's'}, "
            f"{r['area_km2']:.3f} km², {r['trend']}, {p}; expected {r['expected_words']})"
        )
    if args.json:
        print_json({"incidents": len(df), "hotspots": len(hs), "clusters": n_cl, "out": str(out)})
    return 0


def _fmt(x: float) -> str:
    return f"{100 * x:5.1f}%"


def _run_backtest(args: argparse.Namespace) -> int:
    from clic_geo.hotspots.backtest import STREET_DECAYED, backtest, reference_methods, summarise
    from clic_geo.hotspots.expected import model_method

    df, study = _load(args)
    ind = _indicators(args, study)
    ours = {"ours": model_method(ind)} if ind is not None else {}
    methods = {**ours, **reference_methods()} if ours else None
    res = backtest(df, methods=methods, lookback=args.lookback, study_area=study, progress=progress)
    if res.empty:
        raise ConfigError(
            f"nothing to test: the backtest needs at least {args.lookback + 1} months, "
            f"the data has {df['month'].nunique()}"
        )
    s = summarise(res, baseline=STREET_DECAYED)
    months = sorted(res["test_month"].unique())
    print(
        f"Rolling backtest: {len(months)} test months ({months[0]}..{months[-1]}), "
        f"every method given all the months before each (at least {args.lookback}); "
        f"study area {study.area / 1e6:,.0f} km²"
    )
    budgets = sorted(s["budget_km2"].unique())
    head = f"{'method':<24}" + "".join(f" hit@{b:g}km²".rjust(12) for b in budgets)
    print("\nmean hit rate (median; min-max)")
    print(head)
    for m in s["method"].unique():
        g = s[s["method"] == m].set_index("budget_km2")
        print(f"{m:<24}" + "".join(f"{_fmt(g.loc[b, 'hit_mean']):>12}" for b in budgets))
        spread = [
            f"({100 * g.loc[b, 'hit_median']:.0f}; "
            f"{100 * g.loc[b, 'hit_min']:.0f}-{100 * g.loc[b, 'hit_max']:.0f})"
            for b in budgets
        ]
        print(f"{'':<24}" + "".join(x.rjust(12) for x in spread))
    print(
        "\nmean PAI / mean PEI (hit rate / the best any map of that area could have had); "
        "months won-tied-lost against the decayed street-point count"
    )
    for m in s["method"].unique():
        g = s[s["method"] == m].set_index("budget_km2")
        print(
            f"{m:<24}"
            + "".join(
                f"{g.loc[b, 'pai_mean']:>7.0f}/{g.loc[b, 'pei_mean']:.2f} "
                f"{g.loc[b, 'wins']}-{g.loc[b, 'ties']}-{g.loc[b, 'losses']}".rjust(18)
                for b in budgets
            )
        )
    if args.per_month:
        t = res.pivot_table(index="test_month", columns=["budget_km2", "method"], values="hit_rate")
        print("\nhit rate per test month")
        print((100 * t).round(1).to_string())
    if args.csv:
        res.to_csv(args.csv, index=False)
    if args.json:
        print_json(json.loads(s.to_json(orient="records")))
    return 0
