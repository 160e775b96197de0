"""Saved plans on the pages: reopen an area's plan for a day, save a new version, say who.

The Plan page saves every route it plans (:func:`save`) and reopens the newest saved
version for the chosen area and day (:func:`newest`); the Map page shows the latest
saved plan as its "Planned route" layer when this session has none
(:func:`remember_latest`); the phone view reads the same. Opening is audited once per
session and version, as the pages rerun on every click.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from app_pages import common as c
from clic_geo._errors import ClicGeoError
from clic_geo.planning.plan_service import DayPlan
from clic_geo.planning.saved_plan_service import (
    SavedPlan,
    latest_plan,
    open_plan,
    record_open,
    save_plan,
)

PLAN_KEY = "clic_plan"
_OPENED_KEY = "clic_plans_opened"

try:
    LOCAL = ZoneInfo("Europe/London")
except ZoneInfoNotFoundError:  # pragma: no cover - no time zone database
    LOCAL = UTC


def _once(saved: SavedPlan | None) -> SavedPlan | None:
    """Audit the opening of ``saved`` the first time this session sees this version."""
    if saved is None:
        return None
    key = (saved.area.id, saved.day, saved.version)
    seen = st.session_state.setdefault(_OPENED_KEY, set())
    if key not in seen:
        c.db_retry(record_open, c.resources().store, c.session(), saved)
        seen.add(key)
    return saved


def newest(area_id: str, day: date) -> SavedPlan | None:
    """The newest saved plan of an area and day, or None."""
    res = c.resources()
    try:
        saved = c.db_retry(open_plan, res.store, c.session(), res.areas, area_id, day, audit=False)
    except ClicGeoError as exc:  # e.g. a saved plan that cannot be read: say so, carry on
        st.warning("The saved plan could not be opened: " + c.md(exc) + ".")
        return None
    return _once(saved)


def upcoming(area_id: str | None, today: date) -> SavedPlan | None:
    """The plan to walk next: of the days from ``today`` that have a saved plan (of the
    area, or of any area), the earliest; its newest version."""
    res = c.resources()
    listed = c.db_retry(res.store.saved_plans, area_id=area_id, from_day=today)
    listed = listed[listed["area_id"].isin(res.areas.ids)] if len(listed) else listed
    if not len(listed):
        return None
    first = listed.sort_values(["day", "made_at"], ascending=[True, False]).iloc[0]
    return newest(str(first["area_id"]), first["day"])


def remember_latest(area: str) -> None:
    """With no plan in this session, put the latest saved one (of ``area``, or of any
    area for "All Cumbria") in it, so a reload still shows the planned route."""
    if st.session_state.get(PLAN_KEY) is not None:
        return
    res = c.resources()
    try:
        saved = c.db_retry(
            latest_plan,
            res.store,
            c.session(),
            res.areas,
            None if area == c.ALL else area,
            audit=False,
        )
    except ClicGeoError:
        return  # a plan that cannot be read must not stop the map
    if saved is not None:
        st.session_state[PLAN_KEY] = _once(saved)


def save(plan: DayPlan) -> SavedPlan | None:
    """Save a planned day as a new version; on failure say so and return None."""
    try:
        saved = c.db_retry(save_plan, c.resources().store, c.session(), plan)
    except ClicGeoError as exc:
        st.error("The route was planned but not saved: " + c.md(exc) + ". Plan it again.")
        return None
    # the save is audited; reopening this version in this session is not news
    st.session_state.setdefault(_OPENED_KEY, set()).add((saved.area.id, saved.day, saved.version))
    return saved


def local(when_utc: datetime) -> datetime:
    """A stored UTC time as the clock in Cumbria shows it."""
    return when_utc.replace(tzinfo=UTC).astimezone(LOCAL)


def saved_line(saved: SavedPlan) -> str:
    """ "Saved by … at …, version n of m" (markdown-safe)."""
    earlier = saved.versions - 1
    kept = f"; {earlier} earlier version{'s' if earlier != 1 else ''} kept" if earlier else ""
    return (
        f"Saved by {c.md(saved.made_by)} at {local(saved.made_at):%H:%M on %d/%m/%Y}, "
        f"version {saved.version} of {saved.versions}{kept}."
    )
