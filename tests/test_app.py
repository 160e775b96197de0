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

from app_pages.common import SESSION_KEY
from clic_geo.access.auth import LOGIN_FAILED, AuthPolicy, login, logout
from clic_geo.demo.seeding import seed_demo
from clic_geo.geo.areas import load_areas
from clic_geo.ingest.importer import import_file
from clic_geo.reporting.derived_service import refresh
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
    # as `clic-geo serve --demo` does: the hotspot maps and trust tests pages read
    refresh(store, load_areas(s.areas_dir))
    store.close()
    return d


@pytest.fixture
def app_env(demo_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "store"
    shutil.copytree(demo_store, d)
    monkeypatch.setenv("CLIC_DATA_DIR", str(d))
    monkeypatch.setenv("CLIC_DEMO", "1")
    # Every test gets its own copy of one seeded store, so cached *data* (keyed by the
    # store's data version, which a write changes) stays valid between tests; the
    # opened store (a cached resource) must not.
    st.cache_resource.clear()
    yield d
    st.cache_resource.clear()


PASSWORDS = {
    "demo-officer": "officer-demo-1clic",
    "demo-admin": "admin-demo-1clic",
    "demo-housing": "housing-demo-1clic",
    "demo-nhs": "nhs-demo-1clic",
}


def run(page: str | None = None, *, as_user: str | None = "demo-officer") -> AppTest:
    """Run the app signed in as ``as_user`` (a demo account), optionally on ``page``."""
    at = AppTest.from_file(APP, default_timeout=120).run()  # creates the demo accounts
    if as_user:
        settings = load_settings()
        store = Store.open(settings)
        at.session_state[SESSION_KEY] = login(
            store, as_user, PASSWORDS[as_user], policy=AuthPolicy.from_settings(settings)
        )
        store.close()
        at.run()
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
    at.selectbox(key="map_preset").select("Choose categories…").run()
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


def _not_a_page(at: AppTest, page: str) -> bool:
    """True if ``page`` is not in this session's navigation (AppTest refuses to switch)."""
    try:
        at.switch_page(page)
    except ValueError as exc:
        return "Could not find a navigation page" in str(exc)
    return False


def test_empty_store_without_demo_has_no_demo_accounts(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CLIC_DATA_DIR", str(tmp_path / "empty"))
    st.cache_resource.clear()
    st.cache_data.clear()
    at = run(as_user=None)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Sign in"
    assert not at.info  # no demo accounts table
    at.text_input(key="login_user").input("demo-officer")
    at.text_input(key="login_password").input("officer-demo-1clic")
    at.button[0].click().run()
    assert at.title[0].value == "Sign in"
    assert [e.value for e in at.error] == [LOGIN_FAILED]
    st.cache_resource.clear()


def test_signed_out_users_only_see_the_sign_in_page(app_env) -> None:
    at = run(as_user=None)
    assert at.title[0].value == "Sign in"
    assert any("Demo mode" in i.value for i in at.info)
    for page in [*PAGES, "app_pages/partner_page.py", "app_pages/audit_page.py"]:
        assert _not_a_page(at, page), page


def test_sign_in_with_the_form_and_a_wrong_password(app_env) -> None:
    at = run(as_user=None)
    at.text_input(key="login_user").input("demo-officer")
    at.text_input(key="login_password").input("wrong password!")
    at.button[0].click().run()
    assert at.title[0].value == "Sign in"
    assert [e.value for e in at.error] == [LOGIN_FAILED]
    at.text_input(key="login_user").input("demo-officer")
    at.text_input(key="login_password").input("officer-demo-1clic")
    at.button[0].click().run()
    assert at.title[0].value == "Map"


def test_partner_sees_only_partnership_figures(app_env) -> None:
    at = run(as_user="demo-housing")
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Partnership figures"
    assert at.selectbox(key="partner_area").options == ["Barrow-in-Furness", "Kendal"]
    for page in [*PAGES, "app_pages/audit_page.py"]:
        assert _not_a_page(at, page), page


def test_officer_pages_and_partner_preview(app_env) -> None:
    at = run("app_pages/partner_page.py")
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="partner_org").value == "demo-housing"
    at.selectbox(key="partner_org").select("demo-nhs").run()
    assert at.selectbox(key="partner_area").options == ["Barrow-in-Furness", "Carlisle"]
    at.switch_page("app_pages/audit_page.py").run()
    assert not at.exception
    assert at.title[0].value == "Audit log"


def test_ended_session_sends_back_to_sign_in(app_env) -> None:
    at = run()
    assert at.title[0].value == "Map"
    settings = load_settings()
    store = Store.open(settings)
    logout(store, at.session_state[SESSION_KEY])  # e.g. signed out in another tab
    store.close()
    at.run()
    assert at.title[0].value == "Sign in"
    assert any("ended" in w.value or "expired" in w.value for w in at.warning)


def test_admin_page_adds_a_user_who_can_sign_in(app_env) -> None:
    at = run("app_pages/admin_page.py", as_user="demo-admin")
    assert not at.exception, [e.value for e in at.exception]
    at.text_input(key="add_username").input("new.officer")
    at.text_input(key="add_display").input("New Officer")
    at.selectbox(key="add_role").select("officer")
    at.selectbox(key="add_org").select("demo-1clic")
    at.text_input(key="add_pw").input("a long enough password")
    next(b for b in at.button if b.label == "Add user").click().run()
    assert any("User added" in s.value for s in at.success), [e.value for e in at.error]
    store = Store.open(load_settings())
    session = login(
        store,
        "new.officer",
        "a long enough password",
        policy=AuthPolicy.from_settings(load_settings()),
    )
    store.close()
    assert session.user.role == "officer"


def test_only_admins_reach_the_admin_page(app_env) -> None:
    for who in ("demo-officer", "demo-housing"):
        at = run(as_user=who)
        assert _not_a_page(at, "app_pages/admin_page.py"), who


def test_data_page_shows_how_much_to_trust_the_map(app_env) -> None:
    at = run("app_pages/data_page.py")
    assert not at.exception, [e.value for e in at.exception]
    frames = [df.value for df in at.dataframe]
    trust = next(f for f in frames if "Months tested" in f.columns)
    assert trust["Area"].tolist()[0] == "All Cumbria"
    assert (trust["Months tested"] >= 6).all()


def test_an_import_refreshes_what_the_pages_show(app_env, tmp_path) -> None:
    at = run()
    at.selectbox(key="map_area").select("barrow").run()
    at.date_input(key="map_period").set_value((date(2026, 10, 1), date(2026, 10, 31))).run()
    before = int(at.metric[0].value.replace(",", ""))
    f = tmp_path / "two.csv"
    f.write_text(
        "id,date,type,lat,lon\nX1,2026-10-05,drug supply,54.115,-3.227\n"
        "X2,2026-10-06,weapons,54.116,-3.228\n"
    )
    settings = load_settings()
    store = Store.open(settings)
    assert import_file(f, "incidents", settings=settings, store=store).accepted == 2
    store.close()
    at.run()
    assert int(at.metric[0].value.replace(",", "")) == before + 2


def test_single_sign_on_maps_to_a_provisioned_user(app_env) -> None:
    """As far as it can be tested without a live identity provider: AppTest fakes the
    signed-in identity (``st.user``) and the ``[auth]`` secrets."""
    from clic_geo.access.accounts import create_user

    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets["auth"] = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "x" * 32,
        "client_id": "clic",
        "client_secret": "s",
        "server_metadata_url": "https://idp.example/.well-known/openid-configuration",
    }
    at.run()
    assert any(b.label == "Sign in with your organisation's account" for b in at.button)
    store = Store.open(load_settings())
    create_user(
        store,
        "sso.officer",
        role="officer",
        organisation="demo-1clic",
        actor="cli",
        email="sso.officer@cumbria.police.example",
    )
    store.close()
    at.user = {
        "is_logged_in": True,
        "iss": "https://idp.example",
        "sub": "abc-123",
        "email": "sso.officer@cumbria.police.example",
        "email_verified": True,
    }
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Map"
    # an identity nobody provisioned gets nothing
    other = AppTest.from_file(APP, default_timeout=120)
    other.secrets["auth"] = dict(at.secrets["auth"])
    other.user = {
        "is_logged_in": True,
        "iss": "https://idp.example",
        "sub": "zzz",
        "email": "stranger@example.org",
        "email_verified": True,
    }
    other.run()
    assert other.title[0].value == "Sign in"
    assert [e.value for e in other.error] == [LOGIN_FAILED]
