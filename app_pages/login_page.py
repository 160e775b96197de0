"""Sign in: local accounts (bcrypt) or, where configured, the force's identity provider."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import common as c
from app_pages import signin
from clic_geo.access.auth import AuthenticationError, login, login_oidc
from clic_geo.demo.accounts import DEMO_ACCOUNTS


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


res = c.resources()
st.title("Sign in")
st.caption("clic-geo · 1-CLIC (County Lines Informed Cumbria)")
flash = st.session_state.pop("flash", None)
if flash:
    st.warning(flash)

if _oidc_configured():
    if getattr(st.user, "is_logged_in", False):
        try:
            session = login_oidc(res.store, st.user.to_dict(), policy=res.policy)
            st.session_state[c.SESSION_KEY] = session
            signin.signed_in(session)
            st.rerun()
        except AuthenticationError as exc:
            st.error(str(exc))
    else:
        st.button("Sign in with your organisation's account", on_click=st.login, type="primary")
        st.divider()

with st.form("login", clear_on_submit=True):
    username = st.text_input("Username", key="login_user", autocomplete="username")
    password = st.text_input(
        "Password", type="password", key="login_password", autocomplete="current-password"
    )
    submitted = st.form_submit_button("Sign in", type="primary")
if submitted:
    try:
        session = c.db_retry(
            login,
            res.store,
            username,
            password,
            policy=res.policy,
            client=signin.client_address(),
            throttle=res.throttle,
        )
        st.session_state[c.SESSION_KEY] = session
        st.session_state.pop("clic_viewed", None)
        signin.signed_in(session)  # the server sets the cookie on the next run
        st.rerun()
    except AuthenticationError as exc:
        st.error(str(exc))

if res.settings.demo:
    st.info("**Demo mode.** These accounts exist only in demo mode; all data shown is fictional.")
    st.table(
        pd.DataFrame(
            [(a.username, a.password, a.role.value, a.display_name) for a in DEMO_ACCOUNTS],
            columns=["Username", "Password", "Role", "Who"],
        ).set_index("Username")
    )
