"""Build the base map shipped with clic-geo: data/basemap/cumbria-base.geojson.

    .venv/bin/python scripts/build_basemap.py [--shared ../shared/data] [--out data/basemap]

What it does, step by step (every step is a function of clic_geo.geo.basemap, the
same code ``clic-geo basemap import`` runs on a force's own files):

1. Roads: OpenStreetMap main roads of Cumbria (``osm_cumbria/osm_main_roads_cumbria.geojson``;
   motorway ... tertiary, about 3,000 km), classes from the OSM ``type`` (highway) tag,
   names and road numbers kept, simplified to 4 m.
2. Water: OSM rivers (lines, simplified to 15 m) and lakes, reservoirs and docks
   (``natural=water`` polygons, simplified to 5 m; ponds under 0.2 ha dropped).
3. Sea and estuaries: OpenStreetMap has no coastline in that extract, so the sea is
   made from the coast of the ONS 2011 LSOA boundaries ("generalised, clipped" to
   the coastline: ``boundaries_cumbria/lsoa_2011_cumbria.geojson``): the sea is
   :data:`SEA_MASK` (a coarse hand-drawn polygon over the Irish Sea, the Solway Firth
   and Morecambe Bay, whose edges over land lie on Cumbrian land or on the far side
   of the firth) minus the land, out to 8 km from the coast (so its outer edge follows
   the coast rather than the mask); it includes the Walney Channel, the Duddon, Leven
   and Kent estuaries. Simplified to 20 m. Its class is ``sea``.
4. Everything clipped to the service area's box plus 3 km (the sea: out to the mask's
   west and south edges, so a county map shows no edge in the sea), coordinates to 5
   decimals (about 1 m), written as one GeoJSON FeatureCollection (target under 1 MB).

Licences: OSM data are ODbL 1.0 ("© OpenStreetMap contributors", shown on every
map that draws this layer); the coastline is ONS/OS data under the OGL v3.0. See
data/basemap/PROVENANCE.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from clic_geo.geo import basemap as bm  # noqa: E402
from clic_geo.geo import crs as geo  # noqa: E402

#: A coarse polygon (lon, lat) over the sea off Cumbria; land inside it is subtracted.
#: North edge: south of the Scottish shore of the Solway; south-east edge: across
#: Morecambe Bay west of Morecambe and Silverdale (Lancashire).
SEA_MASK = [
    (-3.95, 53.95),
    (-3.05, 53.95),
    (-3.0, 54.05),
    (-2.93, 54.10),
    (-2.86, 54.17),
    (-2.84, 54.24),
    (-2.96, 54.26),
    (-3.20, 54.30),
    (-3.30, 54.60),
    (-3.45, 54.80),
    (-3.40, 54.90),
    (-3.22, 54.955),
    (-3.12, 54.965),
    (-3.05, 54.99),
    (-3.30, 54.96),
    (-3.55, 54.90),
    (-3.70, 54.80),
    (-3.95, 54.70),
    (-3.95, 53.95),
]


def build(shared: Path, out_dir: Path) -> Path:
    osm = shared / "osm_cumbria"
    service = gpd.read_file(ROOT / "boundaries" / "service_area.geojson").to_crs(geo.WGS84)
    minx, miny, maxx, maxy = service.total_bounds
    pad = 0.045  # about 3 km
    bbox = (minx - pad, miny - pad, maxx + pad, maxy + pad)

    roads = bm.read_layer(osm / "osm_main_roads_cumbria.geojson", "roads", bbox=bbox, simplify=6)
    roads = bm.merge_lines(roads)
    rivers = bm.read_layer(osm / "osm_rivers_cumbria.geojson", "water", bbox=bbox, simplify=25)
    rivers = bm.merge_lines(rivers)
    lakes = bm.read_layer(osm / "osm_natural_water_cumbria.geojson", "water", bbox=bbox, simplify=8)
    lakes = lakes[lakes.to_crs(geo.BNG).area >= 2000]

    land = gpd.read_file(shared / "boundaries_cumbria" / "lsoa_2011_cumbria.geojson")
    land = land.to_crs(geo.BNG).union_all().buffer(0)
    mask = gpd.GeoSeries([shapely.Polygon(SEA_MASK)], crs=geo.WGS84).to_crs(geo.BNG).iloc[0]
    # out to 8 km from the coast: a soft edge following the coast, not the mask's box
    sea = mask.intersection(land.buffer(8000, quad_segs=4)).difference(land)
    sea_parts = [g for g in getattr(sea, "geoms", [sea]) if g.area > 50_000]
    sea = gpd.GeoDataFrame(
        {"kind": "water", "cls": "sea", "name": "", "ref": ""},
        index=range(1),
        geometry=[shapely.MultiPolygon(sea_parts)],
        crs=geo.BNG,
    ).to_crs(geo.WGS84)
    # the sea reaches the mask's west edge, so no box edge shows off the coast
    sea_box = (SEA_MASK[0][0], SEA_MASK[0][1], bbox[2], bbox[3])
    sea = bm.simplify_m(sea.clip(shapely.box(*sea_box)), 20)

    layer = gpd.GeoDataFrame(pd.concat([sea, lakes, rivers, roads], ignore_index=True))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "cumbria-base.geojson"
    path.write_text(bm.to_geojson(layer), encoding="utf-8")
    counts = layer.groupby(["kind", "cls"]).size().to_dict()
    print(f"{path}: {path.stat().st_size / 1e6:.2f} MB, {len(layer)} features: {counts}")
    return path


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--shared", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--out", default=str(ROOT / "data" / "basemap"))
    a = p.parse_args()
    build(Path(a.shared), Path(a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
