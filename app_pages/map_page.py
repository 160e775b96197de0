"""Map: where the problem is now, what the team has covered, in one area or all Cumbria."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from app_pages import common as c
from clic_geo import mapping
from clic_geo.auth import Role
from clic_geo.schema import CATEGORY_LABELS, CUCKOOING_LABELS, Col

LAYERS = {
    "boundaries": "Area boundaries",
    "incidents": "Incidents",
    "heat": "Heat surface",
    "addresses": "Cuckooed and at-risk addresses",
    "visits": "Visits (coverage)",
}
DEFAULT_LAYERS = ["boundaries", "incidents", "addresses"]


@st.cache_data(show_spinner=False, max_entries=32)
def incident_points(
    _v: int, area: str, start: date, end: date, cats: tuple[str, ...]
) -> pd.DataFrame:
    inc = c.incidents(_v, area, start, end)
    inc = inc[inc[Col.CATEGORY].isin(cats)]
    sev = c.resources().settings
    inc = inc.assign(w=inc[Col.CATEGORY].map(sev.severity_of))
    return mapping.aggregate_points(inc, weight="w", label=Col.LOCATION)


@st.cache_data(show_spinner=False, max_entries=16)
def visit_points(_v: int, area: str, start: date, end: date) -> pd.DataFrame:
    return mapping.aggregate_points(c.visits(_v, area, start, end), decimals=4)


def build_map(area: str, start: date, end: date, cats: tuple[str, ...], layers: list[str]):
    res = c.resources()
    v = c.version()
    bounds = None
    if area == c.ALL:
        minx, miny, maxx, maxy = res.areas_gdf.total_bounds
        center, zoom = ((miny + maxy) / 2, (minx + maxx) / 2), 9
        bounds = [[miny, minx], [maxy, maxx]]
    else:
        a = res.areas.get(area)
        center, zoom = (a.view_lat, a.view_lon), a.view_zoom
        minx, miny, maxx, maxy = a.geometry.bounds
        bounds = [[miny, minx], [maxy, maxx]]
    m = mapping.offline_map(
        center=center,
        zoom=zoom,
        tile_url=res.settings.tile_url,
        tile_attribution=res.settings.tile_attribution,
        assets=res.assets,
        attribution=c.ATTRIBUTION_POLICE,
    )
    if bounds:
        m.fit_bounds(bounds, padding=(30, 30))
    legend = []
    if "boundaries" in layers:
        mapping.add_boundaries(m, res.areas_gdf)
        legend.append(("#ffffff", "Operating area (dashed outline)"))
    pts = incident_points(v, area, start, end, cats)
    if "heat" in layers:
        mapping.add_heat(m, pts, show=True, assets=res.assets)
        legend.append(("#ff8c00", "Heat: severity-weighted incidents"))
    if "incidents" in layers:
        mapping.add_points(
            m, pts, name="Incidents", colour=mapping.PALETTE["incident"], assets=res.assets
        )
        legend.append((mapping.PALETTE["incident"], "Incidents (number = how many)"))
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
        legend.append((mapping.PALETTE["visit"], "Visits made"))
    if "addresses" in layers:
        addr = c.addresses(v, area, end)
        addr = addr[(addr[Col.STATUS] != "none") | addr[Col.SAFE_ALERT] | addr[Col.PROTECTION_PLAN]]
        if len(addr):
            mapping.add_addresses(m, c.to_gdf(addr))
        for status in ("suspected", "confirmed", "resolved", "none"):
            legend.append((mapping.PALETTE[status], CUCKOOING_LABELS[status]))
    mapping.add_legend(m, legend, title="Legend")
    return m, pts


user = c.guard(Role.OFFICER, Role.ADMIN)
st.title("Map")
with st.sidebar:
    area = c.area_choice("map_area")
    period = c.period_choice("map_period")
    cat_options = list(CATEGORY_LABELS)
    cats = st.multiselect(
        "Incident categories",
        cat_options,
        default=[],
        format_func=CATEGORY_LABELS.get,
        key="map_cats",
        placeholder="All categories",
    )
    cats = cats or cat_options
    layers = st.pills(
        "Layers",
        list(LAYERS),
        selection_mode="multi",
        default=DEFAULT_LAYERS,
        format_func=LAYERS.get,
        key="map_layers",
    )
if period is not None:
    start, end = period
    c.audit_view("map", area, start, end)
    m, pts = build_map(area, start, end, tuple(sorted(cats)), list(layers or []))
    left, right = st.columns([3, 1.25])
    with left:
        st_folium(m, height=560, use_container_width=True, returned_objects=[], key="main_map")
        st.caption(
            f"{c.ATTRIBUTION_POLICE} (where police data are loaded). Base map: "
            + (
                "configured tile server."
                if c.resources().settings.tile_url
                else "none (offline); set a tile URL in settings.toml to show streets."
            )
        )
    with right:
        n = int(pts["n"].sum()) if len(pts) else 0
        st.metric("Incidents in the period", f"{n:,}")
        st.metric("Distinct locations", f"{len(pts):,}")
        if len(pts):
            st.markdown("**Busiest locations**")
            top_pts = pts.head(10)[["label", "n"]].rename(
                columns={"label": "Location", "n": "Incidents"}
            )
            top_pts["Location"] = top_pts["Location"].str.removeprefix("On or near ")
            st.dataframe(
                top_pts,
                hide_index=True,
                width="stretch",
                column_config={
                    "Location": st.column_config.TextColumn(width=150),
                    "Incidents": st.column_config.NumberColumn(width=70),
                },
            )
