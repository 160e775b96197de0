"""clic-geo dashboard: hotspots, tomorrow's visits and the partnership's figures.

Run with ``clic-geo serve`` (or ``./scripts/run.sh`` for the demo). Nobody sees data
without signing in; the pages offered depend on the user's role, and a page that is
not offered cannot be reached by its URL (Streamlit only runs pages in the
navigation). Each page checks the role again before it reads anything.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import streamlit as st

from app_pages import common as c
from app_pages import signin
from app_pages.errors import report_error
from clic_geo.access.auth import logout
from clic_geo.access.identity import Role

HERE = Path(__file__).parent
if os.environ.get("CLIC_LOG") and not logging.getLogger("clic_geo").handlers:
    # CLIC_LOG=debug|info: the library's log on the server's stderr (no personal data)
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logging.getLogger("clic_geo").addHandler(_handler)
    logging.getLogger("clic_geo").setLevel(os.environ["CLIC_LOG"].upper())
st.set_page_config(
    page_title="clic-geo · 1-CLIC", page_icon=str(HERE / "app_pages" / "favicon.png"), layout="wide"
)
st.markdown(c.COMPACT_CSS, unsafe_allow_html=True)  # a constant: layout only, no data

try:
    with st.spinner("Opening the store (the first start of the demo prepares its data)…"):
        res = c.open_resources()
    user = c.current_user()
except Exception as exc:  # e.g. a damaged store: one line with a reference id, no traceback
    report_error(exc)
    st.stop()


def _page(path: str, title: str, icon: str, url: str, *, default: bool = False) -> st.Page:
    return st.Page(
        f"app_pages/{path}", title=title, icon=f":material/{icon}:", url_path=url, default=default
    )


if user is None:
    pages = [_page("login_page.py", "Sign in", "login", "login", default=True)]
elif user.role == Role.PARTNER:
    pages = [_page("partner_page.py", "Partnership figures", "groups", "partnership", default=True)]
else:
    pages = [
        _page("map_page.py", "Map", "map", "map", default=True),
        _page("plan_page.py", "Plan tomorrow", "directions_walk", "plan"),
        _page("today_page.py", "Today's route", "smartphone", "today"),
        _page("trends_page.py", "Trends", "trending_up", "trends"),
        _page("data_page.py", "Data", "database", "data"),
        _page("partner_page.py", "Partner view", "groups", "partnership"),
        _page("audit_page.py", "Audit log", "history", "audit"),
    ]
    if user.role == Role.ADMIN:
        pages.append(_page("admin_page.py", "Admin", "admin_panel_settings", "admin"))
nav = st.navigation(pages)
st.sidebar.caption("1-CLIC · County Lines Informed Cumbria")
if user is not None:
    with st.sidebar:
        st.caption(
            f"Signed in: {c.md(user.display_name)} · {c.md(user.organisation_name)} · "
            f"{user.role.value}"
        )
        if st.button("Sign out", key="sign_out"):
            ended = c.session()
            logout(res.store, ended)
            for k in (c.SESSION_KEY, c.USER_KEY, "clic_viewed"):
                st.session_state.pop(k, None)
            signin.signed_out(ended)  # the server clears the cookie on the next run
            st.rerun()
c.demo_banner()
signin.render_handoff()  # after a sign-in or sign-out: the server sets or clears the cookie
try:
    nav.run()
except Exception as exc:  # one handler around every page (st.stop/st.rerun pass through)
    report_error(exc)
finally:  # downloads the page offered are served to this sign-in session only
    signin.remember_media(st.session_state.get(c.SESSION_KEY))
