"""Nothing record-level reaches a partner: the whole page payload, scanned for the store's values.

For each partner organisation, every area and figure it may choose and every quarter
of the map: the partner page's whole AppTest element tree (every element's proto,
dataframes decoded from Arrow, the map component's script) is scanned for every
record-level value in the store (:mod:`tests.leaks`): locations at 4, 5 and 6
decimals and as grid easting/northing, addresses, notes, location descriptions,
officers, line names and ids. The store holds the demo world plus rows with a
unique marker in every text field. A negative control runs the same scan on an
officer's Map page, where the values are meant to be, and must find them.

The browser tests do the same with what reaches a real browser: every HTTP response
body, every websocket frame, and the final DOM of the page and of its frames.
"""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest
import streamlit as st

from clic_geo.access.isa import get_isa_scope
from clic_geo.access.partner_evaluation import share_evaluation_date
from clic_geo.settings import load_settings
from clic_geo.store import Store
from tests.leaks import MARK, apptest_payload, scan, seed_marked, store_secrets
from tests.test_app import demo_store, run  # noqa: F401 - fixture

ORGS = {"demo-housing": "demo-housing", "demo-nhs": "demo-nhs"}
SHARED = {"barrow": date(2026, 3, 1), "kendal": date(2025, 9, 1), "carlisle": date(2025, 9, 1)}


@pytest.fixture(scope="module")
def marked_store(demo_store: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: F811
    """The demo store plus marked rows, and its secrets (made once for the module)."""
    d = tmp_path_factory.mktemp("leaks") / "store"
    shutil.copytree(demo_store, d)
    settings = load_settings(d, demo=True)
    store = Store.open(settings)
    seed_marked(settings, store, d.parent)
    # evaluation dates shared with partners (each one a set of hotspots they may see)
    for area, since in SHARED.items():
        share_evaluation_date(store, "cli", settings=settings, area=area, since=since)
    secrets = store_secrets(store)
    store.close()
    return d, secrets


@pytest.fixture
def env(marked_store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    src, secrets = marked_store
    d = tmp_path / "store"
    shutil.copytree(src, d)
    monkeypatch.setenv("CLIC_DATA_DIR", str(d))
    monkeypatch.setenv("CLIC_DEMO", "1")
    st.cache_resource.clear()
    yield secrets
    st.cache_resource.clear()


def _check(at, secrets, what: str) -> str:
    assert not at.exception, [e.value for e in at.exception]
    blob = apptest_payload(at)
    found = scan(blob, secrets)
    assert found == [], f"{what}: {[str(f) for f in found]}"
    assert MARK not in blob, what
    return blob


@pytest.mark.slow
@pytest.mark.parametrize("user", list(ORGS))
def test_partner_page_payload_holds_no_record_level_value(env, user: str) -> None:
    secrets = env
    at = run(as_user=user)
    assert at.title[0].value == "Partnership figures"
    settings = load_settings()
    store = Store.open(settings)
    scope = get_isa_scope(store, ORGS[user])
    store.close()
    areas = at.selectbox(key="partner_area").options
    assert len(areas) == len(scope.areas)
    checked = 0
    maps = 0
    for area in areas:
        at.selectbox(key="partner_area").select(area).run()
        for layer in at.selectbox(key="partner_layer").options:
            at.selectbox(key="partner_layer").select(layer).run()
            blob = _check(at, secrets, f"{user} {area} {layer}")
            checked += 1
            maps += "Squares" in blob or "leaflet" in blob
    # every quarter of the map, on the first area and figure with one
    at.selectbox(key="partner_area").select(areas[0]).run()
    at.selectbox(key="partner_layer").select(at.selectbox(key="partner_layer").options[0]).run()
    quarters = at.selectbox(key="partner_quarter").options
    assert len(quarters) >= 4
    for q in quarters:
        at.selectbox(key="partner_quarter").select(q).run()
        blob = _check(at, secrets, f"{user} {q}")
        checked += 1
    # the scan saw the map's script and the tables' values (not an empty tree)
    assert "fewer than 10" in blob and re.search(r"L\.map|leaflet", blob)
    assert maps > 0 and checked >= len(areas) * 2 + len(quarters)


@pytest.mark.slow
@pytest.mark.parametrize("user", list(ORGS))
def test_partner_evaluation_payload_holds_no_record_level_value(env, user: str) -> None:
    """The evaluation section on every area, each incident figure, shared dates, scanned."""
    secrets = env
    at = run(as_user=user)
    checked = 0
    for i, area in enumerate(at.selectbox(key="partner_area").options):
        at.selectbox(key="partner_area").select(area).run()
        area_id = at.selectbox(key="partner_area").value
        layers = at.selectbox(key="partner_eval_layer").options
        # every incident figure on the first area, the first figure on the others
        for j, layer in enumerate(layers if i == 0 else layers[:1]):
            at.selectbox(key="partner_eval_layer").select(layer).run()
            dates = at.selectbox(key=f"partner_eval_since_{area_id}").options
            since = dates[(i + j) % len(dates)]
            at.selectbox(key=f"partner_eval_since_{area_id}").select(since).run()
            blob = _check(at, secrets, f"{user} {area} {layer} {since}")
            # the scan saw the evaluation: its words, its chart, its table
            assert "Did it work?" in blob and "index only" in blob
            assert "How to read this" in blob and "Treated zones" in blob
            checked += 1
    assert checked >= 2


def test_officer_map_payload_is_found_by_the_same_scan(env) -> None:
    """Negative control: an officer's Map page holds record-level values; the scan sees them."""
    secrets = env
    at = run(as_user="demo-officer")
    assert at.title[0].value == "Map"
    at.selectbox(key="map_area").select("barrow").run()
    assert not at.exception
    found = scan(apptest_payload(at), secrets, limit=200)
    kinds = {f.kind for f in found}
    assert kinds == {"text", "point"}, [str(f) for f in found]


def test_officer_preview_of_a_partner_view_holds_nothing(env) -> None:
    secrets = env
    at = run("app_pages/partner_page.py", as_user="demo-officer")
    for org in at.selectbox(key="partner_org").options:
        at.selectbox(key="partner_org").select(org).run()
        _check(at, secrets, f"preview {org}")


# ------------------------------------------------------------------ a real browser


@pytest.fixture(scope="module")
def served(marked_store, tmp_path_factory: pytest.TempPathFactory):
    """The dashboard (demo mode) on a copy of the marked store."""
    from tests.browser import serve

    src, secrets = marked_store
    d = tmp_path_factory.mktemp("leaks-served") / "store"
    shutil.copytree(src, d)
    log = tmp_path_factory.mktemp("leaks-logs") / "server.log"
    with serve(d, log=log) as url:
        yield url, secrets


class Capture:
    """Everything the browser receives: response bodies and websocket frames."""

    def __init__(self, page) -> None:
        self.responses = []
        self.frames: list[bytes | str] = []
        page.on("response", lambda r: self.responses.append(r))
        page.on("websocket", lambda ws: ws.on("framereceived", lambda f: self.frames.append(f)))

    def text(self, page) -> str:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        from tests.leaks import proto_strings

        parts: list[str] = []
        for r in self.responses:
            try:
                body = r.body()
            except Exception:
                continue
            parts.append(body.decode("utf-8", "replace"))
        for f in self.frames:
            data = f.encode() if isinstance(f, str) else f
            msg = ForwardMsg()
            try:
                msg.ParseFromString(data)
            except Exception:
                parts.append(data.decode("utf-8", "replace"))
                continue
            parts.extend(proto_strings(msg))
        for fr in page.frames:  # the page and every iframe (the map's)
            try:
                parts.append(fr.content())
            except Exception:
                continue
        return "\n".join(parts)


def _session(url: str, username: str, password: str):
    from tests.browser import MAP_FRAME, browser, sign_in, wait_idle

    with browser(offline=True) as ctx:
        captures: list[Capture] = []
        ctx.on("page", lambda p: captures.append(Capture(p)))
        page = sign_in(ctx, url, username, password)
        page.frame_locator(MAP_FRAME).last.locator(".leaflet-container").first.wait_for(
            timeout=90_000
        )
        wait_idle(page)
        text = "\n".join(c.text(page) for c in captures)
        yield page, text, ctx


@pytest.mark.browser
@pytest.mark.slow
def test_partner_browser_session_receives_no_record_level_value(served) -> None:
    from tests.browser import MAP_FRAME
    from tests.test_browser import ARTIFACTS

    url, secrets = served
    for page, text, ctx in _session(url, "demo-housing", "housing-demo-1clic"):
        assert "Partnership figures" in text
        # the map drew (its numbered squares and the one hatch of hidden ones are in the
        # frame's DOM) and the payload was seen
        frame = page.frame_locator(MAP_FRAME).last
        assert frame.locator("path.leaflet-interactive").count() >= 2
        assert len(text) > 500_000
        found = scan(text, secrets)
        assert found == [], [str(f) for f in found]
        assert MARK not in text
        # the meeting pack the partner downloads is scanned too
        with page.expect_download(timeout=90_000) as dl:
            page.get_by_role("button", name="Download meeting pack (HTML, works offline)").click()
        pack = Path(dl.value.path()).read_text(encoding="utf-8")
        assert "Partnership figures for" in pack and "<svg" in pack
        assert scan(pack, secrets) == [] and MARK not in pack
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "leaks-partner.png"), full_page=True)
        assert ctx.blocked == []


@pytest.mark.browser
@pytest.mark.slow
def test_officer_browser_session_is_found_by_the_same_scan(served) -> None:
    """Negative control: the officer's Map page carries record-level values to the browser."""
    url, secrets = served
    for _page, text, _ctx in _session(url, "demo-officer", "officer-demo-1clic"):
        found = scan(text, secrets, limit=500)
        assert {f.kind for f in found} == {"text", "point"}, [str(f) for f in found]
