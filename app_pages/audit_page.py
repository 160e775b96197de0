"""Audit log: who signed in, viewed record-level data, planned, imported and exported.

It never holds the sensitive values themselves (see ``docs/security.md``).
"""

from __future__ import annotations

import streamlit as st

from app_pages import common as c
from app_pages import tables
from clic_geo.access.audit_log import read_audit
from clic_geo.access.identity import Role

c.guard(Role.OFFICER, Role.ADMIN)
res = c.resources()
st.title("Audit log")
log = read_audit(res.store, c.session(), limit=2000)
if log.empty:
    st.info("Nothing logged yet.")
else:
    cols = st.columns(3)
    actions = cols[0].multiselect(
        "Action", sorted(log["action"].unique()), key="audit_action", placeholder="All actions"
    )
    actors = cols[1].multiselect(
        "Who", sorted(log["actor"].dropna().unique()), key="audit_actor", placeholder="Everyone"
    )
    outcomes = cols[2].multiselect(
        "Outcome", sorted(log["outcome"].unique()), key="audit_outcome", placeholder="All outcomes"
    )
    shown = log
    if actions:
        shown = shown[shown["action"].isin(actions)]
    if actors:
        shown = shown[shown["actor"].isin(actors)]
    if outcomes:
        shown = shown[shown["outcome"].isin(outcomes)]
    tables.show(
        shown.assign(action=shown["action"].str.replace("_", " ").str.capitalize()),
        {
            "at": "When",
            "actor": "Who",
            "role": "Role",
            "organisation_id": "Organisation",
            "action": "Action",
            "outcome": "Outcome",
            "area_id": "Area",
            "subject": "What",
            "detail": "Details",
        },
        help={
            "at": "When it happened (server time)",
            "outcome": "ok, denied or failed",
            "subject": "What was viewed, planned, imported or exported",
            "detail": "Counts and choices only: never an address, a note or a location",
        },
        height=560,
    )
