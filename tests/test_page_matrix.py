"""Every page, for every role, on every shape of store: no traceback, a plain empty state.

Issue 9 §1. The stores (tests/store_shapes.py) are built once per session through the
ordinary importer; the police.uk one imports the real months from ``../shared/data``
(marked slow: its Data page runs the trust backtest on real volumes).
AppTest does not render the map; the browser journey (test_browser_pages.py) does.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app_pages.common import SESSION_KEY
from clic_geo.settings import REPO_ROOT
from tests import store_shapes

APP = str(REPO_ROOT / "app.py")
TITLES = {
    "map_page": "Map",
    "plan_page": "Plan tomorrow",
    "today_page": "Today's route",
    "trends_page": "Trends",
    "data_page": "Data",
    "partner_page": "Partnership figures",
    "audit_page": "Audit log",
    "admin_page": "Admin",
}
OFFICER_PAGES = [
    "map_page",
    "plan_page",
    "today_page",
    "trends_page",
    "data_page",
    "partner_page",
    "audit_page",
]
ROLE_PAGES = {
    "officer": OFFICER_PAGES,
    "admin": [*OFFICER_PAGES, "admin_page"],
    "partner": ["partner_page"],
}
NO_INCIDENTS = {"empty", "addresses", "visits", "lines"}
#: page -> the shapes on which it must show an empty state naming what to import
EMPTY_STATE = {
    "map_page": NO_INCIDENTS,
    "trends_page": NO_INCIDENTS,
    "data_page": NO_INCIDENTS,
    "plan_page": {"empty", "lines"},
    "partner_page": NO_INCIDENTS,
}
SHAPES = ["empty", "addresses", "visits", "lines", "gaps", "mix", "police"]


def _cases():
    """Shape-major (each store's cached data is reused by its pages). Slow: the police.uk
    store, and an admin on the officer's pages (the same pages; the default suite keeps
    the admin's own page)."""
    for shape in SHAPES:
        for role, pages in ROLE_PAGES.items():
            for page in pages:
                slow = shape == "police" or (role == "admin" and page != "admin_page")
                marks = [pytest.mark.slow] if slow else []
                yield pytest.param(shape, role, page, marks=marks, id=f"{shape}-{role}-{page}")


@pytest.fixture(scope="session")
def stores(tmp_path_factory):
    """Builds each shape of store once, on first use: ``stores(shape) -> data dir``."""
    built: dict[str, Path] = {}
    root = tmp_path_factory.mktemp("shapes")

    def get(shape: str) -> Path:
        if shape not in built:
            built[shape] = store_shapes.build(root / shape, shape)
        return built[shape]

    return get


_current: list[str] = []


@pytest.fixture
def use_store(stores, monkeypatch: pytest.MonkeyPatch):
    """Point the app at a shape's store; cached data is dropped when the store changes
    (the loaders are keyed by data version, which two stores may share)."""

    def use(shape: str) -> Path:
        d = stores(shape)
        monkeypatch.setenv("CLIC_DATA_DIR", str(d))
        st.cache_resource.clear()
        if _current != [shape]:
            st.cache_data.clear()
            _current[:] = [shape]
        return d

    yield use
    st.cache_resource.clear()


def open_page(d: Path, role: str, page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300).run()
    at.session_state[SESSION_KEY] = store_shapes.sign_in(d, role)
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py").run()
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize(("shape", "role", "page"), list(_cases()))
def test_page_on_store_shape(use_store, shape: str, role: str, page: str) -> None:
    at = open_page(use_store(shape), role, page)
    assert_clean(at)
    assert at.title[0].value == TITLES[page]
    if shape in EMPTY_STATE.get(page, set()):
        infos = " ".join(i.value for i in at.info)
        assert "import" in infos.lower(), (page, shape, infos)


@pytest.mark.parametrize("shape", ["empty", "gaps"])
def test_sign_in_page_on_store_shape(use_store, shape: str) -> None:
    use_store(shape)
    at = AppTest.from_file(APP, default_timeout=300).run()
    assert_clean(at)
    assert at.title[0].value == "Sign in"


def test_a_period_with_no_data(use_store) -> None:
    """June and July 2026 fall in the gap between the store's two months."""
    at = open_page(use_store("gaps"), "officer")
    at.selectbox(key="map_area").select("barrow").run()
    at.date_input(key="map_period").set_value((date(2026, 6, 1), date(2026, 7, 31))).run()
    assert_clean(at)
    assert at.metric[0].value == "0"
    assert any("No incidents of these categories" in i.value for i in at.info)
    at.switch_page("app_pages/trends_page.py").run()
    at.date_input(key="trends_period").set_value((date(2026, 6, 1), date(2026, 7, 31))).run()
    assert_clean(at)
    assert at.metric[0].label == "Vulnerability visits"


@pytest.mark.parametrize("page", ["map_page", "plan_page", "trends_page"])
def test_an_area_with_no_data(use_store, page: str) -> None:
    """Every record of the store is in Barrow; Carlisle has none."""
    at = open_page(use_store("mix"), "officer", page)
    key = {"map_page": "map_area", "plan_page": "plan_area", "trends_page": "trends_area"}[page]
    at.selectbox(key=key).select("carlisle").run()
    assert_clean(at)
    infos = " ".join(i.value for i in at.info)
    assert "import" in infos.lower(), infos


def test_partner_on_an_area_with_no_data(use_store) -> None:
    at = open_page(use_store("mix"), "partner")
    at.selectbox(key="partner_area").select("kendal").run()
    assert_clean(at)
    assert at.title[0].value == "Partnership figures"
