"""The police.uk-only journey in a real browser (issue 9 §1).

A new deployment's first day: a store holding only the real data.police.uk months
(imported as ``clic-geo import police-uk`` does), one officer, ``clic-geo serve``.
The officer signs in and opens every page of the navigation: none shows Streamlit's
exception box, and every request stays on this machine. Screenshots of each page are
saved in ``test-artifacts/`` (look at them).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from clic_geo.settings import REPO_ROOT
from tests import store_shapes
from tests.browser import browser, serve, sign_in, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = REPO_ROOT / "test-artifacts"
#: The officer's navigation: (link path, page title).
NAVIGATION = [
    ("map", "Map"),
    ("plan", "Plan tomorrow"),
    ("today", "Today's route"),
    ("trends", "Trends"),
    ("data", "Data"),
    ("partnership", "Partnership figures"),
    ("audit", "Audit log"),
]


def test_police_uk_only_journey(tmp_path) -> None:
    data = store_shapes.build(tmp_path / "store", "police")
    ARTIFACTS.mkdir(exist_ok=True)
    log = tmp_path / "server.log"
    with serve(data, demo=False, log=log) as url, browser(offline=True) as ctx:
        password = store_shapes.USERS["officer"][2]
        page = sign_in(ctx, url, "officer", password, timeout_ms=180_000)
        links = page.locator('[data-testid="stSidebarNav"] a')
        hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
        # the default page (Map) is the site's root
        assert [urlsplit(h).path.strip("/") or "map" for h in hrefs] == [
            p for p, _ in NAVIGATION
        ], hrefs
        for path, title in NAVIGATION:
            if path != "map":
                page.locator(f'[data-testid="stSidebarNav"] a[href$="/{path}"]').click()
            page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=180_000)
            wait_idle(page, timeout_s=240)
            page.screenshot(path=str(ARTIFACTS / f"police-uk-only-{path}.png"), full_page=True)
            boxes = page.locator('[data-testid="stException"]')
            assert boxes.count() == 0, (path, boxes.first.inner_text()[:500])
            assert page.locator('[data-testid="stAlertContentError"]').count() == 0, path
        assert ctx.blocked == [], f"requests left the machine: {ctx.blocked[:5]}"
    assert "Traceback" not in log.read_text(errors="replace")
