"""The map page's caching holds, and its map stays small (counts and sizes, not timings).

Every hotspot clustering run logs one debug line (``clic_geo.hotspots.engine``), and every
recommended map one more (``clic_geo.hotspots.forecast``: a map is one clustering per radius it
tries, then its own); the page's cached loaders must not repeat a map or a
clustering whose inputs did not change. The speed
itself is measured by ``benchmarks/bench_map_page.py``, in a real browser.
"""

from __future__ import annotations

import logging
from datetime import date

import pandas as pd
import streamlit as st

from clic_geo.settings import load_settings
from clic_geo.store import Store
from tests.test_app import app_env, demo_store, run  # noqa: F401 - fixtures

RUN_LINE = "hotspot clustering run"
MAP_LINE = "hotspot map built"


def runs(caplog) -> int:
    return sum(RUN_LINE in r.getMessage() for r in caplog.records)


def maps(caplog) -> int:
    return sum(MAP_LINE in r.getMessage() for r in caplog.records)


def map_payload(at) -> bytes:
    maps = [el for el in at.main if "streamlit_folium.st_folium" in str(getattr(el, "proto", ""))]
    assert len(maps) == 1, "the map component was not sent"
    return maps[0].proto.json_args.encode()


def last_12_months() -> tuple[date, date]:
    store = Store.open(load_settings())
    _first, end = store.date_span()
    store.close()
    return (pd.Timestamp(end) - pd.DateOffset(months=12) + pd.Timedelta(days=1)).date(), end


def test_a_filter_change_reclusters_only_what_changed(app_env, caplog) -> None:  # noqa: F811
    caplog.set_level(logging.DEBUG, logger="clic_geo.hotspots.engine")
    caplog.set_level(logging.DEBUG, logger="clic_geo.hotspots.forecast")
    st.cache_data.clear()  # earlier tests in this process may have built the same maps
    at = run()
    assert not at.exception
    # the default map and its trust verdict were computed when the data changed
    # (tests/test_precompute.py): the page reads them
    assert maps(caplog) == 0 and runs(caplog) == 0
    assert not any("Not tested yet" in x.value for x in at.caption)
    # other categories: their map is computed now, their backtest when asked for
    at.selectbox(key="map_preset").select("All incidents").run()
    assert not at.exception
    assert maps(caplog) == 1
    assert any("Not tested yet" in x.value for x in at.caption)
    n = runs(caplog)
    at.button(key="map_trust_go").click().run()
    assert not at.exception
    assert runs(caplog) > n + 2, "the trust backtest clusters each past month"
    assert maps(caplog) == 1
    assert not any("Not tested yet" in x.value for x in at.caption)
    n = runs(caplog)
    at.pills(key="map_layers").set_value(["hotspots", "incidents", "heat"]).run()
    assert not at.exception
    assert runs(caplog) == n, "toggling a layer re-ran a clustering"
    at.selectbox(key="map_area").select("barrow").run()
    assert maps(caplog) == 2, "a new area: its hotspots (its backtest when asked)"
    m, n = maps(caplog), runs(caplog)
    start, end = last_12_months()
    at.date_input(key="map_period").set_value((start, end)).run()
    assert maps(caplog) == m + 1, "a new period: its hotspots only"
    assert runs(caplog) <= n + 4, "a new map: at most one clustering per radius tried, and one"
    m = maps(caplog)
    at.selectbox(key="map_area").select("__all__").run()
    # all Cumbria was tested: its verdict is shown again without re-running the backtest
    assert not any("Not tested yet" in x.value for x in at.caption)
    at.selectbox(key="map_area").select("barrow").run()
    n = runs(caplog)
    at.pills(key="map_layers").set_value(["hotspots", "boundaries", "incidents"]).run()
    assert not at.exception
    assert runs(caplog) == n, "a layer toggle re-ran a clustering"
    # all Cumbria over these 12 months is new (one map); Barrow and its layers are not
    assert maps(caplog) == m + 1


def test_the_map_of_one_area_over_12_months_is_under_1_mb(app_env) -> None:  # noqa: F811
    at = run()
    at.selectbox(key="map_area").select("barrow").run()
    at.date_input(key="map_period").set_value(last_12_months()).run()
    assert not at.exception
    payload = map_payload(at)
    assert b"leaflet.markercluster.js" in payload  # incidents are clustered
    assert len(payload) < 1_000_000, f"the map sent is {len(payload):,} bytes"
