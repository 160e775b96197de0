"""The naive reference for ``bench_map_page.py``: one folium marker per incident.

What a first Streamlit + folium dashboard usually does: read the area's incidents
for the period on every run, add one ``folium.Marker`` with a popup per incident,
and show the map with ``st_folium``'s default arguments. It uses the same offline
map assets as the dashboard (so it draws with no internet) and the same incidents
as the dashboard's default map (county-lines categories), but no sign-in, no
hotspots, no caching, no clustering.

Run by the benchmark with ``BENCH_AREA``, ``BENCH_START`` and ``BENCH_END``
(ISO dates) and ``CLIC_DATA_DIR`` in the environment.
"""

from __future__ import annotations

import html
import os
from datetime import date

import folium
import streamlit as st
from streamlit_folium import st_folium

from clic_geo.geo.areas import load_areas
from clic_geo.reporting.maps import offline_map
from clic_geo.schema import CATEGORY_LABELS, COUNTY_LINES_CATEGORIES
from clic_geo.settings import load_settings
from clic_geo.store import Store

st.set_page_config(page_title="naive map", layout="wide")
settings = load_settings()
store = Store.open(settings)
area = os.environ.get("BENCH_AREA") or None
start = date.fromisoformat(os.environ["BENCH_START"])
end = date.fromisoformat(os.environ["BENCH_END"])
inc = store.incidents(area=area, start=start, end=end)
inc = inc[inc["category"].isin(COUNTY_LINES_CATEGORIES)]
areas = load_areas(settings.areas_dir)
if area:
    a = areas.get(area)
    m = offline_map(center=(a.view_lat, a.view_lon), zoom=a.view_zoom)
else:
    minx, miny, maxx, maxy = areas.to_gdf().total_bounds
    m = offline_map(center=((miny + maxy) / 2, (minx + maxx) / 2), zoom=9)
for row in inc.itertuples(index=False):
    folium.Marker(
        [row.latitude, row.longitude],
        popup=html.escape(
            f"{CATEGORY_LABELS.get(row.category, row.category)}, {row.occurred_at:%d/%m/%Y}"
        ),
    ).add_to(m)
st.title("Incidents")
st_folium(m, height=560, use_container_width=True)
st.caption(f"{len(inc):,} incidents")
