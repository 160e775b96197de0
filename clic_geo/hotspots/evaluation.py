"""Impact evaluation of the places the partnership worked: zones, monthly counts, the estimate.

Three zones, disjoint, in British National Grid metres:

- **treated**: the polygons where the partnership worked (a file, or the hotspots as
  they stood at the date: :func:`hotspots_at`);
- **buffer**: the ring of ``buffer_m`` (default 250 m) round the treated zones, where
  displaced crime would show first;
- **comparison**: the rest of the force area (the service area minus the treated
  zones and the buffer), or polygons given (minus the same).

:func:`zone_monthly_counts` counts incidents per zone and month over the months the
data covers (a month missing from the data is left out, never counted as zero);
:func:`evaluate` adds the window round the date and hands the counts to
:func:`clic_geo.hotspots.impact.evaluate_counts` (difference-in-differences, naive
contrast, weighted displacement quotient). Frames in, results out: nothing here
opens the store.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from clic_geo._errors import ConfigError
from clic_geo.geo.crs import BNG
from clic_geo.hotspots.current import current_hotspots
from clic_geo.hotspots.impact import MIN_MONTHS_EACH_SIDE, Evaluation, evaluate_counts
from clic_geo.schema import Col

__all__ = [
    "DEFAULT_BUFFER_M",
    "DEFAULT_WINDOW_MONTHS",
    "EvaluationZones",
    "NoTreatedZonesError",
    "evaluate",
    "evaluate_incidents",
    "evaluation_months",
    "evaluation_zones",
    "hotspots_at",
    "select_types",
    "selection_months",
    "zone_monthly_counts",
]

log = logging.getLogger(__name__)

#: Width of the displacement buffer round the treated zones, metres.
DEFAULT_BUFFER_M = 250.0
#: Months on each side of the date that enter the estimate (at most).
DEFAULT_WINDOW_MONTHS = 12
#: Months before the date whose hotspots are "the hotspots as they stood".
DEFAULT_HOTSPOT_MONTHS = 3

Geometries = gpd.GeoSeries | gpd.GeoDataFrame | shapely.Geometry


class NoTreatedZonesError(ConfigError):
    """No hotspot stood out in the months the treated zones are chosen from."""


@dataclass(frozen=True)
class EvaluationZones:
    """The treated zones, their buffer and the comparison area (BNG, disjoint)."""

    treated: shapely.Geometry
    buffer: shapely.Geometry
    comparison: shapely.Geometry
    buffer_m: float
    n_treated: int

    @property
    def km2(self) -> dict[str, float]:
        """Each zone's size in km²."""
        return {
            "treated_km2": round(self.treated.area / 1e6, 4),
            "buffer_km2": round(self.buffer.area / 1e6, 4),
            "comparison_km2": round(self.comparison.area / 1e6, 2),
        }


def _bng_union(geoms: Geometries, what: str) -> tuple[shapely.Geometry, int]:
    """One valid (multi)polygon in BNG, and how many polygons went into it."""
    if isinstance(geoms, gpd.GeoDataFrame):
        geoms = geoms.geometry
    if isinstance(geoms, gpd.GeoSeries):
        if geoms.crs is None:
            raise ConfigError(f"{what} has no CRS; set one (e.g. EPSG:4326)")
        parts = geoms.to_crs(BNG).make_valid().to_numpy()
    else:
        parts = np.array([shapely.make_valid(geoms)])
    parts = np.array([g for g in parts if g is not None and not g.is_empty])
    polys = [p for g in parts for p in getattr(g, "geoms", [g]) if p.area > 0]
    if not polys:
        raise ConfigError(f"{what} holds no polygon with an area")
    return shapely.union_all(polys), len(polys)


def evaluation_zones(
    treated: Geometries,
    *,
    buffer_m: float = DEFAULT_BUFFER_M,
    force_area: Geometries | None = None,
    comparison: Geometries | None = None,
) -> EvaluationZones:
    """Treated zones, the buffer ring round them and the comparison area, disjoint.

    Parameters
    ----------
    treated : GeoSeries, GeoDataFrame or shapely geometry
        The zones where the partnership worked (any CRS; a bare shapely geometry is
        taken to be in British National Grid metres).
    buffer_m : float
        Width of the ring round the treated zones (0: no buffer, no WDQ).
    force_area : geometries, optional
        The whole force area; the default comparison is this minus the treated zones
        and the buffer. The buffer is clipped to it.
    comparison : geometries, optional
        Comparison polygons instead (minus the treated zones and the buffer).

    Raises
    ------
    ConfigError
        No polygon, a negative buffer, neither a force area nor a comparison, or a
        comparison that is empty once the treated zones and buffer are taken out.
    """
    if not buffer_m >= 0:
        raise ConfigError(f"buffer_m must be 0 or more metres, got {buffer_m!r}")
    t, n = _bng_union(treated, "the treated zones")
    outer = t.buffer(buffer_m) if buffer_m > 0 else t
    force = _bng_union(force_area, "the force area")[0] if force_area is not None else None
    ring = shapely.difference(outer, t) if buffer_m > 0 else shapely.Polygon()
    if force is not None:
        ring = shapely.intersection(ring, force)
    if comparison is not None:
        comp = shapely.difference(_bng_union(comparison, "the comparison area")[0], outer)
    elif force is not None:
        comp = shapely.difference(force, outer)
    else:
        raise ConfigError("give a comparison area or the force area")
    if comp.is_empty or comp.area <= 0:
        raise ConfigError("the comparison area is empty once the treated zones are taken out")
    for g in (t, ring, comp):
        shapely.prepare(g)
    return EvaluationZones(t, ring, comp, float(buffer_m), n)


def zone_monthly_counts(
    incidents: pd.DataFrame, zones: EvaluationZones, *, months: Sequence[str] | None = None
) -> pd.DataFrame:
    """Incidents per month in each zone: ``month, treated, buffer, comparison``.

    ``incidents`` needs ``month`` (``YYYY-MM``), ``easting`` and ``northing`` (BNG).
    ``months`` are the months the data covers (default: those present in
    ``incidents``); others are dropped, and a covered month with nothing in a zone
    counts 0 there. Incidents outside all three zones are not counted.
    """
    for c in (Col.MONTH, Col.EASTING, Col.NORTHING):
        if c not in incidents:
            raise ConfigError(f"incidents need a {c!r} column")
    month = incidents[Col.MONTH].astype(str).to_numpy()
    covered = sorted(set(month)) if months is None else sorted(set(months))
    e = incidents[Col.EASTING].to_numpy(float)
    n = incidents[Col.NORTHING].to_numpy(float)
    keep = np.isin(month, covered) & np.isfinite(e) & np.isfinite(n)
    e, n, month = e[keep], n[keep], month[keep]
    out = pd.DataFrame({"month": covered})
    for name in ("treated", "buffer", "comparison"):
        geom = getattr(zones, name)
        inside = shapely.contains_xy(geom, e, n) if not geom.is_empty else np.zeros(len(e), bool)
        counts = pd.Series(month[inside]).value_counts()
        out[name] = [int(counts.get(m, 0)) for m in covered]
    return out


def evaluation_months(
    covered: Sequence[str],
    since: date,
    *,
    window_months: int = DEFAULT_WINDOW_MONTHS,
    exclude: Sequence[str] = (),
) -> tuple[list[str], list[str]]:
    """The covered months before the date and from it, at most ``window_months`` each.

    The first month "after" is the date's month if the date is its first day;
    otherwise the date's month is left out (part before, part after) and "after"
    starts with the next month. Months in ``exclude`` (those the treated hotspots
    were chosen from) are left out of "before": places chosen because they were hot
    in those months would look quieter afterwards whatever was done (regression to
    the mean).

    >>> evaluation_months(["2018-10", "2018-11", "2019-01", "2019-02"], date(2019, 1, 1))
    (['2018-10', '2018-11'], ['2019-01', '2019-02'])
    >>> evaluation_months(["2018-12", "2019-01", "2019-02"], date(2019, 1, 15))
    (['2018-12'], ['2019-02'])
    >>> evaluation_months(["2018-10", "2018-11", "2018-12", "2019-01"], date(2019, 1, 1),
    ...                   exclude=["2018-10"])
    (['2018-11', '2018-12'], ['2019-01'])
    """
    if window_months < 1:
        raise ConfigError(f"window_months must be at least 1, got {window_months!r}")
    split = pd.Period(since, "M")
    first_after = split if since.day == 1 else split + 1
    lo, hi = split - window_months, first_after + (window_months - 1)
    ms = sorted({pd.Period(m, "M") for m in covered})
    skip = {pd.Period(m, "M") for m in exclude}
    before = [str(m) for m in ms if lo <= m < split and m not in skip]
    after = [str(m) for m in ms if first_after <= m <= hi]
    return before, after


def selection_months(
    since: date, hotspot_months: int | tuple[str, str] = DEFAULT_HOTSPOT_MONTHS
) -> list[str]:
    """The months the treated hotspots are chosen from: the ``n`` months before the date,
    or ``(first, last)`` given, which must end before the date's month.

    >>> selection_months(date(2019, 1, 1), 3)
    ['2018-10', '2018-11', '2018-12']
    >>> selection_months(date(2019, 1, 1), ("2018-10", "2018-10"))
    ['2018-10']
    """
    split = pd.Period(since, "M")
    if isinstance(hotspot_months, tuple):
        first, last = (pd.Period(m, "M") for m in hotspot_months)
        if last >= split or first > last:
            raise ConfigError(
                f"the hotspots must be chosen from months before the date ({split}); "
                f"got {first}..{last}"
            )
    else:
        if int(hotspot_months) < 1:
            raise ConfigError(f"hotspot months must be at least 1, got {hotspot_months!r}")
        first, last = split - int(hotspot_months), split - 1
    return [str(first + i) for i in range((last - first).n + 1)]


def hotspots_at(
    incidents: pd.DataFrame,
    months: Sequence[str],
    *,
    area_km2: Mapping[str, float] | None = None,
    **params: Any,
) -> gpd.GeoDataFrame:
    """The hotspots as they stood after ``months`` (a run of ``YYYY-MM``), in WGS84.

    The same map the Map page draws for that period
    (:func:`clic_geo.hotspots.current.current_hotspots`, clusters only). Empty when
    the months hold too few incidents for any hotspot.
    """
    ms = sorted(months)
    cur = current_hotspots(
        incidents,
        start=pd.Period(ms[0], "M").start_time.date(),
        end=pd.Period(ms[-1], "M").end_time.date(),
        area_km2=dict(area_km2 or {}),
        n_simulations=0,
        **params,
    )
    return cur.hotspots


def evaluate(
    incidents: pd.DataFrame,
    zones: EvaluationZones,
    *,
    since: date,
    months: Sequence[str] | None = None,
    window_months: int = DEFAULT_WINDOW_MONTHS,
    exclude_before: Sequence[str] = (),
    details: Mapping[str, Any] | None = None,
) -> Evaluation:
    """Did crime fall in the treated zones after ``since``, against the comparison area?

    Parameters
    ----------
    incidents : DataFrame
        Incidents of the force area (``month``, ``easting``, ``northing``), already
        filtered to the crime types evaluated.
    zones : EvaluationZones
        From :func:`evaluation_zones`.
    since : date
        When the work began (see :func:`evaluation_months` for a date mid-month).
    months : sequence of str, optional
        The months the data covers (default: those present in ``incidents``). Pass
        them when ``incidents`` are filtered to a few types, so that a month with no
        crime of those types still counts as a covered month.
    window_months : int
        At most this many covered months on each side of the date.
    exclude_before : sequence of str
        Months left out of "before" (those the treated zones were chosen from).
    details : mapping, optional
        Extra facts for the result's ``to_dict`` (area, types...).

    Returns
    -------
    Evaluation
        See :func:`clic_geo.hotspots.impact.evaluate_counts`; it says when the data
        cannot tell.
    """
    covered = sorted(set(months)) if months is not None else None
    if covered is None:
        covered = sorted(incidents[Col.MONTH].astype(str).unique())
    before, after = evaluation_months(
        covered, since, window_months=window_months, exclude=exclude_before
    )
    extra = []
    if exclude_before and len(before) < MIN_MONTHS_EACH_SIDE:
        with_them, _ = evaluation_months(covered, since, window_months=window_months)
        if len(with_them) >= MIN_MONTHS_EACH_SIDE:
            extra.append("selection")
    counts = zone_monthly_counts(incidents, zones, months=before + after)
    counts["after"] = counts["month"].isin(after)
    split = pd.Period(since, "M") + (0 if since.day == 1 else 1)
    info = {
        "since": since.isoformat(),
        "buffer_m": zones.buffer_m,
        "treated_zones": zones.n_treated,
        "window_months": window_months,
        **zones.km2,
        **dict(details or {}),
    }
    return evaluate_counts(counts, str(split), details=info, extra_reasons=extra)


def select_types(incidents: pd.DataFrame, types: Sequence[str] | None) -> pd.DataFrame:
    """Incidents of the given types: categories (``drug_supply``) or original types
    (data.police.uk's ``Drugs``), case-insensitive; all when ``types`` is empty.

    Raises
    ------
    ConfigError
        When no type given matches anything in the data (the known ones are listed).
    """
    if not types:
        return incidents
    want = {str(t).strip().lower() for t in types}
    cat = incidents[Col.CATEGORY].astype(str).str.lower()
    orig = (
        incidents[Col.ORIGINAL_TYPE].astype(object).fillna("").astype(str).str.lower()
        if Col.ORIGINAL_TYPE in incidents
        else pd.Series("", index=incidents.index)
    )
    known = set(cat) | set(orig)
    if not want & known:
        shown = sorted(set(incidents[Col.CATEGORY].astype(str)))
        raise ConfigError(
            f"no incident of type {', '.join(sorted(types))}; the data has: {', '.join(shown)}"
        )
    return incidents[cat.isin(want) | orig.isin(want)]


def evaluate_incidents(
    incidents: pd.DataFrame,
    *,
    since: date,
    force_area: Geometries,
    treated: Geometries | None = None,
    area: str | None = None,
    area_geometry: Geometries | None = None,
    comparison: Geometries | None = None,
    buffer_m: float = DEFAULT_BUFFER_M,
    types: Sequence[str] | None = None,
    window_months: int = DEFAULT_WINDOW_MONTHS,
    hotspot_months: int | tuple[str, str] = DEFAULT_HOTSPOT_MONTHS,
    area_km2: Mapping[str, float] | None = None,
    last_month: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> tuple[Evaluation, EvaluationZones]:
    """The evaluation from the force's incidents, as the command and the pages ask for it.

    Parameters
    ----------
    incidents : DataFrame
        Every incident of the force area, all types (``month, easting, northing,
        category, area_id, occurred_at``; ``original_type`` to select by it). The
        months present are the months the data covers.
    since : date
        When the work began.
    force_area : geometries
        The force (service) area: the comparison is its rest by default.
    treated : geometries, optional
        The treated zones; default the hotspots of these types as they stood at
        ``since`` (:func:`hotspots_at`), in ``area`` if given.
    area : str, optional
        An operating area id: hotspots of that area only.
    area_geometry : geometries, optional
        That area's outline: treated polygons given are clipped to it.
    comparison, buffer_m, window_months
        See :func:`evaluation_zones` and :func:`evaluate`.
    types : sequence of str, optional
        Categories or original types evaluated (and whose hotspots are the treated
        zones); default all.
    hotspot_months : int or (str, str)
        The months the hotspots are chosen from: the ``n`` before ``since``, or
        ``(first, last)`` (:func:`selection_months`). They are left out of the
        "before" months (regression to the mean).
    area_km2 : mapping, optional
        Operating areas' sizes (for the hotspots' trend categories).
    last_month : str, optional
        The last complete month: months after it are left out (a month still running
        would look like a fall).

    Raises
    ------
    NoTreatedZonesError
        No hotspot stood out in the months the zones are chosen from.
    ConfigError
        No treated polygon inside the area, a type that matches nothing, empty zones.
    """
    months = sorted(incidents[Col.MONTH].astype(str).unique())
    if last_month is not None:
        months = [m for m in months if m <= last_month]
    chosen = select_types(incidents, types)
    source, chosen_from = "given polygons", []
    if treated is None:
        chosen_from = selection_months(since, hotspot_months)
        span = f"{chosen_from[0]}..{chosen_from[-1]}"
        source = f"the hotspots of {span}"
        pool = chosen if area is None else chosen[chosen[Col.AREA] == area]
        treated = hotspots_at(pool, chosen_from, area_km2=area_km2)
        if len(treated) == 0:
            where = f" in {area}" if area else ""
            raise NoTreatedZonesError(
                f"no hotspot stood out{where} in {span}: nothing to evaluate (choose "
                "other months or other types, or give the treated polygons)"
            )
    elif area_geometry is not None:
        t, _ = _bng_union(treated, "the treated zones")
        clipped = shapely.intersection(t, _bng_union(area_geometry, "the area")[0])
        if clipped.is_empty or clipped.area <= 0:
            raise ConfigError(f"no treated polygon lies inside {area or 'the area'}")
        treated = clipped
    zones = evaluation_zones(
        treated, buffer_m=buffer_m, force_area=force_area, comparison=comparison
    )
    info = {
        "area": area,
        "types": sorted(types) if types else None,
        "treated_from": source,
        "hotspot_months": chosen_from,
        "comparison": "given polygons" if comparison is not None else "rest of the force area",
        **dict(details or {}),
    }
    ev = evaluate(
        chosen,
        zones,
        since=since,
        months=months,
        window_months=window_months,
        exclude_before=chosen_from,
        details=info,
    )
    return ev, zones
