"""The evaluation as a person sees it, in a real browser with no network.

The Trends page (an officer, West Cumbria from its partnership start) and the partner
page (the housing partner, Barrow at a date the officers shared): the verdict, the
numbers and the chart draw; screenshots in ``test-artifacts/`` (``evaluation-*.png``).
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from clic_geo.access.partner_evaluation import share_evaluation_date
from clic_geo.settings import load_settings
from clic_geo.store import Store
from tests.browser import browser, goto, serve, sign_in, wait_idle
from tests.test_app import demo_store  # noqa: F401 - fixture
from tests.test_browser import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def app_url(demo_store: Path, tmp_path_factory):  # noqa: F811
    d = tmp_path_factory.mktemp("evaluation-browser") / "store"
    shutil.copytree(demo_store, d)
    settings = load_settings(d, demo=True)
    store = Store.open(settings)
    share_evaluation_date(store, "cli", settings=settings, area="barrow", since=date(2026, 3, 1))
    store.close()
    log = tmp_path_factory.mktemp("evaluation-logs") / "server.log"
    with serve(d, log=log) as url:
        yield url


@pytest.fixture(scope="module")
def ctx():
    ARTIFACTS.mkdir(exist_ok=True)
    with browser(offline=True) as c:
        yield c


def _section(page, name: str):
    """Scroll to the evaluation, wait for its chart, and screenshot it."""
    head = page.get_by_text("Did it work?").first
    head.wait_for(timeout=60_000)
    head.scroll_into_view_if_needed()
    chart = page.locator('[data-testid="stVegaLiteChart"]').last
    chart.wait_for(timeout=60_000)
    chart.scroll_into_view_if_needed()
    wait_idle(page)
    page.wait_for_timeout(800)  # the chart's own drawing after the script is idle
    page.screenshot(path=str(ARTIFACTS / f"evaluation-{name}.png"))
    return page.inner_text('[data-testid="stMain"]')


def test_trends_page_draws_the_evaluation(app_url, ctx) -> None:
    page = goto(sign_in(ctx, app_url), app_url + "/trends", wait_for_map=False)
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Area").click()
    page.get_by_role("option", name="West Cumbria").click()
    wait_idle(page)
    text = _section(page, "trends")
    assert "Crime in the treated zones fell by" in text
    assert "Change against the comparison" in text and "Naive before/after" in text
    assert "The partnership start: always shared" in text
    # the chart drew its two lines and the date (Vega renders to canvas or SVG)
    chart = page.locator('[data-testid="stVegaLiteChart"]').last
    assert chart.locator("canvas, svg").count() >= 1
    assert chart.bounding_box()["height"] > 200
    assert ctx.blocked == []


def test_partner_page_draws_the_published_evaluation(app_url, ctx) -> None:
    page = sign_in(ctx, app_url, "demo-housing", "housing-demo-1clic")
    text = _section(page, "partner")
    assert "95 % interval" in text and "index only" in text
    assert "01 Mar 2026" in text
    chart = page.locator('[data-testid="stVegaLiteChart"]').last
    assert chart.bounding_box()["height"] > 200
    assert ctx.blocked == []
