"""The impact evaluation drawn for people: an index chart, tables and words (HTML/SVG).

Used by the meeting pack (officer and partner views) and, for the chart's data, by
the pages. Everything is escaped; no script, nothing fetched.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from clic_geo.access.partner_evaluation import PartnerEvaluation
from clic_geo.hotspots.evaluation import EvaluationZones
from clic_geo.hotspots.impact import (
    REASONS,
    Evaluation,
    cannot_tell_text,
    displacement_meaning,
    format_p,
    verdict_text,
)
from clic_geo.reporting.svg import _e, _fmt, _legend, _nice_step, _table

__all__ = [
    "COMPARISON_COLOUR",
    "HOW_TO_READ",
    "TREATED_COLOUR",
    "index_chart_svg",
    "officer_evaluation_html",
    "officer_index_frame",
    "partner_evaluation_html",
    "partner_verdict",
]

#: Okabe-Ito vermillion and blue: the treated zones and the comparison area.
TREATED_COLOUR = "#D55E00"
COMPARISON_COLOUR = "#0072B2"

HOW_TO_READ = (
    "How to read this: the chart puts both places on the same scale, 100 = their own "
    "average month before the date. Before the date the two lines should move together "
    "(the comparison stands in for what would have happened anyway: the force-wide "
    "trend, the seasons); after it, a treated line below the comparison's is the "
    "partnership's effect. The percentage is that gap over the months after the date, "
    "from a Poisson regression with month effects; the 95 % interval is the range the "
    "data cannot rule out, and when it includes 0 the change may be chance. The naive "
    "figure compares the same place before and after with nothing else, as the old "
    "table did: it mixes the partnership's effect with the trend and with the fall "
    "that follows choosing places because they were busy. The displacement quotient "
    "compares the ring round the treated zones with the comparison area: below 0, "
    "crime moved round the corner; above 0, the benefit spread."
)


def _pct(x: float | None) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:+.0f} %".replace("-", "−")


def officer_index_frame(ev: Evaluation) -> pd.DataFrame:
    """``month, after, place, index, count``: each place's months as % of its mean before."""
    m = ev.monthly
    rows = []
    for place, col in (("Treated zones", "treated"), ("Comparison area", "comparison")):
        before = m.loc[~m["after"], col]
        base = float(before.mean()) if len(before) else math.nan
        for r in m.itertuples():
            v = getattr(r, col)
            idx = round(v / base * 100, 1) if base > 0 else math.nan
            rows.append((r.month, bool(r.after), place, idx, int(v)))
    return pd.DataFrame(rows, columns=["month", "after", "place", "index", "count"])


def index_chart_svg(
    months: Sequence[str],
    series: Mapping[str, Sequence[float]],
    colours: Mapping[str, str],
    *,
    first_after: str | None,
    since_label: str,
    title: str,
    width: int = 760,
    height: int = 260,
) -> str:
    """Lines per series over ``months`` (100 = mean before), the date marked (inline SVG).

    ``nan`` values are gaps (a month whose count is not shown). Months are evenly
    spaced in order; months with no data are not on the axis.
    """
    left, right, top, bottom = 48, 10, 14, 46
    pw, ph = width - left - right, height - top - bottom
    n = max(len(months), 1)
    vals = np.concatenate([np.asarray(v, dtype=float) for v in series.values()] or [[100.0]])
    finite = vals[np.isfinite(vals)]
    ymax = max(150.0, float(finite.max()) if len(finite) else 150.0)
    step = _nice_step(ymax)
    ymax = math.ceil(ymax / step) * step
    dx = pw / n

    def x_of(i: float) -> float:
        return left + (i + 0.5) * dx

    def y_of(v: float) -> float:
        return top + ph - ph * v / ymax

    out = [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{_e(title)}">',
        f"<title>{_e(title)}</title>",
    ]
    y = 0.0
    while y <= ymax + 1e-9:
        colour = "#999" if y == 100 else "#ddd"
        out.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{_fmt(y_of(y))}" y2="{_fmt(y_of(y))}" '
            f'stroke="{colour}"/><text x="{left - 4}" y="{_fmt(y_of(y) + 4)}" font-size="10" '
            f'text-anchor="end">{int(y)}</text>'
        )
        y += step
    every = max(1, math.ceil(n / 12))
    for i, m in enumerate(months):
        if i % every == 0:
            out.append(
                f'<text x="{_fmt(x_of(i))}" y="{top + ph + 14}" font-size="10" '
                f'text-anchor="middle">{_e(m)}</text>'
            )
    if first_after in months:
        i = list(months).index(first_after)
        xm = x_of(i - 0.5)
        out.append(
            f'<line x1="{_fmt(xm)}" x2="{_fmt(xm)}" y1="{top}" y2="{top + ph}" stroke="#222" '
            f'stroke-dasharray="5 4"/><text x="{_fmt(xm + 4)}" y="{top + 10}" font-size="11">'
            f"{_e(since_label)}</text>"
        )
    for key, values in series.items():
        v = np.asarray(values, dtype=float)
        colour = colours.get(key, "#444")
        dash = ' stroke-dasharray="7 4"' if key != next(iter(series)) else ""
        path, pen = [], "M"
        for i, val in enumerate(v):
            if not math.isfinite(val):
                pen = "M"
                continue
            path.append(f"{pen}{_fmt(x_of(i))} {_fmt(y_of(val))}")
            pen = "L"
        if path:
            out.append(
                f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="2.5"'
                f"{dash}><title>{_e(key)}</title></path>"
            )
        for i, val in enumerate(v):  # a small square per month, so single months show
            if math.isfinite(val):
                out.append(
                    f'<rect x="{_fmt(x_of(i) - 3)}" y="{_fmt(y_of(val) - 3)}" width="6" '
                    f'height="6" fill="{colour}"><title>{_e(key)}, {_e(months[i])}: '
                    f"{val:.0f}</title></rect>"
                )
    out.append(
        f'<text x="{left}" y="{height - 6}" font-size="10">Each place, % of its average '
        "month before the date</text></svg>"
    )
    return "".join(out)


def _legend_items() -> list[tuple[str, str]]:
    return [(TREATED_COLOUR, "Treated zones"), (COMPARISON_COLOUR, "Comparison area (dashed)")]


def officer_evaluation_html(
    ev: Evaluation, zones: EvaluationZones, *, area_name: str, what: str, since_label: str
) -> str:
    """The officer pack's section: verdict, numbers, chart, monthly counts, how to read."""
    d = ev.to_dict()
    parts = [
        f'<p class="note">Treated zones: {zones.n_treated} polygons, {_e(d["treated_from"])} '
        f"in {_e(area_name)} ({d['treated_km2'] * 100:.1f} hectares; those months are left "
        f"out of the comparison); buffer: the {zones.buffer_m:g} m ring round them "
        f"({d['buffer_km2'] * 100:.0f} hectares); comparison: {_e(d['comparison'])}. Crimes: "
        f"{_e(what)}. Months before: {_e(', '.join(ev.months_before) or 'none')}; from the "
        f"date: {_e(', '.join(ev.months_after) or 'none')}.</p>",
        f"<p><strong>{_e(ev.verdict)}</strong></p>",
    ]
    e = ev.estimate
    rows = [
        (
            "Change against the comparison (difference-in-differences)",
            f"{_pct(e.effect_pct)} (95 % interval {_pct(e.ci_low_pct)} to "
            f"{_pct(e.ci_high_pct)}), {format_p(e.p_value)}"
            if e
            else "the data cannot tell",
        ),
        ("Naive before/after in the same place (for contrast)", _pct(ev.naive_change_pct)),
        (
            f"Weighted displacement quotient ({zones.buffer_m:g} m buffer)",
            f"{ev.wdq:+.2f}" if math.isfinite(ev.wdq) else "n/a",
        ),
    ]
    parts.append(_table(["Measure", "Value"], rows))
    parts.append(f"<p>{_e(ev.displacement)}</p>")
    frame = officer_index_frame(ev)
    months = list(ev.monthly["month"])
    if ev.months_before and ev.months_after:
        series = {
            p: frame[frame["place"] == p]["index"].to_numpy(float)
            for p in ("Treated zones", "Comparison area")
        }
        parts.append(
            index_chart_svg(
                months,
                series,
                {"Treated zones": TREATED_COLOUR, "Comparison area": COMPARISON_COLOUR},
                first_after=ev.months_after[0] if ev.months_after else None,
                since_label=since_label,
                title=f"Treated zones and comparison area per month, {area_name}",
            )
        )
        parts.append(_legend(_legend_items()))
        body = [
            [r.month, "after" if r.after else "before", r.treated, r.buffer, r.comparison]
            for r in ev.monthly.itertuples()
        ]
        body.append(["Total", "before", ev.treated_before, ev.buffer_before, ev.comparison_before])
        body.append(["Total", "after", ev.treated_after, ev.buffer_after, ev.comparison_after])
        parts.append(
            _table(
                ["Month", "Side", "Treated zones", "Buffer", "Comparison area"],
                body,
                numeric_from=2,
            )
        )
    parts.append(f'<p class="note">{_e(HOW_TO_READ)}</p>')
    return "".join(parts)


def partner_verdict(pub: PartnerEvaluation) -> tuple[str, str]:
    """(verdict, displacement) in words, from the published numbers only."""
    if not pub.can_tell:
        reasons = [r for r in pub.reasons if r in REASONS] or ["few_treated"]
        return cannot_tell_text(reasons), "Not assessed: there is no published estimate."
    verdict = verdict_text(
        float(pub.effect_pct),
        float(pub.ci_low_pct),
        float(pub.ci_high_pct),
        float(pub.p_value if pub.p_value is not None else 1.0),
        p_floor=0.01,
    )
    if pub.wdq is None:
        if pub.buffer_shown:
            return verdict, displacement_meaning(math.nan)
        return verdict, (
            "Displacement not shown: too few crimes in the buffer round the treated zones "
            "to publish under the agreement."
        )
    return verdict, displacement_meaning(pub.wdq, buffer_within_chance=pub.buffer_within_chance)


def partner_evaluation_html(pub: PartnerEvaluation, *, what: str, since_label: str) -> str:
    """The partner pack's section, from :class:`PartnerEvaluation` alone."""
    verdict, displacement = partner_verdict(pub)
    t = pub.threshold
    chosen = (
        f" (the hotspots of {pub.selection_months[0]}..{pub.selection_months[-1]}; those "
        "months are left out of the comparison)"
        if pub.selection_months
        else ""
    )
    parts = [
        f'<p class="note">Treated zones: the {pub.treated_zones} hotspots of {_e(pub.area_name)} '
        f"as they stood at the date{_e(chosen)}, outlines not shared; buffer: the "
        f"{pub.buffer_m:g} m ring round them; comparison: the rest of the force area, shown "
        f"as an index only. Crimes: {_e(what)}.</p>",
        f"<p><strong>{_e(verdict)}</strong></p>",
        _table(
            ["Measure", "Value"],
            [
                (
                    "Change against the comparison (difference-in-differences)",
                    f"{_pct(pub.effect_pct)} (95 % interval {_pct(pub.ci_low_pct)} to "
                    f"{_pct(pub.ci_high_pct)}), {format_p(pub.p_value, floor=0.01)}"
                    if pub.can_tell and pub.p_value is not None
                    else "not shown",
                ),
                ("Naive before/after in the same place (for contrast)", _pct(pub.naive_change_pct)),
                (
                    f"Weighted displacement quotient ({pub.buffer_m:g} m buffer)",
                    f"{pub.wdq:+.1f}" if pub.wdq is not None else "not shown",
                ),
            ],
        ),
        f"<p>{_e(displacement)}</p>",
    ]
    m = pub.months
    if len(m) and not m["after"].all():
        months = list(m["month"])
        after = m.loc[m["after"], "month"]
        parts.append(
            index_chart_svg(
                months,
                {
                    "Treated zones": m["treated_index"].to_numpy(float),
                    "Comparison area": m["comparison_index"].to_numpy(float),
                },
                {"Treated zones": TREATED_COLOUR, "Comparison area": COMPARISON_COLOUR},
                first_after=after.iloc[0] if len(after) else None,
                since_label=since_label,
                title=f"Treated zones and comparison area per month, {pub.area_name}",
            )
        )
        parts.append(_legend(_legend_items()))
        body = [
            [
                r.month,
                "after" if r.after else "before",
                r.treated_label,
                r.buffer_label,
                "" if not math.isfinite(r.comparison_index) else f"{r.comparison_index:.0f}",
            ]
            for r in m.itertuples()
        ]
        tot = pub.totals.set_index(["zone", "side"])["label"]
        for side in ("before", "after"):
            body.append(["Total", side, tot[("treated", side)], tot[("buffer", side)], ""])
        parts.append(
            _table(
                ["Month", "Side", "Treated zones", "Buffer", "Comparison (index)"],
                body,
                numeric_from=2,
            )
        )
        parts.append(
            f'<p class="note">Counts under the agreement: fewer than {t} shown as such, some '
            f"others withheld so that they cannot be worked out, the rest rounded to the "
            f"nearest {pub.round_to}. The comparison area spans areas beyond this agreement, "
            "so it is shown only as an index (100 = its average month before the date).</p>"
        )
    parts.append(f'<p class="note">{_e(HOW_TO_READ)}</p>')
    return "".join(parts)
