"""What a person sees, in a real browser with no network: the map draws, imports work.

Runs the dashboard exactly as ``clic-geo serve --demo`` does, on an empty data
directory (so the first-start demo seeding is exercised), and drives Debian's
chromium with Playwright. Every request that leaves 127.0.0.1 is blocked and
recorded: a map that needed the internet would fail here. Screenshots are saved
in ``test-artifacts/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clic_geo.access.audit_log import read_audit
from clic_geo.settings import REPO_ROOT, load_settings
from clic_geo.store import Store
from tests.browser import MAP_FRAME, browser, goto, serve, sign_in, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = REPO_ROOT / "test-artifacts"


DATA: dict[str, Path] = {}


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    data = tmp_path_factory.mktemp("browser") / "store"
    DATA["dir"] = data
    log = tmp_path_factory.mktemp("logs") / "server.log"
    with serve(data, log=log) as url:
        yield url


@pytest.fixture(scope="module")
def ctx():
    ARTIFACTS.mkdir(exist_ok=True)
    with browser(offline=True) as c:
        yield c


def test_sign_in_page_first(app_url, ctx) -> None:
    page = ctx.new_page()
    page.goto(app_url + "/map")
    page.get_by_role("textbox", name="Username").wait_for(timeout=90_000)
    wait_idle(page)
    assert page.frame_locator(MAP_FRAME).locator(".leaflet-container").count() == 0
    assert "demo-officer" in page.locator('[data-testid="stTable"]').inner_text()
    page.screenshot(path=str(ARTIFACTS / "sign-in.png"))
    assert ctx.blocked == []


def test_map_draws_offline(app_url, ctx) -> None:
    page = sign_in(ctx, app_url)
    frame = page.frame_locator(MAP_FRAME).last
    frame.locator(".leaflet-container").first.wait_for(timeout=60_000)
    # incidents as clusters, area outlines and addresses as vector paths
    frame.locator(".marker-cluster").first.wait_for(timeout=30_000)
    assert frame.locator(".marker-cluster").count() >= 4
    assert frame.locator("path.leaflet-interactive").count() >= 4
    assert frame.locator(".clic-legend").count() == 1
    assert frame.locator(".clic-label").count() >= 4  # numbered hotspots
    assert page.locator(MAP_FRAME).bounding_box()["height"] > 400
    page.screenshot(path=str(ARTIFACTS / "map-all-cumbria.png"))
    assert ctx.blocked == [], f"requests left the machine: {ctx.blocked[:5]}"


def test_one_area_with_heat_and_visits(app_url, ctx) -> None:
    page = sign_in(ctx, app_url)
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Area").click()
    page.get_by_role("option", name="Barrow-in-Furness").click()
    wait_idle(page)
    page.get_by_role("button", name="Heat surface").click()
    wait_idle(page)
    page.get_by_role("button", name="Visits (coverage)").click()
    wait_idle(page)
    frame = page.frame_locator(MAP_FRAME).last
    frame.locator("canvas.leaflet-heatmap-layer").first.wait_for(timeout=30_000)
    wait_idle(page)
    frame.locator(".marker-cluster").first.wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "map-barrow-heat-visits.png"))
    assert ctx.blocked == []


def test_import_with_bad_rows(app_url, ctx, tmp_path: Path) -> None:
    f = tmp_path / "team-sheet.csv"
    f.write_text(
        "ref,date,type,latitude,longitude,notes\n"
        "T1,05/11/2026,drug supply,54.1150,-3.2270,seen from the shop\n"
        "T2,31/02/2026,drug supply,54.1150,-3.2270,\n"
        "T3,05/11/2026,jaywalking,54.1150,-3.2270,\n"
        "T4,05/11/2026,weapons,-3.2270,54.1150,\n"
        "T1,05/11/2026,drug supply,54.1150,-3.2270,seen from the shop\n",
        encoding="utf-8",
    )
    page = goto(sign_in(ctx, app_url), app_url + "/data", wait_for_map=False)
    page.locator('input[type="file"]').set_input_files(str(f))
    page.get_by_role("button", name="Import").click()
    page.get_by_text("Validation report").wait_for(timeout=60_000)
    wait_idle(page)  # the report's metrics render in the same run, after its heading
    metrics = page.locator('[data-testid="stMetric"]')
    text = " ".join(" ".join(t.split()) for t in metrics.all_inner_texts())
    for expected in ("Rows read 5", "Accepted 1", "Rejected 3", "Duplicates 1"):
        assert expected in text
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download the rejected and duplicate rows (CSV)").click()
    content = Path(dl.value.path()).read_text(encoding="utf-8-sig")
    assert "not a valid date" in content and "unknown category 'jaywalking'" in content
    assert "latitude and longitude look swapped" in content
    page.screenshot(path=str(ARTIFACTS / "data-import-report.png"), full_page=True)
    assert ctx.blocked == []
    # the import is in the audit log: who, what kind, how many rows; not the file's name
    store = Store.open(load_settings(DATA["dir"]))
    log = read_audit(store, "cli")
    store.close()
    imports = log[log["action"] == "import"]
    assert len(imports) == 1
    assert imports.iloc[0]["actor"] == "demo-officer"
    assert imports.iloc[0]["detail"]["rows"] == 5
    assert "team-sheet" not in str(imports.iloc[0].to_dict())


def test_trends_page(app_url, ctx) -> None:
    page = goto(sign_in(ctx, app_url), app_url + "/trends", wait_for_map=False)
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=30_000)
    page.get_by_text("Vulnerability visits").first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "trends.png"), full_page=True)
    assert ctx.blocked == []
