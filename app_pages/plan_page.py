"""Plan tomorrow: the day's candidates and why, the walking route, the outcomes afterwards.

The sergeant's daily job. Candidates and their priorities come from
:func:`clic_geo.planning.plan_service.day_candidates`, the route from
:func:`clic_geo.planning.plan_service.plan_day`
(the same call as ``clic-geo plan --area``). Every planned route is saved in the store
as a new version of the area's plan for the day (:mod:`app_pages.saved_plans`; earlier
versions are kept), and the newest saved version is reopened when the page is opened
again for that area and day, after a reload or on another device. The plan is also kept
in ``st.session_state["clic_plan"]`` so the Map page can show it as its "Planned route"
layer. Recorded visits go to :meth:`Store.record_visit`, which changes the data
version, so every cached loader (and the next day's priorities) sees them.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from app_pages import common as c
from app_pages import saved_plans as sp
from clic_geo._errors import ClicGeoError, ConfigError
from clic_geo.access.audit import Action
from clic_geo.access.audit_log import record_action
from clic_geo.access.identity import Role
from clic_geo.export import safe_csv_frame, safe_display_frame
from clic_geo.geo.network import DEFAULT_DETOUR_FACTOR
from clic_geo.hotspots.current import current_hotspots
from clic_geo.planning.plan_service import (
    DayPlan,
    DayRequest,
    check_in_area,
    day_candidates,
    plan_day,
)
from clic_geo.planning.priority import DEFAULT_VISIT_MINUTES
from clic_geo.planning.route_model import DEFAULT_WALK_SPEED_KMH, InfeasiblePlanError
from clic_geo.planning.route_sheet import route_gpx, route_sheet_html, route_table
from clic_geo.planning.saved_plan_service import SavedPlan
from clic_geo.reporting import maps as mapping
from clic_geo.schema import (
    COUNTY_LINES_CATEGORIES,
    OUTCOME_LABELS,
    REFERRAL_LABELS,
    SUPPORT_LABELS,
    Col,
    Support,
)

PLAN_KEY = sp.PLAN_KEY
KINDS = {"address": "Address visit", "incident": "Incident follow-up", "hotspot": "Hotspot walk"}
#: Hotspots behind the "in a hotspot" and "coverage gap" parts: county-lines incidents
#: of the three months before the day.
HOTSPOT_MONTHS = 3


@st.cache_data(show_spinner="Finding the area's hotspots…", max_entries=8)
def area_hotspots(v: int, area: str, day: date):
    """The area's current hotspots from the months before ``day`` (county-lines incidents)."""
    res = c.resources()
    inc = c.all_incidents(v, area)
    inc = inc[inc[Col.CATEGORY].isin(COUNTY_LINES_CATEGORIES)]
    end = day - timedelta(days=1)
    start = (pd.Timestamp(end) - pd.DateOffset(months=HOTSPOT_MONTHS) + pd.Timedelta(days=1)).date()
    return current_hotspots(
        inc, start=start, end=end, area_km2={a.id: a.area_km2 for a in res.areas}
    ).hotspots


@st.cache_data(show_spinner="Scoring the day's candidates…", max_entries=16)
def candidates(
    v: int, area: str, day: date, minutes: tuple[float, float, float], with_hotspots: bool
) -> pd.DataFrame:
    """The day's candidates, highest priority first (no geometry: cheap to cache)."""
    res = c.resources()
    request = DayRequest(area, day, visit_minutes=dict(zip(KINDS, minutes, strict=True)))
    hs = area_hotspots(v, area, day) if with_hotspots else None
    cands = day_candidates(res.store, res.areas.get(area), request, hotspots=hs)
    return pd.DataFrame(cands.drop(columns="geometry"))


def _route_stops(plan: DayPlan) -> list[dict]:
    """Start (S) and numbered stops for :func:`mapping.add_route`, as the Map page draws them."""
    r = plan.route
    stops = [{"lat": r.start[0], "lon": r.start[1], "number": 0, "label": plan.start_name}]
    stops += [
        {"lat": s.latitude, "lon": s.longitude, "number": s.order, "label": f"{s.order}. {s.label}"}
        for s in r.stops
    ]
    return stops


def route_map(plan: DayPlan):
    res = c.resources()
    a = plan.area
    m = c.base_map((a.view_lat, a.view_lon), a.view_zoom)
    mapping.add_boundaries(m, res.areas_gdf[res.areas_gdf["id"] == a.id])
    r = plan.route
    stops = _route_stops(plan)
    path = c.plan_path(plan)  # each leg as walked: on the streets, or round water
    if r.end != r.start:
        stops.append({"lat": r.end[0], "lon": r.end[1], "number": "E", "label": "End point"})
    mapping.add_route(m, stops, path=path)
    lats = [p[0] for p in path]
    lons = [p[1] for p in path]
    m.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]], **mapping.legend_padding())
    mapping.add_legend(
        m,
        [
            mapping.Swatch("start", "Start" + (" and end" if r.end == r.start else "")),
            mapping.Swatch("stop", "Stops, numbered in walking order"),
        ],
        title="Planned route",
    )
    return m


def route_estimate_note(method: str) -> str:
    """Which walking estimate the route used, in words (shown under the route map)."""
    if method.startswith("walking network"):
        return (
            f"Walks measured on the street network ({method.removeprefix('walking network ')}); "
            "the line follows those streets. The Map page shows this route too."
        )
    return (
        f"No street network is loaded: walks are estimated as {method} (the line shows "
        "that estimate; follow the streets). Set street_network in settings.toml to route "
        "on the streets. The Map page shows this route too."
    )


def _audit(action: Action, area: str, **detail) -> None:
    record_action(
        c.resources().store, c.session(), action, area_id=area, subject="route", detail=detail
    )


def _explain_infeasible(exc: InfeasiblePlanError, cands: pd.DataFrame) -> str:
    """The router's explanation (which must-visits, by how many minutes) with the places
    named as the sergeant knows them rather than by store id."""
    names = cands.set_index("id")["label"].to_dict()
    text = str(exc)
    for i in sorted(exc.stop_ids, key=len, reverse=True):
        text = text.replace(str(i), str(names.get(i) or i))
    return "The route could not be planned: " + c.md(text)


# -------------------------------------------------------------------------- the page

user = c.guard(Role.OFFICER, Role.ADMIN)
res = c.resources()
st.title("Plan tomorrow")
# the route goes at the top once planned (filled in below, after the Plan button has run),
# so on a laptop screen the map is in view without scrolling past the candidates
route_slot = st.container()

with st.sidebar:
    area_id = c.area_choice("plan_area", allow_all=False)
    area = res.areas.get(area_id)
    day = st.date_input(
        "Day", value=date.today() + timedelta(days=1), key="plan_day", format="DD/MM/YYYY"
    )
    t1, t2 = st.columns(2)
    start_time = t1.time_input("Set off", value=time(9, 30), step=900, key="plan_start_time")
    hours = t2.number_input(
        "Hours", min_value=0.5, max_value=12.0, value=4.0, step=0.5, key="plan_hours"
    )
    s1, s2 = st.columns(2)
    speed = s1.number_input(
        "Walk km/h",
        min_value=1.0,
        max_value=8.0,
        value=DEFAULT_WALK_SPEED_KMH,
        step=0.5,
        key="plan_speed",
    )
    detour = s2.number_input(
        "Detour ×",
        min_value=1.0,
        max_value=3.0,
        value=DEFAULT_DETOUR_FACTOR,
        step=0.05,
        key="plan_detour",
        help="Straight-line distance times this, where no street network is loaded.",
    )
    with st.expander("Minutes per visit"):
        minutes = tuple(
            float(
                st.number_input(
                    label,
                    min_value=1.0,
                    max_value=120.0,
                    value=float(DEFAULT_VISIT_MINUTES[kind]),
                    step=5.0,
                    key=f"plan_min_{kind}",
                )
            )
            for kind, label in KINDS.items()
        )
    with st.expander("Start and end point"):
        bp = area.base_point
        st.caption(f"Default: {c.md(bp.name)}")
        p1, p2 = st.columns(2)
        start_lat = p1.number_input(
            "Start lat", value=bp.lat, format="%.5f", step=0.001, key=f"plan_slat_{area_id}"
        )
        start_lon = p2.number_input(
            "Start lon", value=bp.lon, format="%.5f", step=0.001, key=f"plan_slon_{area_id}"
        )
        other_end = st.checkbox("End somewhere else", key=f"plan_other_end_{area_id}")
        end_lat, end_lon = start_lat, start_lon
        if other_end:
            e1, e2 = st.columns(2)
            end_lat = e1.number_input(
                "End lat", value=bp.lat, format="%.5f", step=0.001, key=f"plan_elat_{area_id}"
            )
            end_lon = e2.number_input(
                "End lon", value=bp.lon, format="%.5f", step=0.001, key=f"plan_elon_{area_id}"
            )
    with_hotspots = st.checkbox(
        "Use current hotspots",
        value=True,
        key="plan_hotspots",
        help=f"Hotspots of the {HOTSPOT_MONTHS} months before the day raise the priority of "
        "places in them and add hotspot walk-throughs.",
    )

v = c.version()
c.audit_view("plan", area_id, day, day)
cands = candidates(v, area_id, day, minutes, with_hotspots)
saved = sp.newest(area_id, day)  # the day's saved plan, if any (reopened after a reload)

# --- candidates: pin (must visit) and leave out ------------------------------------
# The editor's key holds the data version, so a recorded visit (new priorities, maybe a
# new order) starts a fresh editor; the pins and exclusions carry over by candidate id.
chosen = st.session_state.setdefault("plan_choice", {})
prev_must, prev_out = chosen.get(
    (area_id, day),
    (set(saved.request.must_visit), set(saved.request.exclude)) if saved else (set(), set()),
)
editor_key = f"plan_pick_{area_id}_{day:%Y%m%d}_{v}"
seed_key = f"{editor_key}_seed"
if seed_key not in st.session_state:
    st.session_state[seed_key] = (frozenset(prev_must), frozenset(prev_out))
seed_must, seed_out = st.session_state[seed_key]
table = pd.DataFrame(
    {
        "Must visit": cands["id"].isin(seed_must),
        "Leave out": cands["id"].isin(seed_out),
        "Priority": cands["priority"].round(1),
        "Kind": cands["kind"].map(KINDS).fillna(cands["kind"]),
        "Where": cands["label"],
        "Why": cands["reasons"],
        "Bring": cands["bring"],
    }
)
table.index = pd.Index(cands["id"], name="id")
st.markdown(
    f"**{len(cands)} candidates in {c.md(area.name)} for {day:%A %d %B %Y}**, highest "
    "priority first. Tick *Must visit* to pin a stop, *Leave out* to drop one."
)
if cands.empty:
    span = c.month_span(v)
    st.info(
        "Nothing to plan here for that day: no address of concern, recent incident or "
        "hotspot in this area. Import addresses of concern and incidents (police.uk months "
        "or your own records) on the Data page, or choose another area."
        + (
            f" The store's incidents end in {span[1]}: a day soon after that month plans on them."
            if span is not None and span[1] < (day - timedelta(days=120)).strftime("%Y-%m")
            else ""
        )
    )
edited = st.data_editor(
    safe_display_frame(table),
    key=editor_key,
    hide_index=True,
    height=250,
    width="stretch",
    disabled=["Priority", "Kind", "Where", "Why", "Bring"],
    column_config={
        # every column inside the page at 1366 px; a cut cell shows in full when clicked
        "Must visit": st.column_config.CheckboxColumn(width=80),
        "Leave out": st.column_config.CheckboxColumn(width=80),
        "Priority": st.column_config.NumberColumn(
            width=80, format="%.1f pts", help="Points: the sum of the parts under Why"
        ),
        "Kind": st.column_config.TextColumn(width=115),
        "Where": st.column_config.TextColumn(width=190),
        "Why": st.column_config.TextColumn(width=230, help="Click a cell to read it all"),
        "Bring": st.column_config.TextColumn(width=110),
    },
)
must = set(edited.index[edited["Must visit"].astype(bool)])
out = set(edited.index[edited["Leave out"].astype(bool)])
both = must & out
chosen[(area_id, day)] = (must, out)

start_problem = None
try:
    check_in_area(area, start_lat, start_lon, what="start point")
    check_in_area(area, end_lat, end_lon, what="end point")
except ClicGeoError as exc:
    start_problem = str(exc)

b1, b2 = st.columns([1, 4])
go = b1.button(
    "Re-plan the route" if saved else "Plan the route",
    type="primary",
    key="plan_go",
    help="Saves a new version of the day's plan; earlier versions are kept."
    if saved
    else "The route is saved, so it is here after a reload or on a phone.",
)
b2.caption(
    f"{len(must)} pinned, {len(out)} left out · {hours:g} h from {start_time:%H:%M} · "
    f"{speed:g} km/h · "
    + (
        "street network"
        if res.settings.street_network
        else f"straight line × {detour:g}, round water"
    )
)
if both:
    st.warning("A stop cannot be both pinned and left out: untick one of them.")
if start_problem:
    st.error(c.md(start_problem[0].upper() + start_problem[1:]) + ".")

if go and not both and not start_problem:
    base = area.base_point
    moved = (round(start_lat, 6), round(start_lon, 6)) != (round(base.lat, 6), round(base.lon, 6))
    request = DayRequest(
        area_id=area_id,
        day=day,
        start_time=start_time,
        hours_available=float(hours),
        walk_speed_kmh=float(speed),
        detour_factor=float(detour),
        start=(start_lat, start_lon) if moved else None,
        end=(end_lat, end_lon) if other_end else None,
        must_visit=frozenset(must),
        exclude=frozenset(out),
        visit_minutes=dict(zip(KINDS, minutes, strict=True)),
    )
    hs = area_hotspots(v, area_id, day) if with_hotspots else None
    try:
        with st.spinner("Planning the walk…"):
            model = c.distance_model(area_id, float(detour))
            plan = plan_day(res.store, res.areas, request, hotspots=hs, network=model)
    except InfeasiblePlanError as exc:
        st.error(_explain_infeasible(exc, cands))
    except ClicGeoError as exc:
        st.error("The route could not be planned: " + c.md(exc))
    else:
        _audit(Action.PLAN, area_id, stops=len(plan.route.stops), count=len(cands), to=day)
        # kept unsaved in this session if the store refuses it (the error says so)
        st.session_state[PLAN_KEY] = sp.save(plan) or plan
        saved = None

plan: DayPlan | SavedPlan | None = st.session_state.get(PLAN_KEY)
here = plan is not None and plan.area.id == area_id and plan.request.day == day
if not (here and not isinstance(plan, SavedPlan)):  # a plan that failed to save stays shown
    saved = saved or sp.newest(area_id, day)  # the newest: maybe another officer's re-plan
    if saved is not None:
        plan = st.session_state[PLAN_KEY] = saved
if plan is not None and (plan.area.id != area_id or plan.request.day != day):
    st.info(
        f"The planned route is for {c.md(plan.area.name)} on {plan.request.day:%d/%m/%Y}; "
        "plan again for this area and day."
    )
    plan = None

if plan is not None:
    r = plan.route
    title = f"{plan.area.name}, {plan.request.day:%A %d %B %Y}"
    with route_slot:
        st.subheader("The route")
        if isinstance(plan, SavedPlan):
            req = plan.request
            st.caption(
                sp.saved_line(plan)
                + f" Set off {req.start_time:%H:%M}, {req.hours_available:g} h, "
                f"{req.walk_speed_kmh:g} km/h. On a phone: *Today's route* in the menu."
            )
        left, right = st.columns([3, 2])
        with left:
            st_folium(
                route_map(plan),
                height=400,
                use_container_width=True,
                returned_objects=[],
                key="plan_map",
            )
            st.caption(c.md(route_estimate_note(r.distance_method)))
        with right:
            m1, m2, m3 = st.columns(3)
            m1.metric("Stops", len(r.stops))
            m2.metric("Walk km", f"{r.total_walk_m / 1000:.1f}")
            m3.metric("Back by", f"{r.finish_at:%H:%M}")
            st.caption(
                f"Walking {r.total_walk_minutes:.0f} min, visits {r.total_visit_minutes:.0f} min"
                + (f", waiting {r.total_wait_minutes:.0f} min" if r.total_wait_minutes >= 1 else "")
                + f": {r.total_minutes:.0f} of {r.minutes_available:.0f} minutes. "
                f"Return walk {r.return_walk_m:,.0f} m. Start: {c.md(plan.start_name)}."
            )
            for n in r.notes:
                st.caption(c.md(n))
        # the stops across the page, every column inside it at 1366 px
        stops = pd.DataFrame(
            {
                "#": [s.order for s in r.stops],
                "Arrive": [f"{s.arrive_at:%H:%M}" for s in r.stops],
                "Where": [s.label or s.id for s in r.stops],
                "Kind": [KINDS.get(s.kind, s.kind) for s in r.stops],
                "Walk m": [round(s.leg_walk_m) for s in r.stops],
                "Walk min": [round(s.leg_walk_minutes) for s in r.stops],
                "Visit min": [round(s.visit_minutes) for s in r.stops],
                "Pinned": [s.must_visit for s in r.stops],
                "Why": [s.reasons for s in r.stops],
            }
        )
        st.dataframe(
            safe_display_frame(stops),
            hide_index=True,
            width="stretch",
            height=min(260, 35 * (len(stops) + 1) + 3),
            column_config={
                "#": st.column_config.NumberColumn(width=30),
                "Arrive": st.column_config.TextColumn(width=60),
                "Where": st.column_config.TextColumn(width=200),
                "Kind": st.column_config.TextColumn(width=115),
                "Walk m": st.column_config.NumberColumn(width=65),
                "Walk min": st.column_config.NumberColumn(width=70),
                "Visit min": st.column_config.NumberColumn(width=70),
                "Pinned": st.column_config.CheckboxColumn(width=60),
                "Why": st.column_config.TextColumn(width=210, help="Click a cell to read it all"),
            },
        )
        stem = f"route-{plan.area.id}-{plan.request.day:%Y-%m-%d}"
        d1, d2, d3 = st.columns(3)
        d1.download_button(
            "Route sheet (printable A4)",
            route_sheet_html(r, title=title, start_name=plan.start_name),
            file_name=f"{stem}.html",
            mime="text/html",
            key="plan_dl_html",
            on_click=_audit,
            args=(Action.EXPORT, plan.area.id),
            kwargs={"format": "html", "stops": len(r.stops)},
        )
        d2.download_button(
            "GPX for a phone",
            route_gpx(r, name=title),
            file_name=f"{stem}.gpx",
            mime="application/gpx+xml",
            key="plan_dl_gpx",
            on_click=_audit,
            args=(Action.EXPORT, plan.area.id),
            kwargs={"format": "gpx", "stops": len(r.stops)},
        )
        d3.download_button(
            "CSV (spreadsheet)",
            safe_csv_frame(route_table(r)).to_csv(index=False).encode("utf-8-sig"),
            file_name=f"{stem}.csv",
            mime="text/csv",
            key="plan_dl_csv",
            on_click=_audit,
            args=(Action.EXPORT, plan.area.id),
            kwargs={"format": "csv", "stops": len(r.stops)},
        )

    dropped = r.dropped_frame()
    with st.expander(f"Left out ({len(dropped)}) and why"):
        if len(dropped):
            st.dataframe(
                pd.DataFrame(
                    {
                        "Where": dropped["label"].where(dropped["label"] != "", dropped["id"]),
                        "Kind": dropped["kind"].map(KINDS).fillna(dropped["kind"]),
                        "Priority": dropped["priority"].map(lambda p: f"{p:.1f} pts"),
                        "Why left out": dropped["reason"],
                    }
                ),
                hide_index=True,
                width="stretch",
                height=240,
            )
        else:
            st.caption("Every candidate is on the route.")

    # --- afterwards: record what happened at each stop ------------------------------
    st.subheader("Record the visits")
    st.caption(
        "Each recorded visit counts in the next day's priorities (days since the last visit)."
    )
    if r.stops:
        by_order = {s.order: s for s in r.stops}
        order = st.selectbox(
            "Stop",
            list(by_order),
            format_func=lambda o: (
                f"{o}. {by_order[o].label or by_order[o].id} ({by_order[o].arrive_at:%H:%M})"
            ),
            key="rec_stop",
        )
        stop = by_order[order]
        # the stop's planned day and arrival (a visit still to come is refused on submit);
        # the keys hold the plan's version, so a re-plan's new times are the new defaults
        default_when = datetime.combine(plan.request.day, stop.arrive_at.time()).replace(
            second=0, microsecond=0
        )
        ver = getattr(plan, "version", 0)
        with st.form("rec_form", clear_on_submit=True):
            f1, f2, f3 = st.columns(3)
            outcome = f1.selectbox(
                "Outcome", list(OUTCOME_LABELS), format_func=OUTCOME_LABELS.get, key="rec_outcome"
            )
            when_day = f2.date_input(
                "Date",
                value=default_when.date(),
                key=f"rec_date_{ver}_{order}",
                format="DD/MM/YYYY",
            )
            when_time = f3.time_input(
                "Time", value=default_when.time(), key=f"rec_time_{ver}_{order}", step=300
            )
            g1, g2 = st.columns(2)
            support = g1.multiselect(
                "Support given",
                [s for s in SUPPORT_LABELS if s != Support.REFERRAL],
                format_func=SUPPORT_LABELS.get,
                key="rec_support",
            )
            referrals = g2.multiselect(
                "Referrals", list(REFERRAL_LABELS), format_func=REFERRAL_LABELS.get, key="rec_refs"
            )
            h1, h2 = st.columns([1, 2])
            officers = h1.text_input("Officers", key="rec_officers", max_chars=200)
            notes = h2.text_input("Notes", key="rec_notes", max_chars=2000)
            submitted = st.form_submit_button("Record the visit")
        if submitted:
            is_address = stop.kind == "address"
            when = datetime.combine(when_day, when_time)
            next_day = when_day + timedelta(days=1)
            before = candidates(c.version(), plan.area.id, next_day, minutes, with_hotspots)
            try:
                if when > datetime.now() + timedelta(minutes=5):
                    raise ConfigError(
                        f"the visit time {when:%d/%m/%Y %H:%M} is still to come: record a "
                        "visit after it has happened"
                    )
                vid = res.store.record_visit(
                    visited_at=when,
                    outcome=outcome,
                    address_id=stop.id if is_address else None,
                    latitude=None if is_address else stop.latitude,
                    longitude=None if is_address else stop.longitude,
                    area_id=plan.area.id,
                    support=list(support),
                    referrals=list(referrals),
                    officers=officers,
                    notes=notes,
                )
            except ClicGeoError as exc:
                msg = str(exc)
                st.error(c.md(msg[:1].upper() + msg[1:]) + ".")
            else:
                record_action(
                    res.store,
                    c.session(),
                    Action.RECORD_VISIT,
                    area_id=plan.area.id,
                    subject=vid,
                    detail={"kind": stop.kind, "count": 1},
                )
                after = candidates(c.version(), plan.area.id, next_day, minutes, with_hotspots)
                st.session_state["rec_done"] = (stop.id, stop.label, next_day, before, after)
                st.rerun()
        done = st.session_state.get("rec_done")
        if done is not None:
            sid, label, next_day, before, after = done
            st.success(f"Visit recorded: {c.md(label or sid)}.")
            b = before[before["id"] == sid]
            a = after[after["id"] == sid]
            if len(b) and len(a):
                st.caption(
                    f"Its priority for {next_day:%A %d %B} went from {b['priority'].iloc[0]:.1f} "
                    f"to {a['priority'].iloc[0]:.1f}: {c.md(a['reasons'].iloc[0])}."
                )
    else:
        st.caption("No stops to record.")
elif not go:
    st.caption("Set the day in the sidebar, pin or leave out candidates, then plan the route.")
