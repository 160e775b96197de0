"""What the page scripts and the server's own routes share, in this server process.

The page script cannot set an HttpOnly cookie (it only talks to the browser over
Streamlit's websocket), so signing in ends with a hand-off (docs/security.md,
"Reload-safe sign-in"): the page asks for a one-time ticket here, then has the
browser POST it to ``/_clic/session`` (``clic_server.py``), which looks the ticket up
here, sets the cookie and redirects back. Tickets are random, live
:data:`TICKET_TTL_S` seconds, are used once, and never appear in a URL.

Also kept here: which Streamlit session runs under which sign-in session (the
SHA-256 of its token), so that ``/media/...`` files (downloads) are served only to
the browser whose session made them.

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
HANDOFF_SCRIPT = "document.getElementById('clic-handoff').submit();"


@dataclass(frozen=True)
class _Ticket:
    token: str
    next_path: str
    expires: float


_lock = threading.Lock()
_tickets: dict[str, _Ticket] = {}
_bound: dict[str, str] = {}
_MAX_BOUND = 10_000


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


def bind(streamlit_session_id: str, token: str) -> None:
    """Record that a Streamlit session runs under this sign-in session."""
    with _lock:
        if len(_bound) >= _MAX_BOUND and streamlit_session_id not in _bound:
            _bound.pop(next(iter(_bound)))
        _bound[streamlit_session_id] = token_hash(token)


def unbind(streamlit_session_id: str) -> None:
    with _lock:
        _bound.pop(streamlit_session_id, None)


def bound(streamlit_session_id: str) -> str | None:
    """The token hash a Streamlit session last ran under (None if signed out)."""
    with _lock:
        return _bound.get(streamlit_session_id)


def handoff_html(action: str, ticket: str | None = None) -> str:
    """A form that POSTs to one of our routes at once (a button if scripts are off)."""
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
