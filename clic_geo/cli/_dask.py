"""``clic-geo hotspots --engine dask``: the same map, computed on a Dask cluster."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import geopandas as gpd
import shapely

from clic_geo._errors import ConfigError
from clic_geo.cli._common import print_json, settings_of
from clic_geo.geo.crs import BNG


def add_engine_args(p: argparse.ArgumentParser) -> None:
    """The engine options of ``clic-geo hotspots``."""
    g = p.add_argument_group("engine (a national run: --engine dask, needs clic-geo[dask])")
    g.add_argument(
        "--engine",
        choices=["single", "dask"],
        default="single",
        help="single: one process (default); dask: partitions on a Dask cluster, same map",
    )
    g.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster)",
    )
    g.add_argument(
        "--workers", type=int, default=2, help="workers of the local cluster (default 2)"
    )
    g.add_argument(
        "--partitions",
        metavar="FILE",
        help="polygons of the force areas (any GeoJSON/GeoPackage/Shapefile, any CRS); "
        "default: grid squares (--grid-km)",
    )
    g.add_argument("--partition-field", metavar="COLUMN", help="the polygons' name column")
    g.add_argument(
        "--grid-km", type=float, default=50.0, help="grid square size without --partitions"
    )
    g.add_argument(
        "--simulations",
        type=int,
        default=99,
        help="Monte Carlo runs for the p-values (default 99; 0 = none, for a quick national map)",
    )


def run_dask(args: argparse.Namespace) -> int:
    """Build and write the map with :func:`clic_geo.hotspots.dask_run.dask_hotspots`."""
    from clic_geo.geo.areas import load_areas, load_service_area
    from clic_geo.hotspots.dask_run import (
        LoadSpec,
        dask_hotspots,
        local_client,
        worker_cpu_seconds,
        worker_peak_mb,
    )
    from clic_geo.hotspots.engine import area_hotspot_params
    from clic_geo.hotspots.partition import Partitions

    if not args.police_uk:
        raise ConfigError("--engine dask reads files: give them with --police-uk")
    if args.workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {args.workers}")
    settings = settings_of(args)
    # the settings the single-process command uses (clic_geo.cli._hotspots)
    given = {"eps_m": args.eps_m, "min_samples": args.min_samples, "buffer_m": args.buffer_m}
    params = {k: v for k, v in given.items() if v is not None}
    if args.clusters_only:
        params["include_isolated"] = False
    params["area_params"] = area_hotspot_params(load_areas(settings.areas_dir))
    if args.study_area:
        g = gpd.read_file(args.study_area)
        if g.crs is None:
            raise ConfigError(f"{args.study_area} has no CRS; set one (e.g. EPSG:4326)")
        study = shapely.union_all(g.to_crs(BNG).geometry.make_valid().to_numpy())
    else:
        sa = load_service_area(settings.areas_dir).geometry
        study = gpd.GeoSeries([sa], crs="EPSG:4326").to_crs(BNG).iloc[0]
    if args.partitions:
        parts = Partitions.from_layer(args.partitions, id_field=args.partition_field)
    else:
        parts = Partitions.grid(study.bounds, args.grid_km)
    spec = LoadSpec(
        settings=settings,
        types=tuple(args.types) if args.types else None,
        months=(args.first or "0000-01", args.last or "9999-12"),
        study=study,
    )
    if args.scheduler:
        from dask.distributed import Client

        client = Client(args.scheduler)
    else:
        client = local_client(args.workers)
    try:
        hs, run = dask_hotspots(
            args.police_uk,
            spec,
            client=client,
            partitions=parts,
            n_simulations=args.simulations,
            **params,
        )
        peaks = worker_peak_mb(client)
        cpus = worker_cpu_seconds(client)
    finally:
        cluster = None if args.scheduler else client.cluster
        client.close()
        if cluster is not None:
            cluster.close()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    hs.to_file(out, driver="GeoJSON")
    n_cl = int((hs["kind"] == "cluster").sum()) if len(hs) else 0
    print(
        f"{run.read} rows read from {run.files} files: {run.accepted} accepted, "
        f"{run.rejected} rejected; {run.kept} incidents mapped -> {len(hs)} hotspots "
        f"({n_cl} clusters) written to {out}"
    )
    print(
        f"dask: {len(peaks)} worker(s), "
        f"{run.partitions_used} of {run.partitions} partitions used, {run.islands} islands "
        f"({run.cross_border_islands} across a border), eps {run.eps_m:g} m, "
        f"{run.seconds.get('total', 0):.1f} s; peak memory per worker "
        + ", ".join(f"{v:,.0f} MB" for v in peaks.values())
    )
    for _, r in hs.head(10).iterrows():
        print(
            f"  #{int(r['rank']):>3} {r['hotspot_id']} score {r['score']:.1f} "
            f"({r['n_incidents']} incidents, {r['area_km2']:.3f} km², {r['trend']}, "
            f"p={r['p_value']:.2f})"
        )
    if args.json:
        summary = {"incidents": run.kept, "hotspots": len(hs), "clusters": n_cl, "out": str(out)}
        import resource

        summary["dask"] = {**run.to_dict(), "worker_peak_mb": peaks, "worker_cpu_s": cpus}
        summary["dask"]["client_peak_mb"] = (
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        )
        print_json(json.loads(json.dumps(summary, default=float)))
    return 0
