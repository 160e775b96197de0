"""Map: where the problem is now, how far to trust the hotspots, what the team has covered.

Hotspots are the recommended map (:mod:`clic_geo.hotspots.forecast`) of the chosen period and
categories, with trends from a 12-month history (:mod:`clic_geo.hotspots.current`). Clicking
a hotspot on the map or in the table shows its statistics and monthly history.
"""

from __future__ import annotations

import time
from datetime import date

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from app_pages import common as c
from app_pages import saved_plans as sp
from clic_geo.access.identity import Role
from clic_geo.export import safe_display_frame
from clic_geo.hotspots.current import TREND_MEANING, current_hotspots
from clic_geo.reporting import derived_service as derived
from clic_geo.reporting import map_style
from clic_geo.reporting import maps as mapping
from clic_geo.reporting.map_style import Swatch
from clic_geo.schema import CATEGORY_LABELS, COUNTY_LINES_CATEGORIES, CUCKOOING_LABELS, Col

LAYERS = {
    "hotspots": "Hotspots",
    "boundaries": "Area boundaries",
    "incidents": "Incidents",
    "heat": "Heat surface",
    "addresses": "Cuckooed and at-risk addresses",
    "visits": "Visits (coverage)",
    "route": "Planned route",
}
DEFAULT_LAYERS = ["hotspots", "boundaries", "incidents", "addresses"]
#: Category presets; None lets the user choose.
PRESETS = {
    "County lines (drugs, weapons, threats, cuckooing, intelligence)": COUNTY_LINES_CATEGORIES,
    "All incidents": tuple(CATEGORY_LABELS),
    "Choose categories…": None,
}
#: Hotspot fill by score band and outline by trend: the maps' one visual grammar.
SCORE_COLOURS = map_style.SCORE_COLOURS
TREND_DASHES = map_style.TREND_DASHES


@st.cache_data(show_spinner=False, max_entries=32)
def incident_points(
    v: int, area: str, start: date, end: date, cats: tuple[str, ...]
) -> pd.DataFrame:
    res = c.resources()
    # only the columns the map draws (police.uk rows carry long attribute texts)
    cols = [Col.CATEGORY, Col.LAT, Col.LON, Col.LOCATION]
    inc = c.db_retry(
        res.store.incidents,
        area=c._area_arg(area),
        start=start,
        end=end,
        categories=list(cats),
        columns=cols,
    )
    sev = res.settings
    inc = inc.assign(w=inc[Col.CATEGORY].map(sev.severity_of))
    return mapping.aggregate_points(inc, weight="w", label=Col.LOCATION)


@st.cache_data(show_spinner=False, max_entries=16)
def visit_points(v: int, area: str, start: date, end: date) -> pd.DataFrame:
    return mapping.aggregate_points(c.visits(v, area, start, end), decimals=4)


def _ranked(hs: pd.DataFrame) -> pd.DataFrame:
    if len(hs):
        q = np.unique(np.quantile(hs[Col.SCORE], [0.2, 0.4, 0.6, 0.8]))
        hs = hs.assign(
            band=np.searchsorted(q, hs[Col.SCORE]).astype(str),
            rank_label=hs[Col.RANK].map(lambda r: f"#{r}"),
        )
    return hs


@st.cache_data(show_spinner=False, max_entries=32)
def stored_hotspots(stamp: int, area: str, start: date, end: date, cats: tuple[str, ...]):
    """The hotspot map computed when the data changed (``stamp``: its data version)."""
    got = c.db_retry(
        derived.load_hotspots, c.resources().store, c._area_arg(area), start, end, cats,
        data_version=stamp,
    )  # fmt: skip
    if got is None:  # replaced between the two reads: the caller's next run finds it
        return pd.DataFrame(), pd.DataFrame()
    return _ranked(got.value.hotspots), got.value.history


@st.cache_data(
    show_spinner="Finding hotspots for this period and these categories…", max_entries=32
)
def computed_hotspots(v: int, area: str, start: date, end: date, cats: tuple[str, ...]):
    """A period or categories not computed in advance: computed now (the person waits,
    with a spinner), and stored so the next person does not."""
    res = c.resources()
    inc = c.all_incidents(v, area)
    inc = inc[inc[Col.CATEGORY].isin(cats)]
    t0 = time.perf_counter()
    cur = current_hotspots(
        inc, start=start, end=end, area_km2={a.id: a.area_km2 for a in res.areas}
    )
    c.db_retry(
        derived.save_hotspots, res.store, c._area_arg(area), start, end, cats, cur,
        data_version=v, incidents_fingerprint=c.current_fingerprint(v),
        seconds=time.perf_counter() - t0,
    )  # fmt: skip
    return _ranked(cur.hotspots), cur.history


def hotspots(v: int, area: str, start: date, end: date, cats: tuple[str, ...]):
    """The period's hotspots with a 12-month history, and whether they are out of date.

    Read from the store (computed when the data changed); one computed before the
    latest change is shown while the refresh runs; one never computed is computed now.
    """
    store = c.resources().store
    stamp = c.db_retry(derived.hotspots_stamp, store, c._area_arg(area), start, end, cats)
    if stamp is None:
        hs, history = computed_hotspots(v, area, start, end, cats)
        return _with_expected(hs), history, False
    if stamp < v:
        c.refresh_soon()
    hs, history = stored_hotspots(stamp, area, start, end, cats)
    return _with_expected(hs), history, stamp < v


def _with_expected(hs: pd.DataFrame) -> pd.DataFrame:
    """A map stored before hotspots carried their expected count says so."""
    if len(hs) and "expected_words" not in hs:
        return hs.assign(expected_words="not computed yet")
    return hs


def build_map(
    area: str,
    start: date,
    end: date,
    cats: tuple[str, ...],
    layers: list[str],
    hs: pd.DataFrame,
    pts: pd.DataFrame,
):
    res = c.resources()
    v = c.version()
    if area == c.ALL:
        minx, miny, maxx, maxy = res.areas_gdf.total_bounds
        center, zoom = ((miny + maxy) / 2, (minx + maxx) / 2), 9
    else:
        a = res.areas.get(area)
        center, zoom = (a.view_lat, a.view_lon), a.view_zoom
        minx, miny, maxx, maxy = a.geometry.bounds
    m = c.base_map(center, zoom, (minx, miny, maxx, maxy))
    m.fit_bounds([[miny, minx], [maxy, maxx]], **mapping.legend_padding())
    legend = []
    if "boundaries" in layers:
        mapping.add_boundaries(m, res.areas_gdf)
        legend.append(Swatch("outline", "Operating area", "#000000", dash="6 4"))
    if "heat" in layers:
        mapping.add_heat(m, pts, show=True, assets=res.assets)
        legend.append(Swatch("heat", "Heat: severity-weighted incidents"))
    if "hotspots" in layers and len(hs):
        mapping.add_polygons(
            m,
            hs,
            name="Hotspots",
            fields=["rank_label", "place", "trend_label", "n_incidents", "expected_words"],
            aliases=["Hotspot", "Around", "Trend", "Incidents", "Expected"],
            colour_field="band",
            colours=SCORE_COLOURS,
            dash_field=Col.TREND,
            dashes=TREND_DASHES,
        )
        legend += [
            Swatch("fill", "Hotspot, lower score", SCORE_COLOURS["0"]),
            Swatch("fill", "Hotspot, higher score", SCORE_COLOURS["4"]),
            Swatch("badge", "Hotspot rank (#1 = go here first)"),
        ]
    if "incidents" in layers:
        mapping.add_points(
            m, pts, name="Incidents", colour=mapping.PALETTE["incident"], assets=res.assets
        )
        legend.append(Swatch("cluster", "Incidents (number = how many)"))
    if "hotspots" in layers and len(hs):
        # county-wide, numbering every hotspot piles the labels up: number the top ten
        labelled = hs if area != c.ALL else hs[hs[Col.RANK] <= 10]
        mapping.add_labels(m, labelled, "rank_label", name="Hotspot numbers", rank_field=Col.RANK)
    if "visits" in layers:
        vp = visit_points(v, area, start, end)
        mapping.add_points(
            m,
            vp,
            name="Visits",
            colour=mapping.PALETTE["visit"],
            cluster=False,
            what="visit",
            assets=res.assets,
        )
        legend.append(Swatch("dot", "Visits made", mapping.PALETTE["visit"]))
    if "addresses" in layers:
        addr = c.addresses(v, area, end)
        addr = addr[(addr[Col.STATUS] != "none") | addr[Col.SAFE_ALERT] | addr[Col.PROTECTION_PLAN]]
        if len(addr):
            mapping.add_addresses(m, c.to_gdf(addr))
        for status in ("suspected", "confirmed", "resolved", "none"):
            legend.append(Swatch("dot", CUCKOOING_LABELS[status], mapping.PALETTE[status]))
    plan = st.session_state.get("clic_plan")
    if "route" in layers and plan is not None and (area in (c.ALL, plan.area.id)):
        route = plan.route
        stops = [
            {"lat": route.start[0], "lon": route.start[1], "number": 0, "label": plan.start_name}
        ]
        stops += [
            {
                "lat": s.latitude,
                "lon": s.longitude,
                "number": s.order,
                "label": f"{s.order}. {s.label}",
            }
            for s in route.stops
        ]
        mapping.add_route(m, stops, path=c.plan_path(plan))
        legend.append(Swatch("stop", "Planned route: stops in walking order"))
    mapping.add_legend(m, legend, title="Legend")
    return m


@st.cache_resource(show_spinner=False)
def tested() -> set[tuple]:
    """The (version, area, categories, month) whose trust backtest this server has run:
    shown at once from then on (process-wide, like the cache it mirrors; not per user)."""
    return set()


@st.fragment
def trust_panel(v: int, area: str, cats: tuple[str, ...], before_month: str) -> None:
    """How much to trust the map: the backtest stored when the data changed; for other
    categories it runs when asked (twelve clusterings, seconds), so the map draws first."""
    st.markdown("**How much to trust this map**")
    res = c.resources()
    stored = c.db_retry(
        derived.load_trust, res.store, c._area_arg(area), cats, before_month, data_version=v
    )
    if stored is not None:
        st.caption(c.md(stored.value.verdict))
        if stored.stale:
            st.caption(c.UPDATING)
            c.refresh_soon()
        return
    k = (v, area, cats, before_month)
    slot = st.empty()  # the button, replaced by the verdict in the same run
    if k in tested() or slot.button(
        "Test it on this data's past months",
        key="map_trust_go",
        help="Builds the map from past months and scores it on the month after (a few seconds).",
    ):
        slot.caption(c.md(c.trust(v, area, cats, before_month).verdict))
        tested().add(k)
    else:
        st.caption("Not tested yet for this area and these categories.")


user = c.guard(Role.OFFICER, Role.ADMIN)
st.title("Map")
with st.sidebar:
    area = c.area_choice("map_area")
    period = c.period_choice("map_period")
    cat_options = list(CATEGORY_LABELS)
    preset = st.selectbox("Incidents", list(PRESETS), key="map_preset")
    if PRESETS[preset] is None:
        cats = (
            st.multiselect(
                "Categories",
                cat_options,
                default=list(COUNTY_LINES_CATEGORIES),
                format_func=CATEGORY_LABELS.get,
                key="map_cats",
                placeholder="All categories",
            )
            or cat_options
        )
    else:
        cats = list(PRESETS[preset])
    sp.remember_latest(area)  # after a reload: the latest saved plan is the planned route
    planned = st.session_state.get("clic_plan") is not None
    options = list(LAYERS) if planned else list(LAYERS)[:-1]
    layers = st.pills(
        "Layers",
        options,
        selection_mode="multi",
        default=[*DEFAULT_LAYERS, "route"] if planned else DEFAULT_LAYERS,
        format_func=LAYERS.get,
        key="map_layers",
    )

if period is not None:
    start, end = period
    v = c.version()
    c.audit_view("map", area, start, end)
    key = tuple(sorted(cats))
    pts = incident_points(v, area, start, end, key)
    hs, history, stale = (
        hotspots(v, area, start, end, key)
        if "hotspots" in (layers or [])
        else (pd.DataFrame(), pd.DataFrame(), False)
    )
    if stale:
        st.caption("Hotspots: " + c.UPDATING)
    m = build_map(area, start, end, key, list(layers or []), hs, pts)
    left, right = st.columns([2.8, 1.5])
    with left:
        out = st_folium(
            m,
            height=560,
            use_container_width=True,
            returned_objects=["last_active_drawing"],
            key="main_map",
        )
        clicked = ((out or {}).get("last_active_drawing") or {}).get("properties") or {}
        if clicked.get("rank_label"):
            st.session_state["map_selected"] = clicked["rank_label"]
        st.caption(
            f"{c.ATTRIBUTION_POLICE} (where police data are loaded). Base map: "
            + (
                "configured tile server."
                if c.resources().settings.tile_url
                else "roads and water drawn offline (clic-geo basemap list says which)."
            )
        )
    with right:
        n = int(pts["n"].sum()) if len(pts) else 0
        if n == 0:
            st.info(
                "No incidents of these categories in this area and period. Choose another "
                "period, area or categories, or import the months missing (Data page)."
            )
        cols = st.columns(2)
        cols[0].metric("Incidents", f"{n:,}")
        cols[1].metric("Hotspots", len(hs))
        trust_panel(v, area, key, date.today().strftime("%Y-%m"))
        if len(hs):
            # the expected count in words is on each hotspot's tooltip and in its facts
            # below: a fifth column would not fit the side panel at 1366 px
            table = hs[["rank_label", "place", "trend_label", "n_incidents"]].rename(
                columns={
                    "rank_label": "#",
                    "place": "Around",
                    "trend_label": "Trend",
                    "n_incidents": "Inc.",
                }
            )
            picked = st.dataframe(
                safe_display_frame(table),
                hide_index=True,
                width="stretch",
                height=300,
                key="hotspot_table",
                on_select="rerun",
                selection_mode="single-row",
                column_config={  # every column inside the side panel at 1366 px
                    "#": st.column_config.TextColumn(width=34, help="Rank: #1 = go here first"),
                    "Around": st.column_config.TextColumn(width=92, help="The nearest street"),
                    "Trend": st.column_config.TextColumn(width=82),
                    "Inc.": st.column_config.NumberColumn(width=44, help="Incidents in the period"),
                },
            )
            rows = (picked or {}).get("selection", {}).get("rows", [])
            if rows:
                st.session_state["map_selected"] = table.iloc[rows[0]]["#"]

    chosen = st.session_state.get("map_selected")
    if len(hs) and chosen in set(hs["rank_label"]):
        h = hs[hs["rank_label"] == chosen].iloc[0]
        st.subheader(f"Hotspot {chosen}: around {c.md(h['place'] or 'unnamed streets')}")
        a, b = st.columns([1, 2])
        with a:
            cats_in = {
                CATEGORY_LABELS.get(k.removeprefix("n_"), k): int(h[k])
                for k in hs.columns
                if k.startswith("n_") and k not in ("n_incidents", "n_locations") and int(h[k]) > 0
            }
            facts = {
                "Trend": f"{h['trend_label']}: {TREND_MEANING.get(h[Col.TREND], '')}",
                "Incidents in the period": int(h["n_incidents"]),
                "Expected next month": h["expected_words"],
                "Distinct locations": int(h["n_locations"]),
                "First and last seen": f"{h['first_seen']} to {h['last_seen']}",
                "Area": f"{float(h['area_km2']) * 100:.1f} hectares",
                "Statistically significant": "yes" if bool(h["significant"]) else "no",
            }
            st.dataframe(
                pd.DataFrame({"": list(facts), "Value": [str(x) for x in facts.values()]}),
                hide_index=True,
                width="stretch",
            )
            st.dataframe(
                pd.DataFrame({"Category": list(cats_in), "Incidents": list(cats_in.values())}),
                hide_index=True,
                width="stretch",
            )
        with b:
            series = history.loc[h[Col.HOTSPOT_ID]].rename("Incidents").reset_index()
            series.columns = ["Month", "Incidents"]
            st.altair_chart(
                alt.Chart(series)
                .mark_bar(color="#440154")
                .encode(x=alt.X("Month:O"), y=alt.Y("Incidents:Q"), tooltip=["Month", "Incidents"])
                .properties(height=240, title="Incidents inside this outline, month by month"),
                width="stretch",
            )
