"""Today's route, on a phone: the saved plan's stops in order, what to do, directions.

Officers and admins only (a plan names the places to visit). Opens the plan to walk
next (the earliest day from today with a saved plan, see
:func:`app_pages.saved_plans.upcoming`), or the area and day chosen. Each stop has a
``geo:`` link that opens the phone's own map app at the stop: the link holds the
coordinates only, never the address, and no request leaves for a web map service.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from app_pages import common as c
from app_pages import saved_plans as sp
from clic_geo.access.identity import Role
from clic_geo.planning.saved_plan_service import SavedPlan

KINDS = {"address": "Address visit", "incident": "Incident follow-up", "hotspot": "Hotspot walk"}
#: What the team does at a stop of each kind (the reasons say why this one).
DO = {
    "address": "Knock, check on the resident, offer support.",
    "incident": "Follow up the recent incident: look, ask neighbours, reassure.",
    "hotspot": "Walk through the hotspot and be seen; note what you find.",
}


def geo_link(lat: float, lon: float) -> str:
    """A ``geo:`` URI (RFC 5870) that opens the phone's map app at a point, with a pin.

    Coordinates only: nothing personal goes in it.

    >>> geo_link(54.114, -3.2268)
    'geo:54.114000,-3.226800?q=54.114000,-3.226800'
    """
    point = f"{float(lat):.6f},{float(lon):.6f}"
    return f"geo:{point}?q={point}"


def _directions(label: str, lat: float, lon: float) -> None:
    st.link_button(label, geo_link(lat, lon), icon=":material/near_me:", width="stretch")


def show(plan: SavedPlan) -> None:
    r = plan.route
    st.markdown(f"**{c.md(plan.area.name)}, {plan.day:%A %d %B %Y}**")
    st.caption(sp.saved_line(plan))
    st.markdown(
        f"{len(r.stops)} stops · {r.total_walk_m / 1000:.1f} km on foot · "
        f"set off {r.start_at:%H:%M} · back by {r.finish_at:%H:%M}"
    )
    with st.container(border=True, key="today_start"):
        st.markdown(f"**S · {r.start_at:%H:%M} · set off**  \n{c.md(plan.start_name)}")
        _directions("Directions to the start", *r.start)
    for s in r.stops:
        with st.container(border=True, key=f"today_stop_{s.order}"):
            kind = KINDS.get(s.kind, s.kind or "Visit")
            pin = " · must visit" if s.must_visit else ""
            st.markdown(
                f"**{s.order} · {s.arrive_at:%H:%M} · {c.md(kind)}**{pin}  \n"
                f"{c.md(s.label or s.id)}"
            )
            lines = [DO.get(s.kind, "Visit.") + f" About {s.visit_minutes:.0f} min."]
            if s.reasons:
                lines.append("Why: " + c.md(s.reasons))
            if s.bring:
                lines.append("Bring: " + c.md(s.bring))
            lines.append(
                f"Walk {s.leg_walk_m:,.0f} m ({s.leg_walk_minutes:.0f} min) from the last stop."
            )
            st.markdown("  \n".join(lines))
            _directions(f"Directions to stop {s.order}", s.latitude, s.longitude)
    end = "the start" if r.end == r.start else "the end point"
    with st.container(border=True, key="today_end"):
        st.markdown(f"**E · {r.finish_at:%H:%M} · back at {end}**")
        _directions("Directions back", *r.end)
    st.caption(
        "Directions open the phone's map app at the stop (a geo: link: coordinates only). "
        f"Distances: {c.md(r.distance_method)}."
    )


user = c.guard(Role.OFFICER, Role.ADMIN)
res = c.resources()
st.title("Today's route")
today = date.today()
ids, names = res.areas.ids, res.areas.names()
nxt = sp.upcoming(None, today)
first_area = nxt.area.id if nxt else st.session_state.get("area", ids[0])
a1, a2 = st.columns(2)
area_id = a1.selectbox(
    "Area",
    ids,
    index=ids.index(first_area) if first_area in ids else 0,
    format_func=names.get,
    key="today_area",
)
day = a2.date_input("Day", value=nxt.day if nxt else today, key="today_day", format="DD/MM/YYYY")
plan = sp.newest(area_id, day)
if plan is None:
    later = sp.upcoming(area_id, today)
    st.info(
        f"No saved plan for {c.md(names[area_id])} on {day:%A %d %B %Y}. Plan it on "
        "*Plan tomorrow*; it is saved and shows here."
        + (f" The next saved plan here is for {later.day:%A %d %B}." if later else "")
    )
else:
    show(plan)
