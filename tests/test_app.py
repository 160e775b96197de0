"""Every page of the dashboard runs, and its main flows work (Streamlit AppTest).

AppTest does not render the map component; the browser tests check that it draws.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from clic_geo.seeding import seed_demo
from clic_geo.settings import REPO_ROOT, load_settings
from clic_geo.store import Store
from tests.conftest import TODAY

APP = str(REPO_ROOT / "app.py")
PAGES = ["app_pages/map_page.py", "app_pages/trends_page.py", "app_pages/data_page.py"]


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> Path:
    """A store seeded with the demo world once for the whole session (copy before writing)."""
    d = tmp_path_factory.mktemp("demo") / "store"
    s = load_settings(d)
    store = Store.open(s)
    seed_demo(s, store, today=TODAY)
    store.close()
    return d


@pytest.fixture
def app_env(demo_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "store"
    shutil.copytree(demo_store, d)
    monkeypatch.setenv("CLIC_DATA_DIR", str(d))
    monkeypatch.setenv("CLIC_DEMO", "1")
    st.cache_resource.clear()
    st.cache_data.clear()
    yield d
    st.cache_resource.clear()
    st.cache_data.clear()


def run(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    if page:
        at.switch_page(page).run()
    return at


@pytest.mark.parametrize("page", PAGES, ids=["map", "trends", "data"])
def test_every_page_runs(app_env, page: str) -> None:
    at = run(page)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value in {"Map", "Trends", "Data"}


def test_demo_mode_is_announced(app_env) -> None:
    at = run()
    assert any("Demo mode" in w.value for w in at.sidebar.warning)


def test_map_area_and_period_filters(app_env) -> None:
    at = run()
    total = at.metric[0].value
    at.selectbox(key="map_area").select("kendal").run()
    assert not at.exception
    kendal = at.metric[0].value
    assert int(kendal.replace(",", "")) < int(total.replace(",", ""))
    at.date_input(key="map_period").set_value((date(2026, 10, 1), date(2026, 10, 31))).run()
    october = int(at.metric[0].value.replace(",", ""))
    assert 0 < october < int(kendal.replace(",", ""))
    at.multiselect(key="map_cats").set_value(["threat_to_life"]).run()
    assert int(at.metric[0].value.replace(",", "")) < october
    # the choice of area follows the user to other pages
    at.switch_page("app_pages/trends_page.py").run()
    assert at.selectbox(key="trends_area").value == "kendal"


def test_map_sends_the_map_with_local_assets_only(app_env) -> None:
    at = run()
    maps = [
        el
        for el in at.main
        if getattr(el, "type", "") == "component_instance"
        or "st_folium" in str(getattr(el, "proto", ""))[:2000]
    ]
    assert maps, "the map component was not sent"
    payload = str(maps[0].proto)
    assert "/app/static/vendor/leaflet/leaflet.js" in payload
    assert "cdn.jsdelivr" not in payload and "cdnjs" not in payload and "unpkg" not in payload


def test_trends_figures_and_before_after(app_env) -> None:
    at = run("app_pages/trends_page.py")
    at.selectbox(key="trends_area").select("west_cumbria").run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert labels[:4] == [
        "Vulnerability visits",
        "Referrals to partners",
        "Active county lines at the end",
        "Threats to life",
    ]
    # the before/after split defaults to the area's partnership start (2025-09)
    assert at.date_input(key="trends_split_west_cumbria").value == date(2025, 9, 1)


def test_data_page_shows_the_store(app_env) -> None:
    at = run("app_pages/data_page.py")
    values = {m.label: m.value for m in at.metric}
    assert int(values["Incidents"].replace(",", "")) > 10_000
    at.button[0].click().run()  # "Import" with no file chosen
    assert any("Choose a file first" in e.value for e in at.error)


def test_empty_store_without_demo(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CLIC_DATA_DIR", str(tmp_path / "empty"))
    st.cache_resource.clear()
    st.cache_data.clear()
    for page in PAGES:
        at = run(page)
        assert not at.exception, [e.value for e in at.exception]
    st.cache_resource.clear()
