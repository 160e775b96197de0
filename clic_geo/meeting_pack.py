"""The meeting pack: one self-contained HTML file for a partnership meeting.

One call, :func:`build_meeting_pack`, writes everything a meeting needs about one
operating area and a run of months into a single HTML page that opens on a laptop
with no network: charts and the map are inline SVG, the style is inline, and the page
carries no script at all (its Content-Security-Policy forbids scripts and any
resource from elsewhere).

Two audiences, two paths:

- **Officers and admins** get the officer view: incidents per month by category,
  the hotspots of the period by trend category (outlines on the map), the
  partnership's figures (:func:`clic_geo.figures.period_figures`) and a before/after
  comparison. Hotspots are described by rank, trend, size and count; no incident,
  address or visit is listed.
- **Partners** (or an officer previewing an organisation's view) get exactly what
  the partner page shows, from the same functions: :func:`clic_geo.privacy.partner_area_table`
  and :func:`clic_geo.privacy.partner_grid` (counts only, inside the organisation's
  ISA scope, small numbers suppressed). Everything in a partner pack, including the
  before/after comparison, is computed from those published figures alone, so the
  pack says nothing the partner page does not. Hotspot outlines are not shared
  with partners (the partner page does not show them); the 250 m squares are.

Every export is written to the audit log (who, area, months, audience; never a value).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from clic_geo._errors import ConfigError
from clic_geo.areas import Area, load_areas
from clic_geo.audit import Action, record
from clic_geo.auth import Role, Session, User, require_role, validate_session
from clic_geo.current import TREND_MEANING, current_hotspots
from clic_geo.figures import before_after, monthly_counts, period_figures
from clic_geo.isa import LAYER_LABELS, POINT_LAYERS, Layer, get_isa_scope
from clic_geo.mapping import CATEGORY_COLOURS
from clic_geo.privacy import partner_area_table, partner_grid
from clic_geo.schema import CATEGORY_LABELS, TREND_LABELS, Col, Trend
from clic_geo.settings import Settings
from clic_geo.store import Store
from clic_geo.trends import month_range

__all__ = ["TREND_COLOURS", "MeetingPackRequest", "build_meeting_pack"]

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

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;margin:1.5rem auto;
max-width:60rem;color:#222;line-height:1.4;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid #ccc;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#555;font-size:.9rem}.marking{font-weight:bold;letter-spacing:.05em}
.legend span{display:inline-block;margin-right:1rem;font-size:.85rem}
.legend i{display:inline-block;width:.9rem;height:.9rem;margin-right:.3rem;
vertical-align:middle;border:1px solid #666}
svg{max-width:100%;height:auto}
@media print{h2{page-break-before:auto}svg{page-break-inside:avoid}}
"""


@dataclass(frozen=True)
class MeetingPackRequest:
    """What a pack covers, after checking (months inclusive, ``since`` optional)."""

    area: str
    first_month: str
    last_month: str
    since: date | None
    organisation: str | None

    @property
    def start(self) -> date:
        return pd.Period(self.first_month, "M").start_time.date()

    @property
    def end(self) -> date:
        return pd.Period(self.last_month, "M").end_time.date()


# ------------------------------------------------------------------ small HTML helpers


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


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

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        return (
            self.pad + (lon - self.minx) * self.k * self.scale,
            self.pad + (self.maxy - lat) * self.scale,
        )


def _map_svg(
    area: Area,
    shapes: Sequence[tuple[BaseGeometry, str, str, str | None]],
    *,
    title: str,
) -> str:
    """The area outline and ``(polygon, fill, tooltip, label)`` shapes; no tiles."""
    outline = area.geometry.simplify(0.0002, preserve_topology=True)
    proj = _Projection(outline.bounds)
    out = [
        f'<svg viewBox="0 0 {proj.width} {proj.height}" '
        f'width="{proj.width}" height="{proj.height}" role="img" aria-label="{_e(title)}">',
        f"<title>{_e(title)}</title>",
        f'<rect width="{proj.width}" height="{proj.height}" fill="#f4f4f0"/>',
        f'<path d="{proj.path(outline)}" fill="#ffffff" stroke="#000" stroke-width="1.5" '
        f'fill-rule="evenodd"><title>{_e(area.name)}</title></path>',
    ]
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
    out.append("</svg>")
    return "".join(out)


# ------------------------------------------------------------------ the request


def _month(value: str | date, what: str) -> str:
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}", value.strip()):
        raise ConfigError(f"{what}: expected a month YYYY-MM, got {value[:20]!r}")
    try:
        return str(pd.Period(value, freq="M"))
    except (ValueError, TypeError):
        raise ConfigError(f"{what}: expected a month YYYY-MM, got {str(value)[:20]!r}") from None


def _request(
    area: str, start: str | date, end: str | date, since: date | None, organisation: str | None
) -> MeetingPackRequest:
    first, last = _month(start, "start"), _month(end, "end")
    if last < first:
        raise ConfigError(f"the period ends ({last}) before it starts ({first})")
    return MeetingPackRequest(area, first, last, since, organisation)


# ------------------------------------------------------------------ the two views


def _officer_body(
    store: Store, settings: Settings, area: Area, req: MeetingPackRequest, *, n_simulations: int
) -> str:
    inc_all = store.incidents(area=area.id)
    inc_all = pd.DataFrame(inc_all.drop(columns="geometry"))
    months = month_range(req.first_month, req.last_month)
    inc = inc_all[inc_all[Col.MONTH].isin(months)]
    monthly = monthly_counts(inc, months=months)
    wide = (
        monthly.pivot_table(index="month", columns=Col.CATEGORY, values="n", aggfunc="sum")
        .reindex(months)
        .fillna(0)
    )
    cats = [k for k in CATEGORY_COLOURS if k in wide.columns] + [
        k for k in wide.columns if k not in CATEGORY_COLOURS
    ]
    parts = ["<h2>Incidents per month, by category</h2>"]
    if inc.empty:
        parts.append('<p class="note">No incidents were recorded in this area in the period.</p>')
    else:
        series = {k: wide[k].to_numpy() for k in cats}
        parts.append(
            _bar_chart(
                months,
                series,
                CATEGORY_COLOURS,
                CATEGORY_LABELS,
                title=f"Incidents per month by category, {area.name}",
            )
        )
        parts.append(
            _legend((CATEGORY_COLOURS.get(k, "#777"), CATEGORY_LABELS.get(k, k)) for k in cats)
        )
        parts.append(
            _table(
                ["Month", *[CATEGORY_LABELS.get(k, k) for k in cats], "All"],
                (
                    [m, *[int(wide.at[m, k]) for k in cats], int(wide.loc[m, cats].sum())]
                    for m in months
                ),
            )
        )

    # hotspots of the period, with their trend over the 12 months to its end
    cur = current_hotspots(
        inc_all,
        start=req.start,
        end=req.end,
        area_km2={area.id: area.area_km2},
        n_simulations=n_simulations,
    )
    hs = cur.hotspots
    parts.append("<h2>Hotspots by trend category</h2>")
    if hs.empty:
        parts.append('<p class="note">No hotspot stood out in this period.</p>')
    else:
        by_trend = hs[Col.TREND].value_counts()
        parts.append(
            _table(
                ["Trend", "What it means", "Hotspots"],
                (
                    [TREND_LABELS[Trend(t)], TREND_MEANING.get(t, ""), int(by_trend[t])]
                    for t in Trend
                    if t in by_trend.index
                ),
                numeric_from=2,
            )
        )
        shapes = [
            (
                row.geometry,
                TREND_COLOURS.get(row[Col.TREND], "#999"),
                f"#{int(row[Col.RANK])}: {row['trend_label']}, {int(row['n_incidents'])} incidents",
                f"#{int(row[Col.RANK])}",
            )
            for _, row in hs.iterrows()
        ]
        parts.append("<h3>Map: hotspot outlines by trend</h3>")
        parts.append(_map_svg(area, shapes, title=f"Hotspots in {area.name}"))
        present = [t for t in Trend if t in by_trend.index]
        parts.append(_legend((TREND_COLOURS[t], TREND_LABELS[t]) for t in present))
        parts.append(
            _table(
                ["Rank", "Trend", "Incidents in the period", "Hectares", "Last 12 months"],
                (
                    [
                        f"#{int(r[Col.RANK])}",
                        r["trend_label"],
                        int(r["n_incidents"]),
                        f"{float(r['area_km2']) * 100:.1f}",
                        str(r["history"]).replace(",", " "),
                    ]
                    for _, r in hs.iterrows()
                ),
                numeric_from=2,
            )
        )

    fig = period_figures(
        start=req.start,
        end=req.end,
        area=area.id,
        incidents=inc_all,
        visits=pd.DataFrame(store.visits(area=area.id).drop(columns="geometry")),
        addresses=pd.DataFrame(store.addresses(area=area.id).drop(columns="geometry")),
        status_history=store.address_status_history(),
        hardening=store.hardening(),
        lines=store.county_lines(),
    )
    parts.append(
        f"<h2>The partnership's figures, {_e(f'{req.start:%d %b %Y}')} to "
        f"{_e(f'{req.end:%d %b %Y}')}</h2>"
    )
    parts.append(_table(["Section", "Figure", "Value"], fig.as_rows(), numeric_from=2))

    if req.since is not None:
        split = req.since.strftime("%Y-%m")
        span = store.month_span()
        all_months = month_range(*span) if span else months
        ba = before_after(monthly_counts(inc_all, months=all_months), split)
        parts.append(f"<h2>Before and after {_e(f'{req.since:%d %b %Y}')}</h2>")
        parts.append(
            f'<p class="note">Incidents per month in the {ba.months_before} months before and '
            f"the {ba.months_after} months from {_e(split)} (at most 12 each side).</p>"
        )
        parts.append(
            _table(
                ["Category", "Per month before", "Per month after", "Change %"],
                (
                    [
                        CATEGORY_LABELS.get(r[Col.CATEGORY], r[Col.CATEGORY]),
                        r["before_per_month"],
                        r["after_per_month"],
                        "n/a" if pd.isna(r["change_pct"]) else r["change_pct"],
                    ]
                    for _, r in ba.table.iterrows()
                ),
            )
        )
    return "".join(parts)


def _partner_body(
    store: Store,
    session: Session | Literal["cli"],
    settings: Settings,
    area: Area,
    req: MeetingPackRequest,
    *,
    today: date | None,
    now: datetime | None,
) -> tuple[str, str]:
    """The partner view; returns ``(body, scope reference)``. Only published figures."""
    years = list(range(int(req.first_month[:4]), int(req.last_month[:4]) + 1))
    if req.since is not None:
        years = sorted(set(years) | {req.since.year - 1, req.since.year, req.since.year + 1})
    table = partner_area_table(
        store,
        session,
        settings=settings,
        areas=[area.id],
        years=years,
        organisation=req.organisation,
        today=today,
        now=now,
    )
    scope = table.scope
    t = table.threshold
    frame = table.frame
    layers = [str(x) for x in scope.layers]
    months = month_range(req.first_month, req.last_month)
    mrows = frame[(frame["period_type"] == "month") & frame["period"].isin(months)]
    shown_months = sorted(mrows["period"].unique())
    parts = [
        '<p class="note">Counts only, under the information sharing agreement. Small numbers '
        f'are shown as "fewer than {t}" and some others are withheld so that they cannot be '
        f"worked out; shown counts are rounded to the nearest {table.round_to}. Months appear "
        "once they are complete.</p>"
    ]
    parts.append("<h2>Counts per month</h2>")
    if not shown_months:
        parts.append('<p class="note">No complete month of the period is covered yet.</p>')
    for layer in layers:
        lr = mrows[mrows["layer"] == layer].set_index("period").reindex(shown_months)
        if lr.empty:
            continue
        counts = lr["count"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        hidden = [s != "shown" for s in lr["status"].fillna("")]
        name = LAYER_LABELS.get(layer, layer)
        parts.append(f"<h3>{_e(name)}</h3>")
        if all(hidden):
            parts.append(
                f'<p class="note">Every month: fewer than {t}, or withheld (no chart).</p>'
            )
            continue
        parts.append(
            _bar_chart(
                shown_months,
                {layer: counts},
                {layer: "#21918c"},
                {layer: name},
                title=f"{name} per month, {area.name}",
                hidden=hidden,
                hidden_text=f"fewer than {t}, or withheld",
            )
        )
    if shown_months:
        wide = (
            mrows.pivot_table(index="period", columns="layer", values="label", aggfunc="first")
            .reindex(index=shown_months)
            .reindex(columns=layers)
        )
        parts.append(
            _legend([("#21918c", "Count shown"), (HIDDEN, f"Fewer than {t}, or withheld")])
        )
        parts.append(
            _table(
                ["Month", *[LAYER_LABELS.get(x, x) for x in layers]],
                ([m, *["" if pd.isna(v) else v for v in wide.loc[m]]] for m in shown_months),
            )
        )

    # the partnership's figures: the published quarters and years inside the period
    long = frame[
        frame["period_type"].isin(["quarter", "year"])
        & frame["period"].map(lambda p: _inside(p, req))
    ]
    parts.append(
        f"<h2>The partnership's figures, {_e(f'{req.start:%d %b %Y}')} to "
        f"{_e(f'{req.end:%d %b %Y}')}</h2>"
    )
    if long.empty:
        parts.append('<p class="note">No complete quarter lies inside the period.</p>')
    else:
        periods = list(dict.fromkeys(long.sort_values(["period_type", "period"])["period"]))
        wide = long.pivot_table(
            index="layer", columns="period", values="label", aggfunc="first"
        ).reindex(index=layers, columns=periods)
        parts.append(
            _table(
                ["Figure", *periods],
                (
                    [LAYER_LABELS.get(x, x), *["" if pd.isna(v) else v for v in wide.loc[x]]]
                    for x in layers
                ),
            )
        )

    if req.since is not None:
        parts.append(_partner_before_after(frame, layers, req.since, t))

    # where: the 250 m squares of the last complete quarter of the period
    parts.append("<h2>Where: counts on 250 m squares</h2>")
    quarters = sorted(
        frame[(frame["period_type"] == "quarter") & frame["period"].map(lambda p: _inside(p, req))][
            "period"
        ].unique()
    )
    grid_layer = next((x for x in layers if Layer(x) in POINT_LAYERS), None)
    if not quarters or grid_layer is None:
        parts.append(
            '<p class="note">No complete quarter of a located figure lies inside the '
            "period, so there is no map.</p>"
        )
    else:
        quarter = quarters[-1]
        g = partner_grid(
            store,
            session,
            grid_layer,
            quarter,
            settings=settings,
            areas=[area.id],
            organisation=req.organisation,
            today=today,
            now=now,
        )
        cells = g.cells
        shown = cells[cells["status"] == "shown"]
        edges = (
            np.unique(np.quantile(shown["count"].astype(float), [0.2, 0.4, 0.6, 0.8]))
            if len(shown)
            else np.array([])
        )
        shapes = []
        for _, c in cells.iterrows():
            if c["status"] == "shown":
                band = int(np.searchsorted(edges, float(c["count"])))
                fill = STEPS[min(band, len(STEPS) - 1)]
            else:
                fill = HIDDEN
            shapes.append((c.geometry, fill, f"{c['cell_id']}: {c['label']}", None))
        name = LAYER_LABELS.get(grid_layer, grid_layer)
        parts.append(
            f'<p class="note">{_e(name)}, {_e(quarter)}. Grey squares: fewer than {t}, or '
            "withheld. Hotspot outlines are not shared with partners.</p>"
        )
        parts.append(_map_svg(area, shapes, title=f"{name} on 250 m squares, {quarter}"))
        parts.append(
            _legend(
                [
                    (HIDDEN, f"Fewer than {t}, or withheld"),
                    (STEPS[0], "Fewest shown"),
                    (STEPS[-1], "Most shown"),
                ]
            )
        )
    return "".join(parts), scope.reference


def _inside(period: str, req: MeetingPackRequest) -> bool:
    p = pd.Period(period, "Q" if "Q" in period else ("Y" if len(period) == 4 else "M"))
    return p.start_time.date() >= req.start and p.end_time.date() <= req.end


def _partner_before_after(frame: pd.DataFrame, layers: Sequence[str], since: date, t: int) -> str:
    """Monthly means before and after ``since`` from published month counts only."""
    split = since.strftime("%Y-%m")
    months = frame[frame["period_type"] == "month"]
    out = [f"<h2>Before and after {_e(f'{since:%d %b %Y}')}</h2>"]
    rows = []
    for layer in layers:
        lr = months[months["layer"] == layer].sort_values("period")
        before = lr[lr["period"] < split].tail(12)
        after = lr[lr["period"] >= split].head(12)
        if before.empty or after.empty:
            rows.append([LAYER_LABELS.get(layer, layer), "", "", "not enough months"])
            continue
        if (before["status"] != "shown").any() or (after["status"] != "shown").any():
            rows.append(
                [
                    LAYER_LABELS.get(layer, layer),
                    "",
                    "",
                    f"not shown: some months are fewer than {t} or withheld",
                ]
            )
            continue
        b = float(before["count"].astype(float).mean())
        a = float(after["count"].astype(float).mean())
        change = f"{(a - b) / b * 100:.1f}" if b > 0 else "n/a"
        rows.append(
            [
                LAYER_LABELS.get(layer, layer),
                f"{b:.1f} ({len(before)} months)",
                f"{a:.1f} ({len(after)} months)",
                change,
            ]
        )
    out.append(
        '<p class="note">From the published (rounded) month counts only, at most 12 months '
        "each side.</p>"
    )
    out.append(_table(["Figure", "Per month before", "Per month after", "Change %"], rows))
    return "".join(out)


# ------------------------------------------------------------------ the pack


def _audience(
    store: Store, session: Session | Literal["cli"], organisation: str | None, now: datetime | None
) -> tuple[User | str, bool]:
    """(who asks, partner view?) A partner always gets the partner view."""
    if session == "cli":
        return "cli", organisation is not None
    if not isinstance(session, Session):
        raise ConfigError("build_meeting_pack needs a session or 'cli'")
    user = validate_session(store, session, now=now)
    if user.role == Role.PARTNER:
        return user, True
    if organisation is None:
        require_role(store, user, Role.OFFICER, Role.ADMIN, action=Action.EXPORT, now=now)
    return user, organisation is not None


def build_meeting_pack(
    store: Store,
    session: Session | Literal["cli"],
    *,
    settings: Settings,
    area: str,
    start: str | date,
    end: str | date,
    since: date | None = None,
    organisation: str | None = None,
    today: date | None = None,
    now: datetime | None = None,
    n_simulations: int = 99,
) -> str:
    """One self-contained HTML page for a partnership meeting about one area.

    Parameters
    ----------
    store : Store
        The store.
    session : Session or "cli"
        Who asks. A partner's session always gets the partner view of their own
        organisation. An officer's or admin's gets the officer view, or with
        ``organisation`` exactly that organisation's partner view. ``"cli"`` is the
        command line (the machine's operator), treated as an officer.
    settings : Settings
        The installation's settings (areas, suppression threshold).
    area : str
        Operating area id.
    start, end : str or date
        First and last month (``"2026-01"``), inclusive.
    since : date, optional
        Compare the months before this date with those from it on.
    organisation : str, optional
        A partner organisation whose view to build (its ISA scope applies).
    today : date, optional
        For the partner figures: months count once complete before this date's month.
    n_simulations : int
        Monte Carlo runs for the hotspots' significance (officer view).

    Returns
    -------
    str
        The HTML page (UTF-8 text): no script, no external resource.

    Raises
    ------
    PermissionDeniedError
        An area outside the partner's scope, another organisation's view, or a role
        that may not export.
    ConfigError, NotFoundError
        Malformed months, an unknown area or organisation.
    """
    req = _request(area, start, end, since, organisation)
    who, partner = _audience(store, session, organisation, now)
    if partner and who == "cli" and get_isa_scope(store, organisation or "") is None:
        raise ConfigError(f"organisation {organisation!r} has no ISA scope")
    areas = load_areas(settings.areas_dir)
    if partner:
        # the privacy layer checks the area against the scope first (refusing and
        # logging anything outside it), before the area's outline is looked up
        a = areas.get(area) if area in areas else None
        if a is None:
            partner_area_table(
                store,
                session,
                settings=settings,
                areas=[area],
                organisation=req.organisation,
                today=today,
                now=now,
            )
            a = areas.get(area)
        body, reference = _partner_body(store, session, settings, a, req, today=today, now=now)
        org_name = (
            who.organisation_name
            if isinstance(who, User) and who.role == Role.PARTNER
            else req.organisation
        )
        heading = f"Partnership figures for {org_name}"
        marking = f"Shared under {reference}. Counts only."
    else:
        a = areas.get(area)
        body = _officer_body(store, settings, a, req, n_simulations=n_simulations)
        heading = "1-CLIC partnership meeting pack"
        marking = "OFFICIAL-SENSITIVE. For the partnership meeting; do not forward."
    period = f"{req.start:%d %b %Y} to {req.end:%d %b %Y}"
    made = (now or datetime.now()).strftime("%d %b %Y %H:%M")
    demo = store.get_meta("demo_today") is not None
    page = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{_e(a.name)}: meeting pack, {_e(period)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f'<p class="marking">{_e(marking)}</p>',
        f"<h1>{_e(heading)}: {_e(a.name)}</h1>",
        f'<p class="note">{_e(period)}. Made {_e(made)} by clic-geo.</p>',
    ]
    if demo:
        page.append(
            '<p class="note"><strong>Demo data.</strong> Every incident, address and visit '
            "behind these figures is fictional.</p>"
        )
    page += [body, "</body></html>"]
    record(
        store,
        Action.EXPORT,
        actor=who,
        area_id=a.id,
        subject="meeting_pack",
        detail={
            "format": "html",
            "from": req.first_month,
            "to": req.last_month,
            "organisation": (
                who.organisation_id
                if isinstance(who, User) and who.role == Role.PARTNER
                else req.organisation
            ),
            "kind": "partner" if partner else "officer",
        },
        now=now,
    )
    return "\n".join(page)
