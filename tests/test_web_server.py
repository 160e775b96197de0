"""The web server's own routes and headers (app_pages/server_hooks.py), driven as ASGI.

Issue 10 §4: the session cookie is set by the server (HttpOnly, SameSite=Strict,
Secure over HTTPS) from a one-time ticket, never from a URL. Issue 14: framing
refused and a CSP on the app, metrics closed, media not served without the session
that made them and never cached. The browser tests (test_browser_session.py) check
the same against the real server.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from app_pages import server_hooks, web_state
from clic_geo.access.auth import AuthenticationError, AuthPolicy, login, validate_session
from clic_geo.settings import load_settings
from clic_geo.store import Store
from tests.auth_fixtures import add_officer_alice

PW = "officer pass-phrase one"


def call(app, method: str, path: str, *, headers=(), body: bytes = b"") -> tuple[int, dict, bytes]:
    """One HTTP request through an ASGI app; (status, headers as a dict of lists, body)."""
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
        "scheme": "http",
        "server": ("127.0.0.1", 8501),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
        "http_version": "1.1",
    }
    sent: list[dict] = []
    chunks = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    hdrs: dict[str, list[str]] = {}
    for k, v in start["headers"]:
        hdrs.setdefault(k.decode().lower(), []).append(v.decode("latin-1"))
    data = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], hdrs, data


async def inner(scope, receive, send):
    """Stands in for Streamlit: an HTML page everywhere, a component page, metrics."""
    path = scope["path"]
    ctype = b"text/plain" if path.startswith("/_stcore/") else b"text/html; charset=utf-8"
    headers = [(b"content-type", ctype)]
    if path.startswith("/component/"):
        headers.append((b"x-frame-options", b"DENY"))  # ours must replace it
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"<html>streamlit</html>"})


APP = server_hooks.SecurityMiddleware(inner)


def test_the_app_page_refuses_framing_and_has_a_csp() -> None:
    for path in ("/", "/plan"):
        status, h, _ = call(APP, "GET", path)
        assert status == 200
        assert h["x-frame-options"] == ["DENY"]
        (csp,) = h["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self' 'sha256-" in csp and "unsafe-eval" not in csp
        assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0]
        assert h["x-content-type-options"] == ["nosniff"]
    # the map components are framed by the app itself, and by nothing else
    _, h, _ = call(APP, "GET", "/component/streamlit_folium.st_folium/index.html")
    assert h["x-frame-options"] == ["SAMEORIGIN"]
    assert h["content-security-policy"] == ["frame-ancestors 'self'"]


def test_the_handoff_script_is_the_only_script_of_ours_allowed() -> None:
    html = web_state.handoff_html(web_state.SIGN_IN_PATH, 'tick"et<')
    assert f"<script>{web_state.HANDOFF_SCRIPT}</script>" in html
    assert 'value="tick&quot;et&lt;"' in html  # escaped
    assert server_hooks._sha256_source(web_state.HANDOFF_SCRIPT) in server_hooks.csp()


def test_metrics_closed_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLIC_METRICS", raising=False)
    assert call(APP, "GET", "/_stcore/metrics")[0] == 404
    monkeypatch.setenv("CLIC_METRICS", "1")
    assert call(APP, "GET", "/_stcore/metrics")[0] == 200


def test_media_not_served_without_the_session_that_made_it() -> None:
    for headers in ((), (("cookie", f"{web_state.COOKIE}=forged-token"),)):
        status, h, body = call(APP, "GET", "/media/0123abcd.html", headers=headers)
        assert status == 404 and b"streamlit" not in body
        assert h["cache-control"] == ["no-store"]


def test_a_busy_store_refuses_the_download_without_detail(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """If the session cannot be checked (store locked or broken), the file is refused
    with a reference, the cause goes to the server log only, and nothing is cached."""
    web_state.remember_media(["busyfile"], "token-busy")

    def locked(_token: str) -> bool:
        raise RuntimeError("database is locked at /srv/clic/store.sqlite")

    monkeypatch.setattr(server_hooks, "_session_valid", locked)
    cookie = (("cookie", f"{web_state.COOKIE}=token-busy"),)
    status, h, body = call(APP, "GET", "/media/busyfile.csv", headers=cookie)
    assert status == 503 and h["cache-control"] == ["no-store"]
    assert b"streamlit" not in body and b"locked" not in body and b"/srv" not in body
    ref = body.decode().rsplit("reference: ", 1)[1][:8]
    assert ref in caplog.text and "database is locked" in caplog.text
    web_state.forget_media("token-busy")


def test_ticket_is_used_once_and_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    t = web_state.issue_ticket("the-token", "/plan")
    assert web_state.redeem_ticket(t) == ("the-token", "/plan")
    assert web_state.redeem_ticket(t) is None
    t2 = web_state.issue_ticket("the-token", "https://evil.example/")
    clock = time.monotonic() + web_state.TICKET_TTL_S + 1
    monkeypatch.setattr(web_state.time, "monotonic", lambda: clock)
    assert web_state.redeem_ticket(t2) is None
    assert web_state.safe_next("//evil.example") == "/"
    assert web_state.safe_next("/plan?x=1") == "/"


@pytest.fixture
def signed_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A store with one officer, the server's store pointed at it; a fresh session."""
    d = tmp_path / "store"
    monkeypatch.setenv("CLIC_DATA_DIR", str(d))
    monkeypatch.delenv("CLIC_DEMO", raising=False)
    settings = load_settings()
    store = Store.open(settings)
    policy = AuthPolicy(bcrypt_rounds=4)
    add_officer_alice(store, policy, password=PW, now=None)
    server_hooks._store.cache_clear()
    yield store, login(store, "alice", PW, policy=policy)
    server_hooks._store.cache_clear()
    store.close()


def _post(path: str, body: bytes = b"", headers=()) -> tuple[int, dict, bytes]:
    from starlette.routing import Router

    router = Router(routes=server_hooks.ROUTES)
    h = [("content-type", "application/x-www-form-urlencoded"), *headers]
    return call(server_hooks.SecurityMiddleware(router), "POST", path, headers=h, body=body)


def test_ticket_sets_the_cookie_server_side(signed_in) -> None:
    _store, session = signed_in
    ticket = web_state.issue_ticket(session.token, "/plan")
    status, h, _ = _post(
        web_state.SIGN_IN_PATH,
        f"t={ticket}".encode(),
        headers=[("origin", "http://127.0.0.1:8501"), ("host", "127.0.0.1:8501")],
    )
    assert status == 303 and h["location"] == ["/plan"]
    (cookie,) = h["set-cookie"]
    assert cookie.startswith(f"{web_state.COOKIE}={session.token};")
    low = cookie.lower()
    assert "httponly" in low and "samesite=strict" in low and "secure" not in low
    assert h["cache-control"] == ["no-store"]
    # once only
    status, h, _ = _post(web_state.SIGN_IN_PATH, f"t={ticket}".encode())
    assert status == 303 and "set-cookie" not in h
    # over HTTPS (behind a proxy) the cookie is Secure
    t2 = web_state.issue_ticket(session.token)
    _, h, _ = _post(
        web_state.SIGN_IN_PATH, f"t={t2}".encode(), headers=[("x-forwarded-proto", "https")]
    )
    assert "secure" in h["set-cookie"][0].lower()


def test_cross_site_posts_are_refused(signed_in) -> None:
    _, session = signed_in
    ticket = web_state.issue_ticket(session.token)
    for headers in (
        [("sec-fetch-site", "cross-site")],
        [("origin", "https://evil.example"), ("host", "127.0.0.1:8501")],
    ):
        status, h, _ = _post(web_state.SIGN_IN_PATH, f"t={ticket}".encode(), headers=headers)
        assert status == 403 and "set-cookie" not in h
        status, _, _ = _post(
            web_state.SIGN_OUT_PATH,
            headers=[*headers, ("cookie", f"{web_state.COOKIE}={session.token}")],
        )
        assert status == 403


def test_sign_out_ends_the_session_and_clears_the_cookie(signed_in) -> None:
    store, session = signed_in
    status, h, _ = _post(
        web_state.SIGN_OUT_PATH, headers=[("cookie", f"{web_state.COOKIE}={session.token}")]
    )
    assert status == 303
    (cookie,) = h["set-cookie"]
    assert cookie.startswith(f'{web_state.COOKIE}="";') and "max-age=0" in cookie.lower()
    with pytest.raises(AuthenticationError):
        validate_session(store, session)


def test_media_is_for_the_session_it_was_offered_to_and_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    web_state.remember_media(["f1", "f2"], "token-a")
    assert server_hooks._media_owner_ok("f1", "token-a")
    assert not server_hooks._media_owner_ok("f1", "token-b")
    assert not server_hooks._media_owner_ok("f3", "token-a")
    web_state.forget_media("token-a")  # sign-out
    assert not server_hooks._media_owner_ok("f2", "token-a")
    web_state.remember_media(["f4"], "token-a")
    later = time.monotonic() + web_state.MEDIA_TTL_S + 1
    monkeypatch.setattr(web_state.time, "monotonic", lambda: later)
    assert not server_hooks._media_owner_ok("f4", "token-a")


def test_gates_hold_under_a_base_url_path(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit import config

    monkeypatch.delenv("CLIC_METRICS", raising=False)
    old = config.get_option("server.baseUrlPath")
    config.set_option("server.baseUrlPath", "clic")
    try:
        assert call(APP, "GET", "/clic/_stcore/metrics")[0] == 404
        assert call(APP, "GET", "/clic/media/0123abcd.csv")[0] == 404
        assert call(APP, "GET", "/clic/")[1]["x-frame-options"] == ["DENY"]
    finally:
        config.set_option("server.baseUrlPath", old)


def test_a_download_built_on_a_click_belongs_to_the_session_that_asked() -> None:
    """Deferred downloads (a callable, run on the click) get a file id after the page
    run: the wrapped media manager gives it to the sign-in session of the Streamlit
    session that registered the callable, and to no one else."""
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    assert getattr(MediaFileManager.execute_deferred, "_clic_owned", False)
    mgr = MediaFileManager(MemoryMediaFileStorage("/media"))
    # outside a script run Streamlit files the callable under the session "dontcare"
    web_state.remember_media([], "token-a", "dontcare")
    web_state.remember_media([], "token-b", "another-streamlit-session")
    placeholder = mgr.add_deferred(lambda: b"area,count\n", "text/csv", "coord-1", "f.csv")
    built = mgr.execute_deferred(placeholder).rsplit("/", 1)[-1].split(".")[0]
    assert web_state.media_owner(built) == web_state.token_hash("token-a")
    assert server_hooks._media_owner_ok(built, "token-a")
    assert not server_hooks._media_owner_ok(built, "token-b")
    web_state.forget_media("token-a")  # sign-out: gone, and later builds too
    assert web_state.media_owner(built) is None
    again = mgr.execute_deferred(placeholder).rsplit("/", 1)[-1].split(".")[0]
    assert web_state.media_owner(again) is None
