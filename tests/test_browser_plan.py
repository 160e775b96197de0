"""The "Plan tomorrow" page in a real browser with no network: the route draws, GPX downloads.

Runs ``clic-geo serve --demo`` on an empty data directory (the demo is seeded as of
today, and the page plans tomorrow by default) and drives Debian's chromium. Every
request leaving 127.0.0.1 is blocked and recorded. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import pytest

from clic_geo.access.audit_log import read_audit
from clic_geo.planning.route_sheet import GPX_NS
from clic_geo.reporting.maps import PALETTE
from clic_geo.settings import REPO_ROOT, load_settings
from clic_geo.store import Store
from tests.browser import MAP_FRAME, browser, goto, serve, sign_in, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = REPO_ROOT / "test-artifacts"
NS = {"g": GPX_NS}


def test_plan_the_route_offline_and_download_gpx(tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    data = tmp_path / "store"
    with serve(data, log=tmp_path / "server.log") as url, browser(offline=True) as ctx:
        page = goto(sign_in(ctx, url), url + "/plan", wait_for_map=False)
        page.get_by_role("heading", name="Plan tomorrow").wait_for(timeout=60_000)
        # the candidate list with its reasons, before any route
        page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60_000)
        assert page.locator(MAP_FRAME).count() == 0
        page.screenshot(path=str(ARTIFACTS / "plan-candidates.png"))
        page.get_by_role("button", name="Plan the route").click()
        frame = page.frame_locator(MAP_FRAME).last
        frame.locator(".leaflet-container").first.wait_for(timeout=90_000)
        frame.locator(".clic-stop").first.wait_for(timeout=30_000)
        wait_idle(page)

        stops_metric = page.locator('[data-testid="stMetric"]').filter(has_text="Stops")
        n_stops = int(stops_metric.locator('[data-testid="stMetricValue"]').inner_text())
        assert n_stops >= 2
        # the route line and one numbered marker per stop, plus S for the start
        route_line = frame.locator(f'path.leaflet-interactive[stroke="{PALETTE["route"]}"]')
        assert route_line.count() == 1
        d = route_line.get_attribute("d") or ""
        assert d.count("L") >= n_stops  # a vertex per stop after the first point
        markers = [t.strip() for t in frame.locator(".clic-stop").all_inner_texts()]
        assert sorted(markers, key=lambda t: (t != "S", int(t) if t.isdigit() else 0)) == [
            "S",
            *[str(i) for i in range(1, n_stops + 1)],
        ]
        assert page.locator(MAP_FRAME).last.bounding_box()["height"] >= 400
        page.screenshot(path=str(ARTIFACTS / "plan-route.png"))
        page.screenshot(path=str(ARTIFACTS / "plan-route-full.png"), full_page=True)

        with page.expect_download() as dl:
            page.get_by_role("button", name="GPX for a phone").click()
        assert dl.value.suggested_filename.endswith(".gpx")
        text = Path(dl.value.path()).read_text(encoding="utf-8")
        assert text.startswith("<?xml") and "<gpx" in text
        root = ET.fromstring(text.encode("utf-8"))
        assert root.tag == f"{{{GPX_NS}}}gpx" and root.get("version") == "1.1"
        assert len(root.findall("g:wpt", NS)) == n_stops
        assert len(root.findall("g:rte/g:rtept", NS)) == n_stops + 2  # start, stops, end
        wait_idle(page)

        # afterwards: record the first stop's outcome with the form, which starts at the
        # stop's planned day and arrival (tomorrow: still to come, so refused) ...
        page.get_by_role("heading", name="Record the visits").scroll_into_view_if_needed()
        page.get_by_role("button", name="Record the visit").click()
        page.get_by_text("is still to come").wait_for(timeout=60_000)
        wait_idle(page)
        # ... so say it happened yesterday (always past, whatever the clock says)
        yesterday = date.today() - timedelta(days=1)
        page.locator(".st-key-rec_date_1_1 [role=spinbutton]").first.focus()  # the day
        page.keyboard.type(f"{yesterday:%d%m%Y}")  # day, month, year: each moves on
        page.get_by_role("button", name="Record the visit").click()
        page.get_by_text("Visit recorded").wait_for(timeout=60_000)
        wait_idle(page)
        page.get_by_text("Visit recorded").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "plan-record.png"))
        assert page.get_by_text("last visited 1 day ago").count() >= 1

        # the Map page shows the same route as its "Planned route" layer, on by default
        # once there is a plan (the Map is the default page, so its link is the app's
        # root: click it by name)
        page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Map").click()
        page.get_by_role("heading", name="Map").wait_for(timeout=60_000)
        wait_idle(page)
        frame = page.frame_locator(MAP_FRAME).last
        frame.locator(".clic-stop").first.wait_for(timeout=30_000)
        assert frame.locator(".clic-stop").count() == n_stops + 1
        page.screenshot(path=str(ARTIFACTS / "map-planned-route.png"))
        assert ctx.blocked == [], f"requests left the machine: {ctx.blocked[:5]}"

    store = Store.open(load_settings(data))
    log = read_audit(store, "cli")
    recorded = store.visits()
    store.close()
    assert recorded["id"].str.startswith("planner:").sum() == 1
    plans = log[log["action"] == "plan"]
    exports = log[log["action"] == "export"]
    assert len(plans) == 1 and plans.iloc[0]["actor"] == "demo-officer"
    assert plans.iloc[0]["detail"]["stops"] == n_stops
    assert [e["format"] for e in exports["detail"]] == ["gpx"]
    assert (log["action"] == "record_visit").sum() == 1
