"""Admin: user accounts, organisations and their information sharing agreement scopes.

Every change goes through :mod:`clic_geo.access.accounts` / :mod:`clic_geo.access.isa`, which check
that the signed-in user is an admin and write the audit log.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from app_pages import common as c
from app_pages import tables
from clic_geo._errors import ClicGeoError
from clic_geo.access.accounts import (
    create_organisation,
    create_user,
    list_organisations,
    list_users,
    revoke_sessions,
    set_disabled,
    set_password,
    set_role,
    unlock,
)
from clic_geo.access.identity import Role
from clic_geo.access.isa import LAYER_LABELS, Layer, get_isa_scope, list_isa_scopes, set_isa_scope

c.guard(Role.ADMIN)
res = c.resources()
sess = c.session()
st.title("Admin")


def _do(action, done: str) -> None:
    try:
        action()
        st.success(done)
    except ClicGeoError as exc:
        st.error(c.md(exc))


users_tab, orgs_tab, isa_tab = st.tabs(["Users", "Organisations", "Information sharing"])

with users_tab:
    users = list_users(res.store)
    now = pd.Timestamp.now()
    locked = pd.to_datetime(users["locked_until"], errors="coerce")
    view = users.assign(
        state=[
            "disabled" if d else (f"locked to {t:%H:%M}" if pd.notna(t) and t > now else "active")
            for d, t in zip(users["disabled"].astype(bool), locked, strict=True)
        ],
        sign_in=[
            ", ".join(x for x, on in (("password", p), ("single sign-on", o)) if on) or "none"
            for p, o in zip(users["has_password"], users["sso_bound"], strict=True)
        ],
    )
    tables.show(
        view,
        {
            "username": "Username",
            "display_name": "Name",
            "role": "Role",
            "organisation_id": "Organisation",
            "state": "State",
            "sign_in": "Signs in with",
            "failed_logins": "Failed",
            "last_login_at": "Last signed in",
            "email": "Email",
        },
        help={"failed_logins": "Wrong passwords since the last good sign-in"},
        height=260,
    )
    names = users["username"].tolist()
    st.markdown("**Change a user**")
    cols = st.columns([2, 1.2, 1.2, 1.2, 1.2])
    who = cols[0].selectbox("User", names, key="admin_user") if names else None
    if who:
        if cols[1].button("Unlock", key="admin_unlock"):
            _do(lambda: unlock(res.store, who, actor=sess), "Unlocked.")
        if cols[2].button("Disable", key="admin_disable"):
            _do(lambda: set_disabled(res.store, who, True, actor=sess), "Disabled; sessions ended.")
        if cols[3].button("Enable", key="admin_enable"):
            _do(lambda: set_disabled(res.store, who, False, actor=sess), "Enabled.")
        if cols[4].button("End sessions", key="admin_revoke"):
            _do(lambda: revoke_sessions(res.store, who, actor=sess), "Sessions ended.")
        with st.form("admin_role"):
            rcols = st.columns(2)
            role = rcols[0].selectbox("New role", [r.value for r in Role], key="admin_new_role")
            orgs = list_organisations(res.store)["id"].tolist()
            org = rcols[1].selectbox("Organisation", orgs, key="admin_role_org")
            if st.form_submit_button("Set role"):
                _do(
                    lambda: set_role(res.store, who, role, organisation=org, actor=sess),
                    "Role set.",
                )
        with st.form("admin_password", clear_on_submit=True):
            pw = st.text_input(
                "New password (at least 12 characters)", type="password", key="admin_pw"
            )
            if st.form_submit_button("Set password"):
                _do(
                    lambda: set_password(res.store, who, pw, actor=sess, policy=res.policy),
                    "Password set; the user's sessions were ended.",
                )
    st.markdown("**Add a user**")
    with st.form("admin_add_user", clear_on_submit=True):
        cols = st.columns(3)
        username = cols[0].text_input("Username", key="add_username")
        display = cols[1].text_input("Name", key="add_display")
        email = cols[2].text_input("E-mail (for single sign-on)", key="add_email")
        cols = st.columns(3)
        role = cols[0].selectbox("Role", [r.value for r in Role], key="add_role")
        org = cols[1].selectbox(
            "Organisation", list_organisations(res.store)["id"].tolist(), key="add_org"
        )
        pw = cols[2].text_input(
            "Password (blank: single sign-on only)", type="password", key="add_pw"
        )
        if st.form_submit_button("Add user"):
            _do(
                lambda: create_user(
                    res.store,
                    username,
                    role=role,
                    organisation=org,
                    actor=sess,
                    display_name=display or None,
                    email=email or None,
                    password=pw or None,
                    policy=res.policy,
                ),
                "User added.",
            )

with orgs_tab:
    tables.show(
        list_organisations(res.store),
        {"id": "Id", "name": "Name", "kind": "Kind", "demo": "Demo", "created_at": "Added on"},
    )
    with st.form("admin_add_org", clear_on_submit=True):
        cols = st.columns(3)
        oid = cols[0].text_input("Id (e.g. housing-south)", key="org_id")
        oname = cols[1].text_input("Name", key="org_name")
        kind = cols[2].selectbox(
            "Kind",
            [
                "police",
                "charity",
                "housing",
                "nhs",
                "probation",
                "council",
                "fire",
                "school",
                "other",
            ],
            key="org_kind",
        )
        if st.form_submit_button("Add or rename organisation"):
            _do(lambda: create_organisation(res.store, oid, oname, kind, actor=sess), "Saved.")

with isa_tab:
    scopes = list_isa_scopes(res.store)
    if scopes:
        names = res.areas.names()
        rows = [
            {
                "organisation": s.organisation_id,
                "reference": s.reference,
                "areas": [names.get(a, a) for a in s.areas],
                "layers": [LAYER_LABELS.get(str(x), str(x)) for x in s.layers],
                "from": s.data_from.strftime("%d %b %Y") if s.data_from else "any date",
                "to": s.data_to.strftime("%d %b %Y") if s.data_to else "any date",
            }
            for s in scopes
        ]
        tables.show(
            pd.DataFrame(rows),
            {
                "organisation": "Organisation",
                "reference": "Agreement",
                "areas": "Areas",
                "layers": "Figures",
                "from": "Data from",
                "to": "Data to",
            },
        )
    orgs = list_organisations(res.store)["id"].tolist()
    org = st.selectbox("Organisation", orgs, key="isa_org")
    current = get_isa_scope(res.store, org) if org else None
    with st.form("admin_isa"):
        areas = st.multiselect(
            "Areas",
            res.areas.ids,
            format_func=res.areas.names().get,
            default=list(current.areas) if current else [],
            key="isa_areas",
        )
        layers = st.multiselect(
            "Figures",
            [str(x) for x in Layer],
            format_func=lambda x: LAYER_LABELS.get(x, x),
            default=[str(x) for x in current.layers] if current else [],
            key="isa_layers",
        )
        cols = st.columns(3)
        ref = cols[0].text_input(
            "Agreement reference", value=current.reference if current else "", key="isa_ref"
        )
        dfrom = cols[1].date_input(
            "Data from",
            value=current.data_from if current else None,
            key="isa_from",
            format="DD/MM/YYYY",
        )
        dto = cols[2].date_input(
            "Data to", value=current.data_to if current else None, key="isa_to", format="DD/MM/YYYY"
        )
        if st.form_submit_button("Save the scope"):
            _do(
                lambda: set_isa_scope(
                    res.store,
                    org,
                    areas=areas,
                    layers=layers,
                    reference=ref,
                    actor=sess,
                    known_areas=res.areas.ids,
                    data_from=dfrom if isinstance(dfrom, date) else None,
                    data_to=dto if isinstance(dto, date) else None,
                ),
                "Saved.",
            )
