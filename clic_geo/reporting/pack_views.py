"""What a meeting pack is asked for, and its two bodies: the officer view and a partner's.

The partner view is built only from what :mod:`clic_geo.access.privacy` returns for the
partner's organisation (aggregates, suppressed and rounded), never from records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import numpy as np
import pandas as pd

from clic_geo._errors import ConfigError
from clic_geo.access.identity import Session
from clic_geo.access.isa import LAYER_LABELS, POINT_LAYERS, Layer
from clic_geo.access.partner_evaluation import EVALUATION_LAYERS, evaluation_dates
from clic_geo.access.privacy import partner_area_table, partner_grid
from clic_geo.geo.areas import Area
from clic_geo.hotspots.current import TREND_MEANING, current_hotspots
from clic_geo.hotspots.trends import month_range
from clic_geo.reporting.evaluation_service import (
    evaluate_area,
    force_incidents,
    last_complete_month,
    partner_evaluation,
)
from clic_geo.reporting.evaluation_views import officer_evaluation_html, partner_evaluation_html
from clic_geo.reporting.figures import before_after, monthly_counts, period_figures
from clic_geo.reporting.maps import CATEGORY_COLOURS
from clic_geo.reporting.svg import (
    HIDDEN,
    STEPS,
    TREND_COLOURS,
    _bar_chart,
    _e,
    _legend,
    _map_svg,
    _table,
)
from clic_geo.schema import (
    CATEGORY_LABELS,
    COUNTY_LINES_CATEGORIES,
    TREND_LABELS,
    Col,
    Trend,
)
from clic_geo.settings import Settings
from clic_geo.store import Store

__all__ = ["MeetingPackRequest"]


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
        parts.append(
            _map_svg(area, shapes, title=f"Hotspots in {area.name}", base=store.base_features())
        )
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
        parts.append(_officer_evaluation(store, settings, area, req))
        split = req.since.strftime("%Y-%m")
        span = store.month_span()
        all_months = month_range(*span) if span else months
        ba = before_after(monthly_counts(inc_all, months=all_months), split)
        parts.append(f"<h2>Before and after {_e(f'{req.since:%d %b %Y}')}, by category</h2>")
        parts.append(
            f'<p class="note">Incidents per month in the {ba.months_before} months before and '
            f"the {ba.months_after} months from {_e(split)} (at most 12 each side), across the "
            "whole area. Descriptive only: the same place before and after, with no comparison "
            "area (see the evaluation above for what the partnership changed).</p>"
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
        parts.append(
            _partner_evaluation(store, session, settings, area, req, layers, today=today, now=now)
        )
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
        parts.append(
            _map_svg(
                area,
                shapes,
                title=f"{name} on 250 m squares, {quarter}",
                base=store.base_features(),
            )
        )
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
    out = [f"<h2>Before and after {_e(f'{since:%d %b %Y}')}, by figure</h2>"]
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
        "each side. Descriptive only: the same place before and after, with no comparison "
        "area.</p>"
    )
    out.append(_table(["Figure", "Per month before", "Per month after", "Change %"], rows))
    return "".join(out)


# ------------------------------------------------------------------ the evaluation


def _officer_evaluation(
    store: Store, settings: Settings, area: Area, req: MeetingPackRequest
) -> str:
    """Did it work? The area's hotspots at the date against the rest of the force area."""
    assert req.since is not None
    since = f"{req.since:%d %b %Y}"
    head = f"<h2>Did it work? The evaluation from {_e(since)}</h2>"
    what = (
        "county-lines crimes ("
        + ", ".join(CATEGORY_LABELS.get(c, c).lower() for c in COUNTY_LINES_CATEGORIES)
        + ")"
    )
    try:
        ev, zones = evaluate_area(
            force_incidents(store),
            settings=settings,
            area=area.id,
            since=req.since,
            categories=COUNTY_LINES_CATEGORIES,
            last_month=last_complete_month(store),
        )
    except ConfigError as exc:
        return head + f'<p class="note">No evaluation: {_e(exc)}.</p>'
    return head + officer_evaluation_html(
        ev, zones, area_name=area.name, what=what, since_label=f"from {since}"
    )


def _partner_evaluation(
    store: Store,
    session: Session | Literal["cli"],
    settings: Settings,
    area: Area,
    req: MeetingPackRequest,
    layers: Sequence[str],
    *,
    today: date | None,
    now: datetime | None,
) -> str:
    """The evaluation of the first incident figure of the agreement, as published."""
    assert req.since is not None
    since = f"{req.since:%d %b %Y}"
    head = f"<h2>Did it work? The evaluation from {_e(since)}</h2>"
    layer = next((x for x in EVALUATION_LAYERS if str(x) in layers), None)
    if layer is None:
        return head + (
            '<p class="note">The agreement covers no incident figure, so there is no '
            "evaluation of crime in the hotspots.</p>"
        )
    shared = evaluation_dates(store, settings=settings, area=area.id)
    if req.since not in shared:
        dates = ", ".join(f"{d:%d %b %Y}" for d in shared) or "none yet"
        return head + (
            f'<p class="note">No evaluation from {_e(since)} has been shared with partners '
            f"for this area (shared: {_e(dates)}).</p>"
        )
    pub = partner_evaluation(
        store,
        session,
        settings=settings,
        area=area.id,
        layer=str(layer),
        since=req.since,
        organisation=req.organisation,
        today=today,
        now=now,
    )
    what = LAYER_LABELS.get(str(layer), str(layer))
    return head + partner_evaluation_html(pub, what=what, since_label=f"from {since}")
