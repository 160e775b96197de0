"""Who sees what: partner-safe aggregates, and audited record-level access.

Partners (role ``partner``) get **counts only**, inside their organisation's ISA scope
(:mod:`clic_geo.isa`), through two functions:

- :func:`partner_area_table`: per area and layer, counts per month, calendar quarter
  and calendar year (complete periods only);
- :func:`partner_grid`: per area, layer and calendar quarter, counts on 250 m squares
  of the British National Grid, each square a polygon (never a point).

Both take the store and the caller's :class:`~clic_geo.auth.Session`, check it,
check the role and the scope (refusing with :class:`PermissionDeniedError`, and
logging the refusal), and return frozen results whose frames hold area ids, layer
names, period labels, square ids, counts and square/area polygons: never a
coordinate, address, name, note or visit detail.

Suppression (see :mod:`clic_geo.suppression` and ``docs/security.md``): counts below
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
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from clic_geo import _tables as T  # noqa: N812 - T.incidents reads like SQL
from clic_geo._errors import ConfigError, PermissionDeniedError
from clic_geo.areas import AreaSet, load_areas
from clic_geo.audit import Action, AuditOutcome, record
from clic_geo.auth import Role, Session, User, require_role, validate_session
from clic_geo.export import write_safe_csv
from clic_geo.geo import BNG, WGS84, format_grid_ref, to_wgs84
from clic_geo.isa import LAYER_CATEGORIES, POINT_LAYERS, IsaScope, Layer, full_scope, get_isa_scope
from clic_geo.settings import Settings
from clic_geo.store import Store
from clic_geo.suppression import Line, Status, protect

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

#: Side of a grid square, metres. 250 m: a few streets in a town; never smaller.
CELL_M = 250
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


def _scope_for(
    store: Store, user: User, areas: AreaSet, organisation: str | None, now: datetime | None
) -> IsaScope:
    if user.role == Role.PARTNER:
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
    user: User,
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
    user: User,
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


# ------------------------------------------------------------------ data per layer


def _layer_rows(store: Store, layer: Layer, areas: Sequence[str]) -> pd.DataFrame:
    """``area_id, when, easting, northing`` of every counted event (internal only)."""
    if layer in LAYER_CATEGORIES:
        t = T.incidents
        q = sa.select(t.c.area_id, t.c.occurred_at.label("when"), t.c.easting, t.c.northing).where(
            t.c.category.in_(list(LAYER_CATEGORIES[layer])), t.c.area_id.in_(list(areas))
        )
    elif layer in (Layer.VISITS, Layer.SUPPORT_PACKAGES, Layer.REFERRALS):
        v = T.visits
        cols = [v.c.area_id, v.c.visited_at.label("when"), v.c.easting, v.c.northing]
        if layer == Layer.VISITS:
            q = sa.select(*cols)
        elif layer == Layer.SUPPORT_PACKAGES:
            q = sa.select(*cols).where(v.c.id.in_(sa.select(T.visit_support.c.visit_id)))
        else:
            q = sa.select(*cols).join(T.visit_referrals, T.visit_referrals.c.visit_id == v.c.id)
        q = q.where(v.c.area_id.in_(list(areas)))
    elif layer == Layer.TARGET_HARDENING:
        a, h = T.addresses, T.address_hardening
        q = (
            sa.select(a.c.area_id, h.c.fitted_on.label("when"), a.c.easting, a.c.northing)
            .join(a, a.c.id == h.c.address_id)
            .where(a.c.area_id.in_(list(areas)), h.c.fitted_on != "")
        )
    else:  # pragma: no cover - active lines are not point data
        raise ConfigError(f"layer {layer} has no locations")
    with store.engine.connect() as conn:
        df = pd.read_sql(q, conn)
    df["when"] = pd.to_datetime(df["when"], errors="coerce")
    return df.dropna(subset=["when"])


def _active_lines(store: Store, areas: Sequence[str], months: Sequence[str]) -> pd.DataFrame:
    """``area_id, month, count``: lines whose latest status at month end is active."""
    lines = store.county_lines()
    out = []
    for area in areas:
        df = lines[lines["area_id"] == area]
        for m in months:
            end = pd.Period(m, "M").end_time
            cur = df[df["since"] <= end].sort_values("since").groupby("line_id").tail(1)
            out.append((area, m, int((cur["status"] == "active").sum())))
    return pd.DataFrame(out, columns=["area_id", "month", "count"])


# ------------------------------------------------------------------ grid squares


def _area_cells(areas: AreaSet, area_id: str, events: pd.DataFrame) -> np.ndarray:
    """``(n, 2)`` square indices (easting // CELL_M, northing // CELL_M) of an area.

    Every square the outline touches, plus any holding one of the area's events
    (after an outline is redrawn a record may sit just outside it until
    ``clic-geo areas reassign`` runs). Depends only on the area and the store, never
    on who asks or for which period.
    """
    geom = gpd.GeoSeries([areas.get(area_id).geometry], crs=WGS84).to_crs(BNG).iloc[0]
    minx, miny, maxx, maxy = geom.bounds
    ix = np.arange(int(minx // CELL_M), int(maxx // CELL_M) + 1)
    iy = np.arange(int(miny // CELL_M), int(maxy // CELL_M) + 1)
    gx, gy = (a.ravel() for a in np.meshgrid(ix, iy))
    boxes = shapely.box(gx * CELL_M, gy * CELL_M, (gx + 1) * CELL_M, (gy + 1) * CELL_M)
    shapely.prepare(geom)
    keep = shapely.intersects(geom, boxes)
    cells = {(int(x), int(y)) for x, y in zip(gx[keep], gy[keep], strict=True)}
    cells |= {
        (int(e // CELL_M), int(n // CELL_M))
        for e, n in zip(events["easting"], events["northing"], strict=True)
    }
    return np.array(sorted(cells), dtype=np.int64).reshape(-1, 2)


def _cell_polygons(cells: np.ndarray) -> np.ndarray:
    e0, n0 = cells[:, 0] * CELL_M, cells[:, 1] * CELL_M
    es = np.column_stack([e0, e0 + CELL_M, e0 + CELL_M, e0, e0]).astype(float)
    ns = np.column_stack([n0, n0, n0 + CELL_M, n0 + CELL_M, n0]).astype(float)
    lon, lat = to_wgs84(es.ravel(), ns.ravel())
    coords = np.stack([np.round(lon, 6), np.round(lat, 6)], axis=-1).reshape(len(cells), 5, 2)
    return shapely.polygons(coords)


# ------------------------------------------------------------------ one (area, layer, year)


@dataclass(frozen=True)
class _Unit:
    rows: list[tuple[str, str, int, Status]]  # (period, period_type, count, status)
    cells: dict[str, tuple[np.ndarray, np.ndarray]]  # quarter -> (counts, statuses)


def _unit(
    events: pd.DataFrame | None,
    cells: np.ndarray,
    year: int,
    complete_until: pd.Period,
    threshold: int,
    monthly_state: dict[str, int] | None = None,
) -> _Unit:
    """Decide what to publish for one area, layer and year (see the module docstring)."""
    months = [pd.Period(f"{year}-{m:02d}", "M") for m in range(1, 13)]
    done = [m <= complete_until for m in months]
    rows: list[tuple[str, str, int, Status]] = []
    if monthly_state is not None:  # a state (active lines), not additive: months only
        for m, ok in zip(months, done, strict=True):
            if ok:
                n = monthly_state.get(str(m), 0)
                rows.append(
                    (str(m), "month", n, Status.FEWER_THAN if n < threshold else Status.SHOWN)
                )
        return _Unit(rows, {})
    assert events is not None
    per_month = events["when"].dt.to_period("M").value_counts()
    mcount = np.array([int(per_month.get(m, 0)) for m in months])
    key = {(int(x), int(y)): i for i, (x, y) in enumerate(cells)}
    ev_cell = np.array(
        [
            key.get((int(e // CELL_M), int(n // CELL_M)), -1)
            for e, n in zip(events["easting"], events["northing"], strict=True)
        ],
        dtype=int,
    )
    ev_q = events["when"].dt.quarter.to_numpy() if len(events) else np.array([], dtype=int)
    q_status: dict[int, Status] = {}
    out_cells: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for q in range(1, 5):
        m_idx = range(3 * q - 3, 3 * q)
        for i in m_idx:
            if done[i]:
                n = int(mcount[i])
                rows.append(
                    (
                        str(months[i]),
                        "month",
                        n,
                        Status.FEWER_THAN if n < threshold else Status.SHOWN,
                    )
                )
        if not all(done[i] for i in m_idx):
            continue
        counts = np.bincount(ev_cell[ev_q == q], minlength=len(cells))
        q_total = int(mcount[list(m_idx)].sum())
        assert counts.sum() == q_total, "every event lies in one of its area's squares"
        # entries: 3 months, the quarter, the squares
        values = np.concatenate([mcount[list(m_idx)], [q_total], counts])
        nc = len(counts)
        lines = [Line(3, (0, 1, 2)), Line(3, tuple(range(4, 4 + nc)))]
        withholdable = np.array([False, False, False, True] + [True] * nc)
        p = protect(values, lines, threshold=threshold, withholdable=withholdable)
        q_status[q] = p.status[3]
        rows.append((f"{year}-Q{q}", "quarter", q_total, p.status[3]))
        out_cells[f"{year}-Q{q}"] = (counts, p.status[4:])
    if all(done):
        # the year, last: months, quarters and squares are published and stay as they are
        qv = [int(mcount[3 * q - 3 : 3 * q].sum()) for q in range(1, 5)]
        sq = [out_cells[f"{year}-Q{q}"] for q in range(1, 5)]
        values = np.concatenate([qv, [sum(qv)], mcount, *(c for c, _ in sq)])
        lines = [Line(4, (0, 1, 2, 3))]
        withheld = [q_status[q] == Status.WITHHELD for q in range(1, 5)] + [False] * 13
        start = 17
        for q in range(4):
            lines.append(Line(q, (5 + 3 * q, 6 + 3 * q, 7 + 3 * q)))
            nc = len(sq[q][0])
            lines.append(Line(q, tuple(range(start, start + nc))))
            withheld += [s == Status.WITHHELD for s in sq[q][1]]
            start += nc
        withholdable = np.zeros(len(values), dtype=bool)
        withholdable[4] = True
        p = protect(
            values, lines, threshold=threshold, withholdable=withholdable, withheld=withheld
        )
        rows.append((str(year), "year", int(sum(qv)), p.status[4]))
    return _Unit(rows, out_cells)


def _label(status: Status, shown: float, threshold: int) -> str:
    if status == Status.FEWER_THAN:
        return f"fewer than {threshold}"
    if status == Status.WITHHELD:
        return "withheld"
    return str(int(shown))


def _rounded(n: int, status: Status, round_to: int) -> float:
    if status != Status.SHOWN:
        return np.nan
    return float(round(n / round_to) * round_to) if round_to > 1 else float(n)


def _in_window(period: str, ptype: str, scope: IsaScope) -> bool:
    p = pd.Period(period, {"month": "M", "quarter": "Q", "year": "Y"}[ptype])
    start, end = p.start_time.date(), p.end_time.date()
    return (scope.data_from is None or start >= scope.data_from) and (
        scope.data_to is None or end <= scope.data_to
    )


def _complete_until(today: date | None, store: Store) -> pd.Period:
    if today is None:
        demo_today = store.get_meta("demo_today")
        today = date.fromisoformat(demo_today) if demo_today else date.today()
    return pd.Period(today, "M") - 1


def _compute(
    store: Store,
    settings: Settings,
    area_set: AreaSet,
    areas: Sequence[str],
    layers: Sequence[Layer],
    years: Sequence[int],
    complete_until: pd.Period,
    *,
    with_cells: bool,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    t = settings.suppression_threshold
    table: list[dict[str, Any]] = []
    grid: list[dict[str, Any]] = []
    for layer in layers:
        if layer == Layer.ACTIVE_COUNTY_LINES:
            months = [str(pd.Period(f"{y}-{m:02d}", "M")) for y in years for m in range(1, 13)]
            state = _active_lines(store, areas, months)
            events = None
        else:
            events = _layer_rows(store, layer, areas)
        for area in areas:
            ev_area = events[events["area_id"] == area] if events is not None else None
            cells = (
                _area_cells(area_set, area, ev_area)
                if ev_area is not None
                else np.zeros((0, 2), dtype=np.int64)
            )
            for year in years:
                if events is not None:
                    ev = ev_area[ev_area["when"].dt.year == year]
                    unit = _unit(ev, cells, year, complete_until, t)
                else:
                    st_area = state[state["area_id"] == area]
                    unit = _unit(
                        None,
                        cells,
                        year,
                        complete_until,
                        t,
                        monthly_state=dict(zip(st_area["month"], st_area["count"], strict=True)),
                    )
                for period, ptype, n, status in unit.rows:
                    table.append(
                        {
                            "area_id": area,
                            "layer": str(layer),
                            "period": period,
                            "period_type": ptype,
                            "n": n,
                            "status": status,
                        }
                    )
                if with_cells:
                    for period, (counts, statuses) in unit.cells.items():
                        grid.append(
                            {
                                "area_id": area,
                                "layer": str(layer),
                                "period": period,
                                "cells": cells,
                                "counts": counts,
                                "statuses": statuses,
                            }
                        )
    return table, grid


def _years(scope: IsaScope, years: Sequence[int] | None, complete_until: pd.Period) -> list[int]:
    if years is not None:
        return sorted({int(y) for y in years})
    last = complete_until.year
    first = last - 2
    if scope.data_from is not None:
        first = max(first, scope.data_from.year)
    return list(range(first, last + 1))


def partner_area_table(
    store: Store,
    session: Session,
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
        The store and the caller's session (checked here).
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
    user = validate_session(store, session, now=now)
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
    cu = _complete_until(today, store)
    yrs = _years(scope, years, cu)
    rows, _ = _compute(store, settings, area_set, area_ids, layer_list, yrs, cu, with_cells=False)
    r = _round_to(settings)
    t = settings.suppression_threshold
    names = area_set.names()
    out = []
    for row in rows:
        if not _in_window(row["period"], row["period_type"], scope):
            continue
        shown = _rounded(row["n"], row["status"], r)
        out.append(
            {
                "area_id": row["area_id"],
                "area_name": names.get(row["area_id"], row["area_id"]),
                "layer": row["layer"],
                "period": row["period"],
                "period_type": row["period_type"],
                "count": shown,
                "status": str(row["status"]),
                "label": _label(row["status"], shown, t),
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
    session: Session,
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
    user = validate_session(store, session, now=now)
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
    cu = _complete_until(today, store)
    rows, grid = _compute(
        store, settings, area_set, area_ids, [lay], [qp.year], cu, with_cells=True
    )
    r = _round_to(settings)
    t = settings.suppression_threshold
    period = f"{qp.year}-Q{qp.quarter}"
    parts = []
    if _in_window(period, "quarter", scope):
        for g in grid:
            if g["period"] != period:
                continue
            shown = [
                _rounded(int(n), s, r) for n, s in zip(g["counts"], g["statuses"], strict=True)
            ]
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
                            _label(s, v, t) for s, v in zip(g["statuses"], shown, strict=True)
                        ],
                    },
                    geometry=_cell_polygons(g["cells"]),
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
                "count": _rounded(x["n"], x["status"], r),
                "status": str(x["status"]),
                "label": _label(x["status"], _rounded(x["n"], x["status"], r), t),
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
