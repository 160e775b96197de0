"""clic-geo dashboard: hotspots, tomorrow's visits and the partnership's figures.

Run with ``clic-geo serve`` (or ``./scripts/run.sh`` for the demo). Pages live in
``app_pages/``; each calls the ``clic_geo`` library and shows the result.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app_pages.common import COMPACT_CSS, demo_banner, resources

st.set_page_config(
    page_title="clic-geo · 1-CLIC",
    page_icon=str(Path(__file__).parent / "app_pages" / "favicon.png"),
    layout="wide",
)

with st.spinner("Opening the store (the first start of the demo prepares its data)…"):
    res = resources()

pages = [
    st.Page(
        "app_pages/map_page.py", title="Map", icon=":material/map:", url_path="map", default=True
    ),
    st.Page(
        "app_pages/trends_page.py", title="Trends", icon=":material/trending_up:", url_path="trends"
    ),
    st.Page("app_pages/data_page.py", title="Data", icon=":material/database:", url_path="data"),
]
st.markdown(COMPACT_CSS, unsafe_allow_html=True)  # a constant: layout only, no data
nav = st.navigation(pages)
st.sidebar.caption("1-CLIC · County Lines Informed Cumbria")
demo_banner()
nav.run()
