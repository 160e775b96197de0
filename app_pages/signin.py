"""Reload-safe sign-in, the page side: the cookie's session, the hand-off to the server.

A signed-in session is kept in ``st.session_state`` for the life of the page's
websocket, and in an HttpOnly cookie set by the server for reloads and bookmarks
(``clic_server.py``, ``app_pages.web_state``; docs/security.md). Page script can
only read that cookie (``st.context.cookies``), which is all it needs: every run
checks the token against the store.
"""

from __future__ import annotations

import streamlit as st

from app_pages import web_state
from clic_geo.access.auth import AuthenticationError, SessionExpiredError
from clic_geo.access.cookie_sessions import resume_session
from clic_geo.access.identity import Session
from clic_geo.store import Store

HANDOFF_KEY = "clic_handoff"
SIGNED_OUT_KEY = "clic_signed_out"


def _cookies() -> dict[str, str]:
    try:
        return dict(st.context.cookies)
    except Exception:  # no browser connection (e.g. a script run in tests)
        return {}


def client_address() -> str | None:
    """The browser's address as the server saw it (for sign-in throttling)."""
    try:
        ip = st.context.ip_address
    except Exception:
        return None
    return ip if isinstance(ip, str) and ip else None


def session_from_cookie(store: Store, retry) -> Session | None:
    """The session the browser's cookie holds, if it is still valid."""
    if st.session_state.get(SIGNED_OUT_KEY):
        return None
    token = _cookies().get(web_state.COOKIE)
    if not token:
        return None
    try:
        return retry(resume_session, store, token)
    except SessionExpiredError as exc:
        st.session_state["flash"] = str(exc).capitalize() + "."
    except AuthenticationError:
        pass
    return None


def remember_media(session: Session | None) -> None:
    """After a page run: the files it offered belong to this sign-in session."""
    ctx = _run_ctx()
    if session is None or ctx is None:
        return
    try:
        from streamlit.runtime import Runtime

        mgr = Runtime.instance().media_file_mgr
        with mgr._lock:  # Streamlit's media bookkeeping (private: pinned version)
            ids = list(mgr._files_by_session_and_coord.get(ctx.session_id, {}).values())
            ids += list(mgr._deferred_ids_by_session.get(ctx.session_id, ()))
    except Exception:  # no runtime (tests) or Streamlit changed: nothing is served
        return
    web_state.remember_media(ids, session.token, ctx.session_id)


def _run_ctx():
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    return get_script_run_ctx()


def signed_in(session: Session) -> None:
    """After a sign-in on the form: the browser gets the cookie on the next run."""
    st.session_state.pop(SIGNED_OUT_KEY, None)
    st.session_state[HANDOFF_KEY] = (web_state.SIGN_IN_PATH, web_state.issue_ticket(session.token))


def signed_out(ended: Session) -> None:
    """After sign-out: the browser's cookie is cleared on the next run; the session's
    downloads are no longer served."""
    web_state.forget_media(ended.token)
    st.session_state[SIGNED_OUT_KEY] = True
    st.session_state[HANDOFF_KEY] = (web_state.SIGN_OUT_PATH, None)


def render_handoff() -> None:
    """If a hand-off is due, send the browser to it (a form posted by a script)."""
    due = st.session_state.pop(HANDOFF_KEY, None)
    if due is not None:
        action, ticket = due
        st.html(web_state.handoff_html(action, ticket), unsafe_allow_javascript=True)
