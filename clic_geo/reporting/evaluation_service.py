"""The impact evaluation for the pages and the meeting pack: officers' and partners'.

- Officers (the Trends page, the officer pack): :func:`evaluate_area` on the force's
  incidents (frames the caller already holds): the hotspots of an operating area as
  they stood at the date against the rest of the force area.
- Partners (the partner page, the partner pack; officers previewing one): only
  :func:`partner_evaluation`, which asks :mod:`clic_geo.access.partner_evaluation` who
  may see what, evaluates on the server within that, and returns what that module
  publishes (estimate and interval; counts suppressed; the comparison as an index).

See ``docs/evaluation.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Literal

import geopandas as gpd
import pandas as pd

from clic_geo.access.identity import Session
from clic_geo.access.partner_evaluation import (
    PartnerEvaluation,
    evaluation_grant,
    publish_evaluation,
)
from clic_geo.geo.areas import load_areas, load_service_area
from clic_geo.geo.crs import WGS84
from clic_geo.hotspots.evaluation import (
    DEFAULT_BUFFER_M,
    DEFAULT_WINDOW_MONTHS,
    EvaluationZones,
    NoTreatedZonesError,
    evaluate_incidents,
)
from clic_geo.hotspots.impact import Evaluation
from clic_geo.settings import Settings
from clic_geo.store import Store

__all__ = ["INCIDENT_COLUMNS", "evaluate_area", "force_incidents", "partner_evaluation"]

#: The incidents' columns an evaluation reads.
INCIDENT_COLUMNS = (
    *("occurred_at", "month", "category", "original_type", "area_id"),
    *("easting", "northing", "latitude", "longitude"),
)


def force_incidents(store: Store) -> pd.DataFrame:
    """Every incident of the force area, all types (the evaluation's columns only)."""
    df = store.incidents(columns=list(INCIDENT_COLUMNS))
    return pd.DataFrame(df.drop(columns="geometry"))


def last_complete_month(store: Store, today: date | None = None) -> str:
    """The month before today's (the demo's date in a demo store)."""
    if today is None:
        demo = store.get_meta("demo_today")
        today = date.fromisoformat(demo) if demo else date.today()
    return str(pd.Period(today, "M") - 1)


def evaluate_area(
    incidents: pd.DataFrame,
    *,
    settings: Settings,
    area: str,
    since: date,
    categories: Sequence[str] | None = None,
    buffer_m: float = DEFAULT_BUFFER_M,
    window_months: int = DEFAULT_WINDOW_MONTHS,
    last_month: str | None = None,
) -> tuple[Evaluation, EvaluationZones]:
    """Did crime fall in an area's hotspots (as they stood at ``since``)? Officers' view.

    ``incidents`` are the force's (:func:`force_incidents`, every type: the months
    present are the months covered); ``categories`` are evaluated (default all).
    Raises :class:`~clic_geo.hotspots.evaluation.NoTreatedZonesError` when no hotspot
    stood out before the date.
    """
    areas = load_areas(settings.areas_dir)
    force = gpd.GeoSeries([load_service_area(settings.areas_dir).geometry], crs=WGS84)
    return evaluate_incidents(
        incidents,
        since=since,
        force_area=force,
        area=area,
        types=list(categories) if categories else None,
        buffer_m=buffer_m,
        window_months=window_months,
        area_km2={a.id: a.area_km2 for a in areas},
        last_month=last_month,
    )


def partner_evaluation(
    store: Store,
    session: Session | Literal["cli"],
    *,
    settings: Settings,
    area: str,
    layer: str,
    since: date,
    organisation: str | None = None,
    buffer_m: float = DEFAULT_BUFFER_M,
    window_months: int = DEFAULT_WINDOW_MONTHS,
    today: date | None = None,
    now: datetime | None = None,
) -> PartnerEvaluation:
    """The evaluation of ``layer`` in ``area`` as the caller's organisation may see it.

    The caller is checked first (refusals raised and logged); then the evaluation
    runs on the months the agreement allows, and only what
    :func:`~clic_geo.access.partner_evaluation.publish_evaluation` publishes comes back.

    Raises
    ------
    PermissionDeniedError
        An area or layer outside the organisation's agreement, another organisation,
        or a date not shared with partners
        (:func:`~clic_geo.access.partner_evaluation.evaluation_dates`).
    ConfigError
        A layer that does not count incidents.
    """
    grant = evaluation_grant(
        store,
        session,
        settings=settings,
        area=area,
        layer=layer,
        since=since,
        organisation=organisation,
        today=today,
        now=now,
    )
    inc = force_incidents(store)
    months = inc["month"].astype(str)
    inc = inc[months.isin([m for m in months.unique() if grant.allows(m)])]
    try:
        ev, _ = evaluate_area(
            inc,
            settings=settings,
            area=grant.area_id,
            since=since,
            categories=grant.categories,
            buffer_m=buffer_m,
            window_months=window_months,
            last_month=grant.last_month,
        )
        monthly, stats = ev.monthly, ev.to_dict(exact=True)  # rounded once, when published
    except NoTreatedZonesError:
        monthly = pd.DataFrame(columns=["month", "after", "treated", "buffer", "comparison"])
        stats = {"reasons": ["no_hotspots"], "buffer_m": buffer_m}
    return publish_evaluation(store, grant, monthly, stats, since=since, now=now)
