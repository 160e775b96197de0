"""Base map layers: roads, water, buildings and places read from any vector file.

A force's GIS team has base mapping in many shapes: OS Open Roads or OS OpenMap
Local (GeoPackage, Shapefile), an OpenStreetMap extract (``.osm.pbf``), GeoJSON,
in any CRS. :func:`read_layer` reads one into a small, uniform frame in WGS84 with
the columns :data:`COLUMNS`:

- ``kind``: ``roads``, ``water``, ``buildings`` or ``places``;
- ``cls``: the feature's class, one of :data:`ROAD_CLASSES` for roads (``motorway``
  ... ``minor``), ``river``/``lake``/``sea`` for water, ``building``, or the place
  type (``city``, ``town``, ``village``, ``suburb``, ``hamlet``...);
- ``name`` and ``ref`` (a road number such as A590), empty when unknown.

:func:`for_view` cuts a stored layer to what one map shows: the features inside
its box, the classes that matter at its zoom, simplified to a tolerance that the
screen cannot tell apart. The dashboard ships one such layer for Cumbria
(:data:`BUILTIN`, built by ``scripts/build_basemap.py`` from OpenStreetMap).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from clic_geo._errors import InputFileError
from clic_geo.geo import crs as geo
from clic_geo.settings import REPO_ROOT

__all__ = [
    "BUILTIN",
    "BUILTIN_ATTRIBUTION",
    "COLUMNS",
    "KINDS",
    "ROAD_CLASSES",
    "for_view",
    "from_geojson",
    "merge_lines",
    "read_builtin",
    "read_layer",
    "road_segments",
    "simplify_m",
    "to_geojson",
]

KINDS = ("roads", "water", "buildings", "places")
#: Road classes, most important first (what a quiet base map draws at each zoom).
ROAD_CLASSES = ("motorway", "trunk", "primary", "secondary", "tertiary", "minor")
COLUMNS = ["kind", "cls", "name", "ref", "geometry"]

#: The base layer shipped with clic-geo (OpenStreetMap, Cumbria; see its PROVENANCE.md).
BUILTIN = REPO_ROOT / "data" / "basemap" / "cumbria-base.geojson"
BUILTIN_ATTRIBUTION = "© OpenStreetMap contributors"

# Column names a source may use, in order of preference (OSM/Geofabrik, OS Open Roads,
# OS OpenMap Local, OS VectorMap, generic).
_NAME = ("name", "name1", "name_1", "distname", "road_name", "roadname", "label", "text")
_REF = ("ref", "roadnumber", "road_number", "road_classification_number", "number")
_ROAD_CLASS = ("highway", "fclass", "type", "class", "classifica", "road_classification")
_PLACE_CLASS = ("place", "type", "fclass", "class", "local_type", "feature_type")

_ROAD_WORDS = {
    "motorway": "motorway",
    "trunk": "trunk",
    "a road primary": "trunk",
    "primary road": "trunk",
    "primary": "primary",
    "a road": "primary",
    "a_road": "primary",
    "secondary": "secondary",
    "b road": "secondary",
    "b_road": "secondary",
    "tertiary": "tertiary",
    "classified unnumbered": "tertiary",
    "minor road": "minor",
}
#: OSM highway values that are not roads a base map draws.
_NOT_ROADS = frozenset({"proposed", "construction", "abandoned", "platform", "raceway"})


def _col(df: pd.DataFrame, names: Sequence[str]) -> pd.Series:
    """The first of ``names`` present (case-insensitively) as text, else empty strings."""
    lower = {str(c).lower(): c for c in df.columns}
    for n in names:
        if n in lower:
            return (
                df[lower[n]].astype(object).where(df[lower[n]].notna(), "").astype(str).str.strip()
            )
    return pd.Series("", index=df.index, dtype=object)


def road_class(value: str) -> str:
    """One of :data:`ROAD_CLASSES` for a class word from OSM or Ordnance Survey data.

    >>> road_class("trunk_link"), road_class("A Road"), road_class("Unclassified")
    ('trunk', 'primary', 'minor')
    """
    v = re.sub(r"[_\s]+link$", "", str(value).strip().lower())
    if v in _ROAD_WORDS:
        return _ROAD_WORDS[v]
    for word, cls in _ROAD_WORDS.items():
        if v.startswith(word):
            return cls
    return "minor"


def _to_wgs84(gdf: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise InputFileError(
            f"{path.name} has no coordinate reference system; save it with one "
            "(e.g. EPSG:27700 for British National Grid) and import again"
        )
    if gdf.crs.to_epsg() == 4326:
        minx, miny, maxx, maxy = gdf.total_bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise InputFileError(
                f"{path.name} says its coordinates are longitude/latitude but they are not "
                f"(they reach {maxx:,.0f}, {maxy:,.0f}): its CRS is missing or wrong; GeoJSON "
                "without a CRS must be in longitude/latitude, so save it with its real CRS "
                "(e.g. as a GeoPackage in EPSG:27700)"
            )
        return gdf
    return gdf.to_crs(geo.WGS84)


def _read_osm(path: Path, kind: str | None, bbox) -> gpd.GeoDataFrame:
    """An OpenStreetMap extract through GDAL's OSM driver (lines, polygons, points)."""
    import pyogrio

    kw = {"bbox": tuple(bbox)} if bbox is not None else {}
    parts = []
    try:
        if kind in (None, "roads", "water"):
            lines = pyogrio.read_dataframe(path, layer="lines", **kw)
            hw = _col(lines, ["highway"])
            roads = lines[(hw != "") & ~hw.isin(_NOT_ROADS)]
            if kind in (None, "roads") and len(roads):
                parts.append(_normalise(roads, "roads"))
            ww = _col(lines, ["waterway"])
            rivers = lines[ww.isin(["river", "canal", "stream"])]
            if kind in (None, "water") and len(rivers):
                parts.append(_normalise(rivers, "water"))
        if kind in (None, "water", "buildings"):
            polys = pyogrio.read_dataframe(path, layer="multipolygons", **kw)
            nat, bld = _col(polys, ["natural"]), _col(polys, ["building"])
            if kind in (None, "water"):
                w = polys[nat.isin(["water", "bay"]) | (_col(polys, ["water"]) != "")]
                if len(w):
                    parts.append(_normalise(w, "water"))
            if kind == "buildings":
                b = polys[bld != ""]
                if len(b):
                    parts.append(_normalise(b, "buildings"))
        if kind in (None, "places"):
            pts = pyogrio.read_dataframe(path, layer="points", **kw)
            place = _col(pts, ["place"])
            other = _col(pts, ["other_tags"]).str.extract(r'"place"=>"([^"]+)"', expand=False)
            place = place.where(place != "", other.fillna(""))
            pts = pts.assign(place=place)[place != ""]
            if len(pts):
                parts.append(_normalise(pts, "places"))
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        raise InputFileError(f"cannot read OpenStreetMap file {path.name}: {exc}") from exc
    if not parts:
        raise InputFileError(f"{path.name}: no {kind or 'base map'} features found")
    return pd.concat(parts, ignore_index=True)


def _guess_kind(gdf: gpd.GeoDataFrame, path: Path) -> str:
    types = set(gdf.geometry.geom_type.dropna())
    lower = {str(c).lower() for c in gdf.columns}
    name = path.name.lower()
    if types <= {"Point", "MultiPoint"}:
        return "places"
    if "building" in name or "building" in lower:
        return "buildings"
    if any(w in name for w in ("water", "river", "lake", "sea", "coast")) or "waterway" in lower:
        return "water"
    if types <= {"LineString", "MultiLineString"}:
        return "roads"
    raise InputFileError(
        f"cannot tell what kind of base layer {path.name} is; give --kind roads, water, "
        "buildings or places"
    )


def _normalise(gdf: gpd.GeoDataFrame, kind: str) -> gpd.GeoDataFrame:
    """The uniform columns for one kind of layer (see the module docstring)."""
    name, ref = _col(gdf, _NAME), _col(gdf, _REF)
    geom = gdf.geometry
    if kind == "roads":
        cls = _col(gdf, _ROAD_CLASS).map(road_class)
    elif kind == "water":
        is_line = geom.geom_type.isin(["LineString", "MultiLineString"]).to_numpy()
        given = _col(gdf, ("cls", "class", "water", "natural", "type")).str.lower()
        cls = pd.Series(np.where(is_line, "river", "lake"), index=gdf.index, dtype=object)
        cls[given.isin(["sea", "coastline", "bay", "estuary", "tidal"])] = "sea"
    elif kind == "buildings":
        cls = pd.Series("building", index=gdf.index, dtype=object)
    else:
        cls = _col(gdf, _PLACE_CLASS).str.lower().replace("", "place")
    out = gpd.GeoDataFrame(
        {"kind": kind, "cls": cls.to_numpy(), "name": name.to_numpy(), "ref": ref.to_numpy()},
        geometry=geom.to_numpy(),
        crs=gdf.crs,
    )
    out = out[out.geometry.notna() & ~out.geometry.is_empty]
    if kind in ("water", "buildings"):
        out = out[
            out.geometry.geom_type.isin(
                ["Polygon", "MultiPolygon", "LineString", "MultiLineString"]
            )
        ]
    return out.reset_index(drop=True)


def read_layer(
    path: str | Path,
    kind: str | None = None,
    *,
    bbox: Sequence[float] | None = None,
    simplify: float = 2.0,
) -> gpd.GeoDataFrame:
    """Read a base layer from a vector file into :data:`COLUMNS`, in WGS84.

    Parameters
    ----------
    path : str or Path
        GeoJSON, GeoPackage, Shapefile, FlatGeobuf, or OpenStreetMap ``.osm.pbf``/``.osm``.
    kind : str, optional
        One of :data:`KINDS`; guessed from the geometry and file name if not given
        (an OpenStreetMap file gives every kind it holds).
    bbox : sequence of float, optional
        ``(min_lon, min_lat, max_lon, max_lat)``: keep only this box.
    simplify : float
        Simplify lines and outlines to this many metres (0 keeps every vertex).

    Raises
    ------
    InputFileError
        Missing or unreadable file, no CRS, no features, or an unknown kind.
    """
    p = Path(path)
    if kind is not None and kind not in KINDS:
        raise InputFileError(
            f"unknown base layer kind {kind!r}; expected one of {', '.join(KINDS)}"
        )
    if not p.is_file():
        raise InputFileError(f"base map file not found: {p}")
    if p.name.lower().endswith((".pbf", ".osm", ".osm.bz2")):
        gdf = _read_osm(p, kind, bbox)
    else:
        try:
            raw = gpd.read_file(p)
        except Exception as exc:
            raise InputFileError(f"cannot read {p.name} as a vector file: {exc}") from exc
        if raw.empty:
            raise InputFileError(f"{p.name} holds no features")
        raw = _to_wgs84(raw, p)
        gdf = _normalise(raw, kind or _guess_kind(raw, p))
    gdf = gdf.set_crs(geo.WGS84, allow_override=True)
    if bbox is not None:
        gdf = gdf.clip(shapely.box(*bbox))
        gdf = gdf[~gdf.geometry.is_empty]
    if simplify > 0:
        gdf = simplify_m(gdf, simplify)
    if gdf.empty:
        raise InputFileError(f"{p.name}: no features inside the area")
    return gdf.reset_index(drop=True)


def simplify_m(gdf: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """Simplify geometries to ``tolerance_m`` metres (computed in British National Grid)."""
    if gdf.empty or tolerance_m <= 0:
        return gdf
    g = gdf.to_crs(geo.BNG)
    g["geometry"] = g.geometry.simplify(tolerance_m, preserve_topology=True)
    g = g[~g.geometry.is_empty & g.geometry.notna()]
    return g.to_crs(geo.WGS84)


def merge_lines(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Lines of the same kind, class, name and number joined end to end (fewer, longer
    features: a smaller file, and one label per street rather than per segment)."""
    lines = gdf.geometry.geom_type.isin(["LineString", "MultiLineString"])
    if not lines.any():
        return gdf
    merged = gdf[lines].dissolve(by=["kind", "cls", "name", "ref"], as_index=False)
    merged["geometry"] = shapely.line_merge(merged.geometry.to_numpy())
    out = pd.concat([gdf[~lines], merged[COLUMNS]], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=gdf.crs)


def to_geojson(gdf: gpd.GeoDataFrame, decimals: int = 5) -> str:
    """The layer as compact GeoJSON text (5 decimals: about 1 m; empty names left out)."""
    geoms = shapely.set_precision(gdf.geometry.to_numpy(), 10.0**-decimals)
    feats = []
    for g, (kind, cls, name, ref) in zip(
        geoms, gdf[COLUMNS[:-1]].itertuples(index=False, name=None), strict=True
    ):
        if g is None or g.is_empty:
            continue
        props = {"kind": kind, "cls": cls}
        props.update({k: v for k, v in (("name", name), ("ref", ref)) if v})
        feats.append(
            f'{{"type":"Feature","properties":{json.dumps(props, ensure_ascii=False)},'
            f'"geometry":{shapely.to_geojson(g)}}}'
        )
    return '{"type":"FeatureCollection","features":[' + ",".join(feats) + "]}"


def from_geojson(text: str) -> gpd.GeoDataFrame:
    """A layer written by :func:`to_geojson`."""
    fc = json.loads(text)
    if not fc.get("features"):
        return gpd.GeoDataFrame({c: [] for c in COLUMNS[:-1]}, geometry=[], crs=geo.WGS84)
    gdf = gpd.GeoDataFrame.from_features(fc["features"], crs=geo.WGS84)
    for c in COLUMNS[:-1]:
        if c not in gdf.columns:
            gdf[c] = ""
        gdf[c] = gdf[c].astype(object).where(gdf[c].notna(), "").astype(str)
    return gdf[COLUMNS]


@functools.lru_cache(maxsize=2)
def _builtin(path: str) -> gpd.GeoDataFrame:
    return from_geojson(Path(path).read_text(encoding="utf-8"))


def read_builtin(path: Path = BUILTIN) -> gpd.GeoDataFrame:
    """The shipped base layer (empty if the file is absent). Cached: treat as read-only."""
    if not Path(path).is_file():
        return from_geojson('{"features": []}')
    return _builtin(str(path))


#: Zoom from which each class is drawn (a quiet map: main roads first).
MIN_ZOOM = {
    "motorway": 0, "trunk": 0, "primary": 0, "secondary": 10, "tertiary": 11, "minor": 13,
    "river": 9, "lake": 0, "sea": 0, "building": 15,
}  # fmt: skip


def for_view(
    gdf: gpd.GeoDataFrame, bounds: Sequence[float], zoom: int, *, margin: float = 0.75
) -> gpd.GeoDataFrame:
    """The part of a layer one map needs: inside ``bounds`` (lon/lat box, widened by
    ``margin`` of its size), the classes drawn from ``zoom`` or one level closer
    (so a user zooming out a little still sees them), simplified to about half a screen
    pixel of the smallest zoom those features are drawn at.
    """
    if gdf.empty:
        return gdf
    minx, miny, maxx, maxy = bounds
    dx, dy = (maxx - minx) * margin, (maxy - miny) * margin
    box = (minx - dx, miny - dy, maxx + dx, maxy + dy)
    keep = gdf["cls"].map(MIN_ZOOM).fillna(12).to_numpy() <= zoom + 1
    keep &= gdf["kind"].to_numpy() != "places"
    sub = gdf[keep]
    sub = sub.iloc[sub.sindex.query(shapely.box(*box), predicate="intersects")]
    if sub.empty:
        return sub
    sub = sub.clip(shapely.box(*box))
    sub = sub[~sub.geometry.is_empty]
    # metres per pixel at this latitude, at the widest zoom the features will be seen
    lat = math.radians((miny + maxy) / 2)
    m_per_px = 156543.0 * math.cos(lat) / 2 ** max(zoom - 2, 0)
    out = simplify_m(sub, max(1.0, 0.5 * m_per_px))
    places = gdf[gdf["kind"] == "places"]
    if len(places):
        places = places.iloc[places.sindex.query(shapely.box(*box), predicate="intersects")]
        out = pd.concat([out, places], ignore_index=True)
    return out.reset_index(drop=True)


def road_segments(gdf: gpd.GeoDataFrame, bounds: Sequence[float]) -> np.ndarray:
    """The roads inside a lon/lat box as an ``(k, 4)`` array of ``e1, n1, e2, n2`` segments
    in British National Grid (a printable route sheet's backdrop)."""
    roads = gdf[gdf["kind"] == "roads"]
    if roads.empty:
        return np.zeros((0, 4))
    roads = roads.iloc[roads.sindex.query(shapely.box(*bounds), predicate="intersects")]
    roads = roads.clip(shapely.box(*bounds))
    parts = []
    for geom in roads.to_crs(geo.BNG).geometry:
        for line in getattr(geom, "geoms", [geom]):
            if line.geom_type == "LineString":
                xy = np.asarray(line.coords)[:, :2]
                parts.append(np.c_[xy[:-1], xy[1:]])
    return np.concatenate(parts) if parts else np.zeros((0, 4))
