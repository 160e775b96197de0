"""The base map in a real browser with no network: roads and water under the data on the
Map and Plan pages, road names at street zoom, the route drawn round the water.

Runs ``clic-geo serve --demo`` and Debian's chromium; every request leaving 127.0.0.1
is blocked and recorded. Screenshots (1366x768) go to ``test-artifacts/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clic_geo.reporting.base_layer import BASE_STYLE
from clic_geo.settings import REPO_ROOT
from tests.browser import MAP_FRAME, browser, serve, sign_in, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = REPO_ROOT / "test-artifacts"
ROAD_COLOURS = {s["color"] for k, s in BASE_STYLE.items() if s["fill"] is None}

ZOOM_TO = (
    "([lat, lon, z]) => { for (const k of Object.keys(window)) {"
    " const v = window[k]; if (v && v instanceof L.Map) { v.setView([lat, lon], z,"
    " {animate: false}); return v.getZoom(); } } return null; }"
)


#: In every frame: how often the label declutter measured a tag, a stop or a cluster.
COUNT_MEASURES = (
    "(() => { window.__clicMeasures = 0; const f = Element.prototype.getBoundingClientRect;"
    " Element.prototype.getBoundingClientRect = function() {"
    " if (this.closest && this.closest('.clic-label, .clic-stop, .clic-cluster, .marker-cluster'))"
    " window.__clicMeasures += 1; return f.call(this); }; })();"
)
#: What one declutter pass can measure at most: each stop and tag at each of its 17
#: offsets plus once more, and each cluster once.
ONE_PASS = (
    "() => 18 * document.querySelectorAll('.clic-label, .clic-stop').length"
    " + document.querySelectorAll('.clic-cluster, .marker-cluster').length"
)


def _map_frame(page):
    """The Playwright frame of the (last) map on the page."""
    for f in reversed(page.frames):
        if f.evaluate(
            "() => typeof L !== 'undefined' && !!document.querySelector('.leaflet-container')"
        ):
            return f
    raise AssertionError("no map frame")


def _check_base(frame_loc) -> int:
    base = frame_loc.locator("path.clic-base")
    base.first.wait_for(state="attached", timeout=60_000)
    drawn = base.evaluate_all(
        "els => els.filter(e => e.getAttribute('stroke-opacity') !== '0')"
        ".map(e => e.getAttribute('stroke'))"
    )
    assert len(set(drawn) & ROAD_COLOURS) >= 2, set(drawn)  # roads of two classes or more
    attribution = frame_loc.locator(".leaflet-control-attribution").inner_text()
    assert "OpenStreetMap contributors" in attribution
    return base.count()


def test_map_and_plan_draw_base_roads_offline(tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with serve(tmp_path / "store", log=tmp_path / "server.log") as url, browser() as ctx:
        ctx.add_init_script(COUNT_MEASURES)
        page = sign_in(ctx, url)  # the Map page, all of Cumbria
        frame = page.frame_locator(MAP_FRAME).last
        frame.locator(".leaflet-container").first.wait_for(timeout=90_000)
        county = _check_base(frame)
        assert county > 20
        # the declutter ran a few times, not once per feature added (the county map adds
        # hundreds of layers; one pass each kept the page busy for seconds)
        page.wait_for_timeout(1000)
        live = _map_frame(page)
        measured, one_pass = live.evaluate("() => window.__clicMeasures"), live.evaluate(ONE_PASS)
        assert 0 < measured <= 4 * one_pass, (measured, one_pass)
        # the base map is in its own pane under the data: data paths are in the overlay pane
        assert frame.locator(".leaflet-overlay-pane path").count() >= 1
        z = frame.locator(".leaflet-clicBase-pane").evaluate("e => getComputedStyle(e).zIndex")
        assert int(z) < 400
        page.screenshot(path=str(ARTIFACTS / "basemap-map-county.png"))

        # the Plan page (Barrow): plan, and the route map has the roads and the water
        page.locator('[data-testid="stSidebarNav"] a[href$="/plan"]').click()
        page.get_by_role("heading", name="Plan tomorrow").wait_for(timeout=60_000)
        wait_idle(page)
        page.get_by_role("button", name="Plan the route").click()
        frame = page.frame_locator(MAP_FRAME).last
        frame.locator(".clic-stop").first.wait_for(timeout=90_000)
        wait_idle(page)
        _check_base(frame)
        fills = set(
            frame.locator("path.clic-base").evaluate_all(
                "els => els.map(e => e.getAttribute('fill'))"
            )
        )
        assert BASE_STYLE["sea"]["fill"] in fills  # Barrow's sea and channel
        assert page.get_by_text("round water").count() >= 1  # which estimate it used
        page.screenshot(path=str(ARTIFACTS / "basemap-plan.png"))

        # street zoom: road names appear, and stay under the stops
        f = _map_frame(page)
        assert f.evaluate(ZOOM_TO, [54.1165, -3.2275, 16]) == 16
        frame.locator(".clic-road-label span").first.wait_for(timeout=20_000)
        names = frame.locator(".clic-road-label").all_inner_texts()
        assert any("Road" in n or "Street" in n for n in names), names[:10]
        page.screenshot(path=str(ARTIFACTS / "basemap-plan-street.png"))

        # back to the Map page, now on Barrow (the area carries over), with the route
        page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Map").click()
        page.get_by_role("heading", name="Map").wait_for(timeout=60_000)
        wait_idle(page)
        frame = page.frame_locator(MAP_FRAME).last
        frame.locator(".clic-stop").first.wait_for(timeout=60_000)
        assert _check_base(frame) > 20
        page.screenshot(path=str(ARTIFACTS / "basemap-map-barrow.png"))
        assert ctx.blocked == [], f"requests left the machine: {ctx.blocked[:5]}"


def test_the_partner_page_draws_the_base_map_under_the_squares(tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with serve(tmp_path / "store") as url, browser() as ctx:
        page = sign_in(ctx, url, "demo-housing", "housing-demo-1clic")
        frame = page.frame_locator(MAP_FRAME).last
        frame.locator(".leaflet-container").first.wait_for(timeout=90_000)
        wait_idle(page)
        assert _check_base(frame) > 5
        # the partner's squares are in the overlay pane, above the base map's pane
        assert frame.locator(".leaflet-overlay-pane path").count() >= 1
        page.locator(MAP_FRAME).last.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "basemap-partner.png"))
        assert ctx.blocked == [], f"requests left the machine: {ctx.blocked[:5]}"
