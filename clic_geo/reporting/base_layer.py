"""The base map under the data: roads, water, buildings and place names, drawn offline.

Quiet by design, so the data stay on top: light grey roads, pale blue water, in a
Leaflet pane below every data layer (and never clickable), road names only at street
zoom. All the base map's colours, widths and zooms are in :data:`BASE_STYLE`,
:data:`LABEL_ZOOM` and :data:`BACKGROUND` (one place, for the dashboard's visual
grammar). The browser receives only what the view needs
(:func:`clic_geo.geo.basemap.for_view`): a town at street zoom is tens of kilobytes.
"""

from __future__ import annotations

import json
import math
import threading
import weakref
from collections.abc import Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely

from clic_geo.export import escape
from clic_geo.geo import basemap as bm
from clic_geo.geo import crs as geo
from clic_geo.reporting.maps import _Script

__all__ = [
    "BACKGROUND",
    "BASE_STYLE",
    "LABEL_ZOOM",
    "add_base_layer",
    "base_payload",
    "road_labels",
    "view_bounds",
]

#: Land colour under the base map.
BACKGROUND = "#f4f3ef"
#: Style per class: stroke colour, stroke width at zoom 12 and at 16, fill colour
#: (polygons) and the zoom from which the class is drawn.
BASE_STYLE: dict[str, dict[str, Any]] = {
    "sea": {"color": "#b9d3e8", "w12": 0.5, "w16": 0.5, "fill": "#d4e6f4", "minz": 0},
    "lake": {"color": "#b9d3e8", "w12": 0.5, "w16": 0.5, "fill": "#d4e6f4", "minz": 0},
    "river": {"color": "#aacbe6", "w12": 1.5, "w16": 4.0, "fill": None, "minz": 9},
    "building": {"color": "#d9d6d0", "w12": 0.5, "w16": 0.5, "fill": "#e4e1db", "minz": 15},
    "motorway": {"color": "#a9a9a9", "w12": 3.0, "w16": 8.0, "fill": None, "minz": 0},
    "trunk": {"color": "#b3b3b3", "w12": 2.5, "w16": 8.0, "fill": None, "minz": 0},
    "primary": {"color": "#bdbdbd", "w12": 2.0, "w16": 7.0, "fill": None, "minz": 0},
    "secondary": {"color": "#c4c4c4", "w12": 1.6, "w16": 6.0, "fill": None, "minz": 10},
    "tertiary": {"color": "#c9c9c9", "w12": 1.3, "w16": 5.0, "fill": None, "minz": 11},
    "minor": {"color": "#d0d0d0", "w12": 0.8, "w16": 4.0, "fill": None, "minz": 13},
}
#: Zoom from which road names are shown, and place names by place type.
LABEL_ZOOM: dict[str, int] = {
    "road": 15, "city": 8, "town": 10, "suburb": 13, "village": 12, "hamlet": 14, "place": 13,
}  # fmt: skip
#: Road names are placed about this far apart along a road (metres).
LABEL_SPACING_M = 700.0

_CSS = (
    ".clic-road-label{color:#6b6b6b;font:italic 11px/1 sans-serif;white-space:nowrap;"
    "text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff;pointer-events:none}"
    ".clic-road-label span{display:inline-block;transform-origin:center}"
    ".clic-place-label{color:#555;font:bold 12px/1 sans-serif;white-space:nowrap;"
    "text-shadow:0 0 2px #fff,0 0 3px #fff;pointer-events:none}"
)


def view_bounds(center: tuple[float, float], zoom: int, size_px: tuple[int, int] = (1100, 600)):
    """The lon/lat box a map of ``size_px`` shows at ``center`` (lat, lon) and ``zoom``."""
    lat, lon = center
    half_w = size_px[0] / 2 * 360.0 / (256 * 2**zoom)
    half_h = half_w * size_px[1] / size_px[0] * math.cos(math.radians(lat))
    return (lon - half_w, lat - half_h, lon + half_w, lat + half_h)


def road_labels(gdf: gpd.GeoDataFrame, spacing_m: float = LABEL_SPACING_M) -> list[list]:
    """``[lat, lon, angle, text]`` for named roads, about ``spacing_m`` apart along each,
    at most one per name in any ``spacing_m`` square; the angle follows the road."""
    roads = gdf[(gdf["kind"] == "roads") & (gdf["name"] != "")]
    if roads.empty:
        return []
    # in web Mercator, as on the screen (angles as drawn; metres stretched by 1/cos(lat))
    g = roads.to_crs(3857)
    miny, maxy = roads.total_bounds[1::2]
    spacing_m /= math.cos(math.radians((miny + maxy) / 2))
    out, seen = [], set()
    for geom, name, ref in zip(g.geometry, g["name"], g["ref"], strict=True):
        for line in getattr(geom, "geoms", [geom]):
            if line.geom_type != "LineString" or line.length < 130:
                continue
            n = max(1, int(line.length // spacing_m))
            for i in range(n):
                d = line.length * (i + 0.5) / n
                p, q = line.interpolate(max(d - 25, 0)), line.interpolate(min(d + 25, line.length))
                cell = (name, int(p.x // spacing_m), int(p.y // spacing_m))
                if cell in seen:
                    continue
                seen.add(cell)
                angle = math.degrees(math.atan2(-(q.y - p.y), q.x - p.x))
                if angle > 90:
                    angle -= 180
                elif angle < -90:
                    angle += 180
                mid = line.interpolate(d)
                out.append((mid.x, mid.y, round(angle), f"{name} ({ref})" if ref else name))
    if not out:
        return []
    pts = gpd.GeoSeries(gpd.points_from_xy(*np.array([o[:2] for o in out]).T), crs=3857)
    pts = pts.to_crs(geo.WGS84)
    lon, lat = pts.x.to_numpy(), pts.y.to_numpy()
    return [
        [round(float(a), 5), round(float(b), 5), ang, escape(t)]
        for a, b, (_, _, ang, t) in zip(lat, lon, out, strict=True)
    ]


#: Payloads per base layer object (by id, while it lives). Not in ``gdf.attrs``: pandas
#: deep-copies ``attrs`` into every frame derived from the layer, which made each
#: cached view slow down every later one (3.1 s of a town view's 3.4 s was copying).
_PAYLOADS: dict[int, tuple[weakref.ref, dict]] = {}
_PAYLOADS_LOCK = threading.Lock()


def _payload_cache(gdf: gpd.GeoDataFrame) -> dict:
    with _PAYLOADS_LOCK:
        for k in [k for k, (ref, _) in _PAYLOADS.items() if ref() is None]:
            del _PAYLOADS[k]
        got = _PAYLOADS.get(id(gdf))
        if got is None or got[0]() is not gdf:
            got = _PAYLOADS[id(gdf)] = (weakref.ref(gdf), {})
        return got[1]


def base_payload(
    gdf: gpd.GeoDataFrame, bounds: Sequence[float], zoom: int
) -> tuple[dict[str, Any], list[list], list[list]]:
    """What the browser gets: GeoJSON of the view's features (class only), road labels
    and place labels (``[lat, lon, min_zoom, text]``). Kept per layer object and view,
    so redrawing a page does not recompute it."""
    key = (tuple(round(float(b), 4) for b in bounds), int(zoom))
    cache = _payload_cache(gdf)
    if key in cache:
        return cache[key]
    if len(cache) > 64:
        cache.clear()
    view = bm.for_view(gdf, bounds, zoom)
    shapes = view[view["kind"] != "places"]
    feats = [
        {
            "type": "Feature",
            "properties": {"c": c},
            "geometry": json.loads(shapely.to_geojson(shapely.set_precision(g, 1e-5))),
        }
        for g, c in zip(shapes.geometry, shapes["cls"], strict=True)
        if g is not None and not g.is_empty
    ]
    # polygons first (water under roads), then roads from minor to motorway
    order = {
        c: i for i, c in enumerate(["sea", "lake", "building", "river", *bm.ROAD_CLASSES[::-1]])
    }
    feats.sort(key=lambda f: order.get(f["properties"]["c"], 0))
    places = view[view["kind"] == "places"]
    place_labels = [
        [round(p.y, 5), round(p.x, 5), LABEL_ZOOM.get(c, 13), escape(n)]
        for p, c, n in zip(
            places.geometry.representative_point(), places["cls"], places["name"], strict=True
        )
        if n
    ]
    # road names for a town or street view (a county view zoomed to a street has none)
    roads = road_labels(shapes) if zoom + 3 >= LABEL_ZOOM["road"] else []
    out = {"type": "FeatureCollection", "features": feats}, roads, place_labels
    cache[key] = out
    return out


def add_base_layer(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    bounds: Sequence[float],
    zoom: int,
    attribution: str = "",
) -> int:
    """Draw ``gdf`` (a base layer, :data:`clic_geo.geo.basemap.COLUMNS`) under the data.

    Returns the size in bytes of the base map's data sent to the browser.
    """
    fc, roads, places = base_payload(gdf, bounds, zoom)
    data = json.dumps(
        {"fc": fc, "roads": roads, "places": places, "style": BASE_STYLE, "rz": LABEL_ZOOM["road"]},
        separators=(",", ":"),
        ensure_ascii=False,
    )
    js = (
        "(function(){var map = {{ this._parent.get_name() }}; var D = " + data + ";"
        "var s = document.createElement('style'); s.textContent = " + json.dumps(_CSS) + ";"
        "document.head.appendChild(s);"
        f"map.getContainer().style.background = {json.dumps(BACKGROUND)};"
        "map.createPane('clicBase').style.zIndex = 250;"
        "map.createPane('clicBaseLabels').style.zIndex = 350;"
        "map.getPane('clicBase').style.pointerEvents = 'none';"
        "map.getPane('clicBaseLabels').style.pointerEvents = 'none';"
        "function style(f){var z = map.getZoom(), S = D.style[f.properties.c] || D.style.minor;"
        " var t = Math.max(0, Math.min(1, (z - 12) / 4)), w = S.w12 + t * (S.w16 - S.w12);"
        " var on = z >= S.minz;"
        " return {color: S.color, weight: on ? w : 0, opacity: on ? 1 : 0,"
        " fill: !!S.fill, fillColor: S.fill || S.color, fillOpacity: on && S.fill ? 1 : 0,"
        " lineCap: 'round', lineJoin: 'round'};}"
        "var base = L.geoJSON(D.fc, {pane: 'clicBase', interactive: false, style: style,"
        " className: 'clic-base'}).addTo(map);"
        "var roadNames = L.layerGroup(), placeNames = [];"
        "D.roads.forEach(function(r){roadNames.addLayer(L.marker([r[0], r[1]], {pane:"
        " 'clicBaseLabels', interactive: false, keyboard: false, icon: L.divIcon({className:"
        " 'clic-road-label', iconSize: [0, 0], html: '<span style=\"transform:translate(-50%,"
        "-50%) rotate(' + r[2] + 'deg)\">' + r[3] + '</span>'})}));});"
        "D.places.forEach(function(p){placeNames.push([p[2], L.marker([p[0], p[1]], {pane:"
        " 'clicBaseLabels', interactive: false, keyboard: false, icon: L.divIcon({className:"
        " 'clic-place-label', iconSize: [0, 0], html: '<span style=\"display:inline-block;"
        "transform:translate(-50%,-50%)\">' + p[3] + '</span>'})})]);});"
        "function zoomed(){var z = map.getZoom(); base.setStyle(style);"
        " if (z >= D.rz) { roadNames.addTo(map); } else { roadNames.remove(); }"
        " placeNames.forEach(function(p){ if (z >= p[0]) { p[1].addTo(map); }"
        " else { p[1].remove(); } });}"
        "map.on('zoomend', zoomed); zoomed();"
    )
    if attribution:
        js += "map.attributionControl.addAttribution(" + json.dumps(escape(attribution)) + ");"
    js += "})();"
    m.add_child(_Script(js))
    return len(data)
