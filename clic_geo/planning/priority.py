"""Who to visit tomorrow, and why: candidates and their priority in named parts.

Three kinds of candidate:

- ``address``: an address of concern (cuckooing suspected, confirmed or resolved,
  a SAFE alert or a protection plan);
- ``incident``: the place of a recent serious incident (cuckooing report, threat to
  life, drug supply, weapons, violence) with no address of concern beside it;
- ``hotspot``: a walk-through of one of the top active hotspots (about 15 minutes:
  the Koper curve's best residual deterrence per minute).

Each candidate's priority is the sum of named parts the sergeant can read
(:data:`PARTS`), each with a plain-words reason, e.g. "protection plan visit
overdue by 3 days; in hotspot #2 (intensifying)", the hotspot named by its rank
as on the map. Reasons never quote
notes or free text from records. Weights and windows are a
:class:`PriorityWeights` with typed defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from clic_geo._errors import ConfigError
from clic_geo.geo import crs
from clic_geo.schema import (
    CATEGORY_LABELS,
    TREND_LABELS,
    Category,
    Col,
    CuckooingStatus,
    Support,
    TimePrecision,
    Trend,
)
from clic_geo.settings import DEFAULT_SEVERITY

__all__ = [
    "CANDIDATE_KINDS",
    "DEFAULT_VISIT_MINUTES",
    "PARTS",
    "PriorityWeights",
    "build_candidates",
]

#: The named parts of a priority, in the order the sergeant reads them.
PARTS = (
    "plan_due",
    "status",
    "safe_alert",
    "since_visit",
    "hotspot",
    "coverage_gap",
    "incidents",
    "follow_up",
)
CANDIDATE_KINDS = ("address", "incident", "hotspot")

#: Minutes per visit by kind: a conversation at home, a look and a knock after an
#: incident, a hotspot walk-through of 15 minutes (Koper curve: 10-16 minute stops).
DEFAULT_VISIT_MINUTES: Mapping[str, float] = MappingProxyType(
    {"address": 20.0, "incident": 10.0, "hotspot": 15.0}
)

_TREND_FACTOR = MappingProxyType(
    {
        Trend.INTENSIFYING: 1.5,
        Trend.NEW: 1.4,
        Trend.CONSECUTIVE: 1.3,
        Trend.PERSISTENT: 1.2,
        Trend.OSCILLATING: 1.0,
        Trend.SPORADIC: 0.8,
        Trend.NO_PATTERN: 0.7,
        Trend.DIMINISHING: 0.6,
        Trend.HISTORICAL: 0.2,
    }
)
_FOLLOW_UP = frozenset(
    {
        Category.CUCKOOING_REPORT,
        Category.THREAT_TO_LIFE,
        Category.DRUG_SUPPLY,
        Category.WEAPONS,
        Category.VIOLENCE,
    }
)
_DRUG = frozenset(
    {Category.DRUG_SUPPLY, Category.DRUG_POSSESSION, Category.DRUGS, Category.CUCKOOING_REPORT}
)


@dataclass(frozen=True)
class PriorityWeights:
    """Points per part of the priority, and the windows they look through.

    Points
    ------
    plan_due, plan_overdue_per_day, plan_overdue_cap_days, plan_due_soon
        A protection-plan visit due today or overdue scores ``plan_due`` plus
        ``plan_overdue_per_day`` per day overdue (at most ``plan_overdue_cap_days``);
        one due within ``plan_due_soon_days`` scores ``plan_due_soon``. A visit made
        on or after ``plan_visit_early_days`` before the due date counts as done.
    status_confirmed, status_suspected, status_resolved, safe_alert
        Cuckooing status and a SAFE alert on the address.
    since_visit_per_day, since_visit_cap_days
        Per day since the last visit, up to the cap (also for never visited).
    hotspot_in, hotspot_near_m, hotspot_rank_step, trend_factor
        Inside an active hotspot: ``hotspot_in`` x trend factor x rank factor
        (1 for rank 1, minus ``hotspot_rank_step`` per rank, at least 0.3); half
        that within ``hotspot_near_m`` of one.
    coverage_gap, coverage_days, coverage_min_visits
        The hotspot had fewer than ``coverage_min_visits`` visits in the last
        ``coverage_days`` days: ``coverage_gap`` x the shortfall fraction.
    incident_per_severity, incident_cap, near_repeat_m, near_repeat_days
        Near-repeat: severity-weighted incidents within ``near_repeat_m`` in the
        last ``near_repeat_days`` days (Townsley et al. 2003: risk raised for
        about two weeks and a few hundred metres).
    follow_up_per_severity, follow_up_days
        An ``incident`` candidate: severity x this, fading to half over the window.
    hotspot_walks
        How many of the top active hotspots get a walk-through candidate.
    """

    plan_due: float = 40.0
    plan_overdue_per_day: float = 3.0
    plan_overdue_cap_days: int = 14
    plan_due_soon: float = 15.0
    plan_due_soon_days: int = 2
    plan_visit_early_days: int = 3
    status_confirmed: float = 30.0
    status_suspected: float = 20.0
    status_resolved: float = 5.0
    safe_alert: float = 5.0
    since_visit_per_day: float = 0.5
    since_visit_cap_days: int = 60
    hotspot_in: float = 20.0
    hotspot_near_m: float = 150.0
    hotspot_rank_step: float = 0.1
    trend_factor: Mapping[str, float] = field(default_factory=lambda: _TREND_FACTOR)
    coverage_gap: float = 15.0
    coverage_days: int = 14
    coverage_min_visits: int = 4
    incident_per_severity: float = 2.0
    incident_cap: float = 20.0
    near_repeat_m: float = 200.0
    near_repeat_days: int = 14
    follow_up_per_severity: float = 5.0
    follow_up_days: int = 7
    hotspot_walks: int = 3
    severity: Mapping[str, float] = field(default_factory=lambda: DEFAULT_SEVERITY)

    def __post_init__(self) -> None:
        bad = [
            k
            for k, v in self.__dict__.items()
            if isinstance(v, int | float) and not (np.isfinite(v) and v >= 0)
        ]
        unknown = sorted(set(self.trend_factor) - {t.value for t in Trend})
        if bad or unknown:
            raise ConfigError(
                "invalid priority weights: "
                + "; ".join(
                    [f"{k} must be a number >= 0" for k in bad]
                    + ([f"unknown trend(s) {', '.join(unknown)}"] if unknown else [])
                )
            )


# --------------------------------------------------------------------------- helpers


def _days(a: pd.Timestamp, b: pd.Timestamp) -> int:
    return int((a.normalize() - b.normalize()).days)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class _Hotspots:
    table: pd.DataFrame  # hotspot_id, rank, trend, factor, visits, geometry (BNG)

    def nearest(self, e: float, n: float, near_m: float) -> tuple[int, float] | None:
        """Best hotspot this point is in or near: (row, distance m)."""
        if self.table.empty:
            return None
        pt = shapely.Point(e, n)
        d = shapely.distance(self.table.geometry.to_numpy(), pt)
        ok = d <= near_m
        if not ok.any():
            return None
        # in beats near, then the larger factor
        score = np.where(d == 0, 2.0, 1.0) * self.table["factor"].to_numpy()
        i = int(np.argmax(np.where(ok, score, -1)))
        return i, float(d[i])


def _prepare_hotspots(
    hotspots: gpd.GeoDataFrame | None,
    visits: pd.DataFrame,
    day: pd.Timestamp,
    area: str | None,
    w: PriorityWeights,
) -> _Hotspots:
    cols = [Col.HOTSPOT_ID, Col.RANK, Col.TREND]
    if hotspots is None or len(hotspots) == 0:
        return _Hotspots(pd.DataFrame(columns=[*cols, "factor", "visits", "geometry"]))
    missing = [c for c in cols if c not in hotspots.columns]
    if missing:
        raise ConfigError(
            f"hotspots lack column(s) {', '.join(missing)} (expected {', '.join(cols)}, geometry)"
        )
    if hotspots.crs is None:
        raise ConfigError("hotspots have no CRS; expected EPSG:4326")
    h = hotspots
    if area is not None and Col.AREA in h.columns:
        h = h[h[Col.AREA].isna() | (h[Col.AREA] == area)]
    h = h.to_crs(crs.BNG)
    out = pd.DataFrame(
        {
            Col.HOTSPOT_ID: h[Col.HOTSPOT_ID].astype(str).to_numpy(),
            Col.RANK: pd.to_numeric(h[Col.RANK], errors="coerce").fillna(99).astype(int),
            Col.TREND: h[Col.TREND].astype(object).where(h[Col.TREND].notna(), Trend.NO_PATTERN),
            "geometry": h.geometry.to_numpy(),
        }
    )
    rank_f = np.maximum(0.3, 1 - w.hotspot_rank_step * (out[Col.RANK].to_numpy() - 1))
    trend_f = out[Col.TREND].map(lambda t: w.trend_factor.get(str(t), 1.0)).to_numpy(float)
    out["factor"] = rank_f * trend_f
    since = day - pd.Timedelta(days=w.coverage_days)
    recent = visits[(visits["visited_at"] >= since) & (visits["visited_at"] < day)]
    ve = recent[Col.EASTING].to_numpy(float)
    vn = recent[Col.NORTHING].to_numpy(float)
    out["visits"] = [
        int(shapely.contains_xy(shapely.buffer(g, w.hotspot_near_m), ve, vn).sum())
        for g in out["geometry"]
    ]
    return _Hotspots(out.sort_values(Col.RANK, kind="stable").reset_index(drop=True))


def _with_bng(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with ``easting``/``northing`` (computed from lat/lon where missing)."""
    out = pd.DataFrame(df.drop(columns="geometry", errors="ignore")).copy()
    if Col.EASTING not in out or Col.NORTHING not in out or out[Col.EASTING].isna().any():
        e, n = crs.to_bng(out[Col.LON].to_numpy(float), out[Col.LAT].to_numpy(float))
        out[Col.EASTING], out[Col.NORTHING] = e, n
    return out


def _recent_incidents(incidents: pd.DataFrame, day: pd.Timestamp, days: int) -> pd.DataFrame:
    inc = _with_bng(incidents)
    if Col.PRECISION in inc:  # a month-only date cannot say "in the last two weeks"
        inc = inc[inc[Col.PRECISION] != TimePrecision.MONTH]
    inc[Col.WHEN] = pd.to_datetime(inc[Col.WHEN])
    recent = (inc[Col.WHEN] >= day - pd.Timedelta(days=days)) & (inc[Col.WHEN] < day)
    return inc[recent].reset_index(drop=True)


class _Scorer:
    """Computes the parts that apply to every kind of candidate."""

    def __init__(self, incidents: pd.DataFrame, hot: _Hotspots, w: PriorityWeights) -> None:
        self.inc = incidents
        self.tree = (
            cKDTree(incidents[[Col.EASTING, Col.NORTHING]].to_numpy()) if len(incidents) else None
        )
        self.sev = incidents[Col.CATEGORY].map(lambda c: float(w.severity.get(c, 0.25))).to_numpy()
        self.hot = hot
        self.w = w

    def near_incidents(self, e: float, n: float) -> np.ndarray:
        if self.tree is None:
            return np.array([], dtype=int)
        return np.asarray(self.tree.query_ball_point([e, n], self.w.near_repeat_m), dtype=int)

    def common(
        self,
        e: float,
        n: float,
        day: pd.Timestamp,
        own_hotspot: int | None = None,
        skip: frozenset[int] = frozenset(),
    ) -> tuple[dict[str, float], list[str], str]:
        w = self.w
        parts: dict[str, float] = {}
        reasons: list[str] = []
        hotspot_id = ""
        found = (
            (own_hotspot, 0.0)
            if own_hotspot is not None
            else self.hot.nearest(e, n, w.hotspot_near_m)
        )
        if found is not None:
            i, d = found
            h = self.hot.table.iloc[i]
            hotspot_id = str(h[Col.HOTSPOT_ID])
            label = TREND_LABELS.get(h[Col.TREND], str(h[Col.TREND])).lower()
            where = "in" if d == 0 else f"{d:.0f} m from"
            parts["hotspot"] = w.hotspot_in * float(h["factor"]) * (1.0 if d == 0 else 0.5)
            tag = f"#{h[Col.RANK]}"  # as the map labels it, never the internal id
            reasons.append(f"{where} hotspot {tag} ({label})")
            short = w.coverage_min_visits - int(h["visits"])
            if short > 0 and w.coverage_min_visits > 0:
                parts["coverage_gap"] = w.coverage_gap * short / w.coverage_min_visits
                reasons.append(
                    f"hotspot {tag} had {_plural(int(h['visits']), 'visit')} in the last "
                    f"{w.coverage_days} days ({w.coverage_min_visits} wanted)"
                )
        near = [i for i in self.near_incidents(e, n) if i not in skip]
        if near:
            since = day - pd.Timedelta(days=w.near_repeat_days)
            near = [i for i in near if self.inc[Col.WHEN].iloc[i] >= since]
        if near:
            parts["incidents"] = min(w.incident_cap, w.incident_per_severity * self.sev[near].sum())
            cats = self.inc[Col.CATEGORY].iloc[near].value_counts()
            what = ", ".join(CATEGORY_LABELS.get(c, c).lower() for c in cats.index[:3])
            reasons.append(
                f"{_plural(len(near), 'incident')} within {w.near_repeat_m:.0f} m in the last "
                f"{w.near_repeat_days} days ({what})"
            )
        return parts, reasons, hotspot_id


def _address_rows(
    addresses: pd.DataFrame, visits: pd.DataFrame, day: pd.Timestamp, sc: _Scorer
) -> list[dict]:
    w = sc.w
    status = addresses[Col.STATUS].fillna(CuckooingStatus.NONE)
    concern = (
        status.isin(
            [CuckooingStatus.SUSPECTED, CuckooingStatus.CONFIRMED, CuckooingStatus.RESOLVED]
        )
        | addresses[Col.SAFE_ALERT].fillna(False).astype(bool)
        | addresses[Col.PROTECTION_PLAN].fillna(False).astype(bool)
    )
    past = visits[visits[Col.ADDRESS_ID].notna() & (visits["visited_at"] < day)]
    last = past.groupby(Col.ADDRESS_ID)["visited_at"].max()
    gave_kit = past[Col.SUPPORT].map(lambda s: Support.HARM_REDUCTION_KIT in tuple(s or ()))
    kit = past[gave_kit.to_numpy(bool)]
    had_kit = set(kit[Col.ADDRESS_ID])
    rows = []
    for r in addresses[concern].itertuples(index=False):
        a = r._asdict()
        parts: dict[str, float] = {}
        reasons: list[str] = []
        seen = last.get(a[Col.ID])
        due = a.get(Col.NEXT_VISIT_DUE)
        if a[Col.PROTECTION_PLAN] and due is not None and pd.notna(due):
            due = pd.Timestamp(due)
            done = seen is not None and seen >= due - pd.Timedelta(days=w.plan_visit_early_days)
            late = _days(day, due)
            if not done and late > 0:
                parts["plan_due"] = w.plan_due + w.plan_overdue_per_day * min(
                    late, w.plan_overdue_cap_days
                )
                reasons.append(f"protection plan visit overdue by {_plural(late, 'day')}")
            elif not done and late == 0:
                parts["plan_due"] = w.plan_due
                reasons.append("protection plan visit due today")
            elif not done and -late <= w.plan_due_soon_days:
                parts["plan_due"] = w.plan_due_soon
                reasons.append(f"protection plan visit due in {_plural(-late, 'day')}")
        st = a[Col.STATUS] or CuckooingStatus.NONE
        pts = {
            CuckooingStatus.CONFIRMED: w.status_confirmed,
            CuckooingStatus.SUSPECTED: w.status_suspected,
            CuckooingStatus.RESOLVED: w.status_resolved,
        }.get(st, 0.0)
        if pts:
            parts["status"] = pts
            reasons.append(f"cuckooing {st}")
        if a[Col.SAFE_ALERT]:
            parts["safe_alert"] = w.safe_alert
            reasons.append("SAFE alert on the address")
        if seen is None:
            parts["since_visit"] = w.since_visit_per_day * w.since_visit_cap_days
            reasons.append("no visit on record")
        else:
            ago = _days(day, seen)
            parts["since_visit"] = w.since_visit_per_day * min(ago, w.since_visit_cap_days)
            reasons.append(f"last visited {_plural(ago, 'day')} ago")
        more, why, hid = sc.common(a[Col.EASTING], a[Col.NORTHING], day)
        parts |= more
        reasons += why
        bring = ["calling cards"]
        if st in (CuckooingStatus.SUSPECTED, CuckooingStatus.CONFIRMED) or a[Col.ID] in had_kit:
            bring.append("harm reduction kit")
        if a[Col.PROTECTION_PLAN]:
            bring.append("protection plan review")
        if st in (CuckooingStatus.SUSPECTED, CuckooingStatus.CONFIRMED) and not a.get(
            Col.HARDENING
        ):
            bring.append("target-hardening offer (none fitted yet)")
        rows.append(
            {
                "id": a[Col.ID],
                "kind": "address",
                "label": str(a.get(Col.ADDRESS) or "") or a[Col.ID],
                Col.LAT: a[Col.LAT],
                Col.LON: a[Col.LON],
                Col.EASTING: a[Col.EASTING],
                Col.NORTHING: a[Col.NORTHING],
                Col.AREA: a.get(Col.AREA),
                Col.HOTSPOT_ID: hid,
                "parts": parts,
                "reasons": reasons,
                "bring": bring,
            }
        )
    return rows


def _incident_rows(
    inc: pd.DataFrame, address_rows: list[dict], day: pd.Timestamp, sc: _Scorer
) -> list[dict]:
    """One candidate per place (25 m square) of a recent serious incident."""
    w = sc.w
    since = day - pd.Timedelta(days=w.follow_up_days)
    pick = inc[inc[Col.CATEGORY].isin(_FOLLOW_UP) & (inc[Col.WHEN] >= since)]
    if pick.empty:
        return []
    addr_xy = np.array([[r[Col.EASTING], r[Col.NORTHING]] for r in address_rows]).reshape(-1, 2)
    addr_tree = cKDTree(addr_xy) if len(addr_xy) else None
    cell = (
        (pick[Col.EASTING] // 25).astype(int).astype(str)
        + "_"
        + (pick[Col.NORTHING] // 25).astype(int).astype(str)
    )
    rows = []
    for key, grp in pick.groupby(cell, sort=True):
        e, n = float(grp[Col.EASTING].mean()), float(grp[Col.NORTHING].mean())
        if addr_tree is not None and addr_tree.query_ball_point([e, n], 50.0):
            continue  # an address of concern is here: its near-repeat part counts these
        sev = grp[Col.CATEGORY].map(lambda c: float(w.severity.get(c, 0.25)))
        age = (day.normalize() - grp[Col.WHEN].dt.normalize()).dt.days.clip(lower=0)
        fade = 1 - 0.5 * (age / max(w.follow_up_days, 1)).clip(upper=1)
        parts = {"follow_up": float((w.follow_up_per_severity * sev * fade).max())}
        worst = grp.loc[sev.idxmax()]
        ago = _days(day, worst[Col.WHEN])
        when = "today" if ago == 0 else ("yesterday" if ago == 1 else f"{ago} days ago")
        reasons = [f"{CATEGORY_LABELS.get(worst[Col.CATEGORY], 'incident').lower()} here {when}"]
        if len(grp) > 1:
            reasons[0] += f" ({len(grp)} incidents here in {w.follow_up_days} days)"
        own = frozenset(int(i) for i in grp.index)
        more, why, hid = sc.common(e, n, day, skip=own)
        parts |= more
        reasons += why
        lon, lat = crs.to_wgs84([e], [n])
        loc = grp[Col.LOCATION].dropna().astype(str) if Col.LOCATION in grp else pd.Series()
        rows.append(
            {
                "id": f"incident:{key}",
                "kind": "incident",
                "label": loc.iloc[0] if len(loc) and loc.iloc[0] else "Incident location",
                Col.LAT: float(lat[0]),
                Col.LON: float(lon[0]),
                Col.EASTING: e,
                Col.NORTHING: n,
                Col.AREA: grp[Col.AREA].iloc[0] if Col.AREA in grp else None,
                Col.HOTSPOT_ID: hid,
                "parts": parts,
                "reasons": reasons,
                "bring": ["calling cards"]
                + (["harm reduction kit"] if set(grp[Col.CATEGORY]) & _DRUG else []),
            }
        )
    return rows


def _hotspot_rows(day: pd.Timestamp, sc: _Scorer, area: str | None) -> list[dict]:
    w = sc.w
    t = sc.hot.table
    active = t[t[Col.TREND] != Trend.HISTORICAL].head(w.hotspot_walks)
    rows = []
    for i in active.index:
        h = t.loc[i]
        p = shapely.point_on_surface(h["geometry"])
        more, why, _ = sc.common(p.x, p.y, day, own_hotspot=int(i))
        lon, lat = crs.to_wgs84([p.x], [p.y])
        rows.append(
            {
                "id": f"hotspot:{h[Col.HOTSPOT_ID]}",
                "kind": "hotspot",
                "label": f"Hotspot #{h[Col.RANK]} walk-through",
                Col.LAT: float(lat[0]),
                Col.LON: float(lon[0]),
                Col.EASTING: p.x,
                Col.NORTHING: p.y,
                Col.AREA: area,
                Col.HOTSPOT_ID: str(h[Col.HOTSPOT_ID]),
                "parts": more,
                "reasons": ["walk-through of a top hotspot (15 minutes: Koper curve)", *why],
                "bring": ["calling cards", "15-minute timer"],
            }
        )
    return rows


def build_candidates(
    addresses: pd.DataFrame,
    visits: pd.DataFrame,
    incidents: pd.DataFrame,
    *,
    day: date,
    hotspots: gpd.GeoDataFrame | None = None,
    area: str | None = None,
    weights: PriorityWeights | None = None,
    visit_minutes: Mapping[str, float] = DEFAULT_VISIT_MINUTES,
) -> gpd.GeoDataFrame:
    """Candidates for a day's visits with their priority in named parts.

    Parameters
    ----------
    addresses : DataFrame
        As :meth:`Store.addresses` returns them (as of ``day``).
    visits : DataFrame
        As :meth:`Store.visits` returns them; only those before ``day`` count.
    incidents : DataFrame
        As :meth:`Store.incidents` returns them; only those before ``day`` with a
        day or minute time count (month-only dates are too coarse).
    day : date
        The day being planned.
    hotspots : GeoDataFrame, optional
        The hotspot engine's frame (EPSG:4326): ``hotspot_id``, ``rank``,
        ``trend``, polygon ``geometry``, optionally ``area_id``.
    area : str, optional
        Keep only addresses, incidents and hotspots of this area.
    weights : PriorityWeights, optional
    visit_minutes : Mapping[str, float]
        Minutes per visit by kind (``address``, ``incident``, ``hotspot``).

    Returns
    -------
    GeoDataFrame
        EPSG:4326 points, highest priority first: ``id, kind, label, latitude,
        longitude, easting, northing, area_id, hotspot_id, priority,
        visit_minutes, must_visit`` (False), ``reasons`` ("; "-joined plain words),
        ``bring``, and one ``part_<name>`` column per :data:`PARTS`. Ready for
        :func:`clic_geo.planning.routing.plan_route`.
    """
    w = weights or PriorityWeights()
    missing = sorted(set(CANDIDATE_KINDS) - set(visit_minutes))
    if missing:
        raise ConfigError(f"visit_minutes lacks kind(s) {', '.join(missing)}")
    d = pd.Timestamp(day)
    if area is not None:
        addresses = addresses[addresses[Col.AREA] == area]
        incidents = incidents[incidents[Col.AREA] == area]
    addr = _with_bng(addresses) if len(addresses) else pd.DataFrame()
    vis = (
        _with_bng(visits)
        if len(visits)
        else pd.DataFrame(
            columns=["visited_at", Col.ADDRESS_ID, Col.SUPPORT, Col.EASTING, Col.NORTHING]
        )
    )
    vis = vis.assign(visited_at=pd.to_datetime(vis["visited_at"]))
    window = max(w.near_repeat_days, w.follow_up_days)
    inc = (
        _recent_incidents(incidents, d, window)
        if len(incidents)
        else pd.DataFrame(columns=[Col.WHEN, Col.CATEGORY, Col.EASTING, Col.NORTHING, Col.AREA])
    )
    sc = _Scorer(inc, _prepare_hotspots(hotspots, vis, d, area, w), w)
    rows = _address_rows(addr, vis, d, sc) if len(addr) else []
    rows += _incident_rows(inc, rows, d, sc)
    rows += _hotspot_rows(d, sc, area)
    out = pd.DataFrame(
        rows,
        columns=[
            "id",
            "kind",
            "label",
            Col.LAT,
            Col.LON,
            Col.EASTING,
            Col.NORTHING,
            Col.AREA,
            Col.HOTSPOT_ID,
            "parts",
            "reasons",
            "bring",
        ],
    )
    for p in PARTS:
        out[f"part_{p}"] = out["parts"].map(lambda x, p=p: round(float(x.get(p, 0.0)), 2))
    out["priority"] = out[[f"part_{p}" for p in PARTS]].sum(axis=1).round(2)
    out["visit_minutes"] = out["kind"].map(lambda k: float(visit_minutes[k]))
    out["must_visit"] = False
    out["reasons"] = out["reasons"].map("; ".join)
    out["bring"] = out["bring"].map(", ".join)
    out = out.drop(columns="parts").sort_values(["priority", "id"], ascending=[False, True])
    return gpd.GeoDataFrame(
        out.reset_index(drop=True),
        geometry=gpd.points_from_xy(out[Col.LON], out[Col.LAT]),
        crs=crs.WGS84,
    )
