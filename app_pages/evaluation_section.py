"""The "Did it work?" section of the Trends page (officers) and the partner page.

One function per audience, each drawing the same things: the verdict in words, the
difference-in-differences estimate with its interval beside the naive before/after,
the displacement quotient in words, and one chart (treated zones and comparison area
per month, 100 = each one's average month before the date, the date marked).

- :func:`officer_section` evaluates from records (``evaluation_service.evaluate_area``);
- :func:`partner_section` shows only what ``evaluation_service.partner_evaluation``
  publishes for the caller's organisation (the caller is checked on the server).

Caching lives here (keyed by the store's data version); the library never sees Streamlit.
"""

from __future__ import annotations

import math
from datetime import date

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from app_pages import common as c
from clic_geo._errors import ConfigError
from clic_geo.access.partner_evaluation import evaluation_dates, share_evaluation_date
from clic_geo.hotspots.impact import format_p
from clic_geo.reporting.evaluation_service import (
    evaluate_area,
    force_incidents,
    last_complete_month,
    partner_evaluation,
)
from clic_geo.reporting.evaluation_views import (
    COMPARISON_COLOUR,
    HOW_TO_READ,
    TREATED_COLOUR,
    officer_index_frame,
    partner_verdict,
)

PLACES = ["Treated zones", "Comparison area"]


@st.cache_data(show_spinner=False, max_entries=2)
def _force_incidents(v: int) -> pd.DataFrame:
    return force_incidents(c.resources().store)


@st.cache_data(show_spinner="Evaluating…", max_entries=32)
def _officer(v: int, area: str, since: date, cats: tuple[str, ...], buffer_m: float):
    res = c.resources()
    try:
        ev, zones = evaluate_area(
            _force_incidents(v),
            settings=res.settings,
            area=area,
            since=since,
            categories=cats,
            buffer_m=buffer_m,
            last_month=last_complete_month(res.store),
        )
    except ConfigError as exc:
        return None, str(exc)
    return ev, zones.n_treated


@st.cache_data(show_spinner="Evaluating…", max_entries=32)
def _partner(v: int, org: str, area: str, layer: str, since: date, _session):
    """What ``org``'s staff may see (the key holds the organisation whose view it is)."""
    res = c.resources()
    return partner_evaluation(
        res.store,
        _session,
        settings=res.settings,
        area=area,
        layer=layer,
        since=since,
        organisation=org or None,
    )


def _pct(x: float | None) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:+.0f} %".replace("-", "−")


def _chart(frame: pd.DataFrame, first_after: str | None, since: date) -> alt.LayerChart:
    """Index lines per place; a rule where the date falls."""
    base = alt.Chart(frame).encode(
        x=alt.X("month:O", title="Month", sort=list(dict.fromkeys(frame["month"]))),
        y=alt.Y("index:Q", title="% of its average month before the date"),
        color=alt.Color(
            "place:N",
            title="",
            scale=alt.Scale(domain=PLACES, range=[TREATED_COLOUR, COMPARISON_COLOUR]),
            legend=alt.Legend(orient="top"),
        ),
        strokeDash=alt.StrokeDash(
            "place:N", scale=alt.Scale(domain=PLACES, range=[[1, 0], [6, 4]]), legend=None
        ),
        tooltip=["month", "place", alt.Tooltip("index:Q", format=".0f"), "shown"],
    )
    layers = [base.mark_line(point=True, strokeWidth=2.5)]
    layers.append(alt.Chart(pd.DataFrame({"y": [100]})).mark_rule(color="#999").encode(y="y:Q"))
    if first_after is not None:
        rule = pd.DataFrame({"month": [first_after], "label": [f"from {since:%d %b %Y}"]})
        layers.append(
            alt.Chart(rule)
            .mark_rule(color="#222", strokeDash=[5, 4], size=2)
            .encode(x=alt.X("month:O", sort=list(dict.fromkeys(frame["month"]))))
        )
        layers.append(
            alt.Chart(rule)
            .mark_text(align="left", dx=4, color="#222")
            .encode(
                x=alt.X("month:O", sort=list(dict.fromkeys(frame["month"]))),
                y=alt.value(6),
                text="label",
            )
        )
    return alt.layer(*layers).properties(height=280)


def _numbers(effect: str, naive: str, wdq: str, buffer_m: float) -> None:
    cols = st.columns(3)
    cols[0].metric("Change against the comparison", effect.split(" (")[0])
    cols[0].caption(effect.split(" (", 1)[1].rstrip(")") if " (" in effect else "")
    cols[1].metric("Naive before/after (for contrast)", naive)
    cols[1].caption("same place, nothing to compare with")
    cols[2].metric(f"Displacement quotient ({buffer_m:g} m ring)", wdq)


def officer_section(area: str, since: date, cats: tuple[str, ...], buffer_m: float) -> None:
    """The evaluation of ``area``'s hotspots as they stood at ``since`` (officers)."""
    ev, info = _officer(c.version(), area, since, cats, float(buffer_m))
    if ev is None:
        st.info(f"No evaluation: {info}.")
        return
    d = ev.to_dict()
    (st.success if ev.can_tell and ev.estimate.ci_high_pct < 0 else st.info)(ev.verdict)
    e = ev.estimate
    effect = (
        f"{_pct(e.effect_pct)} (95 % interval {_pct(e.ci_low_pct)} to {_pct(e.ci_high_pct)}, "
        f"{format_p(e.p_value)})"
        if e
        else "the data cannot tell"
    )
    wdq = f"{ev.wdq:+.2f}" if math.isfinite(ev.wdq) else "n/a"
    _numbers(effect, _pct(ev.naive_change_pct), wdq, buffer_m)
    st.write(ev.displacement)
    st.caption(
        f"Treated zones: {info} polygons, {d['treated_from']} "
        f"({d['treated_km2'] * 100:.1f} ha; those months are left out of 'before'). Buffer: "
        f"the {buffer_m:g} m ring ({d['buffer_km2'] * 100:.0f} ha). Comparison: the rest of "
        f"the force area. Months before: {', '.join(ev.months_before) or 'none'}; from the "
        f"date: {', '.join(ev.months_after) or 'none'}."
    )
    if ev.months_before and ev.months_after:
        frame = officer_index_frame(ev).assign(shown=lambda f: f["count"].astype(str))
        st.altair_chart(_chart(frame, ev.months_after[0], since), width="stretch")
    with st.expander("Monthly counts"):
        st.dataframe(
            ev.monthly.assign(
                after=ev.monthly["after"].map({True: "after", False: "before"})
            ).rename(
                columns={
                    "month": "Month",
                    "after": "Side",
                    "treated": "Treated zones",
                    "buffer": "Buffer",
                    "comparison": "Comparison area",
                }
            ),
            hide_index=True,
            width="stretch",
        )
    st.caption(HOW_TO_READ)


def share_control(area: str, since: date) -> None:
    """Officers: share (or stop sharing) this date's evaluation with the area's partners."""
    res = c.resources()
    dates = evaluation_dates(res.store, settings=res.settings, area=area)
    shown = ", ".join(f"{d:%d %b %Y}" for d in dates) or "none"
    ps = res.areas.get(area).partnership_start
    cols = st.columns([3, 1])
    cols[0].caption(
        f"Partners with this area in their agreement see the evaluation at these dates only: "
        f"{shown}. Each date is a different set of hotspots; sharing few keeps their "
        "counts from being subtracted."
    )
    if since == ps:
        cols[1].caption("The partnership start: always shared.")
        return
    shared = since in dates
    label = "Stop sharing this date" if shared else "Share this date with partners"
    if cols[1].button(label, key="trends_eval_share"):
        share_evaluation_date(
            res.store, c.session(), settings=res.settings, area=area, since=since, remove=shared
        )
        st.rerun()


def partner_section(area: str, layer: str, label: str, since: date, organisation: str) -> None:
    """The evaluation of ``layer`` in ``area`` as ``organisation`` may see it (server-checked)."""
    try:
        pub = _partner(c.version(), organisation, area, layer, since, c.session())
    except ConfigError:  # no incident of these types yet: an empty state, not a traceback
        st.info(
            f"No evaluation yet: the store holds no {label.lower()} to evaluate. It appears "
            "once the partnership's officers import incidents (police.uk months or their own)."
        )
        return
    verdict, displacement = partner_verdict(pub)
    (st.success if pub.can_tell and (pub.ci_high_pct or 0) < 0 else st.info)(verdict)
    effect = (
        f"{_pct(pub.effect_pct)} (95 % interval {_pct(pub.ci_low_pct)} to "
        f"{_pct(pub.ci_high_pct)}, {format_p(pub.p_value, floor=0.01)})"
        if pub.can_tell and pub.p_value is not None
        else "not shown"
    )
    wdq = f"{pub.wdq:+.1f}" if pub.wdq is not None else "not shown"
    _numbers(effect, _pct(pub.naive_change_pct), wdq, pub.buffer_m)
    st.write(displacement)
    chosen = (
        f"the hotspots of {pub.selection_months[0]}..{pub.selection_months[-1]}, "
        if pub.selection_months
        else ""
    )
    st.caption(
        f"{label}. Treated zones: {pub.treated_zones} hotspots as they stood at the date "
        f"({chosen}outlines not shared). Comparison: the rest of the force area, as an index "
        f"only. Counts: fewer than {pub.threshold} shown as such, some withheld, the rest "
        f"rounded to {pub.round_to}."
    )
    m = pub.months
    if len(m) and not m["after"].all():
        frame = pd.concat(
            [
                pd.DataFrame(
                    {
                        "month": m["month"],
                        "place": "Treated zones",
                        "index": m["treated_index"].astype(float),
                        "shown": m["treated_label"],
                    }
                ),
                pd.DataFrame(
                    {
                        "month": m["month"],
                        "place": "Comparison area",
                        "index": m["comparison_index"].astype(float),
                        "shown": "index only",
                    }
                ),
            ],
            ignore_index=True,
        )
        after = m.loc[m["after"], "month"]
        st.altair_chart(
            _chart(frame, after.iloc[0] if len(after) else None, since), width="stretch"
        )
        if not np.isfinite(m["treated_index"].astype(float)).any():
            st.caption(
                "No month of the treated zones can be drawn: every one is withheld or "
                "below the threshold, so the chart shows the comparison area only."
            )
        with st.expander("Monthly figures"):
            st.dataframe(
                pd.DataFrame(
                    {
                        "Month": m["month"],
                        "Side": m["after"].map({True: "after", False: "before"}),
                        "Treated zones": m["treated_label"],
                        "Buffer": m["buffer_label"],
                        "Comparison (index)": m["comparison_index"].map(
                            lambda x: "" if not math.isfinite(x) else f"{x:.0f}"
                        ),
                    }
                ),
                hide_index=True,
                width="stretch",
            )
    st.caption(HOW_TO_READ)
