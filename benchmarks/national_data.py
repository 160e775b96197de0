"""A generated national-like data set: 43 force areas of data.police.uk street crimes.

No national boundary or crime file ships with the project, so the national benchmark
(``benchmarks/bench_national.py``) and its small CI twin (``tests/test_dask_run.py``)
run on this. What it copies from the real Cumbria months in ``../shared/data``
(10 months, 34,481 rows, measured 2026-12):

- **snap points**: data.police.uk places every crime on one of a fixed set of map
  points. Per 10 months Cumbria used 8,667 points for 34,481 crimes: 4.0 crimes per
  point, median 2, 90th percentile 9, the busiest tenth of the points 42 % of the
  crimes, ~1,780 points active a month. Here each town has a pool of 3.5 points per
  monthly crime with log-normal busyness (sigma 1.2): 4.2 / 2 / 9 / 42 % over 10
  months;
- **density**: Cumbria has 0.51 crimes per km² a month (3,448 a month over
  6,822 km²), the least dense force here; the others range up to a metropolitan
  ~50 per km² (London), ~440,000 crimes a month in all (England and Wales publish
  ~500,000);
- **what the rows hold**: the crime types in Cumbria's proportions, 17 % without a
  Crime ID, 0.23 % without a location (rejected on import, and counted), a month
  each, the 12 columns of a street-level file.

Force areas are a Voronoi split of a rough outline of England and Wales
(``forces.geojson``),
and each force's second town sits on its border with a neighbour, as conurbations
straddle real force borders. One Parquet file per force; the files
are written once and never committed.

    .venv/bin/python benchmarks/national_data.py /tmp/clic-national --rows 10500000
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import shapely

N_FORCES = 43
#: A rough outline of England and Wales (British National Grid km; 176,550 km², the
#: real land area is ~151,000 km²).
EW_OUTLINE_KM = [
    (135, 20), (200, 60), (300, 80), (450, 80), (560, 100), (640, 140), (655, 250),
    (620, 330), (560, 420), (500, 480), (470, 560), (400, 640), (330, 600), (320, 500),
    (300, 400), (330, 370), (250, 380), (200, 330), (170, 250), (240, 220), (170, 170),
]  # fmt: skip
#: Cumbria's crimes per km² a month (10 real months, see the module docstring).
CUMBRIA_PER_KM2_MONTH = 3448.1 / 6822.1
TYPES = {
    "Violence and sexual offences": 0.374,
    "Anti-social behaviour": 0.169,
    "Criminal damage and arson": 0.116,
    "Public order": 0.070,
    "Other theft": 0.068,
    "Shoplifting": 0.064,
    "Burglary": 0.040,
    "Drugs": 0.031,
    "Vehicle crime": 0.026,
    "Other crime": 0.022,
    "Possession of weapons": 0.008,
    "Bicycle theft": 0.005,
    "Robbery": 0.004,
    "Theft from the person": 0.003,
}
PLACES = ["Parking Area", "Supermarket", "Shopping Area", "Petrol Station", "High Street"]
OUTCOMES = ["Under investigation", "Investigation complete; no suspect identified", ""]
COLUMNS = [
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
]


def _outline() -> shapely.Geometry:
    return shapely.Polygon([(x * 1000.0, y * 1000.0) for x, y in EW_OUTLINE_KM])


def _forces(rng: np.random.Generator, n: int) -> list[shapely.Geometry]:
    box = _outline()
    seeds = []
    while len(seeds) < n:
        c = rng.uniform(box.bounds[:2], box.bounds[2:], (2, 2))
        seeds += [p for p in c if shapely.contains_xy(box, *p)]
    seeds = np.array(seeds[:n])
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=box)
    polys = [shapely.intersection(c, box) for c in shapely.get_parts(cells)]
    # in the order of their seeds, so force i is the cell around seed i
    order = [next(j for j, p in enumerate(polys) if p.contains(shapely.Point(s))) for s in seeds]
    return [polys[j] for j in order]


def _hex_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random 64-character hex texts (a Crime ID), as bytes."""
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    raw = rng.integers(0, 16, (n, 64), dtype=np.uint8)
    return digits[raw].view("S64").ravel()


def generate(
    out: Path, *, rows: int = 10_500_000, months: int = 24, seed: int = 0, forces: int = N_FORCES
) -> dict:
    """Write ``forces.geojson``, ``boundaries/`` and one Parquet file per force into ``out``.

    Returns the summary also written to ``out/about.json``.
    """
    import geopandas as gpd
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from clic_geo.geo.crs import BNG, to_wgs84
    from clic_geo.settings import REPO_ROOT

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    polys = _forces(rng, forces)
    area_km2 = np.array([p.area / 1e6 for p in polys])
    # volumes: Zipf-like (a few metropolitan forces, many county ones), the least dense
    # force at Cumbria's density
    share = 1.0 / np.arange(1, len(polys) + 1) ** 0.9
    rng.shuffle(share)
    share /= share.sum()
    per_month = rows / months * share
    density = per_month / area_km2
    names = [f"Force {i + 1:02d}" for i in range(len(polys))]
    out.mkdir(parents=True, exist_ok=True)
    (out / "data").mkdir(exist_ok=True)
    gpd.GeoDataFrame({"name": names}, geometry=polys, crs=BNG).to_crs("EPSG:4326").to_file(
        out / "forces.geojson", driver="GeoJSON"
    )
    # a national installation: the whole box is the service area; Cumbria's operating
    # areas stay (they are where they are)
    bdir = out / "boundaries"
    shutil.rmtree(bdir, ignore_errors=True)
    shutil.copytree(REPO_ROOT / "boundaries" / "areas", bdir / "areas")
    sa = gpd.GeoSeries([_outline().buffer(2_000)], crs=BNG).to_crs("EPSG:4326").iloc[0]
    (bdir / "service_area.geojson").write_text(
        json.dumps(
            {
                "type": "Feature",
                "properties": {"name": "England and Wales (generated)"},
                "geometry": shapely.geometry.mapping(sa),
            }
        )
    )
    month_names = np.array([f"{2023 + m // 12}-{m % 12 + 1:02d}" for m in range(months)])
    type_names = np.array(list(TYPES))
    type_p = np.array(list(TYPES.values()))
    type_p /= type_p.sum()
    total = 0
    for f, poly in enumerate(polys):
        n_f = round(per_month[f] * months)
        monthly = per_month[f]
        # towns: Zipf sizes; 15 % of crimes in the countryside (points anywhere)
        n_towns = int(3 + monthly / 1500)
        tshare = 1.0 / np.arange(1, n_towns + 1) ** 1.1
        tshare = 0.85 * tshare / tshare.sum()
        minx, miny, maxx, maxy = poly.bounds
        centres = []
        while len(centres) < n_towns:
            c = rng.uniform((minx, miny), (maxx, maxy), (4 * n_towns, 2))
            centres += [p for p in c if shapely.contains_xy(poly, *p)]
        centres = np.array(centres[:n_towns])
        # towns straddle force borders, as conurbations do: the second town of each
        # force sits on its border with a neighbour (not on the coast)
        inner = shapely.difference(poly.boundary, _outline().boundary.buffer(1_000))
        if n_towns > 1 and not inner.is_empty:
            at = shapely.line_interpolate_point(inner, rng.uniform(0, inner.length))
            centres[1] = shapely.get_coordinates(at)[0]
        radius = 600 + 7_000 * np.sqrt(tshare / tshare.max()) * min(1.0, monthly / 20_000) ** 0.3
        pool_e, pool_n, pool_w, pool_town = [], [], [], []
        for t in range(n_towns + 1):
            m_t = monthly * (tshare[t] if t < n_towns else 0.15)
            k = max(20, int(3.5 * m_t * 10 / max(months, 10)))
            if t < n_towns:
                xy = rng.normal(centres[t], radius[t] / 2, (k, 2))
            else:
                xy = rng.uniform((minx, miny), (maxx, maxy), (k, 2))
                xy = xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]
            w = rng.lognormal(0.0, 1.2, len(xy))
            pool_e.append(xy[:, 0])
            pool_n.append(xy[:, 1])
            pool_w.append(w / w.sum() * m_t)
            pool_town.append(np.full(len(xy), t))
        pe, pn = np.round(np.concatenate(pool_e)), np.round(np.concatenate(pool_n))
        pw = np.concatenate(pool_w)
        ptown = np.concatenate(pool_town)
        pick = rng.choice(len(pw), n_f, p=pw / pw.sum())
        lon, lat = to_wgs84(pe, pn)
        lon_t = pa.array(np.char.mod("%.6f", lon)).cast(pa.large_string())
        lat_t = pa.array(np.char.mod("%.6f", lat)).cast(pa.large_string())
        take = pa.array(pick)
        lon_col, lat_col = lon_t.take(take), lat_t.take(take)
        no_loc = rng.random(n_f) < 0.0023
        if no_loc.any():
            mask = pa.array(no_loc)
            lon_col = pc.if_else(mask, "", lon_col)
            lat_col = pc.if_else(mask, "", lat_col)
        ctype = rng.choice(len(type_names), n_f, p=type_p)
        ids = pa.array(_hex_ids(rng, n_f)).cast(pa.large_string())
        blank_id = type_names[ctype] == "Anti-social behaviour"  # as published: no id
        ids = pc.if_else(pa.array(blank_id), "", ids)
        town = ptown[pick]
        lsoa = np.char.add(f"E01{f:02d}", np.char.zfill(town.astype(str), 4))
        force = f"{names[f]} Police"
        table = pa.table(
            {
                "Crime ID": ids,
                "Month": pa.array(month_names).take(pa.array(rng.integers(0, months, n_f))),
                "Reported by": pa.array([force] * 1).take(pa.array(np.zeros(n_f, np.int64))),
                "Falls within": pa.array([force] * 1).take(pa.array(np.zeros(n_f, np.int64))),
                "Longitude": lon_col,
                "Latitude": lat_col,
                "Location": pa.array([f"On or near {p}" for p in PLACES]).take(
                    pa.array(rng.integers(0, len(PLACES), n_f))
                ),
                "LSOA code": pa.array(lsoa),
                "LSOA name": pa.array(
                    np.char.add(f"{names[f]} ", np.char.zfill(town.astype(str), 3))
                ),
                "Crime type": pa.array(type_names).take(pa.array(ctype)),
                "Last outcome category": pa.array(OUTCOMES).take(
                    pa.array(rng.integers(0, len(OUTCOMES), n_f))
                ),
                "Context": pa.array([""]).take(pa.array(np.zeros(n_f, np.int64))),
            }
        )
        pq.write_table(table, out / "data" / f"force-{f + 1:02d}-street.parquet")
        total += n_f
    about = {
        "rows": total,
        "months": months,
        "forces": len(polys),
        "seed": seed,
        "crimes_per_km2_month": {
            "min": float(density.min()),
            "median": float(np.median(density)),
            "max": float(density.max()),
        },
        "cumbria_per_km2_month": CUMBRIA_PER_KM2_MONTH,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    (out / "about.json").write_text(json.dumps(about, indent=1))
    return about


def ensure(out: Path, **kw) -> dict:
    """:func:`generate` unless ``out`` already holds the same data set (written once)."""
    about = out / "about.json"
    if about.exists():
        have = json.loads(about.read_text())
        want = {"rows": kw.get("rows", 10_500_000), "months": kw.get("months", 24)}
        if abs(have["rows"] - want["rows"]) <= have["forces"] and have["months"] == want["months"]:
            return have
    return generate(out, **kw)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--rows", type=int, default=10_500_000)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    print(json.dumps(ensure(args.out, rows=args.rows, months=args.months, seed=args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
