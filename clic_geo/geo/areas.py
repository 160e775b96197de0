"""Operating areas and the service area, kept as data in ``boundaries/``.

Layout of an areas directory::

    boundaries/
        service_area.geojson      # the force area: points outside it are rejected
        areas/
            barrow.geojson        # one GeoJSON Feature per operating area
            kendal.geojson
            ...

Each area Feature has a Polygon or MultiPolygon geometry in WGS84 and these
properties (``name`` and ``base_point`` required)::

    {"id": "barrow", "name": "Barrow-in-Furness", "order": 1,
     "base_point": {"name": "Barrow police station", "lat": 54.11, "lon": -3.23},
     "view": {"lat": 54.12, "lon": -3.22, "zoom": 14},
     "partnership_start": "2022-02-01", "towns": ["Barrow-in-Furness", "Walney"]}

An optional ``"hotspots": {"eps_m": 150, "min_samples": 4, "buffer_m": 30}`` overrides
the hotspot engine's data-driven defaults for that area (see ``docs/hotspots.md``).

Adding an operating area is adding such a file; no code changes.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

from clic_geo._errors import ConfigError, InputFileError, NotFoundError
from clic_geo.geo.crs import BNG, WGS84

__all__ = [
    "Area",
    "AreaSet",
    "BasePoint",
    "ServiceArea",
    "build_area_from_boundaries",
    "build_service_area_from_boundaries",
    "load_areas",
    "load_service_area",
    "write_area",
]

log = logging.getLogger(__name__)

#: A base point may lie up to this far outside its area's outline (a station on the edge).
BASE_POINT_TOLERANCE_M = 2_000.0


@dataclass(frozen=True)
class BasePoint:
    """Where the team starts walking (e.g. the police station)."""

    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Area:
    """One operating area."""

    id: str
    name: str
    geometry: Polygon | MultiPolygon  # WGS84
    base_point: BasePoint
    view_lat: float
    view_lon: float
    view_zoom: int
    order: int = 100
    partnership_start: date | None = None
    towns: tuple[str, ...] = ()
    source: str = ""
    #: Optional hotspot-engine overrides (``eps_m``, ``min_samples``, ``buffer_m``).
    hotspots: Mapping[str, float] = field(default_factory=dict)

    @property
    def area_km2(self) -> float:
        """Area of the outline in square kilometres."""
        return float(gpd.GeoSeries([self.geometry], crs=WGS84).to_crs(BNG).area.iloc[0] / 1e6)


@dataclass(frozen=True)
class ServiceArea:
    """The whole force area; points outside it are rejected on import."""

    name: str
    geometry: Polygon | MultiPolygon  # WGS84
    source: str = ""

    def contains(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Boolean mask of points (degrees) inside the service area."""
        lon = np.asarray(lon, dtype="float64")
        lat = np.asarray(lat, dtype="float64")
        ok = np.isfinite(lon) & np.isfinite(lat)
        out = np.zeros(lon.shape, dtype=bool)
        if ok.any():
            out[ok] = shapely.contains_xy(self.geometry, lon[ok], lat[ok])
        return out


class AreaSet:
    """The operating areas of an installation, ordered for display."""

    def __init__(self, areas: Sequence[Area]) -> None:
        self._areas = tuple(sorted(areas, key=lambda a: (a.order, a.name)))
        self._by_id = {a.id: a for a in self._areas}
        for g in (a.geometry for a in self._areas):
            shapely.prepare(g)

    def __iter__(self):
        return iter(self._areas)

    def __len__(self) -> int:
        return len(self._areas)

    def __contains__(self, area_id: object) -> bool:
        return area_id in self._by_id

    @property
    def ids(self) -> list[str]:
        """Area ids in display order."""
        return [a.id for a in self._areas]

    def get(self, area_id: str) -> Area:
        """The area with this id.

        Raises
        ------
        NotFoundError
            If there is no such area; the message lists the ones there are.
        """
        try:
            return self._by_id[area_id]
        except KeyError:
            raise NotFoundError(
                f"no operating area {area_id!r}; areas are: {', '.join(self.ids)}"
            ) from None

    def names(self) -> dict[str, str]:
        """``{id: name}`` in display order."""
        return {a.id: a.name for a in self._areas}

    def to_gdf(self) -> gpd.GeoDataFrame:
        """The areas as a GeoDataFrame in WGS84 (columns id, name, area_km2, ...)."""
        rows = [
            {
                "id": a.id,
                "name": a.name,
                "base_name": a.base_point.name,
                "base_lat": a.base_point.lat,
                "base_lon": a.base_point.lon,
                "partnership_start": a.partnership_start.isoformat()
                if a.partnership_start
                else None,
                "area_km2": round(a.area_km2, 2),
                "geometry": a.geometry,
            }
            for a in self._areas
        ]
        return gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84)

    def assign(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """The id of the area containing each point (``None`` where none does).

        A point inside two overlapping areas goes to the first in display order.
        """
        lon = np.asarray(lon, dtype="float64")
        lat = np.asarray(lat, dtype="float64")
        out = np.full(lon.shape, None, dtype=object)
        todo = np.isfinite(lon) & np.isfinite(lat)
        for a in self._areas:
            if not todo.any():
                break
            idx = np.flatnonzero(todo)
            inside = shapely.contains_xy(a.geometry, lon[idx], lat[idx])
            out[idx[inside]] = a.id
            todo[idx[inside]] = False
        return out


# --------------------------------------------------------------------------- loading


def _parse_date(value: Any, where: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ConfigError(f"{where}: partnership_start {value!r} is not YYYY-MM-DD") from exc


def _read_feature(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable GeoJSON file: {exc}") from exc
    if data.get("type") == "FeatureCollection":
        feats = data.get("features") or []
        if len(feats) != 1:
            raise ConfigError(f"{path}: expected one Feature, found {len(feats)}")
        data = feats[0]
    if data.get("type") != "Feature":
        raise ConfigError(f"{path}: expected a GeoJSON Feature, found {data.get('type')!r}")
    return data


def _polygonal(geom_json: Any, where: str) -> Polygon | MultiPolygon:
    try:
        geom = shape(geom_json)
    except Exception as exc:
        raise ConfigError(f"{where}: invalid geometry: {exc}") from exc
    if not isinstance(geom, Polygon | MultiPolygon) or geom.is_empty:
        raise ConfigError(f"{where}: geometry must be a non-empty Polygon or MultiPolygon")
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
        geom = shapely.union_all([g for g in getattr(geom, "geoms", [geom]) if g.area > 0])
    minx, miny, maxx, maxy = geom.bounds
    if not (minx >= -9 and maxx <= 3 and miny >= 49 and maxy <= 61):
        raise ConfigError(
            f"{where}: outline is not in WGS84 longitude/latitude over Great Britain "
            f"(bounds {geom.bounds}); reproject it to EPSG:4326"
        )
    return geom


def _area_from_feature(feat: dict[str, Any], where: str) -> Area:
    props = feat.get("properties") or {}
    problems = []
    area_id = str(props.get("id") or Path(where).stem)
    name = props.get("name")
    if not name:
        problems.append("missing 'name'")
    bp = props.get("base_point") or {}
    try:
        base = BasePoint(str(bp.get("name") or "Start point"), float(bp["lat"]), float(bp["lon"]))
    except (KeyError, TypeError, ValueError):
        problems.append("'base_point' needs numeric 'lat' and 'lon'")
        base = None
    if problems:
        raise ConfigError(f"{where}: " + "; ".join(problems))
    geom = _polygonal(feat.get("geometry"), where)
    assert base is not None
    base_pt = shapely.Point(base.lon, base.lat)
    if not geom.contains(base_pt):
        gs = gpd.GeoSeries([geom, base_pt], crs=WGS84).to_crs(BNG)
        dist = gs.iloc[0].distance(gs.iloc[1])
        if dist > BASE_POINT_TOLERANCE_M:
            raise ConfigError(
                f"{where}: base point ({base.lat}, {base.lon}) is {dist / 1000:.1f} km outside "
                f"the area; it must be within {BASE_POINT_TOLERANCE_M / 1000:.0f} km"
            )
    view = props.get("view") or {}
    c = geom.centroid
    zoom = view.get("zoom")
    if zoom is None:
        zoom = _fit_zoom(geom.bounds)
    return Area(
        id=area_id,
        name=str(name),
        geometry=geom,
        base_point=base,
        view_lat=float(view.get("lat", c.y)),
        view_lon=float(view.get("lon", c.x)),
        view_zoom=int(zoom),
        order=int(props.get("order", 100)),
        partnership_start=_parse_date(props.get("partnership_start"), where),
        towns=tuple(str(t) for t in props.get("towns") or ()),
        source=str(props.get("source") or ""),
        hotspots=_hotspot_overrides(props.get("hotspots"), where),
    )


_HOTSPOT_KEYS = ("eps_m", "min_samples", "buffer_m")


def _hotspot_overrides(value: Any, where: str) -> Mapping[str, float]:
    """The optional ``"hotspots"`` property: positive numbers for known keys only."""
    if value in (None, {}):
        return MappingProxyType({})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: 'hotspots' must be an object such as {{\"eps_m\": 150}}")
    problems = [f"unknown key {k!r}" for k in value if k not in _HOTSPOT_KEYS]
    out = {}
    for k in _HOTSPOT_KEYS:
        if k in value:
            v = value[k]
            if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0:
                problems.append(f"{k} must be a positive number, got {v!r}")
            else:
                out[k] = float(v)
    if problems:
        raise ConfigError(
            f"{where}: 'hotspots': "
            + "; ".join(problems)
            + f" (valid keys: {', '.join(_HOTSPOT_KEYS)})"
        )
    return MappingProxyType(out)


def _fit_zoom(bounds: tuple[float, float, float, float], px: int = 700) -> int:
    minx, miny, maxx, maxy = bounds
    lat = math.radians((miny + maxy) / 2)
    span_x = max(maxx - minx, 1e-4) * math.cos(lat)
    span_y = max(maxy - miny, 1e-4)
    span = max(span_x, span_y)
    return int(max(5, min(17, math.floor(math.log2(360 * px / 256 / span)))))


def load_areas(areas_dir: str | Path) -> AreaSet:
    """Read every ``areas/*.geojson`` under ``areas_dir``.

    Raises
    ------
    ConfigError
        If there are no area files, one is malformed, or two share an id. All
        problems are reported together.
    """
    folder = Path(areas_dir) / "areas"
    files = sorted(folder.glob("*.geojson"))
    if not files:
        raise ConfigError(f"no operating areas found: {folder} has no *.geojson files")
    areas, problems = [], []
    for f in files:
        try:
            areas.append(_area_from_feature(_read_feature(f), str(f)))
        except ConfigError as exc:
            problems.append(str(exc))
    seen: dict[str, int] = {}
    for a in areas:
        seen[a.id] = seen.get(a.id, 0) + 1
    problems += [f"area id {k!r} is used by {v} files" for k, v in seen.items() if v > 1]
    if problems:
        raise ConfigError("invalid operating areas:\n- " + "\n- ".join(problems))
    return AreaSet(areas)


def load_service_area(areas_dir: str | Path) -> ServiceArea:
    """Read ``service_area.geojson`` (the force area)."""
    path = Path(areas_dir) / "service_area.geojson"
    if not path.exists():
        raise ConfigError(f"no service area: {path} is missing")
    feat = _read_feature(path)
    props = feat.get("properties") or {}
    geom = _polygonal(feat.get("geometry"), str(path))
    shapely.prepare(geom)
    return ServiceArea(
        name=str(props.get("name") or "service area"),
        geometry=geom,
        source=str(props.get("source") or ""),
    )


# --------------------------------------------------------------------------- building


def _read_boundaries(path: str | Path) -> gpd.GeoDataFrame:
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"boundary file not found: {p}")
    try:
        gdf = gpd.read_file(p)
    except Exception as exc:
        raise InputFileError(f"cannot read boundary file {p}: {exc}") from exc
    if gdf.empty:
        raise InputFileError(f"boundary file {p} has no features")
    if gdf.crs is None:
        raise InputFileError(f"boundary file {p} has no CRS; set one (e.g. EPSG:27700) first")
    return gdf


def _select(gdf: gpd.GeoDataFrame, codes: Iterable[str], field: str | None) -> gpd.GeoDataFrame:
    wanted = {c.strip().upper() for c in codes if c.strip()}
    if not wanted:
        raise ConfigError("give at least one feature code (e.g. E07000027)")
    fields = (
        [field]
        if field
        else [
            c
            for c in gdf.columns
            if c != gdf.geometry.name
            and (pd.api.types.is_string_dtype(gdf[c]) or gdf[c].dtype == object)
        ]
    )
    for f in fields:
        if f not in gdf.columns:
            raise ConfigError(f"no field {f!r}; fields are {', '.join(map(str, gdf.columns))}")
        values = gdf[f].astype(str).str.strip().str.upper()
        hit = values.isin(wanted)
        if hit.any():
            missing = wanted - set(values[hit])
            if missing:
                raise ConfigError(f"codes not found in field {f!r}: {', '.join(sorted(missing))}")
            return gdf[hit]
    raise ConfigError(
        f"none of the codes {', '.join(sorted(wanted))} appear in any field of the file"
    )


def _dissolve(gdf: gpd.GeoDataFrame) -> Polygon | MultiPolygon:
    geom = shapely.union_all(gdf.to_crs(WGS84).geometry.make_valid().values)
    if isinstance(geom, shapely.GeometryCollection) and not isinstance(geom, MultiPolygon):
        geom = shapely.union_all([g for g in geom.geoms if g.area > 0])
    return geom


def build_area_from_boundaries(
    path: str | Path,
    codes: Iterable[str],
    *,
    area_id: str,
    name: str | None = None,
    field: str | None = None,
    base_point: BasePoint | None = None,
    existing: Area | None = None,
) -> dict[str, Any]:
    """Build an operating-area Feature from an official boundary file.

    Reads a GeoJSON, GeoPackage or Shapefile of districts, wards or LSOAs (any CRS),
    keeps the features whose code (in ``field``, or any text field) is one of
    ``codes``, dissolves them and returns a GeoJSON Feature ready for
    :func:`write_area`. Properties of ``existing`` (base point, start date, towns)
    are kept, so an authored outline can be swapped for the official one.
    """
    gdf = _select(_read_boundaries(path), codes, field)
    geom = _dissolve(gdf)
    if base_point is None and existing is not None:
        base_point = existing.base_point
    if base_point is None:
        rp = geom.representative_point()
        base_point = BasePoint("Start point", round(rp.y, 6), round(rp.x, 6))
    props: dict[str, Any] = {
        "id": area_id,
        "name": name or (existing.name if existing else area_id),
        "order": existing.order if existing else 100,
        "base_point": {"name": base_point.name, "lat": base_point.lat, "lon": base_point.lon},
        "view": {
            "lat": round(geom.centroid.y, 6),
            "lon": round(geom.centroid.x, 6),
            "zoom": _fit_zoom(geom.bounds),
        },
        "partnership_start": existing.partnership_start.isoformat()
        if existing and existing.partnership_start
        else None,
        "towns": list(existing.towns) if existing else [],
        **({"hotspots": dict(existing.hotspots)} if existing and existing.hotspots else {}),
        "source": f"built from {Path(path).name}, codes {', '.join(sorted(set(codes)))}",
    }
    return {"type": "Feature", "properties": props, "geometry": mapping(geom)}


def build_service_area_from_boundaries(
    path: str | Path,
    codes: Iterable[str],
    *,
    name: str = "Cumbria",
    field: str | None = None,
    simplify_m: float = 0.0,
    buffer_m: float = 0.0,
) -> dict[str, Any]:
    """Build a service-area Feature from official boundaries (optionally generalised).

    ``simplify_m`` generalises the outline and ``buffer_m`` grows it outward (so
    coastal and border snap points are not lost), both in metres.
    """
    gdf = _select(_read_boundaries(path), codes, field)
    geom_bng = shapely.union_all(gdf.to_crs(BNG).geometry.make_valid().values)
    if buffer_m:
        geom_bng = geom_bng.buffer(buffer_m)
    if simplify_m:
        geom_bng = geom_bng.simplify(simplify_m, preserve_topology=True)
    geom = gpd.GeoSeries([geom_bng], crs=BNG).to_crs(WGS84).iloc[0]
    geom = shapely.set_precision(geom, 1e-4)
    props = {
        "name": name,
        "source": f"built from {Path(path).name}, codes {', '.join(sorted(set(codes)))}; "
        f"simplified {simplify_m:g} m, buffered {buffer_m:g} m",
    }
    return {"type": "Feature", "properties": props, "geometry": mapping(geom)}


def _round_coords(obj: Any, ndigits: int = 5) -> Any:
    if isinstance(obj, float):
        return round(obj, ndigits)
    if isinstance(obj, list | tuple):
        return [_round_coords(o, ndigits) for o in obj]
    if isinstance(obj, dict):
        return {k: _round_coords(v, ndigits) for k, v in obj.items()}
    return obj


def write_area(feature: dict[str, Any], path: str | Path) -> Path:
    """Write an area (or service-area) Feature as GeoJSON, coordinates to ~1 m."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    feat = dict(feature)
    feat["geometry"] = _round_coords(json.loads(json.dumps(feature["geometry"])))
    tmp = p.with_suffix(p.suffix + ".tmp")
    tmp.write_text(json.dumps(feat, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(p)
    return p
