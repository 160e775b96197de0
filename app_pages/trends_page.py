"""Trends: for partnership meetings, how each area is doing and the partnership's figures."""

from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd
import streamlit as st

from app_pages import common as c
from app_pages import tables
from app_pages.evaluation_section import officer_section, share_control
from clic_geo.access.identity import Role
from clic_geo.reporting import figures
from clic_geo.reporting.maps import CATEGORY_COLOURS
from clic_geo.reporting.pack_service import build_meeting_pack
from clic_geo.schema import CATEGORY_LABELS, COUNTY_LINES_CATEGORIES, Category, Col

#: Which crimes the evaluation counts (and whose hotspots are the treated zones).
EVALUATION_CRIMES = {
    "County lines (drugs, weapons, threats, cuckooing, intelligence)": COUNTY_LINES_CATEGORIES,
    "Drugs only": (Category.DRUG_SUPPLY, Category.DRUG_POSSESSION, Category.DRUGS),
    "All incidents": tuple(CATEGORY_LABELS),
}


def _evaluation(area_arg: str | None, months: list[str], span: tuple[str, str]) -> date:
    """Did it work? The area's hotspots at a date against the rest of the force area.

    Returns the date chosen (the meeting pack uses it too).
    """
    res = c.resources()
    st.subheader("Did it work? Hotspots against the rest of the force area")
    default_split = date.fromisoformat(months[len(months) // 2] + "-01")
    if area_arg is not None:
        ps = res.areas.get(area_arg).partnership_start
        if ps is not None and span[0] <= ps.strftime("%Y-%m") <= span[1]:
            default_split = ps.replace(day=1)
    cols = st.columns([1, 2, 1])
    split = cols[0].date_input(
        "Work began on",
        value=default_split,
        key=f"trends_split_{area_arg or c.ALL}",
        format="DD/MM/YYYY",
    )
    crimes = cols[1].selectbox("Crimes", list(EVALUATION_CRIMES), key="trends_eval_crimes")
    buffer_m = cols[2].number_input(
        "Displacement ring (m)", 50, 1000, 250, step=50, key="trends_eval_buffer"
    )
    if area_arg is None:
        st.caption(
            "Choose one area: its hotspots as they stood at the date are compared with the "
            "rest of the force area."
        )
        return split
    officer_section(area_arg, split, tuple(EVALUATION_CRIMES[crimes]), float(buffer_m))
    share_control(area_arg, split)
    return split


user = c.guard(Role.OFFICER, Role.ADMIN)
st.title("Trends")
res = c.resources()
v = c.version()
top = st.columns([1.1, 1.6, 2.3])
with top[0]:
    area = c.area_choice("trends_area")
with top[1]:
    period = c.period_choice("trends_period", default_months=12, label="Period for the figures")
area_arg = None if area == c.ALL else area
span = c.month_span(v)

if span is not None and period is not None:
    start, end = period
    c.audit_view("trends", area, start, end)
    inc = c.all_incidents(v, area)
    if inc.empty:
        st.info(
            "No incidents in this area yet: the charts below stay empty until its incidents "
            "are imported (police.uk months or your own records, on the Data page)."
        )
    months = figures.month_range(*span)
    # the chart honours the chosen period; a month it covers only in part says so
    pm = figures.period_months(start, end)
    day = inc[Col.WHEN].dt.date
    monthly = figures.monthly_counts(
        inc[(day >= start) & (day <= end)], months=pm["month"].tolist()
    ).merge(pm, on="month")
    monthly["Category"] = monthly[Col.CATEGORY].map(CATEGORY_LABELS)
    monthly["Month"] = monthly["label"]

    st.subheader("Incidents per month, by category")
    chart = (
        alt.Chart(monthly)
        .mark_bar()
        .encode(
            x=alt.X(
                "Month:O",
                title="Month (a part month shows its days)",
                sort=pm["label"].tolist(),
                axis=alt.Axis(labelAngle=-45, labelLimit=160),
            ),
            y=alt.Y("sum(n):Q", title="Incidents"),
            color=alt.Color(
                "Category:N",
                title="Category",
                scale=alt.Scale(
                    domain=[CATEGORY_LABELS[k] for k in CATEGORY_COLOURS],
                    range=list(CATEGORY_COLOURS.values()),
                ),
            ),
            opacity=alt.Opacity(
                "part:N", scale=alt.Scale(domain=[False, True], range=[1.0, 0.35]), legend=None
            ),
            tooltip=["Month", "Category", "n"],
        )
        .properties(height=280)
    )
    st.altair_chart(chart, width="stretch")
    if pm["part"].any():
        st.caption(
            "Paler bars are part months: only the days in brackets are counted (the "
            "period starts or ends inside them, or the month has just begun), so a short "
            "one is not a fall."
        )

    st.subheader(f"The partnership's figures, {start:%d %b %Y} to {end:%d %b %Y}")
    fig = figures.period_figures(
        start=start,
        end=end,
        area=area_arg,
        incidents=inc,
        visits=c.visits(v, area),
        addresses=c.addresses(v, area),
        status_history=c.status_history(v),
        hardening=c.hardening(v),
        lines=c.lines(v),
    )
    table = pd.DataFrame(fig.as_rows(), columns=["Section", "Figure", "Value"])
    missing = [
        what
        for what, n in (("visits", c.visits(v, c.ALL)), ("county lines", c.lines(v)))
        if n.empty
    ]
    if missing:
        st.info(
            f"The store holds no {' and no '.join(missing)} yet: their figures stay at 0 "
            "until they are imported on the Data page (visits are also recorded on Plan tomorrow)."
        )
    cols = st.columns(4)
    cols[0].metric("Vulnerability visits", f"{fig.visits:,}")
    cols[1].metric("Referrals to partners", f"{fig.referrals_total:,}")
    cols[2].metric(
        "Active county lines at the end",
        fig.active_lines_end,
        delta=fig.active_lines_end - fig.active_lines_start,
        delta_color="inverse",
    )
    cols[3].metric("Threats to life", fig.threats_to_life)
    tables.show(table, {"Section": "Section", "Figure": "Figure", "Value": "Value"}, height=420)

    st.subheader("Active county lines")
    al = figures.active_lines_series(c.lines(v), pm["month"].tolist(), area=area_arg)
    st.altair_chart(
        alt.Chart(al)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:O", title="Month"),
            y=alt.Y("active:Q", title="Active lines"),
            tooltip=["month", "active"],
        )
        .properties(height=200),
        width="stretch",
    )

    split = _evaluation(area_arg, months, span)

    st.subheader("Meeting pack")
    if area_arg is None:
        st.caption("Choose one area to download its meeting pack.")
    else:
        # built only when clicked (so each download is audited once), with what the
        # page shows: the area, the months of the period and the before/after date
        store, settings, sess = res.store, res.settings, c.session()
        first, last, since = start.strftime("%Y-%m"), end.strftime("%Y-%m"), split

        def _pack() -> str:
            return build_meeting_pack(
                store, sess, settings=settings, area=area_arg, start=first, end=last, since=since
            )

        st.download_button(
            "Download meeting pack (HTML, works offline)",
            _pack,
            file_name=f"{area_arg}-meeting-pack-{first}-to-{last}.html",
            mime="text/html",
            key="trends_pack",
            on_click="ignore",
        )
        st.caption(
            "One HTML file with these charts, the hotspots by trend and a map; it opens "
            "on a laptop with no network. It holds officer figures: do not send it to partners "
            "(they download their own from the Partnership figures page)."
        )
