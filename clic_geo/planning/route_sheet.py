"""Route exports: a printable A4 route sheet (HTML), a CSV and a GPX file for a phone.

The sheet works offline: one self-contained HTML file with print CSS and a map drawn
here as inline SVG (no scripts, no web fonts, no tiles). Every string from the data
is escaped. The CSV is formula-safe (:func:`clic_geo.export.write_safe_csv`). The GPX
(1.1) carries stop numbers, kinds and times but, by default, no address text, so a
lost phone does not give away who is being visited.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from clic_geo.export import escape, write_safe_csv
from clic_geo.geo import crs
from clic_geo.planning.route_model import Route

__all__ = ["route_gpx", "route_sheet_html", "route_table", "write_route_csv"]

GPX_NS = "http://www.topografix.com/GPX/1/1"
_KIND = {"address": "Address visit", "incident": "Incident follow-up", "hotspot": "Hotspot walk"}
_W, _H, _PAD = 680, 430, 28


def route_table(route: Route) -> pd.DataFrame:
    """Stops in order, then the stops left out with their reasons (one table)."""
    rows = [
        {
            "order": s.order,
            "status": "stop",
            "id": s.id,
            "kind": s.kind,
            "label": s.label,
            "arrive": s.arrive_at.strftime("%H:%M"),
            "leave": s.leave_at.strftime("%H:%M"),
            "visit_minutes": s.visit_minutes,
            "walk_m": round(s.leg_walk_m),
            "walk_minutes": round(s.leg_walk_minutes, 1),
            "priority": s.priority,
            "must_visit": s.must_visit,
            "reasons": s.reasons,
            "bring": s.bring,
            "latitude": round(s.latitude, 6),
            "longitude": round(s.longitude, 6),
        }
        for s in route.stops
    ]
    rows += [
        {
            "status": "left out",
            "id": d.id,
            "kind": d.kind,
            "label": d.label,
            "priority": d.priority,
            "reasons": d.reason,
        }
        for d in route.dropped
    ]
    cols = list(rows[0]) if route.stops else ["order", "status", "id", "kind", "label"]
    out = pd.DataFrame(rows).reindex(columns=list(dict.fromkeys([*cols, "priority", "reasons"])))
    for c in ("order", "walk_m"):
        out[c] = out[c].astype("Int64") if c in out else out.get(c)
    return out


def write_route_csv(route: Route, path: str | Path) -> Path:
    """Write :func:`route_table` as a CSV safe to open in Excel."""
    return write_safe_csv(route_table(route), path)


def route_gpx(route: Route, *, name: str = "Visit route", include_labels: bool = False) -> str:
    """The route as GPX 1.1: a waypoint per stop and a route start -> stops -> end.

    Waypoint names are ``"3 Address visit 10:45"``; ``include_labels`` adds the
    address or place text to each waypoint's description.
    """
    ET.register_namespace("", GPX_NS)
    gpx = ET.Element(f"{{{GPX_NS}}}gpx", {"version": "1.1", "creator": "clic-geo visit planner"})
    meta = ET.SubElement(gpx, f"{{{GPX_NS}}}metadata")
    ET.SubElement(meta, f"{{{GPX_NS}}}name").text = name
    ET.SubElement(meta, f"{{{GPX_NS}}}time").text = route.start_at.isoformat(timespec="seconds")

    def point(
        under: ET.Element, tag: str, lat: float, lon: float, title: str, when: datetime, desc=""
    ) -> None:
        el = ET.SubElement(under, f"{{{GPX_NS}}}{tag}")
        el.set("lat", f"{lat:.6f}")
        el.set("lon", f"{lon:.6f}")
        ET.SubElement(el, f"{{{GPX_NS}}}time").text = when.isoformat(timespec="seconds")
        ET.SubElement(el, f"{{{GPX_NS}}}name").text = title
        if desc:
            ET.SubElement(el, f"{{{GPX_NS}}}desc").text = desc

    titles = [f"{s.order} {_KIND.get(s.kind, 'Stop')} {s.arrive_at:%H:%M}" for s in route.stops]
    for s, title in zip(route.stops, titles, strict=True):
        point(
            gpx,
            "wpt",
            s.latitude,
            s.longitude,
            title,
            s.arrive_at,
            s.label if include_labels else "",
        )
    rte = ET.SubElement(gpx, f"{{{GPX_NS}}}rte")
    ET.SubElement(rte, f"{{{GPX_NS}}}name").text = name
    point(rte, "rtept", *route.start, "Start", route.start_at)
    for s, title in zip(route.stops, titles, strict=True):
        point(rte, "rtept", s.latitude, s.longitude, title, s.arrive_at)
    point(rte, "rtept", *route.end, "End", route.finish_at)
    ET.indent(gpx)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(gpx, encoding="unicode")


# --------------------------------------------------------------------------- map


def _svg_map(route: Route, backdrop: np.ndarray | None) -> str:
    """An inline SVG of the walk: start, numbered stops, end, straight legs, scale bar."""
    lats = [route.start[0], *[s.latitude for s in route.stops], route.end[0]]
    lons = [route.start[1], *[s.longitude for s in route.stops], route.end[1]]
    e, n = crs.to_bng(lons, lats)
    span = max(e.max() - e.min(), (n.max() - n.min()) * _W / _H, 200.0)
    scale = (_W - 2 * _PAD) / span
    cx, cy = (e.max() + e.min()) / 2, (n.max() + n.min()) / 2

    def xy(ee: np.ndarray, nn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _W / 2 + (ee - cx) * scale, _H / 2 - (nn - cy) * scale

    x, y = xy(e, n)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" class="map" '
        'role="img" aria-label="Map of the walking route">',
        f'<rect width="{_W}" height="{_H}" fill="#f4f4f1" stroke="#999"/>',
    ]
    if backdrop is not None and len(backdrop):
        bx1, by1 = xy(backdrop[:, 0], backdrop[:, 1])
        bx2, by2 = xy(backdrop[:, 2], backdrop[:, 3])
        out.append('<g stroke="#c9c9c2" stroke-width="1.5">')
        out += [
            f'<line x1="{a:.1f}" y1="{b:.1f}" x2="{c:.1f}" y2="{d:.1f}"/>'
            for a, b, c, d in zip(bx1, by1, bx2, by2, strict=True)
        ]
        out.append("</g>")
    pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y, strict=True))
    out.append(
        f'<polyline points="{pts}" fill="none" stroke="#1f4e9a" stroke-width="2.5" '
        'stroke-dasharray="7 4"/>'
    )
    out.append(
        f'<rect x="{x[0] - 9:.1f}" y="{y[0] - 9:.1f}" width="18" height="18" fill="#222"/>'
        f'<text x="{x[0]:.1f}" y="{y[0] + 4:.1f}" class="lbl" fill="#fff">S</text>'
    )
    if np.hypot(x[-1] - x[0], y[-1] - y[0]) > 1:
        out.append(
            f'<rect x="{x[-1] - 9:.1f}" y="{y[-1] - 9:.1f}" width="18" height="18" fill="#555"/>'
            f'<text x="{x[-1]:.1f}" y="{y[-1] + 4:.1f}" class="lbl" fill="#fff">E</text>'
        )
    for s, a, b in zip(route.stops, x[1:-1], y[1:-1], strict=True):
        fill = "#b3261e" if s.must_visit else "#1f4e9a"
        out.append(
            f'<circle cx="{a:.1f}" cy="{b:.1f}" r="11" fill="{fill}" stroke="#fff"/>'
            f'<text x="{a:.1f}" y="{b + 4:.1f}" class="lbl" fill="#fff">{s.order}</text>'
        )
    bar_m = next(v for v in (50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000) if v * scale > 60)
    bx = _PAD
    by = _H - 14
    out.append(
        f'<line x1="{bx}" y1="{by}" x2="{bx + bar_m * scale:.1f}" y2="{by}" stroke="#000" '
        'stroke-width="3"/>'
        f'<text x="{bx + bar_m * scale / 2:.1f}" y="{by - 6}" class="small">'
        f"{bar_m if bar_m < 1000 else bar_m // 1000} {'m' if bar_m < 1000 else 'km'}</text>"
        f'<text x="{_W - 18}" y="26" class="lbl">N</text>'
        f'<path d="M {_W - 18} 30 l -6 14 l 6 -4 l 6 4 z" fill="#000"/>'
    )
    out.append("</svg>")
    return "\n".join(out)


_CSS = """
@page { size: A4; margin: 12mm; }
body { font: 10.5pt/1.35 "DejaVu Sans", Arial, sans-serif; color: #111; margin: 0; }
h1 { font-size: 15pt; margin: 0 0 2mm; } h2 { font-size: 11.5pt; margin: 5mm 0 2mm; }
.marking { font-weight: bold; letter-spacing: .05em; border: 1px solid #000; padding: 1mm 2mm;
  display: inline-block; margin-bottom: 2mm; }
.summary { margin: 0 0 3mm; } .map { width: 100%; max-height: 110mm; }
.lbl { font: bold 11px sans-serif; text-anchor: middle; } .small { font: 10px sans-serif;
  text-anchor: middle; }
table { border-collapse: collapse; width: 100%; } th, td { border: 1px solid #888;
  padding: 1.2mm 1.5mm; vertical-align: top; text-align: left; }
th { background: #e8e8e8; } tr { page-break-inside: avoid; }
td.n { text-align: right; white-space: nowrap; } .must { color: #b3261e; font-weight: bold; }
.tick { width: 14mm; } .muted { color: #555; font-size: 9pt; }
@media print { .noprint { display: none; } }
"""


def route_sheet_html(
    route: Route,
    *,
    title: str = "Visit route",
    start_name: str = "Start",
    generated_at: datetime | None = None,
    backdrop: np.ndarray | None = None,
    marking: str = "OFFICIAL-SENSITIVE",
) -> str:
    """A self-contained, printable A4 route sheet.

    Parameters
    ----------
    route : Route
    title : str
        E.g. "Barrow-in-Furness, Monday 23 November 2026".
    start_name : str
        Where the walk starts (e.g. the area's base point name).
    generated_at : datetime, optional
    backdrop : numpy.ndarray, optional
        Street lines to draw under the route, ``(k, 4)`` BNG ``e1, n1, e2, n2``
        (see :meth:`clic_geo.geo.network.WalkNetwork.edge_lines`).
    marking : str
        Protective marking printed at the top and bottom.
    """
    generated_at = generated_at or datetime.now()
    r = route
    bring = Counter(item.strip() for s in r.stops for item in s.bring.split(",") if item.strip())
    rows = []
    for s in r.stops:
        window = ""
        if s.window_start or s.window_end:
            a = s.window_start.strftime("%H:%M") if s.window_start else ""
            b = s.window_end.strftime("%H:%M") if s.window_end else ""
            window = f"<br><span class='muted'>window {escape(a)}–{escape(b)}</span>"
        wait = f" (wait {s.wait_minutes:.0f} min)" if s.wait_minutes >= 1 else ""
        rows.append(
            "<tr>"
            f"<td class='n'>{s.order}</td>"
            f"<td class='n'>{s.arrive_at:%H:%M}{escape(wait)}{window}</td>"
            f"<td>{escape(_KIND.get(s.kind, s.kind or 'Stop'))}"
            + (" <span class='must'>must visit</span>" if s.must_visit else "")
            + f"<br><b>{escape(s.label or s.id)}</b></td>"
            f"<td>{escape(s.reasons)}</td>"
            f"<td>{escape(s.bring)}</td>"
            f"<td class='n'>{s.leg_walk_m:,.0f} m<br>{s.leg_walk_minutes:.0f} min</td>"
            f"<td class='n'>{s.visit_minutes:.0f} min</td>"
            "<td class='tick'></td></tr>"
        )
    dropped = "".join(
        f"<li>{escape(d.label or d.id)}: {escape(d.reason)}</li>" for d in r.dropped[:15]
    )
    more = len(r.dropped) - 15
    notes = "".join(f"<li>{escape(x)}</li>" for x in r.notes)
    attribution = (
        " Street data © OpenStreetMap contributors." if "network" in r.distance_method else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(title)}</title><style>{_CSS}</style></head>
<body>
<div class="marking">{escape(marking)}</div>
<h1>{escape(title)}</h1>
<p class="summary">Start {escape(start_name)} at {r.start_at:%H:%M}, back by
{r.finish_at:%H:%M} ({r.total_minutes:.0f} of {r.minutes_available:.0f} minutes).
{len(r.stops)} stops; walking {r.total_walk_m / 1000:.1f} km ({r.total_walk_minutes:.0f} min at
{r.walk_speed_kmh:g} km/h), visits {r.total_visit_minutes:.0f} min. Return walk
{r.return_walk_m:,.0f} m.</p>
{_svg_map(r, backdrop)}
<p class="muted">Lines join the stops in order as the crow flies; follow the streets.
Distances: {escape(r.distance_method)}.{attribution}</p>
<h2>What to bring</h2>
<p>{escape(", ".join(f"{k} ({v})" for k, v in bring.most_common())) or "Nothing listed."}</p>
<h2>Stops</h2>
<table><thead><tr><th>#</th><th>Arrive</th><th>Stop</th><th>Why</th><th>Bring</th>
<th>Walk</th><th>Visit</th><th>Done</th></tr></thead>
<tbody>{"".join(rows) or "<tr><td colspan='8'>No stops.</td></tr>"}</tbody></table>
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
<h2>Left out ({len(r.dropped)})</h2>
<ul class="muted">{dropped}{f"<li>… and {more} more</li>" if more > 0 else ""}</ul>
<p class="muted">Generated {generated_at:%Y-%m-%d %H:%M} by clic-geo. Record each visit's
outcome afterwards: it feeds the next day's priorities.</p>
<div class="marking">{escape(marking)}</div>
</body></html>
"""
