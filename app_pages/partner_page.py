"""Partnership figures: what a partner organisation may see under its ISA, and nothing more.

Everything on this page comes from :mod:`clic_geo.access.privacy`, which aggregates on the
server (area counts and 250 m squares), suppresses small numbers and refuses anything
outside the organisation's scope before anything is sent to the browser. Officers and
admins use the same page to preview exactly what a partner sees.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from app_pages import common as c
from app_pages.evaluation_section import partner_section
from clic_geo.access.identity import Role
from clic_geo.access.isa import LAYER_LABELS, get_isa_scope, list_isa_scopes
from clic_geo.access.partner_evaluation import EVALUATION_LAYERS, evaluation_dates
from clic_geo.access.privacy import (
    partner_area_table,
    partner_export_csv,
    partner_grid,
    partner_scope,
)
from clic_geo.reporting import map_style
from clic_geo.reporting import maps as mapping
from clic_geo.reporting.map_style import Swatch
from clic_geo.reporting.pack_service import build_meeting_pack

#: Colour-blind-safe sequential colours (viridis) for shown counts, as on every map.
STEPS = list(map_style.COUNT_STEPS)


@st.cache_data(show_spinner=False, max_entries=64)
def _table(v: int, org: str, layer: str, area: str, _session) -> tuple[pd.DataFrame, int]:
    res = c.resources()
    t = partner_area_table(
        res.store,
        _session,
        settings=res.settings,
        layers=[layer],
        areas=[area],
        organisation=org or None,
    )
    return t.frame, t.round_to


def trend_chart(quarters: pd.DataFrame, marks: list[tuple[date, str]], what: str):
    """The chosen figure by quarter: suppressed quarters are gaps (with a grey tick on the
    axis), the partnership's start and any before/after date are marked at their quarter."""
    q = quarters.assign(
        value=quarters["count"].astype("Float64").astype(float), shown=quarters["label"]
    )
    q["hidden"] = np.where(q["value"].isna(), 0.0, np.nan)
    order = q["period"].tolist()
    x = alt.X("period:O", title="Quarter", sort=order, axis=alt.Axis(labelAngle=-45))
    tip = [alt.Tooltip("period:N", title="Quarter"), alt.Tooltip("shown:N", title=what)]
    base = alt.Chart(q)
    # one path per run of shown quarters, so the line breaks at a hidden one (a null
    # value would be drawn as 0, or joined across, depending on Vega-Lite's version)
    shown = q.assign(run=q["value"].isna().cumsum())[q["value"].notna()]
    line = (
        alt.Chart(shown)
        .mark_line(point=True, color=map_style.COUNT_STEPS[3])
        .encode(x=x, y=alt.Y("value:Q", title="Count"), detail="run:N", tooltip=tip)
    )
    gaps = base.mark_tick(color="#9a9a9a", thickness=3, size=14).encode(
        x=x, y=alt.Y("hidden:Q"), tooltip=tip
    )
    layers = [line, gaps]
    md = pd.DataFrame(
        {
            "period": [f"{d.year}-Q{(d.month - 1) // 3 + 1}" for d, _ in marks],
            "what": [w for _, w in marks],
        }
    )
    md = md[md["period"].isin(order)]
    if len(md):
        rule = alt.Chart(md).mark_rule(color="#000", strokeDash=[4, 3]).encode(x=x)
        text = (
            alt.Chart(md)
            .mark_text(align="left", dx=4, dy=8, fontSize=11, color="#000")
            .encode(x=x, y=alt.value(0), text="what:N")
        )
        layers += [rule, text]
    return alt.layer(*layers).properties(height=260)


@st.cache_data(show_spinner=False, max_entries=32)
def _grid(v: int, org: str, layer: str, area: str, quarter: str, _session):
    res = c.resources()
    g = partner_grid(
        res.store,
        _session,
        layer,
        quarter,
        settings=res.settings,
        areas=[area],
        organisation=org or None,
    )
    return g.cells


def _evaluation(area: str, layer: str, layers: list[str], months: list[str], org: str):
    """Did it work? The evaluation as this organisation may see it, at a date the
    partnership has shared (the area's start, or one an officer shared); returns it."""
    incident = [x for x in layers if x in {str(y) for y in EVALUATION_LAYERS}]
    st.subheader("Did it work? Hotspots against the rest of the force area")
    if not incident or not months:
        st.info(
            "No evaluation: the agreement covers no incident figure here, or no month is "
            "published yet."
        )
        return None
    res = c.resources()
    dates = evaluation_dates(res.store, settings=res.settings, area=area)
    if not dates:
        st.info(
            "No evaluation has been shared for this area yet (the partnership's officers "
            "share them from their Trends page)."
        )
        return None
    cols = st.columns([1, 2])
    since = cols[0].selectbox(
        "Work began on",
        dates[::-1],
        format_func=lambda d: f"{d:%d %b %Y}",
        key=f"partner_eval_since_{area}",
    )
    which = layer if layer in incident else incident[0]
    eval_layer = cols[1].selectbox(
        "Crimes",
        incident,
        index=incident.index(which),
        format_func=lambda x: LAYER_LABELS.get(x, x),
        key="partner_eval_layer",
    )
    partner_section(area, eval_layer, LAYER_LABELS.get(eval_layer, eval_layer), since, org)
    return since


user = c.guard(Role.PARTNER, Role.OFFICER, Role.ADMIN)
res = c.resources()
sess = c.session()
v = c.version()
st.title("Partnership figures")

org = ""
if user.role == Role.PARTNER:
    scope = partner_scope(res.store, sess, settings=res.settings)
    org = user.organisation_id
    st.caption(
        f"{c.md(user.organisation_name)}: figures under your information sharing "
        'agreement. Small numbers are shown as "fewer than 10" and some others are '
        "withheld so that they cannot be worked out."
    )
else:
    scopes = {s.organisation_id: s for s in list_isa_scopes(res.store) if s.organisation_id}
    if not scopes:
        st.info("No partner organisation has an ISA scope yet (see `clic-geo isa set`).")
        st.stop()
    org = st.selectbox("Preview the view of", list(scopes), key="partner_org")
    scope = get_isa_scope(res.store, org)
    st.caption("This is exactly what that organisation's staff see.")

if scope is None or not scope.areas or not scope.layers:
    st.info("Your organisation's information sharing agreement does not cover any data yet.")
    st.stop()

names = res.areas.names()
cols = st.columns(2)
area = cols[0].selectbox(
    "Area", list(scope.areas), format_func=lambda a: names.get(a, a), key="partner_area"
)
layer = cols[1].selectbox(
    "Figure",
    [str(x) for x in scope.layers],
    format_func=lambda x: LAYER_LABELS.get(x, x),
    key="partner_layer",
)

frame, round_to = _table(v, org, layer, area, sess)
months = frame[frame["period_type"] == "month"].sort_values("period")
quarters = frame[frame["period_type"] == "quarter"].sort_values("period")
years = frame[frame["period_type"] == "year"].sort_values("period")

what = LAYER_LABELS.get(layer, layer)
st.subheader(f"{what}: {names.get(area, area)}")
if len(quarters):
    marks: list[tuple[date, str]] = []
    ps = res.areas.get(area).partnership_start
    if ps is not None:
        marks.append((ps, "partnership began"))
    marks += [
        (d, f"work began {d:%d %b %Y}")
        for d in evaluation_dates(res.store, settings=res.settings, area=area)
        if d != ps
    ]
    st.altair_chart(trend_chart(quarters, marks, what), width="stretch")
    hidden = int(quarters["count"].isna().sum())
    before = [
        f"{w} in {d:%B %Y}, before these figures"
        for d, w in marks
        if f"{d.year}-Q{(d.month - 1) // 3 + 1}" < quarters["period"].min()
    ]
    st.caption(
        "Each point is one complete quarter; the quarter in progress is not shown."
        + "".join(f" The {b}." for b in before)
        + (
            f" {hidden} quarter{'s are' if hidden != 1 else ' is'} a gap (grey mark on the "
            f"axis): fewer than {res.settings.suppression_threshold}, or withheld so that "
            "small numbers cannot be worked out."
            if hidden
            else ""
        )
    )
else:
    st.info("No complete quarter in the agreed period yet.")
if round_to > 1:
    st.caption(
        f"Every figure is rounded to the nearest {round_to} on its own, and hidden ones are "
        "left out, so the months or squares of a quarter rarely add up exactly to its total."
    )
else:
    st.caption(
        'Figures shown as "fewer than" or "withheld" are left out of any sum, so the '
        "months or squares of a quarter may not add up to its total."
    )
left, right = st.columns([1, 1])
with left:
    st.caption("By quarter and year")
    qy = pd.concat([quarters, years])[["period", "label"]].rename(
        columns={"period": "Period", "label": "Count"}
    )
    st.dataframe(qy, hide_index=True, width="stretch")
with right:
    st.caption("By month")
    st.dataframe(
        months[["period", "label"]].rename(columns={"period": "Month", "label": "Count"}),
        hide_index=True,
        width="stretch",
        height=300,
    )

st.subheader("Where: counts on 250 m squares")
today = date.today()
complete = [
    q for q in quarters["period"].tolist() if pd.Period(q, freq="Q").end_time.date() < today
]
if not complete:
    st.info("No complete quarter in the agreed period yet.")
else:
    quarter = st.selectbox("Quarter", complete[::-1], key="partner_quarter")
    cells = _grid(v, org, layer, area, quarter, sess)
    # only squares with a number are drawn as squares; the rest as one light hatch
    shown = cells[cells["status"] == "shown"]
    hidden = cells[cells["status"] != "shown"]
    if len(shown):
        edges = np.unique(np.quantile(shown["count"].astype(float), [0.2, 0.4, 0.6, 0.8]))
        shown = shown.assign(band=np.searchsorted(edges, shown["count"].astype(float)).astype(str))
    colours = {str(i): STEPS[min(i, len(STEPS) - 1)] for i in range(len(STEPS))}
    a = res.areas.get(area)
    m = c.base_map((a.view_lat, a.view_lon), a.view_zoom)
    minx, miny, maxx, maxy = a.geometry.bounds
    m.fit_bounds([[miny, minx], [maxy, maxx]], **mapping.legend_padding())
    t = res.settings.suppression_threshold
    if len(hidden):
        mapping.add_hatched(
            m,
            hidden,
            name="Squares with a small or withheld number",
            tooltip=f"Fewer than {t} here, or withheld",
        )
    mapping.add_boundaries(m, res.areas_gdf[res.areas_gdf["id"] == area])
    if len(shown):
        mapping.add_polygons(
            m,
            shown,
            name="Squares",
            fields=["cell_id", "label"],
            aliases=["Square", "Count"],
            colour_field="band",
            colours=colours,
            weight=0.5,
            fill_opacity=0.75,
        )
    mapping.add_legend(
        m,
        [
            Swatch("fill", "Fewest shown", STEPS[0]),
            Swatch("fill", "Most shown", STEPS[-1]),
            Swatch("hatch", f"Fewer than {t}, or withheld"),
            Swatch("outline", "Area", "#000000", dash="6 4"),
        ],
        title="Count per 250 m square",
    )
    st_folium(m, height=480, use_container_width=True, returned_objects=[], key="partner_map")

    csv_store, csv_settings = res.store, res.settings

    def _csv() -> bytes:
        # written and audited as "export" only when the button is clicked (a deferred
        # download), never on a rerun of the page
        with tempfile.TemporaryDirectory() as tmp:
            out = partner_export_csv(
                csv_store,
                sess,
                Path(tmp) / "figures.csv",
                settings=csv_settings,
                layers=[layer],
                areas=[area],
                organisation=org or None,
            )
            return out.read_bytes()

    st.download_button(
        "Download these figures (CSV)",
        _csv,
        file_name=f"{area}-{layer}-figures.csv",
        mime="text/csv",
        key="partner_csv",
        on_click="ignore",
    )

eval_since = _evaluation(
    area, layer, [str(x) for x in scope.layers], months["period"].tolist(), org
)

if len(months):
    # the last twelve published months; built only when clicked, through the same
    # privacy functions as this page (so each download is audited once)
    recent = months["period"].tolist()[-12:]
    ps = res.areas.get(area).partnership_start
    pack_since = ps if ps is not None and recent[0] < ps.strftime("%Y-%m") <= recent[-1] else None
    pack_since = eval_since or pack_since  # the date of the evaluation above
    pack_store, pack_settings = res.store, res.settings
    pack_org = org if user.role != Role.PARTNER else None

    def _pack() -> str:
        return build_meeting_pack(
            pack_store,
            sess,
            settings=pack_settings,
            area=area,
            start=recent[0],
            end=recent[-1],
            since=pack_since,
            organisation=pack_org,
        )

    st.download_button(
        "Download meeting pack (HTML, works offline)",
        _pack,
        file_name=f"{area}-partner-meeting-pack-{recent[0]}-to-{recent[-1]}.html",
        mime="text/html",
        key="partner_pack",
        on_click="ignore",
    )
