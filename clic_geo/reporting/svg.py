"""Small HTML and inline SVG pieces for pages that must work with no script and no network.

Escaped tables and legends, bar charts and a map drawn as SVG in British National Grid:
what the meeting pack is made of.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from clic_geo.export import escape
from clic_geo.geo import basemap as bm
from clic_geo.geo.areas import Area
from clic_geo.reporting.base_layer import BASE_STYLE
from clic_geo.schema import Trend

__all__ = ["TREND_COLOURS"]

#: Colour-blind-safe colours per hotspot trend (Okabe-Ito), hot trends warm.
TREND_COLOURS: Mapping[str, str] = {
    Trend.NEW: "#E69F00",
    Trend.CONSECUTIVE: "#D55E00",
    Trend.INTENSIFYING: "#CC0000",
    Trend.PERSISTENT: "#882255",
    Trend.DIMINISHING: "#CC79A7",
    Trend.SPORADIC: "#0072B2",
    Trend.OSCILLATING: "#56B4E9",
    Trend.HISTORICAL: "#009E73",
    Trend.NO_PATTERN: "#999999",
}
#: Sequential colours (viridis) for shown square counts, as on the partner page.
STEPS = ["#fde725", "#5ec962", "#21918c", "#3b528b", "#440154"]
HIDDEN = "#d9d9d9"


# ------------------------------------------------------------------ small HTML helpers


def _e(value: object) -> str:
    """HTML-escaped, without bidi controls (:func:`clic_geo.export.escape`, but ``None``
    and NaN kept as their text)."""
    return escape(str(value))


def _table(
    header: Sequence[str], rows: Iterable[Sequence[object]], *, numeric_from: int = 1
) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for i, v in enumerate(row):
            cls = ' class="n"' if i >= numeric_from else ""
            cells.append(f"<td{cls}>{_e(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _legend(items: Iterable[tuple[str, str]]) -> str:
    spans = "".join(f'<span><i style="background:{_e(c)}"></i>{_e(t)}</span>' for c, t in items)
    return f'<div class="legend">{spans}</div>'


def _fmt(x: float) -> str:
    return f"{x:.1f}"


# ------------------------------------------------------------------ SVG charts


def _bar_chart(
    months: Sequence[str],
    series: Mapping[str, Sequence[float]],
    colours: Mapping[str, str],
    labels: Mapping[str, str],
    *,
    title: str,
    hidden: Sequence[bool] | None = None,
    hidden_text: str = "",
    width: int = 760,
    height: int = 260,
) -> str:
    """Stacked bars per month (inline SVG); ``hidden`` months get a grey marker instead."""
    left, right, top, bottom = 48, 10, 10, 46
    pw, ph = width - left - right, height - top - bottom
    n = max(len(months), 1)
    totals = np.zeros(len(months))
    for vals in series.values():
        totals += np.nan_to_num(np.asarray(vals, dtype=float))
    ymax = float(totals.max()) if len(totals) and totals.max() > 0 else 1.0
    step = _nice_step(ymax)
    ymax = math.ceil(ymax / step) * step
    bw = pw / n
    out = [
        f'<svg viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{_e(title)}">',
        f"<title>{_e(title)}</title>",
    ]
    y = 0.0
    while y <= ymax + 1e-9:
        py = top + ph - ph * y / ymax
        out.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{_fmt(py)}" y2="{_fmt(py)}" stroke="#ddd"/>'
            f'<text x="{left - 4}" y="{_fmt(py + 4)}" font-size="10" text-anchor="end">'
            f"{int(y) if float(y).is_integer() else _fmt(y)}</text>"
        )
        y += step
    every = max(1, math.ceil(n / 12))
    for i, m in enumerate(months):
        x = left + i * bw
        base = 0.0
        parts = []
        for key, vals in series.items():
            v = float(np.nan_to_num(vals[i]))
            if v <= 0:
                continue
            h = ph * v / ymax
            py = top + ph - ph * (base + v) / ymax
            parts.append(
                f'<rect x="{_fmt(x + 1)}" y="{_fmt(py)}" width="{_fmt(max(bw - 2, 1))}" '
                f'height="{_fmt(h)}" fill="{_e(colours.get(key, "#777"))}">'
                f"<title>{_e(m)}: {_e(labels.get(key, key))} {int(v) if v.is_integer() else v}"
                f"</title></rect>"
            )
            base += v
        out.extend(parts)
        if hidden is not None and hidden[i]:
            out.append(
                f'<rect x="{_fmt(x + 1)}" y="{_fmt(top + ph - 6)}" width="{_fmt(max(bw - 2, 1))}" '
                f'height="6" fill="{HIDDEN}" stroke="#888" stroke-width="0.5">'
                f"<title>{_e(m)}: {_e(hidden_text)}</title></rect>"
            )
        if i % every == 0:
            out.append(
                f'<text x="{_fmt(x + bw / 2)}" y="{top + ph + 14}" font-size="10" '
                f'text-anchor="middle">{_e(m)}</text>'
            )
    out.append(
        f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" stroke="#333"/>'
    )
    out.append("</svg>")
    return "".join(out)


def _nice_step(ymax: float) -> float:
    raw = ymax / 5
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for k in (1, 2, 5, 10):
        if raw <= k * mag:
            return max(k * mag, 1.0)
    return 10 * mag


# ------------------------------------------------------------------ SVG map


class _Projection:
    """Degrees to SVG pixels for one area (equirectangular, scaled by cos(latitude))."""

    def __init__(self, bounds: tuple[float, float, float, float], width: int = 760) -> None:
        minx, miny, maxx, maxy = bounds
        self.k = math.cos(math.radians((miny + maxy) / 2))
        self.minx, self.maxy = minx, maxy
        span_x = max((maxx - minx) * self.k, 1e-9)
        span_y = max(maxy - miny, 1e-9)
        self.pad = 10
        self.scale = (width - 2 * self.pad) / span_x
        self.width = width
        self.height = int(span_y * self.scale + 2 * self.pad)

    def path(self, geom: BaseGeometry) -> str:
        rings = []
        for poly in getattr(geom, "geoms", [geom]):
            if poly.is_empty or poly.geom_type != "Polygon":
                continue
            for ring in [poly.exterior, *poly.interiors]:
                xy = np.asarray(ring.coords)
                px = self.pad + (xy[:, 0] - self.minx) * self.k * self.scale
                py = self.pad + (self.maxy - xy[:, 1]) * self.scale
                pts = " ".join(f"{_fmt(a)},{_fmt(b)}" for a, b in zip(px, py, strict=True))
                rings.append(f"M{pts}Z")
        return "".join(rings)

    def line(self, geom: BaseGeometry) -> str:
        """A line (or the outline of a polygon) as an SVG path."""
        parts = []
        for g in getattr(geom, "geoms", [geom]):
            if g.is_empty:
                continue
            if g.geom_type == "Polygon":
                parts.append(self.path(g))
                continue
            xy = np.asarray(g.coords)
            px = self.pad + (xy[:, 0] - self.minx) * self.k * self.scale
            py = self.pad + (self.maxy - xy[:, 1]) * self.scale
            parts.append(
                "M" + " ".join(f"{_fmt(a)},{_fmt(b)}" for a, b in zip(px, py, strict=True))
            )
        return "".join(parts)

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        return (
            self.pad + (lon - self.minx) * self.k * self.scale,
            self.pad + (self.maxy - lat) * self.scale,
        )


def _base_svg(proj: _Projection, base: gpd.GeoDataFrame, bounds: Sequence[float]) -> list[str]:
    """The base map (water, roads; :data:`BASE_STYLE`) as SVG paths, one per class."""
    span = max((bounds[2] - bounds[0]) * proj.k, 1e-9)
    zoom = int(math.log2(proj.width * 360.0 / (256 * span)))
    view = bm.for_view(base, bounds, zoom, margin=0.02)
    view = view[view["kind"] != "places"].clip(shapely.box(*bounds))
    out = []
    order = ["sea", "lake", "building", "river", *bm.ROAD_CLASSES[::-1]]
    for cls in order:
        geoms = view.geometry[view["cls"] == cls]
        if geoms.empty or cls not in BASE_STYLE:
            continue
        st = BASE_STYLE[cls]
        if st["minz"] > zoom:
            continue
        d = "".join(proj.line(g) for g in geoms)
        if st["fill"]:
            out.append(f'<path d="{d}" fill="{st["fill"]}" stroke="none" fill-rule="evenodd"/>')
        else:
            w = st["w12"] * max(0.6, min(1.5, 2 ** (zoom - 12)))
            out.append(
                f'<path d="{d}" fill="none" stroke="{st["color"]}" stroke-width="{_fmt(w)}" '
                'stroke-linecap="round" stroke-linejoin="round"/>'
            )
    return out


def _map_svg(
    area: Area,
    shapes: Sequence[tuple[BaseGeometry, str, str, str | None]],
    *,
    title: str,
    base: tuple[gpd.GeoDataFrame, str] | None = None,
) -> str:
    """The area outline and ``(polygon, fill, tooltip, label)`` shapes over the base map
    (``base``: a layer and its attribution, e.g. :meth:`Store.base_features`); no tiles."""
    outline = area.geometry.simplify(0.0002, preserve_topology=True)
    proj = _Projection(outline.bounds)
    out = [
        f'<svg viewBox="0 0 {proj.width} {proj.height}" '
        f'width="{proj.width}" height="{proj.height}" role="img" aria-label="{_e(title)}">',
        f"<title>{_e(title)}</title>",
        f'<rect width="{proj.width}" height="{proj.height}" fill="#f4f4f0"/>',
        f'<path d="{proj.path(outline)}" fill="#ffffff" stroke="none" fill-rule="evenodd"/>',
    ]
    if base is not None and len(base[0]):
        x0, y1 = proj.minx, proj.maxy
        x1 = x0 + (proj.width - proj.pad) / (proj.scale * proj.k)
        y0 = y1 - (proj.height - proj.pad) / proj.scale
        x0, y1 = x0 - proj.pad / (proj.scale * proj.k), y1 + proj.pad / proj.scale
        out += _base_svg(proj, base[0], (x0, y0, x1, y1))
    out.append(
        f'<path d="{proj.path(outline)}" fill="none" stroke="#000" stroke-width="1.5" '
        f'fill-rule="evenodd"><title>{_e(area.name)}</title></path>'
    )
    labels = []
    for geom, fill, tip, label in shapes:
        out.append(
            f'<path d="{proj.path(geom)}" fill="{_e(fill)}" fill-opacity="0.75" stroke="#333" '
            f'stroke-width="0.6" fill-rule="evenodd"><title>{_e(tip)}</title></path>'
        )
        if label:
            c = geom.representative_point()
            x, y = proj.point(c.x, c.y)
            labels.append(
                f'<text x="{_fmt(x)}" y="{_fmt(y - 6)}" font-size="11" font-weight="bold" '
                f'text-anchor="middle" stroke="#fff" stroke-width="3" paint-order="stroke">'
                f"{_e(label)}</text>"
            )
    out.extend(labels)
    if base is not None and base[1]:
        out.append(
            f'<text x="{proj.width - 4}" y="{proj.height - 4}" font-size="9" fill="#555" '
            f'text-anchor="end">Base map: {_e(base[1])}</text>'
        )
    out.append("</svg>")
    return "".join(out)
