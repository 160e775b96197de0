"""What every page shares: the installation's resources, cached loaders, filters.

Caching lives here, in the app layer (the library never imports Streamlit). Cached
loaders take the store's data version as an argument, so an import or a recorded
visit invalidates them. Nothing per-user is kept at module level: per-user state
lives in ``st.session_state``.
"""

from __future__ import annotations

import functools
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import branca.element
import folium
import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
import streamlit as st

from app_pages import signin
from clic_geo._errors import ClicGeoError, StoreError
from clic_geo.access.audit import Action, AuditOutcome, record
from clic_geo.access.audit_log import record_action
from clic_geo.access.auth import AuthenticationError, AuthPolicy, SessionExpiredError
from clic_geo.access.auth import validate_session as _validate
from clic_geo.access.identity import Role, Session, User
from clic_geo.access.throttle import ClientThrottle
from clic_geo.demo.accounts import sync_demo_accounts
from clic_geo.demo.seeding import seed_demo
from clic_geo.export import strip_bidi
from clic_geo.geo.areas import AreaSet, ServiceArea, load_areas, load_service_area
from clic_geo.geo.network import DistanceModel, load_network, route_path
from clic_geo.geo.water import WaterAwareLine
from clic_geo.hotspots.forecast import TrustSummary, trust_summary
from clic_geo.reporting import derived_service as derived
from clic_geo.reporting.base_layer import add_base_layer, view_bounds
from clic_geo.reporting.maps import MapAssets, offline_map
from clic_geo.settings import Settings, load_settings
from clic_geo.store import Store

#: Where the signed-in session lives (per browser session, never at module level).
SESSION_KEY = "clic_session"
USER_KEY = "clic_user"

ALL = "__all__"
#: Tighter margins so the map fits a 1366x768 laptop and a meeting-room projector.
COMPACT_CSS = (
    "<style>.block-container{padding-top:1.4rem;padding-bottom:1rem}"
    "h1{padding-top:0.2rem!important}</style>"
)
ATTRIBUTION_POLICE = (
    "Contains public sector information licensed under the Open Government Licence v3.0"
)


#: The empty state of a page that needs incidents: what to import to fill it.
NO_INCIDENTS = (
    "The store holds no incidents yet. Import the force's data.police.uk months "
    "(`clic-geo import police-uk FILES…`, or on the Data page: *Incidents*, ticking "
    "*data.police.uk street-level file*) or your own incident records."
)

log = logging.getLogger("clic_geo.app")
_T = TypeVar("_T")

# branca (under folium) compiles a Jinja template for every script and style link of
# every map element, on every render: with 20 officers signing in at once that was
# about half of the server's Python time (benchmarks/bench_load.py, py-spy --gil).
# A compiled template is immutable and safe to share, so compile each source once per
# server process.
branca.element.Template = functools.lru_cache(maxsize=2048)(branca.element.Template)

#: How long a page keeps retrying a store call that hit a lock or a lost connection.
DB_RETRY_S = 8.0
_TRANSIENT = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)


def _transient(exc: BaseException) -> bool:
    """A database error worth retrying: a lock, a busy or lost connection, a full pool."""
    return isinstance(exc, _TRANSIENT) or (
        isinstance(exc, StoreError) and isinstance(exc.__cause__, _TRANSIENT)
    )


def db_retry(fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Call a store function, retrying lock and connection errors for up to
    :data:`DB_RETRY_S` (backing off); if they persist, show one friendly line with a
    reference id (the details and the id go to the server log only) and stop the page.
    """
    delay, deadline = 0.05, time.monotonic() + DB_RETRY_S
    while True:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if not _transient(exc):
                raise
            if time.monotonic() + delay > deadline:
                ref = uuid.uuid4().hex[:8].upper()
                log.error("store unavailable on a page, reference %s", ref, exc_info=True)
                st.error(
                    "The data store is busy or unreachable just now; please try again in a "
                    f"minute. If it keeps happening, give this reference: {ref}"
                )
                st.stop()
            log.info("store busy (%s); retrying in %.2f s", exc.__class__.__name__, delay)
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


@dataclass(frozen=True)
class Resources:
    """The installation: settings, the store, the areas."""

    settings: Settings
    store: Store
    areas: AreaSet
    service_area: ServiceArea
    assets: MapAssets
    areas_gdf: gpd.GeoDataFrame
    policy: AuthPolicy
    refresher: derived.BackgroundRefresh
    #: failed sign-ins per client address, for this server process
    throttle: ClientThrottle


@st.cache_resource(show_spinner=False)
def resources() -> Resources:
    """Open the store once per server process (seeding the demo on a first start)."""
    settings = load_settings()
    store = Store.open(settings)
    policy = AuthPolicy.from_settings(settings)
    if settings.demo and store.is_empty():
        seed_demo(settings, store)
    # demo accounts exist in demo mode and are removed otherwise
    sync_demo_accounts(settings, store, policy=policy)
    areas = load_areas(settings.areas_dir)
    refresher = derived.BackgroundRefresh(store, areas)
    if derived.needs_refresh(store):
        # results stored by an older data version (or none yet): recomputed in the
        # background while the first person signs in
        refresher.request()
    return Resources(
        settings=settings,
        store=store,
        areas=areas,
        service_area=load_service_area(settings.areas_dir),
        assets=MapAssets(),
        areas_gdf=areas.to_gdf(),
        policy=policy,
        refresher=refresher,
        throttle=ClientThrottle(
            free=policy.max_failures, max_hold_s=policy.client_max_hold_minutes * 60
        ),
    )


def open_resources() -> Resources:
    """:func:`resources`, or, when the store cannot be opened (an empty or damaged store
    file is refused), one plain line on the page: the reason goes to the server log only."""
    try:
        return resources()
    except StoreError as exc:
        log.error("the store cannot be opened: %s", exc)
        st.error(
            "The data store cannot be opened, so nothing can be shown. The server's log says "
            "why; tell the person who runs clic-geo."
        )
        st.stop()


# ----------------------------------------------------------------------- who is signed in


def current_user() -> User | None:
    """The signed-in user, checked against the store on every run (None if signed out).

    Role and organisation come from the store each time, so an admin's change, a
    revoked session or an expired one applies at once.
    """
    session = st.session_state.get(SESSION_KEY)
    if session is None:  # a reload or a bookmark: the server-set cookie (app_pages/signin)
        session = signin.session_from_cookie(resources().store, db_retry)
        if session is None:
            return None
        st.session_state[SESSION_KEY] = session
    try:
        user = db_retry(_validate, resources().store, session)
    except SessionExpiredError as exc:
        st.session_state.pop(SESSION_KEY, None)
        st.session_state["flash"] = str(exc).capitalize() + "."
        return None
    except AuthenticationError:
        st.session_state.pop(SESSION_KEY, None)
        return None
    st.session_state[USER_KEY] = user
    return user


def session() -> Session:
    """The signed-in session (pages run only when there is one)."""
    return st.session_state[SESSION_KEY]


def guard(*roles: Role) -> User:
    """Stop the page unless the signed-in user has one of ``roles`` (refusals are logged)."""
    user = st.session_state.get(USER_KEY)
    if user is None or st.session_state.get(SESSION_KEY) is None:
        st.error("Sign in to see this page.")
        st.stop()
    if user.role not in roles:
        record(
            resources().store,
            Action.VIEW_RECORDS,
            actor=user,
            outcome=AuditOutcome.DENIED,
            detail={"reason": "role"},
        )
        st.error("Your role does not give access to this page.")
        st.stop()
    return user


def audit_view(kind: str, area: str, start: date | None, end: date | None) -> None:
    """Log (once per session) that this user viewed record-level data of an area."""
    key = (kind, area, str(start), str(end))
    seen = st.session_state.setdefault("clic_viewed", set())
    if key in seen:
        return
    db_retry(
        record_action,
        resources().store,
        session(),
        Action.VIEW_RECORDS,
        area_id=None if area == ALL else area,
        subject=kind,
        detail={k: v for k, v in (("from", start), ("to", end)) if v is not None},
    )
    seen.add(key)


def refresh_soon() -> None:
    """Recompute the stored hotspot maps and trust tests in the background (the server
    runs one refresh at a time; the page does not wait)."""
    resources().refresher.request()


def current_fingerprint(v: int) -> str:
    """The incidents' fingerprint at data version ``v``, if a stored result knows it."""
    for _kind, _key, dv, fp in db_retry(resources().store.result_stamps):
        if dv == v:
            return fp
    return ""


UPDATING = (
    "Updating…: this was computed before the latest change to the data. The new one is "
    "being computed now; it shows when you next open or change this page."
)


def version() -> int:
    """The store's data version (changes after imports and recorded visits)."""
    return db_retry(resources().store.data_version)


def _area_arg(area: str) -> str | None:
    return None if area == ALL else area


@st.cache_data(show_spinner=False, max_entries=32)
def incidents(v: int, area: str, start: date, end: date) -> pd.DataFrame:
    """Incidents for an area and period, without geometry (cheap to cache)."""
    gdf = db_retry(resources().store.incidents, area=_area_arg(area), start=start, end=end)
    return pd.DataFrame(gdf.drop(columns="geometry"))


@st.cache_data(show_spinner=False, max_entries=16)
def all_incidents(v: int, area: str) -> pd.DataFrame:
    gdf = db_retry(resources().store.incidents, area=_area_arg(area))
    return pd.DataFrame(gdf.drop(columns="geometry"))


@st.cache_data(show_spinner=False, max_entries=16)
def visits(v: int, area: str, start: date | None = None, end: date | None = None) -> pd.DataFrame:
    gdf = db_retry(resources().store.visits, area=_area_arg(area), start=start, end=end)
    return pd.DataFrame(gdf.drop(columns="geometry"))


@st.cache_data(show_spinner=False, max_entries=16)
def addresses(v: int, area: str, as_of: date | None = None) -> pd.DataFrame:
    gdf = db_retry(resources().store.addresses, area=_area_arg(area), as_of=as_of)
    return pd.DataFrame(gdf.drop(columns="geometry"))


@st.cache_data(show_spinner=False, max_entries=4)
def status_history(v: int) -> pd.DataFrame:
    return db_retry(resources().store.address_status_history)


@st.cache_data(show_spinner=False, max_entries=4)
def hardening(v: int) -> pd.DataFrame:
    return db_retry(resources().store.hardening)


@st.cache_data(show_spinner=False, max_entries=4)
def lines(v: int) -> pd.DataFrame:
    return db_retry(resources().store.county_lines)


@st.cache_data(show_spinner=False, max_entries=4)
def month_span(v: int) -> tuple[str, str] | None:
    """First and last month with incidents, or None for an empty store."""
    return db_retry(resources().store.month_span)


@st.cache_data(show_spinner="Testing the map on past months…", max_entries=32)
def trust(v: int, area: str, cats: tuple[str, ...], before_month: str) -> TrustSummary:
    """How well the recommended map would have forecast this data's own past months
    (complete months before ``before_month``), for an area and categories."""
    inc = all_incidents(v, area)
    inc = inc[inc["category"].isin(cats) & (inc["month"] < before_month)]
    t0 = time.perf_counter()
    summary = trust_summary(inc)
    db_retry(
        derived.save_trust, resources().store, _area_arg(area), cats, summary,
        before_month=before_month, data_version=v, incidents_fingerprint=current_fingerprint(v),
        seconds=time.perf_counter() - t0,
    )  # fmt: skip
    return summary


@st.cache_data(show_spinner=False, max_entries=4)
def day_span(v: int) -> tuple[date, date] | None:
    """First and last day with incidents."""
    return db_retry(resources().store.date_span)


def base_map(
    center: tuple[float, float], zoom: int, bounds: tuple[float, ...] | None = None
) -> folium.Map:
    """A map with the base layer (roads, water, places: the stored layers or the shipped
    Cumbria one) under where the data will go, or the configured tiles instead, the
    locally served map libraries and the attributions: what every page's map starts from.
    ``bounds`` (lon/lat) is what the map will show (default: from centre and zoom)."""
    res = resources()
    m = offline_map(
        center=center,
        zoom=zoom,
        tile_url=res.settings.tile_url,
        tile_attribution=res.settings.tile_attribution,
        assets=res.assets,
        attribution=ATTRIBUTION_POLICE,
    )
    if not res.settings.tile_url:
        layer, credit = db_retry(res.store.base_features)
        add_base_layer(
            m,
            layer,
            # pages may fit the map to their data afterwards: cover two zoom levels out
            bounds=bounds or view_bounds(center, zoom - 2),
            zoom=zoom,
            attribution=credit,
        )
    return m


@st.cache_resource(show_spinner="Reading the streets and the water…", max_entries=16)
def _distance_model(area_id: str, detour: float, layers: tuple[int, ...]) -> DistanceModel:
    res = resources()
    minx, miny, maxx, maxy = res.areas.get(area_id).geometry.bounds
    bounds = (minx - 0.02, miny - 0.02, maxx + 0.02, maxy + 0.02)
    if res.settings.street_network:
        try:
            return load_network(res.settings.street_network, bbox=bounds, fallback_detour=detour)
        except ClicGeoError:
            log.warning("street network unusable; routing round water instead", exc_info=True)
    base, _ = res.store.base_features(("water", "roads"))
    return WaterAwareLine(
        base[base["kind"] == "water"],
        base[base["kind"] == "roads"],
        bounds=bounds,
        detour_factor=detour,
    )


def distance_model(area_id: str, detour: float) -> DistanceModel:
    """How the Plan page estimates walks in an area: over the configured street network
    (``street_network`` in settings.toml), else straight lines routed round the base
    map's water and over its bridges. Built once per area and base map."""
    layers = tuple(r["id"] for r in db_retry(resources().store.base_layers))
    return _distance_model(area_id, float(detour), layers)


def plan_path(plan: Any) -> list[tuple[float, float]]:
    """The planned route as drawn: start, stops, end, each leg as it is walked."""
    r = plan.route
    pts = [r.start, *((s.latitude, s.longitude) for s in r.stops), r.end]
    return route_path(distance_model(plan.area.id, plan.request.detour_factor), pts)


def to_gdf(df: pd.DataFrame) -> gpd.GeoDataFrame:
    """Points from a cached frame's latitude/longitude."""
    return gpd.GeoDataFrame(
        df, geometry=gpd.points_from_xy(df["longitude"], df["latitude"]), crs=4326
    )


def area_choice(key: str, *, allow_all: bool = True, label: str = "Area") -> str:
    """An area picker that remembers its choice across pages."""
    res = resources()
    options = ([ALL] if allow_all else []) + res.areas.ids
    names = {ALL: "All Cumbria", **res.areas.names()}
    current = st.session_state.get("area", options[0])
    if current not in options:
        current = options[0]
    choice = st.selectbox(
        label, options, index=options.index(current), format_func=lambda a: names[a], key=key
    )
    st.session_state["area"] = choice
    return choice


def period_choice(
    key: str, *, default_months: int = 3, label: str = "Period"
) -> tuple[date, date] | None:
    """A date range within the data, defaulting to the last ``default_months`` months of it."""
    span = day_span(version())
    if span is None:
        st.info(NO_INCIDENTS)
        return None
    first, last = span
    # the same default period as the stored hotspot maps (derived_service)
    start_default, _ = derived.default_period(first, last, default_months)
    value = st.session_state.get(f"{key}_value", (start_default, last))
    picked = st.date_input(
        label, value=value, min_value=first, max_value=last, key=key, format="DD/MM/YYYY"
    )
    if isinstance(picked, tuple) and len(picked) == 2:
        st.session_state[f"{key}_value"] = picked
        return picked[0], picked[1]
    st.caption("Choose an end date too.")
    return None


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


def md(text: object) -> str:
    """Text from the data, made inert for Streamlit's markdown (no links, images, HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", strip_bidi(str(text)))


def demo_banner() -> None:
    if resources().settings.demo:
        st.sidebar.warning(
            "**Demo mode.** Every person, address, incident and visit shown is fictional, "
            "generated for demonstration."
        )
