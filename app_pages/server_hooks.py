"""The dashboard's web server hooks: our routes, headers and error handler.

``clic-geo serve`` runs ``streamlit run clic_server.py``, whose ``st.App`` serves
``app.py`` with these:

- ``POST /_clic/session``: takes a one-time sign-in ticket (``app_pages.web_state``)
  and sets the session cookie (HttpOnly, SameSite=Strict, Secure over HTTPS), then
  sends the browser back to the app. ``POST /_clic/signout`` ends the cookie's
  session and clears the cookie.
- headers on every response: framing refused (``X-Frame-Options: DENY``, CSP
  ``frame-ancestors 'none'``; component frames are allowed inside the app only), a
  Content-Security-Policy on the app's page, ``nosniff``, no referrer;
- ``/media/...`` (downloads) only for the browser whose signed-in session made them,
  never cached; ``/_stcore/metrics`` closed unless ``CLIC_METRICS=1``;
- one handler for an error in any page: the traceback and a reference id go to the
  server log, the browser gets one line with the reference id.

docs/security.md ("Web server") says what this promises and which tests prove it.
This module imports Streamlit, so it lives in ``app_pages``, not in ``clic_geo``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import os
import re
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import anyio
import streamlit as st
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from app_pages import web_state
from app_pages.errors import report_error

log = logging.getLogger("clic_geo.app")

#: Paths of component frames (maps): they are framed by the app itself.
COMPONENT_PREFIX = "/component/"
MEDIA_PREFIX = "/media/"
METRICS_PATH = "/_stcore/metrics"


def _sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@functools.lru_cache(maxsize=1)
def csp() -> str:
    """The app page's Content-Security-Policy.

    Scripts only from this server, plus two inline scripts allowed by hash:
    Streamlit's own one-line loader flag in its index.html and our sign-in hand-off.
    Styles inline (Streamlit's styling needs them), images/fonts from here or data:,
    frames (the map components) from here only; nobody may frame the app.
    """
    index = Path(st.__file__).parent / "static" / "index.html"
    inline = re.findall(r"<script>(.*?)</script>", index.read_text("utf-8"), flags=re.S)
    hashes = " ".join(_sha256_source(s) for s in [*inline, web_state.HANDOFF_SCRIPT])
    return (
        "default-src 'self'; "
        f"script-src 'self' {hashes}; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; font-src 'self' data:; "
        "connect-src 'self'; frame-src 'self'; worker-src 'self' blob:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


MEDIA_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"


def metrics_open() -> bool:
    return os.environ.get("CLIC_METRICS", "").strip().lower() in ("1", "true", "yes")


@functools.lru_cache(maxsize=1)
def _store() -> Any:
    from clic_geo.settings import load_settings
    from clic_geo.store import Store

    return Store.open(load_settings())


def _cookie(scope: dict) -> str | None:
    for k, v in scope.get("headers") or []:
        if k == b"cookie":
            for part in v.decode("latin-1").split(";"):
                name, _, value = part.strip().partition("=")
                if name == web_state.COOKIE and value:
                    return value
    return None


def _own_built_downloads() -> None:
    """Downloads built on a click (``st.download_button`` with a callable) get a new
    file id after the page run, so the run never offered them: record them for the
    sign-in session of the Streamlit session that registered the callable. Wraps a
    method of Streamlit's media file manager (private bookkeeping, pinned version; if
    it changes, such downloads are refused, never opened up)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    original = MediaFileManager.execute_deferred
    if getattr(original, "_clic_owned", False):
        return

    @functools.wraps(original)
    def execute_deferred(self: Any, file_id: str) -> str:
        with self._lock:
            entry = self._deferred_callables.get(file_id)
        url = original(self, file_id)
        built = os.path.splitext(url.rsplit("/", 1)[-1])[0]
        web_state.remember_built_media(entry["session_id"] if entry else None, built)
        return url

    execute_deferred._clic_owned = True  # type: ignore[attr-defined]
    MediaFileManager.execute_deferred = execute_deferred  # type: ignore[method-assign]


_own_built_downloads()


def _media_owner_ok(file_id: str, token: str) -> bool:
    """True if this file was offered to the sign-in session of ``token``, lately."""
    return web_state.media_owner(file_id) == web_state.token_hash(token)


def _session_valid(token: str) -> bool:
    from clic_geo.access.auth import AuthenticationError, validate_session

    try:
        validate_session(_store(), token, touch=False)
    except AuthenticationError:
        return False
    return True


def _app_path(path: str) -> str:
    """The path inside the app (without ``server.baseUrlPath``, if one is set)."""
    from streamlit import config

    base = "/" + (config.get_option("server.baseUrlPath") or "").strip("/")
    if base != "/" and (path == base or path.startswith(base + "/")):
        return path[len(base) :] or "/"
    return path


class SecurityMiddleware:
    """Headers on every HTTP response; media and metrics gated (pure ASGI: websockets
    pass straight through)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = _app_path(scope.get("path", ""))
        if path == METRICS_PATH and not metrics_open():
            await PlainTextResponse("Not found", status_code=404)(scope, receive, send)
            return
        if path.startswith(MEDIA_PREFIX):
            file_id = os.path.splitext(path[len(MEDIA_PREFIX) :])[0]
            token = _cookie(scope)
            try:
                ok = bool(token) and _media_owner_ok(file_id, token)
                ok = ok and await anyio.to_thread.run_sync(_session_valid, token)
                resp = None if ok else PlainTextResponse("Not found", status_code=404)
            except Exception as exc:  # the store was busy or broken: refuse, say why in the log
                ref = uuid.uuid4().hex[:8].upper()
                log.error("a download could not be checked, reference %s", ref, exc_info=exc)
                resp = PlainTextResponse(
                    f"The download could not be checked just now; try again (reference: {ref}).",
                    status_code=503,
                )
            if resp is not None:
                resp.headers["Cache-Control"] = "no-store"
                await resp(scope, receive, send)
                return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"x-frame-options", b"content-security-policy")
                ]
                ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                for k, v in _headers_for(path, ctype.decode("latin-1")).items():
                    headers.append((k.encode(), v.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _headers_for(path: str, content_type: str) -> dict[str, str]:
    h = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
    if path.startswith(COMPONENT_PREFIX):
        # the map frames: only the app itself may frame them
        h["X-Frame-Options"] = "SAMEORIGIN"
        h["Content-Security-Policy"] = "frame-ancestors 'self'"
    elif path.startswith(MEDIA_PREFIX):
        h["X-Frame-Options"] = "DENY"
        h["Content-Security-Policy"] = MEDIA_CSP
        h["Cache-Control"] = "no-store"
    else:
        h["X-Frame-Options"] = "DENY"
        h["Content-Security-Policy"] = (
            csp() if content_type.startswith("text/html") else "frame-ancestors 'none'"
        )
    return h


# ------------------------------------------------------------------ sign-in cookie


def _same_origin(request: Request) -> bool:
    """Refuse cross-site form posts (login CSRF): the browser says where it came from."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        host = request.headers.get("host", "")
        return origin.split("://", 1)[-1] == host
    return True


def _is_https(request: Request) -> bool:
    proto = request.headers.get("x-forwarded-proto", request.url.scheme)
    return proto.split(",")[0].strip().lower() == "https"


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body())[:4096].decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body).items()}


def _no_store(resp: Response) -> Response:
    resp.headers["Cache-Control"] = "no-store"
    return resp


async def session_route(request: Request) -> Response:
    """Exchange a one-time ticket for the session cookie; back to the app."""
    if not _same_origin(request):
        return _no_store(PlainTextResponse("Refused", status_code=403))
    got = web_state.redeem_ticket((await _form(request)).get("t", ""))
    if got is None:
        return _no_store(RedirectResponse("/", status_code=303))
    token, next_path = got
    resp = RedirectResponse(next_path, status_code=303)
    resp.set_cookie(
        web_state.COOKIE,
        token,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_is_https(request),
    )
    return _no_store(resp)


async def signout_route(request: Request) -> Response:
    """End the cookie's session (if still open) and clear the cookie."""
    if not _same_origin(request):
        return _no_store(PlainTextResponse("Refused", status_code=403))
    token = request.cookies.get(web_state.COOKIE)
    if token:
        from clic_geo.access.cookie_sessions import end_session

        await anyio.to_thread.run_sync(end_session, _store(), token)
    resp = RedirectResponse("/", status_code=303)
    resp.delete_cookie(
        web_state.COOKIE, path="/", httponly=True, samesite="strict", secure=_is_https(request)
    )
    return _no_store(resp)


ROUTES = [
    Route(web_state.SIGN_IN_PATH, session_route, methods=["POST"]),
    Route(web_state.SIGN_OUT_PATH, signout_route, methods=["POST"]),
]


# ------------------------------------------------------------------ errors


def on_script_error(exc: BaseException) -> bool:
    """An error in a widget callback (pages are wrapped by ``app.py`` itself)."""
    report_error(exc)
    return True
