"""What the page scripts and the server's own routes share, in this server process.

The page script cannot set an HttpOnly cookie (it only talks to the browser over
Streamlit's websocket), so signing in ends with a hand-off (docs/security.md,
"Reload-safe sign-in"): the page asks for a one-time ticket here, then the
browser POSTs it in the background to ``/_clic/session`` (``clic_server.py``),
which looks the ticket up here and sets the cookie (the page does not move).
Tickets are random, live :data:`TICKET_TTL_S` seconds, are used once, and never
appear in a URL.

Also kept here: which sign-in session (the SHA-256 of its token) each ``/media/...``
file (a download) was offered to, so that it is served to that session only, and
for :data:`MEDIA_TTL_S` after the last page run that offered it.

This module deliberately imports no Streamlit: ``clic_server`` and the pages import
it by the same name, so they share one instance.
"""

from __future__ import annotations

import hashlib
import html
import secrets
import threading
import time
from dataclasses import dataclass

#: The session cookie's name (HttpOnly, SameSite=Strict; Secure over HTTPS).
COOKIE = "clic_session"
#: How long a sign-in ticket may wait to be used.
TICKET_TTL_S = 60.0
#: Paths the hand-off may send the browser back to.
SIGN_IN_PATH = "/_clic/session"
SIGN_OUT_PATH = "/_clic/signout"

#: The hand-off's script: constant, so the page's Content-Security-Policy allows it
#: by its hash (``clic_server.csp``) and no other inline script.
HANDOFF_SCRIPT = (
    "(function(){var f=document.getElementById('clic-handoff');"
    "fetch(f.action,{method:'POST',body:new URLSearchParams(new FormData(f)),"
    "credentials:'same-origin',redirect:'manual',cache:'no-store'});})();"
)


@dataclass(frozen=True)
class _Ticket:
    token: str
    next_path: str
    expires: float


_lock = threading.Lock()
_tickets: dict[str, _Ticket] = {}
#: How long a download stays fetchable after the last page run that offered it.
MEDIA_TTL_S = 600.0
_media: dict[str, tuple[str, float]] = {}
#: Streamlit session id -> the token hash of the sign-in session its last run was under
#: (for downloads built only on a click, after the run: :func:`remember_built_media`).
_st_sessions: dict[str, str] = {}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_ticket(token: str, next_path: str = "/") -> str:
    """A one-time ticket standing for a session token, for :data:`TICKET_TTL_S` seconds."""
    ticket = secrets.token_urlsafe(32)
    now = time.monotonic()
    with _lock:
        for k in [k for k, t in _tickets.items() if t.expires < now]:
            del _tickets[k]
        _tickets[token_hash(ticket)] = _Ticket(token, safe_next(next_path), now + TICKET_TTL_S)
    return ticket


def redeem_ticket(ticket: str) -> tuple[str, str] | None:
    """The session token and return path of a ticket, once; None if unknown or expired."""
    with _lock:
        t = _tickets.pop(token_hash(str(ticket)), None)
    if t is None or t.expires < time.monotonic():
        return None
    return t.token, t.next_path


def safe_next(path: str) -> str:
    """A path inside this app (no scheme, host or query), else ``/``."""
    p = str(path or "/")
    ok = p.startswith("/") and not p.startswith("//") and all(c.isalnum() or c in "/_-" for c in p)
    return p if ok else "/"


def remember_media(file_ids: list[str], token: str, st_session: str | None = None) -> None:
    """Files (downloads) a page run under ``token`` offered: fetchable by that session
    for :data:`MEDIA_TTL_S` seconds after the run (a click reruns the page, which
    drops and re-adds them: this covers the gap). ``st_session``: the Streamlit
    session the run was in, whose downloads built later on a click are this sign-in
    session's too."""
    now = time.monotonic()
    th = token_hash(token)
    with _lock:
        if st_session is not None:
            _st_sessions[st_session] = th
        for k in [k for k, (_, exp) in _media.items() if exp < now]:
            del _media[k]
        for fid in file_ids:
            _media[fid] = (th, now + MEDIA_TTL_S)


def remember_built_media(st_session: str | None, file_id: str) -> None:
    """A download built on a click (Streamlit's deferred download) for ``st_session``:
    it belongs to the sign-in session that session's last run was under (none: it
    stays unfetchable)."""
    with _lock:
        th = _st_sessions.get(st_session) if st_session is not None else None
        if th is not None:
            _media[file_id] = (th, time.monotonic() + MEDIA_TTL_S)


def media_owner(file_id: str) -> str | None:
    """The token hash of the session that was last offered this file (None: expired)."""
    with _lock:
        got = _media.get(file_id)
    if got is None or got[1] < time.monotonic():
        return None
    return got[0]


def forget_media(token: str) -> None:
    """At sign-out: the session's files are no longer fetchable."""
    th = token_hash(token)
    with _lock:
        for k in [k for k, (owner, _) in _media.items() if owner == th]:
            del _media[k]
        for k in [k for k, owner in _st_sessions.items() if owner == th]:
            del _st_sessions[k]


def handoff_html(action: str, ticket: str | None = None) -> str:
    """A form that the page POSTs to one of our routes at once, in the background (the
    page stays as it is; the response sets or clears the cookie). Without scripts, a
    button posts it and the server sends the browser back to the app."""
    field = (
        f'<input type="hidden" name="t" value="{html.escape(ticket, quote=True)}">'
        if ticket
        else ""
    )
    return (
        f'<form id="clic-handoff" method="post" action="{html.escape(action, quote=True)}">'
        f'{field}<noscript><button type="submit">Continue</button></noscript></form>'
        f"<script>{HANDOFF_SCRIPT}</script>"
    )
