"""Saved plans on the dashboard (AppTest): plan, reopen in a new session, re-plan, phone view.

A fresh AppTest run with a new sign-in is a new browser session, as after a reload:
nothing of the first session's state is in it, so what it shows came from the store.
"""

from __future__ import annotations

from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from app_pages.common import SESSION_KEY, USER_KEY
from clic_geo.access.audit_log import read_audit
from clic_geo.access.auth import AuthPolicy, login, validate_session
from clic_geo.settings import REPO_ROOT, load_settings
from clic_geo.store import Store
from tests import test_app
from tests.test_app import PASSWORDS, run
from tests.test_plan_page import DAY, _ok, _stop_list, plan_page

demo_store = test_app.demo_store
app_env = test_app.app_env

TODAY_PAGE = "app_pages/today_page.py"


def _audit(action: str):
    store = Store.open(load_settings())
    try:
        return read_audit(store, "cli", action=action)
    finally:
        store.close()


def _captions(at: AppTest) -> str:
    return "\n".join(x.value.replace("\\", "") for x in at.caption)  # markdown escapes off


def _links(at: AppTest) -> list[str]:
    return [e.proto.url for e in at.get("link_button")]


def test_a_saved_plan_is_reopened_replanned_and_shown_on_the_phone(app_env) -> None:
    first = plan_page()
    assert first.button(key="plan_go").label == "Plan the route"
    first.button(key="plan_go").click().run()
    _ok(first)
    plan = first.session_state["clic_plan"]
    assert (plan.version, plan.versions, plan.made_by) == (1, 1, "demo-officer")
    assert "Saved by demo-officer at" in _captions(first)

    # a new session (a reload, or the phone): the same plan, from the store
    again = plan_page()
    _ok(again)
    reopened = again.session_state["clic_plan"]
    assert reopened.route == plan.route and reopened.version == 1
    assert _stop_list(again).equals(_stop_list(first))
    assert again.button(key="plan_go").label == "Re-plan the route"
    # re-plan with less time: version 2, the first kept
    again.number_input(key="plan_hours").set_value(2.0).run()
    again.button(key="plan_go").click().run()
    _ok(again)
    replanned = again.session_state["clic_plan"]
    assert (replanned.version, replanned.versions) == (2, 2)
    assert replanned.route.total_minutes <= 120 < plan.route.minutes_available
    assert "version 2 of 2; 1 earlier version kept" in _captions(again)

    # the phone view, in a third session: the newest plan, every stop with a geo: link
    phone = run(TODAY_PAGE)
    _ok(phone)
    assert not phone.error, [e.value for e in phone.error]
    assert phone.title[0].value == "Today's route"
    # it opens the earliest plan from today on; the test's demo days are in the past
    assert phone.date_input(key="today_day").value == date.today()
    assert "No saved plan" in phone.info[0].value and not _links(phone)
    phone.selectbox(key="today_area").set_value("barrow")
    phone.date_input(key="today_day").set_value(DAY).run()
    _ok(phone)
    route = replanned.route
    links = _links(phone)
    assert len(links) == len(route.stops) + 2  # start, every stop, back
    for s, link in zip(route.stops, links[1:-1], strict=True):
        assert (
            link == f"geo:{s.latitude:.6f},{s.longitude:.6f}?q={s.latitude:.6f},{s.longitude:.6f}"
        )
    shown = "\n".join(m.value for m in phone.markdown)
    for s in route.stops:
        assert f"**{s.order} · {s.arrive_at:%H:%M} · " in shown
    # the Map page of a new session has the saved route as its layer
    phone.switch_page("app_pages/map_page.py").run()
    _ok(phone)
    assert "Planned route" in list(phone.button_group(key="map_layers").options)
    assert "route" in phone.button_group(key="map_layers").value

    saves, opens = _audit("save_plan"), _audit("open_plan")
    assert [d["version"] for d in saves["detail"]] == [2, 1]  # newest first
    assert set(saves["actor"]) == {"demo-officer"} and set(saves["area_id"]) == {"barrow"}
    # opened in the second session (v1) and the phone session (v2): once each
    assert sorted(d["version"] for d in opens["detail"]) == [1, 2]


def test_partners_cannot_reach_the_phone_view(app_env) -> None:
    at = run(as_user="demo-housing")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(TODAY_PAGE)
    settings = load_settings()
    store = Store.open(settings)
    session = login(
        store, "demo-housing", PASSWORDS["demo-housing"], policy=AuthPolicy.from_settings(settings)
    )
    partner = validate_session(store, session)
    store.close()
    page = AppTest.from_file(str(REPO_ROOT / TODAY_PAGE), default_timeout=60)
    page.session_state[SESSION_KEY] = session
    page.session_state[USER_KEY] = partner
    page.run()
    _ok(page)
    assert [e.value for e in page.error] == ["Your role does not give access to this page."]
    assert not page.title and not _links(page)
