"""Leaflet maps that work with no internet, built with folium.

folium loads Leaflet and its plugins from public CDNs; on a network without the
internet (CI, many police networks) such a map draws nothing. Every map here loads
its scripts and styles from the dashboard's own static folder instead
(``static/vendor/``, installed from the npm registry by ``scripts/setup.sh``), and
works with no base tiles at all: boundaries, hotspots and markers draw on a plain
background, and a tile server is used only when one is configured.

Layers are sent as compact GeoJSON or data arrays, never one Python object per
incident: duplicate locations are aggregated first (data.police.uk snaps many
crimes to one point). Every string that reaches the map is HTML-escaped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template
from shapely.geometry import mapping

from clic_geo.export import escape
from clic_geo.reporting import map_style as style
from clic_geo.reporting.map_style import PALETTE, Swatch
from clic_geo.schema import CUCKOOING_LABELS, Col

__all__ = [
    "CATEGORY_COLOURS",
    "PALETTE",
    "MapAssets",
    "Swatch",
    "add_addresses",
    "add_boundaries",
    "add_hatched",
    "add_heat",
    "add_labels",
    "add_legend",
    "add_points",
    "add_polygons",
    "add_route",
    "aggregate_points",
    "legend_padding",
    "offline_map",
    "rendered_html",
]


#: A colour per incident category, colour-blind safe (Paul Tol's "muted" scheme).
CATEGORY_COLOURS: Mapping[str, str] = {
    "drug_supply": "#882255",  # wine
    "drug_possession": "#CC6677",  # rose
    "drugs": "#AA4499",  # purple
    "violence": "#332288",  # indigo
    "weapons": "#117733",  # green
    "threat_to_life": "#000000",
    "cuckooing_report": "#DDCC77",  # sand
    "intelligence_report": "#88CCEE",  # cyan
    "anti_social_behaviour": "#44AA99",  # teal
    "other": "#BBBBBB",  # grey
}


@dataclass(frozen=True)
class MapAssets:
    """Where the browser fetches map scripts from (the app's static folder)."""

    base_url: str = "/app/static/vendor"

    def js(self, *names: str) -> list[tuple[str, str]]:
        files = {
            "leaflet": "leaflet/leaflet.js",
            "jquery": "jquery/jquery.min.js",
            "markercluster": "markercluster/leaflet.markercluster.js",
            "heat": "heat/leaflet-heat.js",
        }
        return [(n, f"{self.base_url}/{files[n]}") for n in names]

    def css(self, *names: str) -> list[tuple[str, str]]:
        files = {
            "leaflet_css": "leaflet/leaflet.css",
            "markercluster_css": "markercluster/MarkerCluster.css",
            "markercluster_default_css": "markercluster/MarkerCluster.Default.css",
        }
        return [(n, f"{self.base_url}/{files[n]}") for n in names]


_MAP_CSS = (
    ".leaflet-control-attribution{font:11px/1.4 sans-serif!important;max-width:60%}"
    ".clic-legend summary{outline:none}"
    ".clic-label,.clic-stop,.clic-cluster{background:none;border:none}"
)


class _Script(MacroElement):
    """A script run once the map exists (``{{ map }}`` is the Leaflet map variable)."""

    def __init__(self, js: str) -> None:
        super().__init__()
        self._name = "ClicScript"
        self._template = Template("{% macro script(this, kwargs) %}" + js + "{% endmacro %}")


def offline_map(
    *,
    center: tuple[float, float],
    zoom: int,
    tile_url: str = "",
    tile_attribution: str = "",
    assets: MapAssets | None = None,
    attribution: str = "",
    max_zoom: int = 19,
) -> folium.Map:
    """A folium map whose scripts come from ``assets`` and that needs no tiles.

    Parameters
    ----------
    center : (lat, lon)
    zoom : int
    tile_url : str
        ``{z}/{x}/{y}`` tile URL template; empty draws no base map.
    tile_attribution : str
        Required by most tile servers when ``tile_url`` is set.
    attribution : str
        Data attribution shown in the map's corner (plain text; escaped).
    """
    assets = assets or MapAssets()
    m = folium.Map(
        location=list(center),
        zoom_start=zoom,
        tiles=None,
        max_zoom=max_zoom,
        control_scale=True,
        prefer_canvas=False,  # SVG: features stay in the DOM (tests, screen readers)
    )
    # with no tile layer Leaflet knows no zoom limits, and markercluster refuses to start
    m.options["max_zoom"] = max_zoom
    m.options["min_zoom"] = 6
    m.default_js = assets.js("leaflet", "jquery")
    m.default_css = assets.css("leaflet_css")
    if tile_url:
        folium.TileLayer(
            tiles=tile_url,
            attr=tile_attribution or "Map tiles",
            name="Base map",
            max_zoom=max_zoom,
            control=False,
        ).add_to(m)
    icons = f"{assets.base_url}/leaflet/images/"
    script = f"L.Icon.Default.imagePath = {json.dumps(icons)};"
    script += "{{ this._parent.get_name() }}.getContainer().style.background = '#eef0f2';"
    script += (
        "(function(){var s = document.createElement('style'); s.textContent = "
        + json.dumps(_MAP_CSS)
        + "; document.head.appendChild(s);})();"
    )
    if attribution:
        script += (
            "{{ this._parent.get_name() }}.attributionControl.addAttribution("
            + json.dumps(escape(attribution))
            + ");"
        )
    m.add_child(_Script(script))
    m.add_child(_Script(style.DECLUTTER_JS))
    return m


#: Decimal places of the coordinates sent to the map: 5 is about 1 m, far below the
#: ~80 m median geocoding error of police data, and a smaller payload than 6.
COORD_DECIMALS = 5


def _rounded(obj: Any, ndigits: int = COORD_DECIMALS) -> Any:
    """Coordinates to ~1 m: smaller payloads, nothing lost at map scale."""
    if isinstance(obj, float):
        return round(obj, ndigits)
    if isinstance(obj, list | tuple):
        return [_rounded(o, ndigits) for o in obj]
    if isinstance(obj, dict):
        return {k: _rounded(v, ndigits) for k, v in obj.items()}
    return obj


def _features(gdf: gpd.GeoDataFrame, props: Sequence[str]) -> dict[str, Any]:
    """GeoJSON of ``gdf`` in WGS84 with only ``props``, every string escaped."""
    g = gdf.to_crs(4326) if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf
    feats = []
    for geom, row in zip(
        g.geometry, g[list(props)].itertuples(index=False, name=None), strict=True
    ):
        if geom is None or geom.is_empty:
            continue
        p = {}
        for k, v in zip(props, row, strict=True):
            if isinstance(v, str):
                p[k] = escape(v)
            elif isinstance(v, float | np.floating):
                p[k] = None if np.isnan(v) else round(float(v), 4)
            elif isinstance(v, np.integer | np.bool_):
                p[k] = v.item()
            elif v is None or v is pd.NaT:
                p[k] = None
            else:
                p[k] = escape(v) if not isinstance(v, int | bool) else v
        feats.append({"type": "Feature", "properties": p, "geometry": _rounded(mapping(geom))})
    return {"type": "FeatureCollection", "features": feats}


def add_boundaries(
    m: folium.Map, areas: gpd.GeoDataFrame, *, name: str = "Area boundaries", show: bool = True
) -> folium.GeoJson:
    """Area outlines (dashed), with the area's name on hover."""
    layer = folium.GeoJson(
        _features(areas, ["name"]),
        name=name,
        show=show,
        style_function=lambda _f: {
            "color": PALETTE["boundary"],
            "weight": 2,
            "dashArray": "6 4",
            "fill": False,
        },
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        control=True,
    )
    layer.add_to(m)
    return layer


def aggregate_points(
    gdf: gpd.GeoDataFrame | pd.DataFrame,
    *,
    weight: str | None = None,
    label: str | None = None,
    decimals: int = 6,
) -> pd.DataFrame:
    """One row per distinct location: ``latitude, longitude, n, weight, label``.

    ``label`` (a column) keeps the first value at each location (e.g. the
    "On or near ..." description of a data.police.uk snap point).
    """
    df = pd.DataFrame(
        {
            "latitude": gdf[Col.LAT].round(decimals),
            "longitude": gdf[Col.LON].round(decimals),
            "w": gdf[weight].astype(float) if weight else 1.0,
            "label": gdf[label].astype(object).fillna("").astype(str) if label else "",
        }
    )
    out = df.groupby(["latitude", "longitude"], sort=False).agg(
        n=("w", "size"), weight=("w", "sum"), label=("label", "first")
    )
    return out.reset_index().sort_values("n", ascending=False, kind="stable").reset_index(drop=True)


def add_points(
    m: folium.Map,
    points: pd.DataFrame,
    *,
    name: str,
    colour: str,
    cluster: bool = True,
    show: bool = True,
    what: str = "incident",
    assets: MapAssets | None = None,
) -> folium.map.Layer:
    """Aggregated points (from :func:`aggregate_points`) as circle markers.

    With ``cluster=True`` they are grouped by Leaflet.markercluster; the cluster
    label counts incidents, not locations. The data travel as one compact array.
    """
    assets = assets or MapAssets()
    rows = [
        [
            round(float(r.latitude), COORD_DECIMALS),
            round(float(r.longitude), COORD_DECIMALS),
            int(r.n),
            f"{escape(r.label)}{'<br>' if r.label else ''}{int(r.n)} {escape(what)}"
            f"{'s' if int(r.n) != 1 else ''}",
        ]
        for r in points.itertuples(index=False)
    ]
    marker_js = (
        "function (row) {"
        " var r = 3 + Math.min(9, 2 * Math.sqrt(row[2]));"
        " var m = L.circleMarker(new L.LatLng(row[0], row[1]),"
        f" {{radius: r, color: '#333', weight: 1, fillColor: {json.dumps(colour)},"
        " fillOpacity: 0.85, n: row[2]});"
        " m.bindTooltip(row[3]);"
        " return m; }"
    )
    if cluster:
        icon_js = (
            "function (cluster) {"
            " var n = 0;"
            " cluster.getAllChildMarkers().forEach(function (c) { n += c.options.n || 1; });"
            " var s = n < 10 ? 30 : (n < 100 ? 36 : 42);"
            " var css = " + json.dumps(style.cluster_css(30)) + ";"
            " css = css.split('22px').join((s - 8) + 'px');"
            " return L.divIcon({html: '<div style=\"' + css + '\">' + n + '</div>',"
            " className: 'clic-cluster marker-cluster', iconSize: new L.Point(s, s)}); }"
        )
        layer = folium.plugins.FastMarkerCluster(
            rows,
            callback=marker_js,
            name=name,
            show=show,
            icon_create_function=icon_js,
            options={"maxClusterRadius": 40, "disableClusteringAtZoom": 17},
        )
        layer.default_js = assets.js("markercluster")
        layer.default_css = assets.css("markercluster_css", "markercluster_default_css")
    else:
        layer = folium.FeatureGroup(name=name, show=show)
        data = json.dumps(rows)
        layer.add_child(
            _Script(
                "var rows = " + data + "; var f = " + marker_js + ";"
                " rows.forEach(function (row) { f(row).addTo({{ this._parent.get_name() }}); });"
            )
        )
    layer.add_to(m)
    return layer


def add_heat(
    m: folium.Map,
    points: pd.DataFrame,
    *,
    name: str = "Heat surface",
    show: bool = False,
    radius: int = 18,
    assets: MapAssets | None = None,
) -> folium.map.Layer:
    """A heat surface from aggregated points, weighted by ``weight``."""
    assets = assets or MapAssets()
    if points.empty:
        data: list[list[float]] = []
    else:
        w = points["weight"].to_numpy(float)
        w = w / max(float(np.quantile(w, 0.98)), 1e-9)
        data = [
            [
                round(float(a), COORD_DECIMALS),
                round(float(b), COORD_DECIMALS),
                round(float(min(c, 1.0)), 3),
            ]
            for a, b, c in zip(points["latitude"], points["longitude"], w, strict=True)
        ]
    layer = folium.plugins.HeatMap(
        data,
        name=name,
        show=show,
        radius=radius,
        blur=15,
        min_opacity=0.25,
        max_zoom=16,
        gradient={str(k): v for k, v in style.HEAT_GRADIENT.items()},
    )
    layer.default_js = assets.js("heat")
    layer.add_to(m)
    return layer


def add_addresses(
    m: folium.Map,
    addresses: gpd.GeoDataFrame,
    *,
    name: str = "Addresses of concern",
    show: bool = True,
) -> folium.GeoJson:
    """Addresses of concern coloured by cuckooing status (officers only)."""
    a = addresses.copy()
    a["status_label"] = a[Col.STATUS].map(CUCKOOING_LABELS).fillna("")
    a["flags"] = [
        ", ".join(x for x, on in (("SAFE alert", s), ("protection plan", p)) if on)
        for s, p in zip(a[Col.SAFE_ALERT], a[Col.PROTECTION_PLAN], strict=True)
    ]
    fc = _features(a, [Col.ADDRESS, Col.STATUS, "status_label", "flags"])
    layer = folium.GeoJson(
        fc,
        name=name,
        show=show,
        marker=folium.CircleMarker(radius=6, weight=2, fill=True, fill_opacity=0.9),
        style_function=lambda f: {
            "color": "#222",
            "fillColor": PALETTE.get(f["properties"][Col.STATUS], "#999"),
        },
        tooltip=folium.GeoJsonTooltip(
            fields=[Col.ADDRESS, "status_label", "flags"], aliases=["Address", "Status", "Flags"]
        ),
    )
    layer.add_to(m)
    return layer


def add_polygons(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    fields: Sequence[str],
    aliases: Sequence[str],
    fill_colour: str | None = None,
    colour_field: str | None = None,
    colours: Mapping[Any, str] | None = None,
    dash_field: str | None = None,
    dashes: Mapping[Any, str] | None = None,
    show: bool = True,
    weight: float = 2,
    fill_opacity: float = 0.45,
) -> folium.GeoJson:
    """Polygons (hotspots, partner grid cells) with a tooltip of ``fields``."""
    props = list(dict.fromkeys([*fields, *(x for x in (colour_field, dash_field) if x)]))
    fc = _features(gdf, props)
    colours = dict(colours or {})
    dashes = dict(dashes or {})

    def style(f: dict[str, Any]) -> dict[str, Any]:
        p = f["properties"]
        fill = (
            colours.get(p.get(colour_field), fill_colour or "#D55E00")
            if colour_field
            else (fill_colour or "#D55E00")
        )
        return {
            "color": "#222",
            "weight": weight,
            "fillColor": fill,
            "fillOpacity": fill_opacity,
            "dashArray": dashes.get(p.get(dash_field), "") if dash_field else "",
        }

    layer = folium.GeoJson(
        fc,
        name=name,
        show=show,
        style_function=style,
        highlight_function=lambda _f: {"weight": 4, "fillOpacity": 0.65},
        tooltip=folium.GeoJsonTooltip(fields=list(fields), aliases=list(aliases)),
    )
    layer.add_to(m)
    return layer


def add_labels(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    field: str,
    *,
    name: str = "Labels",
    rank_field: str | None = None,
) -> folium.FeatureGroup:
    """A hotspot's rank tag ("#4") at each polygon, kept clear of stops and clusters.

    The tags are :func:`map_style.badge_html`; the map's declutter script moves a tag
    that would sit on a route stop, an incident cluster or a higher-ranked tag.
    """
    fg = folium.FeatureGroup(name=name, control=False)
    g = gdf.to_crs(4326) if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf
    ranks = g[rank_field] if rank_field else range(1, len(g) + 1)
    for geom, text, rank in zip(g.geometry, g[field], ranks, strict=True):
        if geom is None or geom.is_empty:
            continue
        p = geom.representative_point()
        html = style.badge_html(str(text)).replace(
            'class="clic-badge"', f'class="clic-badge" data-rank="{int(rank)}"'
        )
        folium.Marker(
            (p.y, p.x),
            icon=folium.DivIcon(
                html=html, icon_size=(34, 20), icon_anchor=(17, 10), class_name="clic-label"
            ),
            z_index_offset=900,
        ).add_to(fg)
    fg.add_to(m)
    return fg


def add_route(
    m: folium.Map,
    stops: Sequence[Mapping[str, Any]],
    *,
    path: Sequence[tuple[float, float]] | None = None,
    name: str = "Planned route",
    show: bool = True,
) -> folium.FeatureGroup:
    """A walking route: numbered stops (``lat``, ``lon``, ``label``) joined in order."""
    fg = folium.FeatureGroup(name=name, show=show)
    line = list(path) if path else [(s["lat"], s["lon"]) for s in stops]
    if len(line) >= 2:
        folium.PolyLine(line, color=PALETTE["route"], weight=4, opacity=0.8).add_to(fg)
    for i, s in enumerate(stops):
        num = s.get("number", i)
        folium.Marker(
            (s["lat"], s["lon"]),
            icon=folium.DivIcon(
                html=style.stop_html(num if num else 0),
                icon_size=(26, 26),
                icon_anchor=(13, 13),
                class_name="clic-stop",
            ),
            tooltip=escape(s.get("label", "")),
            z_index_offset=1000,  # the stop numbers stay above hotspot labels and addresses
        ).add_to(fg)
    fg.add_to(m)
    return fg


def add_legend(
    m: folium.Map,
    items: Iterable[Swatch | tuple[str, str]],
    *,
    title: str = "Legend",
    position: str = "topright",
) -> None:
    """A legend that folds away: one :class:`Swatch` per line (a ``(colour, label)``
    pair is a filled square), drawn by the same functions as the layers.

    It is a Leaflet control in a corner, open on a map 480 px wide or more and folded
    (one line, "Legend") on a narrower one such as a phone's. It keeps the data clear
    of itself: the map's extent (its last ``fit_bounds``) is fitted again with a
    margin as wide as the open legend, on load and whenever the window changes size,
    until the user moves the map.
    """
    sw = [x if isinstance(x, Swatch) else Swatch("fill", x[1], x[0]) for x in items]
    html = style.legend_html(sw, title)
    fits = [c for c in m._children.values() if isinstance(c, folium.map.FitBounds)]
    bounds = json.dumps(fits[-1].bounds) if fits else "null"
    m.add_child(_Script(style.legend_js(html, position, bounds)))


def legend_padding() -> dict[str, tuple[int, int]]:
    """``fit_bounds`` padding for a map with a legend (the legend widens it on the
    legend's side once drawn, see :func:`add_legend`)."""
    return {"padding_top_left": (16, 32), "padding_bottom_right": (16, 32)}


def add_hatched(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    tooltip: str,
    show: bool = True,
) -> folium.GeoJson:
    """Polygons drawn as one light hatch with no outline (e.g. suppressed squares,
    merged into one shape first so no grid of heavy lines is drawn)."""
    g = gdf.to_crs(4326) if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf
    merged = gpd.GeoDataFrame({"tip": [tooltip]}, geometry=[g.geometry.union_all()], crs=4326)
    m.add_child(
        _Script(
            "(function(map){var d = document.createElement('div'); d.innerHTML = "
            + json.dumps(style.HATCH_PATTERN_SVG)
            + "; map.getContainer().appendChild(d.firstChild);})({{ this._parent.get_name() }});"
        )
    )
    layer = folium.GeoJson(
        _features(merged, ["tip"]),
        name=name,
        show=show,
        style_function=lambda _f: {
            "stroke": False,
            "fillColor": "url(#clic-hatch)",
            "fillOpacity": 1.0,
        },
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
    )
    layer.add_to(m)
    return layer


def rendered_html(m: folium.Map) -> str:
    """The map as a standalone HTML page (for exports and for tests)."""
    return m.get_root().render()
