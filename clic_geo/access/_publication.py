"""How partner figures are computed: per (area, layer, calendar year), in publication order.

Private plumbing of :mod:`clic_geo.access.privacy` (which checks who may see what). Here:
the events counted by each layer, the 250 m squares of an area, and the suppression
decisions for one area, layer and year (months, quarters with their squares, then
the year), as described in ``docs/security.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

from clic_geo._errors import ConfigError
from clic_geo.access.isa import LAYER_CATEGORIES, IsaScope, Layer
from clic_geo.access.suppression import Line, Status, protect
from clic_geo.geo.areas import AreaSet
from clic_geo.geo.crs import BNG, WGS84, to_wgs84
from clic_geo.settings import Settings
from clic_geo.store import Store
from clic_geo.store import tables as T  # noqa: N812 - T.incidents reads like SQL
from clic_geo.store.publishing import published

__all__ = [
    "CELL_M",
    "cell_polygons",
    "complete_until",
    "compute",
    "in_window",
    "label_of",
    "rounded",
]

log = logging.getLogger(__name__)

#: Side of a grid square, metres. 250 m: a few streets in a town; never smaller.
CELL_M = 250


# ------------------------------------------------------------------ data per layer


def _layer_rows(store: Store, layer: Layer, areas: Sequence[str]) -> pd.DataFrame:
    """``area_id, when, easting, northing`` of every counted event (internal only)."""
    if layer in LAYER_CATEGORIES:
        t = T.incidents
        q = sa.select(t.c.area_id, t.c.occurred_at.label("when"), t.c.easting, t.c.northing).where(
            t.c.category.in_(list(LAYER_CATEGORIES[layer])),
            t.c.area_id.in_(list(areas)),
            published(t),
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
        q = q.where(v.c.area_id.in_(list(areas)), published(v))
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


def _area_cells(areas: AreaSet, area_id: str) -> np.ndarray:
    """``(n, 2)`` square indices (easting // CELL_M, northing // CELL_M) of an area.

    Every square the outline touches, and only those: never a square added because
    an event lies in it. After an outline is redrawn a record may sit outside it
    until ``clic-geo areas reassign`` runs; such events still count in the area's
    totals but are never placed on its grid (see :func:`_unit`). Depends only on the
    outline, never on the events, who asks or for which period.
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
    return np.array(sorted(cells), dtype=np.int64).reshape(-1, 2)


def _cell_index(cells: np.ndarray, events: pd.DataFrame) -> np.ndarray:
    """Per event, the index of its square in ``cells``; ``len(cells)`` if outside them."""
    key = {(int(x), int(y)): i for i, (x, y) in enumerate(cells)}
    return np.array(
        [
            key.get((int(e // CELL_M), int(n // CELL_M)), len(cells))
            for e, n in zip(events["easting"], events["northing"], strict=True)
        ],
        dtype=int,
    )


def cell_polygons(cells: np.ndarray) -> np.ndarray:
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
    # the same with the never-published "outside the outline" entry last, if any
    full: dict[str, tuple[np.ndarray, np.ndarray]]


def _unit(
    events: pd.DataFrame | None,
    cells: np.ndarray,
    year: int,
    until: pd.Period,
    threshold: int,
    monthly_state: dict[str, int] | None = None,
    *,
    outside: bool = False,
) -> _Unit:
    """Decide what to publish for one area, layer and year (see the module docstring).

    With ``outside`` (some of the area's events lie in no square of its outline, after
    the outline was redrawn), each quarter's squares get one more part, the events
    outside them: it is counted in the suppression lines, so the squares shown never
    give it away by difference, and it is never published (an attacker knows less
    than :func:`protect` assumes, which only widens what they can infer).
    """
    months = [pd.Period(f"{year}-{m:02d}", "M") for m in range(1, 13)]
    done = [m <= until for m in months]
    rows: list[tuple[str, str, int, Status]] = []
    if monthly_state is not None:  # a state (active lines), not additive: months only
        for m, ok in zip(months, done, strict=True):
            if ok:
                n = monthly_state.get(str(m), 0)
                rows.append(
                    (str(m), "month", n, Status.FEWER_THAN if n < threshold else Status.SHOWN)
                )
        return _Unit(rows, {}, {})
    assert events is not None
    per_month = events["when"].dt.to_period("M").value_counts()
    mcount = np.array([int(per_month.get(m, 0)) for m in months])
    ev_cell = _cell_index(cells, events)
    n_parts = len(cells) + (1 if outside else 0)
    if not outside and (ev_cell == len(cells)).any():
        raise AssertionError("events outside the outline need outside=True")
    ev_q = events["when"].dt.quarter.to_numpy() if len(events) else np.array([], dtype=int)
    q_status: dict[int, Status] = {}
    out_cells: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    full: dict[str, tuple[np.ndarray, np.ndarray]] = {}
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
        counts = np.bincount(ev_cell[ev_q == q], minlength=n_parts)
        q_total = int(mcount[list(m_idx)].sum())
        assert counts.sum() == q_total, "every event lies in a square or outside them"
        # entries: 3 months, the quarter, the squares (and the outside part, last)
        values = np.concatenate([mcount[list(m_idx)], [q_total], counts])
        nc = len(counts)
        lines = [Line(3, (0, 1, 2)), Line(3, tuple(range(4, 4 + nc)))]
        withholdable = np.array([False, False, False, True] + [True] * nc)
        # the unpublished outside part is withheld first: it costs nothing visible
        priority = np.zeros(len(values))
        if outside:
            priority[-1] = -1.0
        p = protect(
            values, lines, threshold=threshold, withholdable=withholdable, priority=priority
        )
        q_status[q] = p.status[3]
        rows.append((f"{year}-Q{q}", "quarter", q_total, p.status[3]))
        full[f"{year}-Q{q}"] = (counts, p.status[4:])
        out_cells[f"{year}-Q{q}"] = (counts[: len(cells)], p.status[4 : 4 + len(cells)])
    if all(done):
        # the year, last: months, quarters and squares are published and stay as they are
        qv = [int(mcount[3 * q - 3 : 3 * q].sum()) for q in range(1, 5)]
        sq = [full[f"{year}-Q{q}"] for q in range(1, 5)]
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
    return _Unit(rows, out_cells, full)


def label_of(status: Status, shown: float, threshold: int) -> str:
    if status == Status.FEWER_THAN:
        return f"fewer than {threshold}"
    if status == Status.WITHHELD:
        return "withheld"
    return str(int(shown))


def rounded(n: int, status: Status, round_to: int) -> float:
    if status != Status.SHOWN:
        return np.nan
    return float(round(n / round_to) * round_to) if round_to > 1 else float(n)


def in_window(period: str, ptype: str, scope: IsaScope) -> bool:
    p = pd.Period(period, {"month": "M", "quarter": "Q", "year": "Y"}[ptype])
    start, end = p.start_time.date(), p.end_time.date()
    return (scope.data_from is None or start >= scope.data_from) and (
        scope.data_to is None or end <= scope.data_to
    )


def complete_until(today: date | None, store: Store) -> pd.Period:
    if today is None:
        demo_today = store.get_meta("demo_today")
        today = date.fromisoformat(demo_today) if demo_today else date.today()
    return pd.Period(today, "M") - 1


def compute(
    store: Store,
    settings: Settings,
    area_set: AreaSet,
    areas: Sequence[str],
    layers: Sequence[Layer],
    years: Sequence[int],
    until: pd.Period,
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
                _area_cells(area_set, area)
                if ev_area is not None
                else np.zeros((0, 2), dtype=np.int64)
            )
            outside = ev_area is not None and bool(
                (_cell_index(cells, ev_area) == len(cells)).any()
            )
            for year in years:
                if events is not None:
                    ev = ev_area[ev_area["when"].dt.year == year]
                    unit = _unit(ev, cells, year, until, t, outside=outside)
                else:
                    st_area = state[state["area_id"] == area]
                    unit = _unit(
                        None,
                        cells,
                        year,
                        until,
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
