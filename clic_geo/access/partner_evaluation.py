"""The impact evaluation as a partner may see it: estimate and interval, counts suppressed.

A partner's evaluation is computed on the server from records (the counts in the
treated zones, the buffer round them and the rest of the force area) and leaves it
only through this module, in two steps with the computation between them:

1. :func:`evaluation_grant` checks the caller exactly as every partner figure is
   checked (:mod:`clic_geo.access.privacy`: a live session, the partner's own
   organisation, the area and an *incident* layer inside its ISA scope; refusals are
   logged and raised) and says what may be used: the layer's categories, the months
   inside the agreement's dates and complete (as :func:`~clic_geo.access.privacy.partner_area_table`
   publishes them).
2. :func:`publish_evaluation` turns the result into what may be shown, and logs it:

   - the treated zones' and the buffer's counts per month and their before/after
     totals, under the suppression rules of every partner count (below the threshold:
     "fewer than 10"; complementary withholding so that no suppressed count follows
     from a total, :func:`clic_geo.access.suppression.protect`; shown counts rounded);
   - the comparison area (the rest of the force area, beyond the partner's areas) as an
     *index* only (100 = its mean month before the date, from rounded counts), never
     as counts: totals across areas are not published;
   - the estimate, its 95 % interval and the naive change, in whole per cent, and the
     p-value to two figures, only when both the treated zones' totals are shown; the
     WDQ (one decimal) only when the buffer's totals are shown too.

Nothing here names a place, draws a hotspot or holds a coordinate: the treated zones
are described by how many there are, not where.

**Dates are the partnership's, not the partner's.** The treated zones are the hotspots
as they stood at the date, so each date draws a different set of polygons, and two
sets' counts subtracted would give the count in the sliver between them (the reason
partners get no counts inside hotspot outlines elsewhere). A partner's evaluation is
therefore only at the area's partnership start or at a date an officer has shared
(:func:`share_evaluation_date`, logged): each shared date adds one fixed set of zones.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from clic_geo._errors import ConfigError, PermissionDeniedError
from clic_geo.access._publication import complete_until, in_window, label_of, rounded
from clic_geo.access.audit import Action, AuditOutcome, record
from clic_geo.access.auth import require_role
from clic_geo.access.identity import Role, Session, User
from clic_geo.access.isa import LAYER_CATEGORIES, IsaScope, Layer
from clic_geo.access.privacy import _caller, _check_request, _round_to, _scope_for
from clic_geo.access.suppression import Line, Status, protect
from clic_geo.geo.areas import load_areas
from clic_geo.settings import Settings
from clic_geo.store import Store

__all__ = [
    "EVALUATION_LAYERS",
    "EvaluationGrant",
    "PartnerEvaluation",
    "evaluation_dates",
    "evaluation_grant",
    "publish_evaluation",
    "share_evaluation_date",
]

#: Layers an evaluation can be asked for: those counting incidents.
EVALUATION_LAYERS = tuple(Layer(x) for x in LAYER_CATEGORIES)
#: Series published as (suppressed) counts.
COUNTED = ("treated", "buffer")
#: Where the dates shared with partners are kept (the store's key-value table).
SHARED_KEY = "evaluation_dates:{area}"


def _shared(store: Store, area: str) -> list[date]:
    raw = store.get_meta(SHARED_KEY.format(area=area))
    return sorted(date.fromisoformat(x) for x in json.loads(raw)) if raw else []


def evaluation_dates(store: Store, *, settings: Settings, area: str) -> list[date]:
    """The dates a partner may see an evaluation of ``area`` at (oldest first).

    The area's partnership start (from its file) and every date shared with
    :func:`share_evaluation_date`.
    """
    areas = load_areas(settings.areas_dir)
    out = set(_shared(store, area))
    if area in areas and (ps := areas.get(area).partnership_start) is not None:
        out.add(ps)
    return sorted(out)


def share_evaluation_date(
    store: Store,
    session: Session | Literal["cli"],
    *,
    settings: Settings,
    area: str,
    since: date,
    remove: bool = False,
    now: datetime | None = None,
) -> list[date]:
    """Let partners see the evaluation of ``area`` from ``since`` (or stop, ``remove``).

    Officers and admins only; logged. Returns the dates now shared (with the
    partnership start).

    Raises
    ------
    PermissionDeniedError
        For partners (logged).
    NotFoundError
        An unknown area.
    """
    user = _caller(store, session, now)
    if isinstance(user, User):
        require_role(store, user, Role.OFFICER, Role.ADMIN, action=Action.EXPORT, now=now)
    load_areas(settings.areas_dir).get(area)  # an unknown area raises NotFoundError
    dates = set(_shared(store, area))
    dates = dates - {since} if remove else dates | {since}
    store.set_meta(SHARED_KEY.format(area=area), json.dumps(sorted(d.isoformat() for d in dates)))
    record(
        store,
        Action.EXPORT,
        actor=user,
        area_id=area,
        subject="evaluation_date",
        detail={"period": since.isoformat(), "change": "removed" if remove else "shared"},
        now=now,
    )
    return evaluation_dates(store, settings=settings, area=area)


@dataclass(frozen=True)
class EvaluationGrant:
    """What a caller may be shown an evaluation of (from :func:`evaluation_grant`)."""

    actor: User | str
    scope: IsaScope
    area_id: str
    area_name: str
    layer: Layer
    categories: tuple[str, ...]
    last_month: str
    threshold: int
    round_to: int

    def allows(self, month: str) -> bool:
        """Whether a month may enter the evaluation (complete, inside the agreement)."""
        return month <= self.last_month and in_window(month, "month", self.scope)


@dataclass(frozen=True)
class PartnerEvaluation:
    """An evaluation as a partner sees it (see the module docstring for the rules).

    ``months``: ``month, after`` and per counted series ``treated, treated_status,
    treated_label`` (and the same for ``buffer``), plus ``treated_index`` and
    ``comparison_index`` (100 = the mean month before the date; ``nan`` where the
    month's count is not shown). ``totals``: ``zone, side, count, status, label``.
    Numbers are ``None`` where not published; ``reasons`` are codes of
    :data:`clic_geo.hotspots.impact.REASONS`; ``buffer_shown``: both buffer totals
    are shown (else no WDQ); ``selection_months``: the months the hotspots were chosen
    from (left out of "before").
    """

    area_id: str
    area_name: str
    layer: str
    since: date
    since_month: str
    months: pd.DataFrame
    totals: pd.DataFrame
    effect_pct: int | None
    ci_low_pct: int | None
    ci_high_pct: int | None
    p_value: float | None
    naive_change_pct: int | None
    wdq: float | None
    buffer_within_chance: bool | None
    treated_zones: int
    buffer_m: float
    selection_months: tuple[str, ...]
    buffer_shown: bool
    reasons: tuple[str, ...]
    reference: str
    threshold: int
    round_to: int

    @property
    def can_tell(self) -> bool:
        """Whether an estimate is published."""
        return self.effect_pct is not None


def evaluation_grant(
    store: Store,
    session: Session | Literal["cli"],
    *,
    settings: Settings,
    area: str,
    layer: str,
    since: date,
    organisation: str | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> EvaluationGrant:
    """Check who asks for an evaluation of ``layer`` in ``area`` from ``since``, and what
    it may use.

    Raises
    ------
    PermissionDeniedError
        As :func:`clic_geo.access.privacy.partner_area_table`, and for a partner's view
        at a date not in :func:`evaluation_dates` (logged).
    ConfigError
        A layer that does not count incidents (visits are work done, not an outcome).
    """
    user = _caller(store, session, now)
    areas = load_areas(settings.areas_dir)
    scope = _scope_for(store, user, areas, organisation, now)
    (area_id,), (lay,) = _check_request(store, user, scope, [area], [layer], now)
    if lay not in EVALUATION_LAYERS:
        raise ConfigError(
            f"layer {lay} is not an incident count; an evaluation needs one of "
            + ", ".join(str(x) for x in EVALUATION_LAYERS)
        )
    if scope.organisation_id is not None and since not in evaluation_dates(
        store, settings=settings, area=area_id
    ):
        record(
            store,
            Action.VIEW_AGGREGATES,
            actor=user,
            outcome=AuditOutcome.DENIED,
            area_id=area_id,
            subject="evaluation",
            detail={"reason": "evaluation_date", "period": since.isoformat()},
            now=now,
        )
        raise PermissionDeniedError(
            f"no evaluation from {since:%d %b %Y} has been shared for this area"
        )
    return EvaluationGrant(
        actor=user,
        scope=scope,
        area_id=area_id,
        area_name=areas.names().get(area_id, area_id),
        layer=lay,
        categories=tuple(str(c) for c in LAYER_CATEGORIES[lay]),
        last_month=str(complete_until(today, store)),
        threshold=settings.suppression_threshold,
        round_to=_round_to(settings),
    )


def _protect_series(
    counts: np.ndarray, after: np.ndarray, threshold: int
) -> tuple[np.ndarray, np.ndarray]:
    """Statuses of the months and of the (before, after) totals of one series."""
    n = len(counts)
    if n == 0:
        return np.array([], dtype=object), np.array([Status.FEWER_THAN, Status.FEWER_THAN])
    values = np.r_[counts, counts[~after].sum(), counts[after].sum()].astype(np.int64)
    idx = np.arange(n)
    lines = [
        Line(n, tuple(int(i) for i in idx[~after])),
        Line(n + 1, tuple(int(i) for i in idx[after])),
    ]
    p = protect(values, lines, threshold=threshold)
    return np.asarray(p.status[:n]), np.asarray(p.status[n:])


def _index(shown: np.ndarray, base: float) -> np.ndarray:
    if not base > 0:
        return np.full(len(shown), np.nan)
    return np.round(shown / base * 100, 0)


def _whole(x: Any) -> int | None:
    if x is None or not math.isfinite(float(x)):
        return None
    return math.floor(float(x) + 0.5)


def publish_evaluation(
    store: Store,
    grant: EvaluationGrant,
    monthly: pd.DataFrame,
    stats: Mapping[str, Any],
    *,
    since: date,
    now: datetime | None = None,
) -> PartnerEvaluation:
    """What a partner may see of an evaluation computed under ``grant``; logged.

    Parameters
    ----------
    monthly : DataFrame
        ``month, after, treated, buffer, comparison`` counts (the evaluation's months).
    stats : mapping
        The evaluation's numbers (:meth:`clic_geo.hotspots.impact.Evaluation.to_dict`
        keys: ``effect_pct, ci_low_pct, ci_high_pct, p_value, naive_change_pct, wdq,
        buffer_ci_low_pct, buffer_ci_high_pct, reasons, since_month, treated_zones,
        buffer_m``).

    Raises
    ------
    ConfigError
        A month the grant does not allow (the evaluation must be computed within it).
    """
    df = monthly.sort_values("month").reset_index(drop=True)
    if bad := [m for m in df["month"] if not grant.allows(str(m))]:
        raise ConfigError(f"months outside what may be shown: {', '.join(bad[:3])}")
    t, r = grant.threshold, grant.round_to
    after = df["after"].to_numpy(bool)
    out = pd.DataFrame({"month": df["month"].astype(str), "after": after})
    total_rows, shown_totals = [], {}
    for zone in COUNTED:
        counts = df[zone].to_numpy(np.int64)
        status, tstatus = _protect_series(counts, after, t)
        shown = np.array([rounded(int(n), s, r) for n, s in zip(counts, status, strict=True)])
        out[zone] = pd.array(shown, dtype="Float64").astype("Int64")
        out[f"{zone}_status"] = [str(s) for s in status]
        out[f"{zone}_label"] = [label_of(s, v, t) for s, v in zip(status, shown, strict=True)]
        for side, n, s, months in (
            ("before", counts[~after].sum(), tstatus[0], max(int((~after).sum()), 1)),
            ("after", counts[after].sum(), tstatus[1], max(int(after.sum()), 1)),
        ):
            v = rounded(int(n), s, r)
            shown_totals[(zone, side)] = (v, months)
            total_rows.append((zone, side, v, str(s), label_of(s, v, t)))
        base, n_before = shown_totals[(zone, "before")]
        if zone == "treated":
            out["treated_index"] = _index(shown, base / n_before)
    # the comparison: an index from rounded counts of months at or above the threshold
    comp = df["comparison"].to_numpy(np.int64)
    comp_shown = np.array(
        [rounded(int(n), Status.SHOWN if n >= t else Status.FEWER_THAN, r) for n in comp]
    )
    comp_before = comp[~after].sum()
    comp_base = (
        rounded(int(comp_before), Status.SHOWN, r) / max(int((~after).sum()), 1)
        if comp_before >= t
        else math.nan
    )
    out["comparison_index"] = _index(comp_shown, comp_base)
    totals = pd.DataFrame(total_rows, columns=["zone", "side", "count", "status", "label"])
    totals["count"] = pd.array(totals["count"], dtype="Float64").astype("Int64")

    reasons = tuple(stats.get("reasons") or ())
    treated_shown = all(
        not math.isnan(shown_totals[("treated", s)][0]) for s in ("before", "after")
    )
    buffer_shown = all(not math.isnan(shown_totals[("buffer", s)][0]) for s in ("before", "after"))
    publish = stats.get("effect_pct") is not None and treated_shown
    if stats.get("effect_pct") is not None and not treated_shown:
        reasons = (*reasons, "few_to_publish")
    p = stats.get("p_value")
    b_lo, b_hi = stats.get("buffer_ci_low_pct"), stats.get("buffer_ci_high_pct")
    result = PartnerEvaluation(
        area_id=grant.area_id,
        area_name=grant.area_name,
        layer=str(grant.layer),
        since=since,
        since_month=str(stats.get("since_month") or pd.Period(since, "M")),
        months=out,
        totals=totals,
        effect_pct=_whole(stats.get("effect_pct")) if publish else None,
        ci_low_pct=_whole(stats.get("ci_low_pct")) if publish else None,
        ci_high_pct=_whole(stats.get("ci_high_pct")) if publish else None,
        p_value=float(f"{float(p):.2g}") if publish and p is not None else None,
        naive_change_pct=_whole(stats.get("naive_change_pct")) if publish else None,
        wdq=(
            round(float(stats["wdq"]), 1)
            if publish and buffer_shown and stats.get("wdq") is not None
            else None
        ),
        buffer_within_chance=(
            bool(b_lo <= 0 <= b_hi)
            if publish and buffer_shown and b_lo is not None and b_hi is not None
            else None
        ),
        treated_zones=int(stats.get("treated_zones") or 0),
        buffer_m=float(stats.get("buffer_m") or 0),
        selection_months=tuple(str(m) for m in stats.get("hotspot_months") or ()),
        buffer_shown=buffer_shown,
        reasons=reasons,
        reference=grant.scope.reference,
        threshold=t,
        round_to=r,
    )
    record(
        store,
        Action.VIEW_AGGREGATES,
        actor=grant.actor,
        area_id=grant.area_id,
        subject="evaluation",
        detail={
            "areas": [grant.area_id],
            "layer": str(grant.layer),
            "period": result.since_month,
            "from": out["month"].min() if len(out) else None,
            "to": out["month"].max() if len(out) else None,
            "organisation": grant.scope.organisation_id,
        },
        now=now,
    )
    return result
