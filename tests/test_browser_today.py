"""Today's route on a phone (390×844) in a real browser, from a plan saved in another session.

The sergeant plans on a desktop; later a new page load (a new session, signed in
again) at a phone's size opens *Today's route*: every stop is there, in order, with a
``geo:`` link that holds coordinates only, and nothing leaves the machine.
Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clic_geo.access.audit_log import read_audit
from clic_geo.settings import REPO_ROOT, load_settings
from clic_geo.store import Store
from tests.browser import MAP_FRAME, browser, goto, serve, sign_in, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = REPO_ROOT / "test-artifacts"
PHONE = {"width": 390, "height": 844}
GEO = re.compile(r"^geo:-?\d+\.\d{6},-?\d+\.\d{6}\?q=-?\d+\.\d{6},-?\d+\.\d{6}$")


def test_the_phone_view_shows_every_saved_stop_with_a_geo_link(tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    data = tmp_path / "store"
    with serve(data, log=tmp_path / "server.log") as url, browser(offline=True) as ctx:
        desk = goto(sign_in(ctx, url), url + "/plan", wait_for_map=False)
        desk.get_by_role("button", name="Plan the route").click()
        desk.frame_locator(MAP_FRAME).last.locator(".clic-stop").first.wait_for(timeout=90_000)
        wait_idle(desk)
        metric = desk.locator('[data-testid="stMetric"]').filter(has_text="Stops")
        n_stops = int(metric.locator('[data-testid="stMetricValue"]').inner_text())
        assert n_stops >= 2
        desk.close()

        # a new page load: a new session, signed in again, at a phone's size
        phone = sign_in(ctx, url)
        phone.set_viewport_size(PHONE)
        wait_idle(phone)
        phone.get_by_test_id("stExpandSidebarButton").click()
        phone.locator('[data-testid="stSidebarNav"] a[href$="/today"]').click()
        phone.get_by_role("heading", name="Today's route").wait_for(timeout=60_000)
        phone.locator('[data-testid="stLinkButton"]').first.wait_for(timeout=60_000)
        wait_idle(phone)
        if phone.get_by_test_id("stSidebarCollapseButton").is_visible():
            phone.get_by_test_id("stSidebarCollapseButton").click()  # the menu, closed
        phone.get_by_test_id("stSidebar").wait_for(state="hidden", timeout=10_000)
        assert "?" not in phone.url  # nothing about the plan in the address bar

        links = phone.locator('a[href^="geo:"]')
        hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
        assert len(hrefs) == n_stops + 2, hrefs  # start, every stop, back
        assert all(GEO.match(h or "") for h in hrefs), hrefs
        # every stop's card is within the phone's width, in order, with its arrival time
        for i in range(1, n_stops + 1):
            card = phone.locator(f".st-key-today_stop_{i}")
            card.scroll_into_view_if_needed()
            box = card.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
            text = card.inner_text()
            assert re.match(rf"{i} · \d\d:\d\d · ", text), text
            assert card.get_by_role("link", name=f"Directions to stop {i}").count() == 1
            assert card.locator('a[href^="geo:"]').count() == 1
        # no text wider than the screen (nothing to scroll sideways for)
        wide = phone.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= PHONE["width"], wide
        phone.get_by_role("heading", name="Today's route").scroll_into_view_if_needed()
        phone.screenshot(path=str(ARTIFACTS / "today-phone.png"))
        phone.locator(".st-key-today_stop_2").scroll_into_view_if_needed()
        phone.screenshot(path=str(ARTIFACTS / "today-phone-stop2.png"))
        phone.screenshot(path=str(ARTIFACTS / "today-phone-full.png"), full_page=True)
        assert ctx.blocked == [], f"requests left the machine: {ctx.blocked[:5]}"

    store = Store.open(load_settings(data))
    log = read_audit(store, "cli")
    store.close()
    saves = log[log["action"] == "save_plan"]
    opens = log[log["action"] == "open_plan"]
    assert len(saves) == 1 and saves.iloc[0]["detail"]["stops"] == n_stops
    assert (opens["actor"] == "demo-officer").any()
