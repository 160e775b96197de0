"""Script in any imported text field never runs in a real browser; it shows as text.

The store holds the demo world plus incidents, addresses, visits and a county line
whose every free-text field (location, notes, source, address, officers, line name)
holds a script payload, and an import through the Data page adds rows whose category
and outcome are payloads (rejected: the reasons quote them) from a file whose name
is one. As an officer, the Map page (hovering the marker and the address so their
tooltips open), the Data page and the Trends page are opened; after each,
``window.__xss`` must be undefined in the page and in every frame, while the payload
is on screen as text. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import pytest

from clic_geo.demo.seeding import seed_demo
from clic_geo.ingest.importer import import_file
from clic_geo.settings import REPO_ROOT, load_settings
from clic_geo.store import Store
from tests.browser import MAP_FRAME, browser, goto, serve, sign_in, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = REPO_ROOT / "test-artifacts"

IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=1</script>"
SVG = "<svg onload=window.__xss=1>"
#: Inside Barrow-in-Furness.
LAT, LON = "54.1150", "-3.2270"


def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _payload_files(day: date) -> dict[str, str]:
    d = day.isoformat()
    return {
        "addresses": _csv(
            [
                ["id", "address", "latitude", "longitude", "status", "status date", "notes"],
                ["XA1", f"{IMG} 1 Script Row", "54.1180", "-3.2240", "suspected", d, SCRIPT],
            ]
        ),
        "incidents": _csv(
            [["id", "date", "type", "lat", "lon", "location", "notes", "source"]]
            + [
                [f"X{i}", d, "drug supply", LAT, LON, f"{IMG} Script Street", SCRIPT, IMG]
                for i in range(3)
            ]
        ),
        "visits": _csv(
            [
                ["visit id", "date", "address id", "latitude", "longitude", "officers", "notes"],
                ["XV1", f"{d} 10:00", "XA1", "", "", IMG, SCRIPT],
                ["XV2", f"{d} 11:00", "", "54.1160", "-3.2250", SCRIPT, IMG],
            ]
        ),
        "lines": _csv(
            [
                ["line id", "line name", "area", "status", "date", "notes"],
                ["XL1", f"{IMG} line", "barrow", "active", d, SCRIPT],
            ]
        ),
    }


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    d = tmp_path_factory.mktemp("xss") / "store"
    settings = load_settings(d, demo=True)
    store = Store.open(settings)
    seed_demo(settings, store)
    last = store.date_span()[1]
    for kind, text in _payload_files(last - timedelta(days=10)).items():
        f = d.parent / f"{kind}.csv"
        f.write_text(text, encoding="utf-8")
        r = import_file(f, kind, settings=settings, store=store)
        assert r.rejected == 0, store.rejects(r.import_id)["reason"].tolist()
    store.close()
    log = tmp_path_factory.mktemp("xss-logs") / "server.log"
    with serve(d, log=log) as url:
        yield url


@pytest.fixture(scope="module")
def ctx():
    ARTIFACTS.mkdir(exist_ok=True)
    with browser(offline=True) as c:
        yield c


def assert_no_script_ran(page) -> None:
    """``window.__xss`` is undefined in the page and in every frame."""
    assert len(page.frames) >= 1
    for fr in page.frames:
        assert fr.evaluate("() => typeof window.__xss") == "undefined", fr.url[:80]


#: In the map's frame: find the layer whose tooltip holds ``needle``, bring it into
#: view (out of its cluster), and return its position inside the frame.
FIND_AND_SHOW = """
async (needle) => {
  const get = (k) => { try { return window[k]; } catch (e) { return null; } };
  const map = Object.keys(window).map(get).find((v) => v instanceof L.Map);
  const hits = [];
  const content = (holder, layer) => {
    const t = holder.getTooltip && holder.getTooltip();
    if (!t) return '';
    let c = t._content;
    if (typeof c === 'function') c = c(layer);
    return c instanceof HTMLElement ? c.innerHTML : String(c || '');
  };
  const visit = (layer, parent) => {
    if (layer.getLatLng && (content(layer, layer).includes(needle)
        || (parent && content(parent, layer).includes(needle)))) hits.push(layer);
    if (layer.getLayers) layer.getLayers().forEach((c) => visit(c, layer));
  };
  map.eachLayer((l) => visit(l, null));
  if (!hits.length) return null;
  const target = hits[0];
  const group = [];
  map.eachLayer((l) => { if (l.zoomToShowLayer && l.hasLayer(target)) group.push(l); });
  if (group.length) {
    await new Promise((res) => { group[0].zoomToShowLayer(target, res); setTimeout(res, 5000); });
  } else {
    map.setView(target.getLatLng(), Math.max(map.getZoom(), 16));
  }
  await new Promise((res) => setTimeout(res, 800));
  const p = map.latLngToContainerPoint(target.getLatLng());
  const box = map.getContainer().getBoundingClientRect();
  return {x: box.left + p.x, y: box.top + p.y, n: hits.length};
}
"""


def hover_tooltip(page, needle: str) -> str:
    """Hover the map layer whose tooltip holds ``needle``; return the tooltip's text."""
    frame = page.frame_locator(MAP_FRAME).last
    inner = page.locator(MAP_FRAME).last.element_handle().content_frame()
    pos = inner.evaluate(FIND_AND_SHOW, needle)
    assert pos is not None, f"no map layer carries {needle!r}"
    box = page.locator(MAP_FRAME).last.bounding_box()
    page.mouse.move(box["x"] + pos["x"], box["y"] + pos["y"])
    tip = frame.locator(".leaflet-tooltip").last
    tip.wait_for(timeout=10_000)
    return tip.inner_text()


def test_map_tooltips_show_the_payload_as_text(app_url, ctx) -> None:
    page = sign_in(ctx, app_url)
    page.frame_locator(MAP_FRAME).last.locator(".leaflet-container").first.wait_for(timeout=90_000)
    wait_idle(page)
    sidebar = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first
    sidebar.click()
    page.get_by_role("option", name="Barrow-in-Furness").click()
    page.frame_locator(MAP_FRAME).last.locator(".leaflet-container").first.wait_for(timeout=90_000)
    wait_idle(page)
    assert_no_script_ran(page)
    # the incidents' marker (its tooltip holds the location) and the address
    text = hover_tooltip(page, "Script Street")
    assert f"{IMG} Script Street" in text
    page.screenshot(path=str(ARTIFACTS / "xss-map-incident.png"))
    assert_no_script_ran(page)
    page.mouse.move(5, 5)
    text = hover_tooltip(page, "1 Script Row")
    assert f"{IMG} 1 Script Row" in text
    page.screenshot(path=str(ARTIFACTS / "xss-map-address.png"))
    assert_no_script_ran(page)
    assert ctx.blocked == []
    page.close()


def test_data_page_import_report_and_trends(app_url, ctx, tmp_path: Path) -> None:
    f = tmp_path / f"{SVG}.csv"
    f.write_text(
        _csv(
            [
                ["id", "date", "type", "lat", "lon", "notes"],
                ["Y1", "2026-10-05", SCRIPT, LAT, LON, IMG],
                ["Y2", "2026-10-05", IMG, LAT, LON, SCRIPT],
            ]
        ),
        encoding="utf-8",
    )
    page = goto(sign_in(ctx, app_url), app_url + "/data", wait_for_map=False)
    page.locator('input[type="file"]').set_input_files(str(f))
    page.get_by_role("button", name="Import").click()
    page.get_by_text("Validation report").wait_for(timeout=60_000)
    wait_idle(page)
    assert_no_script_ran(page)
    # the reasons quote the payloads: the grids draw on a canvas, and keep the cells
    # in an accessible table, whose text nodes hold the payload as text (not markup)
    assert page.locator('[data-testid="stDataFrame"]').count() >= 2
    text = page.evaluate("() => document.body.textContent")
    assert f"unknown category '{SCRIPT}'" in text, text[:2000]
    page.screenshot(path=str(ARTIFACTS / "xss-data.png"), full_page=True)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download the rejected and duplicate rows (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text("utf-8-sig"))))
    reasons = " ".join(r["reason"] for r in rows)
    assert f"unknown category '{SCRIPT}'" in reasons and f"unknown category '{IMG}'" in reasons
    assert_no_script_ran(page)

    page = goto(page, app_url + "/trends", wait_for_map=False)
    page.get_by_text("Incidents per month, by category").wait_for(timeout=60_000)
    wait_idle(page)
    assert_no_script_ran(page)
    page.screenshot(path=str(ARTIFACTS / "xss-trends.png"), full_page=True)
    assert ctx.blocked == []
