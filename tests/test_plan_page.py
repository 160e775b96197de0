"""The "Plan tomorrow" page (Streamlit AppTest): candidates, pins, the route, outcomes.

The demo world is seeded as of ``TODAY``; the page plans ``TODAY + 1`` in Barrow.
AppTest does not render the map; ``test_browser_plan.py`` checks that it draws.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from app_pages.common import SESSION_KEY, USER_KEY
from clic_geo.access.audit_log import read_audit
from clic_geo.access.auth import AuthPolicy, login, validate_session
from clic_geo.settings import REPO_ROOT, load_settings
from clic_geo.store import Store
from tests import test_app
from tests.conftest import TODAY
from tests.test_app import PASSWORDS, run

# the App tests' fixtures: a copy of one demo store seeded as of TODAY, per test
demo_store = test_app.demo_store
app_env = test_app.app_env

PAGE = "app_pages/plan_page.py"
DAY = TODAY + timedelta(days=1)


def _store() -> Store:
    return Store.open(load_settings())


def _version() -> int:
    store = _store()
    try:
        return store.data_version()
    finally:
        store.close()


def plan_page(as_user: str = "demo-officer", area: str = "barrow") -> AppTest:
    at = run(PAGE, as_user=as_user)
    at.selectbox(key="plan_area").select(area).run()
    at.date_input(key="plan_day").set_value(DAY).run()
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _pin(at: AppTest, ids: list[str], column: str = "Must visit") -> None:
    """Tick ``column`` for candidates ``ids`` in the candidate editor (as a click would)."""
    key = f"plan_pick_barrow_{DAY:%Y%m%d}_{_version()}"
    rows = list(at.data_editor(key=key).value.index)
    edits = {rows.index(i): {column: True} for i in ids}
    at.session_state[key] = {"edited_rows": edits, "added_rows": [], "deleted_rows": []}


def _stop_list(at: AppTest):
    """The ordered stop list (the read-only table with an arrival time column)."""
    tables = [d.value for d in at.dataframe if d.editing_mode == "read_only"]
    return next(t for t in tables if "Arrive" in t.columns)


def _candidate_ids(at: AppTest) -> list[str]:
    key = f"plan_pick_barrow_{DAY:%Y%m%d}_{_version()}"
    return list(at.data_editor(key=key).value.index)


@pytest.mark.parametrize("who", ["demo-officer", "demo-admin"])
def test_page_runs_for_officers_and_admins(app_env, who: str) -> None:
    at = plan_page(who)
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Plan tomorrow"
    table = at.data_editor[0].value
    assert len(table) > 10
    assert {"Must visit", "Leave out", "Priority", "Why"} <= set(table.columns)
    assert (table["Why"].str.len() > 0).all()  # every candidate says why
    assert table["Priority"].is_monotonic_decreasing
    # viewing the area's candidates is record-level data: logged
    store = _store()
    log = read_audit(store, "cli", action="view_records")
    store.close()
    assert ((log["actor"] == who) & (log["subject"] == "plan") & (log["area_id"] == "barrow")).any()


def test_partners_cannot_reach_or_run_the_page(app_env) -> None:
    at = run(as_user="demo-housing")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)
    # and if the page itself is run for a partner, its guard stops it before any data
    settings = load_settings()
    store = Store.open(settings)
    session = login(
        store, "demo-housing", PASSWORDS["demo-housing"], policy=AuthPolicy.from_settings(settings)
    )
    partner = validate_session(store, session)
    store.close()
    page = AppTest.from_file(str(REPO_ROOT / PAGE), default_timeout=60)
    page.session_state[SESSION_KEY] = session
    page.session_state[USER_KEY] = partner
    page.run()
    _ok(page)
    assert [e.value for e in page.error] == ["Your role does not give access to this page."]
    assert not page.title and not page.data_editor
    store = _store()
    log = read_audit(store, "cli", action="view_records")
    store.close()
    assert (log["outcome"] == "denied").any()


def test_plan_a_day(app_env) -> None:
    at = plan_page()
    assert "clic_plan" not in at.session_state
    at.button(key="plan_go").click().run()
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    plan = at.session_state["clic_plan"]
    route = plan.route
    assert plan.area.id == "barrow" and plan.request.day == DAY
    assert len(route.stops) >= 2
    assert route.total_minutes <= 4 * 60
    stops = _stop_list(at)
    assert list(stops["#"]) == [s.order for s in route.stops]
    assert list(stops["Arrive"]) == [f"{s.arrive_at:%H:%M}" for s in route.stops]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Stops"] == str(len(route.stops))
    assert metrics["Walk km"] == f"{route.total_walk_m / 1000:.1f}"
    # every candidate is a stop or left out with a reason
    assert len(route.stops) + len(route.dropped) == len(at.data_editor[0].value)
    assert all(d.reason for d in route.dropped)
    assert [b.label for b in at.get("download_button")] == [
        "Route sheet (printable A4)",
        "GPX for a phone",
        "CSV (spreadsheet)",
    ]
    store = _store()
    log = read_audit(store, "cli", action="plan")
    store.close()
    assert len(log) == 1 and log.iloc[0]["detail"]["stops"] == len(route.stops)
    # the Map page draws it as its "Planned route" layer
    at.switch_page("app_pages/map_page.py").run()
    _ok(at)
    assert "Planned route" in at.button_group(key="map_layers").options
    at.button_group(key="map_layers").set_value(["route", "boundaries"]).run()
    _ok(at)


def test_a_pinned_candidate_is_in_the_route(app_env) -> None:
    at = plan_page()
    at.button(key="plan_go").click().run()
    first = at.session_state["clic_plan"].route
    left_out = [d.id for d in first.dropped if d.code in ("no_time", "not_worth_detour")]
    assert left_out, "the default day should leave some candidates out"
    pick = left_out[0]
    _pin(at, [pick])
    at.run()
    at.button(key="plan_go").click().run()
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    route = at.session_state["clic_plan"].route
    pinned = [s for s in route.stops if s.id == pick]
    assert len(pinned) == 1 and pinned[0].must_visit
    assert _stop_list(at)["Pinned"].sum() == 1


def test_leave_out_drops_the_top_candidate(app_env) -> None:
    at = plan_page()
    top = _candidate_ids(at)[0]
    _pin(at, [top], column="Leave out")
    at.run()
    at.button(key="plan_go").click().run()
    _ok(at)
    route = at.session_state["clic_plan"].route
    assert top not in {s.id for s in route.stops}
    assert [d.code for d in route.dropped if d.id == top] == ["excluded"]


def test_must_visits_that_cannot_fit_say_so(app_env) -> None:
    at = plan_page()
    at.number_input(key="plan_hours").set_value(2.0).run()
    pins = _candidate_ids(at)[:6]  # six 20-minute visits and the walks: over two hours
    _pin(at, pins)
    at.run()
    labels = at.data_editor[0].value.loc[pins, "Where"]
    at.button(key="plan_go").click().run()
    _ok(at)
    errors = [e.value.replace("\\", "") for e in at.error]  # markdown escapes off
    assert len(errors) == 1, errors
    text = errors[0]
    assert text.startswith("The route could not be planned: the 6 must-visit stops")
    over = re.search(r"; 120 are available: (\d+) minutes over", text)
    assert over and int(over.group(1)) > 0
    assert all(label in text for label in labels)  # named as places, not store ids
    assert not any(p in text for p in pins)
    assert "clic_plan" not in at.session_state


def test_a_start_point_outside_the_area_is_refused(app_env) -> None:
    at = plan_page()
    at.number_input(key="plan_slat_barrow").set_value(54.89).run()  # Carlisle
    at.number_input(key="plan_slon_barrow").set_value(-2.93).run()
    _ok(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "outside Barrow" in errors[0], errors
    at.button(key="plan_go").click().run()
    _ok(at)
    assert "clic_plan" not in at.session_state


def test_record_a_visit(app_env) -> None:
    at = plan_page()
    at.button(key="plan_go").click().run()
    route = at.session_state["clic_plan"].route
    stop = next(s for s in route.stops if s.kind == "address")
    store = _store()
    n_before = len(store.visits(area="barrow"))
    v_before = store.data_version()
    store.close()
    version = at.session_state["clic_plan"].version
    at.selectbox(key="rec_stop").set_value(stop.order).run()
    # the form starts at the stop's planned day and arrival, not at the server's clock
    assert at.date_input(key=f"rec_date_{version}_{stop.order}").value == DAY
    arrive = at.time_input(key=f"rec_time_{version}_{stop.order}").value
    assert arrive.strftime("%H:%M") == f"{stop.arrive_at:%H:%M}"
    # a visit still to come is refused, with nothing written
    at.date_input(key=f"rec_date_{version}_{stop.order}").set_value(
        date.today() + timedelta(days=1)
    )
    next(b for b in at.button if b.label == "Record the visit").click().run()
    _ok(at)
    assert [e.value.replace("\\", "") for e in at.error] == [  # markdown escapes off
        f"The visit time {date.today() + timedelta(days=1):%d/%m/%Y} "
        f"{stop.arrive_at:%H:%M} is still to come: record a visit after it has happened."
    ]
    assert _version() == v_before
    at.date_input(key=f"rec_date_{version}_{stop.order}").set_value(DAY)
    at.selectbox(key="rec_outcome").set_value("engaged")
    at.multiselect(key="rec_support").set_value(["calling_card", "harm_reduction_kit"])
    at.multiselect(key="rec_refs").set_value(["food_bank"])
    at.text_input(key="rec_officers").input("PC 1234")
    at.text_input(key="rec_notes").input("<b>spoke at the door</b>")
    next(b for b in at.button if b.label == "Record the visit").click().run()
    _ok(at)
    assert not at.error, [e.value for e in at.error]
    store = _store()
    visits = store.visits(area="barrow")
    v_after = store.data_version()
    log = read_audit(store, "cli", action="record_visit")
    store.close()
    assert len(visits) == n_before + 1
    assert v_after == v_before + 1
    new = visits[visits["id"].str.startswith("planner:")].iloc[0]
    assert new["address_id"] == stop.id and new["outcome"] == "engaged"
    assert str(new["visited_at"])[:16] == f"{DAY} {stop.arrive_at:%H:%M}"
    assert len(log) == 1 and log.iloc[0]["actor"] == "demo-officer"
    assert any("Visit recorded" in s.value for s in at.success)
    # the visit feeds the next day's priorities: "last visited" is now the visit day
    note = next(c.value for c in at.caption if "priority for" in c.value)
    assert f"Its priority for {DAY + timedelta(days=1):%A %d %B}" in note
    assert "last visited 1 day ago" in note
    before, after = (float(x) for x in re.findall(r"went from ([\d.]+) to ([\d.]+)", note)[0])
    assert after < before
    # and the candidate list (a cached loader keyed by the version) was refreshed
    assert f"plan_pick_barrow_{DAY:%Y%m%d}_{v_after}" in [e.key for e in at.data_editor if e.key]


def test_hostile_address_text_is_shown_inert(app_env) -> None:
    """An address typed as markdown, HTML or a spreadsheet formula stays text on the page."""
    import sqlalchemy as sa

    from clic_geo.store import tables as T  # noqa: N812 - as the store names it

    hostile = '=HYPERLINK("http://x.test") <img src=x onerror=alert(1)> [link](http://x.test) **b**'
    at = plan_page()
    top = _candidate_ids(at)[0]
    store = _store()
    with store.engine.begin() as conn:
        conn.execute(sa.update(T.addresses).where(T.addresses.c.id == top).values(address=hostile))
        store.bump_data_version(conn)
    store.close()
    at.run()
    _pin(at, [top])
    at.run()
    at.button(key="plan_go").click().run()
    _ok(at)
    stop = next(s for s in at.session_state["clic_plan"].route.stops if s.id == top)
    assert stop.label == hostile  # stored as it came; made safe where shown
    at.selectbox(key="rec_stop").set_value(stop.order).run()
    next(b for b in at.button if b.label == "Record the visit").click().run()
    _ok(at)
    shown = [m.value for m in (*at.markdown, *at.success, *at.caption, *at.error, *at.info)]
    with_it = [t for t in shown if "HYPERLINK" in t]
    assert any(t.startswith("Visit recorded") for t in with_it)
    for text in with_it:  # every markdown character of the address is escaped
        assert not re.search(r"(?<!\\)[<>\[\]*()]", text), text
    # and on the phone view of the saved plan
    at.switch_page("app_pages/today_page.py").run()
    at.selectbox(key="today_area").set_value("barrow")
    at.date_input(key="today_day").set_value(DAY).run()
    _ok(at)
    shown = [m.value for m in at.markdown if "HYPERLINK" in m.value]
    assert len(shown) == 1
    assert not re.search(r"(?<!\\)[<>\[\]*()]", shown[0].split("\n", 1)[1]), shown[0]
