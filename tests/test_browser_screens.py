"""Every page, as the officer, the admin and a partner see it, at 1366×768 and on a phone.

Screenshots go to ``test-artifacts/screens/`` (``<role>-<page>-<width>.png``) to be
looked at: a map that drew is not a map a person can read. What can be checked by
machine is checked: no request leaves the machine, nothing wider than the window
(no table cut at the right), the legend folded on a phone and clear of the data
on a desktop, no hotspot tag under a route stop, no "None" in the page text.
"""

from __future__ import annotations

import pytest

from clic_geo.settings import REPO_ROOT
from tests.browser import MAP_FRAME, browser, serve, sign_in, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
OUT = REPO_ROOT / "test-artifacts" / "screens"
SIZES = [(1366, 768), (390, 844)]
#: The officer lands on the county map, plans a route, then sees it on the area's map.
OFFICER_PAGES = ["map-county", "plan", "map", "trends", "data", "partnership", "audit"]

LINKS = {
    "map": "Map",
    "plan": "Plan tomorrow",
    "trends": "Trends",
    "data": "Data",
    "partnership": "Partner view",
    "audit": "Audit log",
    "admin": "Admin",
}

#: Hotspot tags (still shown) on a route stop, an incident cluster or the open legend,
#: and stops on stops.
COVERED_JS = """() => {
  const r = s => Array.from(document.querySelectorAll(s)).map(e => e.getBoundingClientRect());
  const fixed = r('.clic-stop > div, .clic-cluster, .clic-legend[open]');
  const tags = Array.from(document.querySelectorAll('.clic-label > div'))
    .filter(e => e.style.visibility !== 'hidden').map(e => e.getBoundingClientRect());
  const hit = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1
    && b.top < a.bottom - 1;
  const stops = r('.clic-stop > div');
  const stacked = stops.filter((a, i) => stops.some((b, j) => j < i && hit(a, b))).length;
  return tags.filter(t => fixed.some(f => hit(t, f))).length + stacked;
}"""
PASSWORDS = {
    "demo-officer": "officer-demo-1clic",
    "demo-admin": "admin-demo-1clic",
    "demo-housing": "housing-demo-1clic",
}

#: Widest element of the page's main block beyond the window, in px (0: none).
OVERFLOW_JS = """() => {
  const w = document.documentElement.clientWidth; let worst = 0;
  document.querySelectorAll('[data-testid="stMain"] *').forEach(e => {
    const r = e.getBoundingClientRect();
    if (r.width > 0 && r.right - w > worst && getComputedStyle(e).position !== 'fixed')
      worst = r.right - w;
  });
  return Math.round(worst);
}"""


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    data = tmp_path_factory.mktemp("screens") / "store"
    log = tmp_path_factory.mktemp("logs") / "server.log"
    with serve(data, log=log) as url:
        yield url


def _settle(page) -> None:
    wait_idle(page, timeout_s=240)
    frames = page.locator(MAP_FRAME)
    if frames.count():
        page.frame_locator(MAP_FRAME).last.locator(".leaflet-container").first.wait_for(
            timeout=60_000
        )
        page.wait_for_timeout(1200)  # tiles of vectors, the legend and the declutter pass
        wait_idle(page, timeout_s=240)


def _shoot(page, role: str, name: str) -> dict:
    found = {}
    for w, h in SIZES:
        page.set_viewport_size({"width": w, "height": h})
        page.wait_for_timeout(800)
        _settle(page)
        page.screenshot(path=str(OUT / f"{role}-{name}-{w}.png"))
        # the whole page: Streamlit scrolls inside its main block, so make the window tall
        tall = page.evaluate(
            "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight"
        )
        page.set_viewport_size({"width": w, "height": min(int(tall) + 40, 5000)})
        page.wait_for_timeout(600)
        page.screenshot(path=str(OUT / f"{role}-{name}-{w}-full.png"))
        page.set_viewport_size({"width": w, "height": h})
        # measured once the map has settled again, as a person would look at it: the
        # resize re-lays the map out and the label pass runs after it (a 300 ms wait
        # measured tags mid-move on a loaded machine: one "covering" in a CI run)
        page.wait_for_timeout(300)
        _settle(page)
        found[w] = {
            "overflow": page.evaluate(OVERFLOW_JS),
            "text": page.locator('[data-testid="stMain"]').inner_text(),
        }
        if page.locator(MAP_FRAME).count():
            frame = page.frame_locator(MAP_FRAME).last
            legend = frame.locator(".clic-legend")
            if legend.count():
                found[w]["legend_open"] = legend.first.evaluate("e => e.open")
            found[w]["covered"] = frame.locator("body").evaluate(COVERED_JS)
            found[w]["stops"] = frame.locator(".clic-stop").count()
    page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
    page.wait_for_timeout(500)
    return found


def _problems(found: dict, where: str) -> list[str]:
    out = []
    for w, f in found.items():
        if w >= 1000 and f["overflow"] > 2:  # a phone scrolls a wide table in its frame
            out.append(f"{where} at {w} px: something {f['overflow']} px too wide")
        if "None" in f["text"].split():
            out.append(f"{where} at {w} px shows None")
        if f.get("covered"):
            out.append(f"{where} at {w} px: {f['covered']} labels covering each other")
        if "legend_open" in f and f["legend_open"] != (w >= 700):
            out.append(f"{where} at {w} px: legend open is {f['legend_open']}")
    return out


@pytest.mark.parametrize(
    ("user", "pages"),
    [
        ("demo-officer", OFFICER_PAGES),
        ("demo-admin", ["admin"]),
        ("demo-housing", ["partnership"]),
    ],
    ids=["officer", "admin", "partner"],
)
def test_every_page_at_both_sizes(app_url, user: str, pages: list[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    role = user.removeprefix("demo-")
    with browser(offline=True) as ctx:
        page = sign_in(ctx, app_url, user, PASSWORDS[user])
        problems = []
        for name in pages:
            if name not in ("map-county", "partnership") or role == "admin":
                nav = page.get_by_test_id("stSidebarNav")
                nav.get_by_role("link", name=LINKS[name], exact=True).click()
                page.wait_for_timeout(2500)
            if name == "plan":
                wait_idle(page, timeout_s=240)
                page.get_by_role("button", name="Plan the route").click()
                page.frame_locator(MAP_FRAME).last.locator(".clic-stop").first.wait_for(
                    timeout=240_000
                )
            found = _shoot(page, role, name)
            if name == "map":  # the area's map with the planned route on it
                assert found[1366]["stops"] >= 3
            problems += _problems(found, f"{role} {name}")
        assert ctx.blocked == []
        assert problems == [], "\n".join(problems)
