"""Who sees what: partner-safe aggregates, and audited record-level access.

Partners (role ``partner``) get **counts only**, inside their organisation's ISA scope
(:mod:`clic_geo.access.isa`), through two functions:

- :func:`partner_area_table`: per area and layer, counts per month, calendar quarter
  and calendar year (complete periods only);
- :func:`partner_grid`: per area, layer and calendar quarter, counts on 250 m squares
  of the British National Grid, each square a polygon (never a point).

Both take the store and the caller's :class:`~clic_geo.access.auth.Session`, check it,
check the role and the scope (refusing with :class:`PermissionDeniedError`, and
logging the refusal), and return frozen results whose frames hold area ids, layer
names, period labels, square ids, counts and square/area polygons: never a
coordinate, address, name, note or visit detail.

Suppression (see :mod:`clic_geo.access.suppression` and ``docs/security.md``): counts below
``settings.suppression_threshold`` (default 10), zero included, read "fewer than 10";
more are withheld so that no suppressed count can be worked out from the rest; shown
counts are rounded to ``[privacy] round_to`` (default 5, the ONS 10-5 rule).
Decisions are made once per (area, layer, calendar year), the same for every
partner and request, in the order figures are published: a month is never withheld
after the fact; a quarter and its squares are decided when it ends; the year last.
Totals across areas are never published: they would depend on each partner's set of
areas and let two partners' views be subtracted.

Officers and admins read record-level data through :func:`officer_records`, which
checks the role and writes an audit entry.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd

from clic_geo._errors import ConfigError, PermissionDeniedError
from clic_geo.access._publication import (
    CELL_M,
    cell_polygons,
    complete_until,
    compute,
    in_window,
    label_of,
    rounded,
)
from clic_geo.access.audit import Action, AuditOutcome, record
from clic_geo.access.auth import require_role, validate_session
from clic_geo.access.identity import Role, Session, User
from clic_geo.access.isa import POINT_LAYERS, IsaScope, Layer, full_scope, get_isa_scope
from clic_geo.export import write_safe_csv
from clic_geo.geo.areas import AreaSet, load_areas
from clic_geo.geo.crs import WGS84, format_grid_ref
from clic_geo.settings import Settings
from clic_geo.store import Store

__all__ = [
    "CELL_M",
    "RECORD_KINDS",
    "PartnerGrid",
    "PartnerTable",
    "officer_records",
    "partner_area_table",
    "partner_export_csv",
    "partner_grid",
    "partner_scope",
]

log = logging.getLogger(__name__)

#: What :func:`officer_records` can return.
RECORD_KINDS = ("incidents", "addresses", "visits", "county_lines")

TABLE_COLUMNS = [
    "area_id",
    "area_name",
    "layer",
    "period",
    "period_type",
    "count",
    "status",
    "label",
]
GRID_COLUMNS = ["cell_id", "area_id", "layer", "period", "count", "status", "label"]


@dataclass(frozen=True)
class PartnerTable:
    """Counts per area, layer and period.

    ``frame`` columns: ``area_id, area_name, layer, period`` (``2026-03``,
    ``2026-Q1``, ``2026``), ``period_type`` (month, quarter, year), ``count``
    (nullable integer: ``<NA>`` where suppressed), ``status`` (shown, fewer_than,
    withheld), ``label`` (what to display: "35", "fewer than 10", "withheld").
    """

    frame: pd.DataFrame
    scope: IsaScope
    threshold: int
    round_to: int


@dataclass(frozen=True)
class PartnerGrid:
    """Counts on grid squares for one layer and quarter.

    ``cells`` is a GeoDataFrame (EPSG:4326) of square polygons with ``cell_id`` (OS
    grid reference of the square's south-west corner), ``area_id, layer, period,
    count, status, label``; every square of each area is listed, empty ones as
    "fewer than 10", so a listed square says nothing about whether anything happened
    there. ``totals`` is the matching rows of the area table (same decisions).
    """

    cells: gpd.GeoDataFrame
    totals: pd.DataFrame
    scope: IsaScope
    threshold: int
    round_to: int
    cell_m: int

    def to_geojson(self) -> str:
        """The squares as a GeoJSON FeatureCollection (polygons and counts only)."""
        return self.cells.to_json(drop_id=True)


# ------------------------------------------------------------------ access checks


def _round_to(settings: Settings) -> int:
    value = int(((settings.extra or {}).get("privacy") or {}).get("round_to", 5))
    if value < 1:
        raise ConfigError("[privacy] round_to must be at least 1")
    return value


def _caller(store: Store, session: Session | str, now: datetime | None) -> User | str:
    """The signed-in user, or ``"cli"`` for the command line (the machine's own operator)."""
    if session == "cli":
        return "cli"
    if not isinstance(session, Session):
        raise PermissionDeniedError("partner figures need a session or 'cli'")
    return validate_session(store, session, now=now)


def _scope_for(
    store: Store, user: User | str, areas: AreaSet, organisation: str | None, now: datetime | None
) -> IsaScope:
    if isinstance(user, User) and user.role == Role.PARTNER:
        if organisation not in (None, user.organisation_id):
            _deny(store, user, "other_organisation", now)
        scope = get_isa_scope(store, user.organisation_id)
        if scope is None:
            _deny(store, user, "no_isa_scope", now)
        return scope
    if organisation is not None:  # an officer previewing a partner's view
        scope = get_isa_scope(store, organisation)
        if scope is None:
            raise ConfigError(f"organisation {organisation!r} has no ISA scope")
        return scope
    return full_scope(areas.ids)


def _deny(
    store: Store,
    user: User | str,
    reason: str,
    now: datetime | None,
    *,
    area_id: str | None = None,
    subject: str | None = None,
) -> None:
    record(
        store,
        Action.VIEW_AGGREGATES,
        actor=user,
        outcome=AuditOutcome.DENIED,
        area_id=area_id if area_id and _safe_id(area_id) else None,
        subject=subject if subject and _safe_id(subject) else None,
        detail={"reason": reason},
        now=now,
    )
    messages = {
        "no_isa_scope": "your organisation has no information-sharing agreement scope",
        "other_organisation": "you can only see your own organisation's view",
        "area": f"area {area_id!r} is outside your organisation's agreement",
        "layer": f"layer {subject!r} is outside your organisation's agreement",
    }
    raise PermissionDeniedError(messages.get(reason, "not allowed"))


def _safe_id(value: str) -> bool:
    return value.replace("_", "").replace("-", "").isalnum() and len(value) <= 64


def _check_request(
    store: Store,
    user: User | str,
    scope: IsaScope,
    areas: Sequence[str],
    layers: Sequence[str],
    now: datetime | None,
) -> tuple[list[str], list[Layer]]:
    out_layers = []
    for a in areas:
        if a not in scope.areas:
            _deny(store, user, "area", now, area_id=a)
    for x in layers:
        try:
            layer = Layer(x)
        except ValueError:
            raise ConfigError(f"unknown layer {x!r}") from None
        if layer not in scope.layers:
            _deny(store, user, "layer", now, subject=str(x))
        out_layers.append(layer)
    return list(areas), out_layers


def partner_scope(
    store: Store, session: Session, *, settings: Settings, now: datetime | None = None
) -> IsaScope:
    """What the signed-in user may see in aggregate: a partner's ISA scope, else everything.

    The app uses it to offer only the areas, layers and dates a partner may ask for.
    """
    user = validate_session(store, session, now=now)
    return _scope_for(store, user, load_areas(settings.areas_dir), None, now)


def _years(scope: IsaScope, years: Sequence[int] | None, until: pd.Period) -> list[int]:
    if years is not None:
        return sorted({int(y) for y in years})
    last = until.year
    first = last - 2
    if scope.data_from is not None:
        first = max(first, scope.data_from.year)
    return list(range(first, last + 1))


def partner_area_table(
    store: Store,
    session: Session | Literal["cli"],
    *,
    settings: Settings,
    layers: Sequence[str] | None = None,
    areas: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    organisation: str | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> PartnerTable:
    """Counts per area, layer and month / quarter / year, suppressed for partners.

    Parameters
    ----------
    store, session
        The store and the caller's session (checked here), or ``"cli"`` for the
        command line (which sees what an officer sees, or with ``organisation``
        that organisation's view).
    settings : Settings
        Gives the areas, the threshold and the rounding.
    layers, areas : sequence of str, optional
        Default: everything in the caller's scope. Anything outside it is refused.
    years : sequence of int, optional
        Calendar years (default the last three, within the scope's dates).
    organisation : str, optional
        Officers and admins: preview this organisation's view. Partners: only
        their own (or ``None``).
    today : date, optional
        Periods count once they are complete before today's month (default: the
        demo's date in a demo store, else today).

    Raises
    ------
    PermissionDeniedError
        An area or layer outside the partner's scope, another organisation, or no scope.
    """
    user = _caller(store, session, now)
    area_set = load_areas(settings.areas_dir)
    scope = _scope_for(store, user, area_set, organisation, now)
    area_ids, layer_list = _check_request(
        store,
        user,
        scope,
        list(areas) if areas is not None else list(scope.areas),
        list(layers) if layers is not None else [str(x) for x in scope.layers],
        now,
    )
    cu = complete_until(today, store)
    yrs = _years(scope, years, cu)
    rows, _ = compute(store, settings, area_set, area_ids, layer_list, yrs, cu, with_cells=False)
    r = _round_to(settings)
    t = settings.suppression_threshold
    names = area_set.names()
    out = []
    for row in rows:
        if not in_window(row["period"], row["period_type"], scope):
            continue
        shown = rounded(row["n"], row["status"], r)
        out.append(
            {
                "area_id": row["area_id"],
                "area_name": names.get(row["area_id"], row["area_id"]),
                "layer": row["layer"],
                "period": row["period"],
                "period_type": row["period_type"],
                "count": shown,
                "status": str(row["status"]),
                "label": label_of(row["status"], shown, t),
            }
        )
    frame = pd.DataFrame(out, columns=TABLE_COLUMNS)
    frame["count"] = frame["count"].astype("Int64")
    record(
        store,
        Action.VIEW_AGGREGATES,
        actor=user,
        area_id=area_ids[0] if len(area_ids) == 1 else None,
        subject="area_table",
        detail={
            "areas": area_ids,
            "layers": [str(x) for x in layer_list],
            "rows": len(frame),
            "organisation": scope.organisation_id,
        },
        now=now,
    )
    return PartnerTable(frame=frame, scope=scope, threshold=t, round_to=r)


def partner_grid(
    store: Store,
    session: Session | Literal["cli"],
    layer: str,
    quarter: str,
    *,
    settings: Settings,
    areas: Sequence[str] | None = None,
    organisation: str | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> PartnerGrid:
    """Counts on 250 m squares for one layer and calendar quarter (``"2026-Q2"``).

    Same checks and suppression as :func:`partner_area_table` (the squares of a
    quarter are decided together with the quarter's total). A quarter that is not
    complete, or not wholly inside the scope's dates, gives no squares.

    Raises
    ------
    PermissionDeniedError
        As :func:`partner_area_table`.
    ConfigError
        For the active-lines layer (no locations) or a malformed quarter.
    """
    user = _caller(store, session, now)
    area_set = load_areas(settings.areas_dir)
    scope = _scope_for(store, user, area_set, organisation, now)
    area_ids, (lay,) = _check_request(
        store, user, scope, list(areas) if areas is not None else list(scope.areas), [layer], now
    )
    if lay not in POINT_LAYERS:
        raise ConfigError(f"layer {lay} has no locations; it cannot be shown on a grid")
    try:
        qp = pd.Period(quarter, "Q")
    except ValueError:
        raise ConfigError(f"quarter {quarter!r}: expected e.g. 2026-Q2") from None
    cu = complete_until(today, store)
    rows, grid = compute(store, settings, area_set, area_ids, [lay], [qp.year], cu, with_cells=True)
    r = _round_to(settings)
    t = settings.suppression_threshold
    period = f"{qp.year}-Q{qp.quarter}"
    parts = []
    if in_window(period, "quarter", scope):
        for g in grid:
            if g["period"] != period:
                continue
            shown = [rounded(int(n), s, r) for n, s in zip(g["counts"], g["statuses"], strict=True)]
            parts.append(
                gpd.GeoDataFrame(
                    {
                        "cell_id": [
                            format_grid_ref(x * CELL_M, y * CELL_M, 8) for x, y in g["cells"]
                        ],
                        "area_id": g["area_id"],
                        "layer": g["layer"],
                        "period": period,
                        "count": pd.array(shown, dtype="Float64").astype("Int64"),
                        "status": [str(s) for s in g["statuses"]],
                        "label": [
                            label_of(s, v, t) for s, v in zip(g["statuses"], shown, strict=True)
                        ],
                    },
                    geometry=cell_polygons(g["cells"]),
                    crs=WGS84,
                )
            )
    cells = (
        pd.concat(parts, ignore_index=True)
        if parts
        else gpd.GeoDataFrame({c: [] for c in GRID_COLUMNS}, geometry=[], crs=WGS84)
    )
    totals = pd.DataFrame(
        [
            {
                "area_id": x["area_id"],
                "layer": x["layer"],
                "period": x["period"],
                "count": rounded(x["n"], x["status"], r),
                "status": str(x["status"]),
                "label": label_of(x["status"], rounded(x["n"], x["status"], r), t),
            }
            for x in rows
            if x["period"] == period and parts
        ],
        columns=["area_id", "layer", "period", "count", "status", "label"],
    )
    totals["count"] = totals["count"].astype("Int64")
    record(
        store,
        Action.VIEW_AGGREGATES,
        actor=user,
        area_id=area_ids[0] if len(area_ids) == 1 else None,
        subject="grid",
        detail={
            "areas": area_ids,
            "layer": str(lay),
            "period": period,
            "cells": len(cells),
            "organisation": scope.organisation_id,
        },
        now=now,
    )
    return PartnerGrid(
        cells=cells, totals=totals, scope=scope, threshold=t, round_to=r, cell_m=CELL_M
    )


def partner_export_csv(
    store: Store,
    session: Session,
    path: str | Path,
    *,
    settings: Settings,
    layers: Sequence[str] | None = None,
    areas: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    grid_layer: str | None = None,
    quarter: str | None = None,
    organisation: str | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> Path:
    """Write partner-safe aggregates as CSV (safe to open in Excel) and log the export.

    With ``grid_layer`` and ``quarter``, the squares of :func:`partner_grid` (square
    id, area, counts; no geometry); otherwise the table of :func:`partner_area_table`.
    """
    if grid_layer is not None:
        if quarter is None:
            raise ConfigError("a grid export needs a quarter, e.g. 2026-Q2")
        g = partner_grid(
            store,
            session,
            grid_layer,
            quarter,
            settings=settings,
            areas=areas,
            organisation=organisation,
            today=today,
            now=now,
        )
        df = pd.DataFrame(g.cells.drop(columns="geometry"))
        kind = "grid"
    else:
        df = partner_area_table(
            store,
            session,
            settings=settings,
            layers=layers,
            areas=areas,
            years=years,
            organisation=organisation,
            today=today,
            now=now,
        ).frame
        kind = "area_table"
    out = write_safe_csv(df, path)
    user = validate_session(store, session, now=now, touch=False)
    record(
        store,
        Action.EXPORT,
        actor=user,
        subject=kind,
        detail={"format": "csv", "rows": len(df)},
        now=now,
    )
    return out


# ------------------------------------------------------------------ record level


def officer_records(
    store: Store,
    session: Session,
    kind: str,
    *,
    area: str | Iterable[str],
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    now: datetime | None = None,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Record-level data of one or more areas, for officers and admins; audited.

    ``kind`` is one of :data:`RECORD_KINDS`. The audit entry names the kind, the
    areas and the row count, never the records.

    Raises
    ------
    PermissionDeniedError
        For partners (and the refusal is logged).
    """
    user = validate_session(store, session, now=now)
    area_ids = [area] if isinstance(area, str) else list(area)
    one = area_ids[0] if len(area_ids) == 1 and _safe_id(area_ids[0]) else None
    if kind not in RECORD_KINDS:
        raise ConfigError(f"unknown record kind {kind!r}; expected one of {RECORD_KINDS}")
    require_role(
        store,
        user,
        Role.OFFICER,
        Role.ADMIN,
        action=Action.VIEW_RECORDS,
        area_id=one,
        subject=kind,
        now=now,
    )
    if kind == "incidents":
        df = store.incidents(area=area_ids, start=start, end=end)
    elif kind == "visits":
        df = store.visits(area=area_ids, start=start, end=end)
    elif kind == "addresses":
        df = store.addresses(area=area_ids)
    else:
        lines = store.county_lines()
        df = lines[lines["area_id"].isin(area_ids)].reset_index(drop=True)
    record(
        store,
        Action.VIEW_RECORDS,
        actor=user,
        area_id=one,
        subject=kind,
        detail={
            "areas": [a for a in area_ids if _safe_id(a)],
            "rows": len(df),
            "from": start,
            "to": end,
        },
        now=now,
    )
    return df
