"""The partnership's figures: monthly series, period totals and before/after comparisons.

These are the numbers partnership meetings and the commissioner's yearly report use:
vulnerability visits, referrals by partner type, support packages and target
hardening delivered, active county lines, threats to life, and incident trends per
area. Functions here take frames (from :class:`~clic_geo.store.Store`) and return
aggregates; small-number suppression for partners is applied by
:mod:`clic_geo.access.privacy`, not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from clic_geo.hotspots.trends import area_monthly_series, month_range
from clic_geo.schema import (
    CATEGORY_LABELS,
    HARDENING_LABELS,
    REFERRAL_LABELS,
    SUPPORT_LABELS,
    Category,
    Col,
)

__all__ = [
    "BeforeAfter",
    "PeriodFigures",
    "active_lines_series",
    "before_after",
    "month_range",
    "monthly_counts",
    "period_figures",
    "period_months",
]


def monthly_counts(
    incidents: pd.DataFrame,
    *,
    by: str = Col.CATEGORY,
    months: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Incidents per month and ``by`` (default category), all areas together, zeros filled.

    Returns a long frame ``month, <by>, n``: :func:`clic_geo.hotspots.trends.area_monthly_series`
    summed over areas.
    """
    series = area_monthly_series(incidents, months=months, category_col=by)
    out = series.groupby(["month", "category"], sort=True)["count"].sum().reset_index()
    return out.rename(columns={"category": by, "count": "n"}).astype({"n": "int64"})


@dataclass(frozen=True)
class PeriodFigures:
    """The partnership's figures for one period (and area, if given)."""

    start: date
    end: date
    area: str | None
    visits: int
    addresses_visited: int
    visits_engaged: int
    referrals_total: int
    referrals: dict[str, int]
    support: dict[str, int]
    hardening: dict[str, int]
    active_lines_start: int
    active_lines_end: int
    lines_disrupted: int
    threats_to_life: int
    cuckooing_confirmed_open: int
    incidents: int
    incidents_by_category: dict[str, int] = field(default_factory=dict)

    def as_rows(self) -> list[tuple[str, str, int]]:
        """``(section, label, value)`` rows in reading order, labels in words."""
        rows = [
            ("Visits", "Vulnerability visits", self.visits),
            ("Visits", "Addresses visited", self.addresses_visited),
            ("Visits", "Visits where the person engaged", self.visits_engaged),
            ("Referrals", "Referrals to partners (all)", self.referrals_total),
        ]
        rows += [("Referrals", REFERRAL_LABELS.get(k, k), v) for k, v in self.referrals.items()]
        rows += [("Support packages", SUPPORT_LABELS.get(k, k), v) for k, v in self.support.items()]
        rows += [
            ("Target hardening", HARDENING_LABELS.get(k, k), v) for k, v in self.hardening.items()
        ]
        rows += [
            ("County lines", "Active at the start", self.active_lines_start),
            ("County lines", "Active at the end", self.active_lines_end),
            ("County lines", "Disrupted during the period", self.lines_disrupted),
            ("Harm", "Threats to life", self.threats_to_life),
            ("Harm", "Cuckooed addresses still open at the end", self.cuckooing_confirmed_open),
            ("Incidents", "All recorded incidents", self.incidents),
        ]
        rows += [
            ("Incidents", CATEGORY_LABELS.get(k, k), v)
            for k, v in self.incidents_by_category.items()
        ]
        return rows


def _count_items(series: pd.Series, vocab: Sequence[str]) -> dict[str, int]:
    counts = dict.fromkeys(vocab, 0)
    for items in series:
        for x in items or ():
            counts[x] = counts.get(x, 0) + 1
    return counts


def _lines_active(lines: pd.DataFrame, on: pd.Timestamp) -> int:
    df = lines[lines["since"] <= on]
    if df.empty:
        return 0
    latest = df.sort_values("since").groupby("line_id").tail(1)
    return int((latest["status"] == "active").sum())


def period_figures(
    *,
    start: date,
    end: date,
    area: str | None,
    incidents: pd.DataFrame,
    visits: pd.DataFrame,
    addresses: pd.DataFrame,
    status_history: pd.DataFrame,
    hardening: pd.DataFrame,
    lines: pd.DataFrame,
) -> PeriodFigures:
    """Figures for ``start``..``end`` (inclusive), for one area or all (``area=None``).

    The frames are the store's (:meth:`Store.incidents`, :meth:`Store.visits`,
    :meth:`Store.addresses`, :meth:`Store.address_status_history`,
    :meth:`Store.hardening`, :meth:`Store.county_lines`), unfiltered or pre-filtered.
    """
    t0 = pd.Timestamp(start)
    t1 = pd.Timestamp(end) + pd.Timedelta(days=1)

    def in_area(df: pd.DataFrame) -> pd.DataFrame:
        return df if area is None else df[df[Col.AREA] == area]

    inc = in_area(incidents)
    inc = inc[(inc[Col.WHEN] >= t0) & (inc[Col.WHEN] < t1)]
    vis = in_area(visits)
    vis = vis[(vis["visited_at"] >= t0) & (vis["visited_at"] < t1)]
    addr = in_area(addresses)
    ids = set(addr["id"])
    hard = hardening[hardening["address_id"].isin(ids)]
    fitted = pd.to_datetime(hard["fitted_on"].replace("", None), errors="coerce")
    hard = hard[(fitted >= t0) & (fitted < t1)]
    hist = status_history[status_history["address_id"].isin(ids)]
    hist = hist[hist["since"] < t1].sort_values("since")
    latest = hist.groupby("address_id").tail(1)
    ln = lines if area is None else lines[lines[Col.AREA] == area]
    disrupted = ln[(ln["status"] == "disrupted") & (ln["since"] >= t0) & (ln["since"] < t1)]
    referrals = _count_items(vis[Col.REFERRALS], list(REFERRAL_LABELS))
    return PeriodFigures(
        start=start,
        end=end,
        area=area,
        visits=len(vis),
        addresses_visited=int(vis[Col.ADDRESS_ID].dropna().nunique()),
        visits_engaged=int((vis[Col.OUTCOME] == "engaged").sum()),
        referrals_total=sum(referrals.values()),
        referrals=referrals,
        support=_count_items(vis[Col.SUPPORT], list(SUPPORT_LABELS)),
        hardening={k: int((hard["measure"] == k).sum()) for k in HARDENING_LABELS},
        active_lines_start=_lines_active(ln, t0 - pd.Timedelta(seconds=1)),
        active_lines_end=_lines_active(ln, t1 - pd.Timedelta(seconds=1)),
        lines_disrupted=int(disrupted["line_id"].nunique()),
        threats_to_life=int((inc[Col.CATEGORY] == Category.THREAT_TO_LIFE).sum()),
        cuckooing_confirmed_open=int((latest["status"] == "confirmed").sum()),
        incidents=len(inc),
        incidents_by_category={k: int(v) for k, v in inc[Col.CATEGORY].value_counts().items()},
    )


def active_lines_series(
    lines: pd.DataFrame, months: Sequence[str], *, area: str | None = None
) -> pd.DataFrame:
    """Active county lines at the end of each month: ``month, active``."""
    ln = lines if area is None else lines[lines[Col.AREA] == area]
    ends = [pd.Period(m, freq="M").to_timestamp(how="end") for m in months]
    return pd.DataFrame({"month": list(months), "active": [_lines_active(ln, e) for e in ends]})


@dataclass(frozen=True)
class BeforeAfter:
    """Monthly means before and after a date, per category."""

    split: str  # first month of "after"
    months_before: int
    months_after: int
    table: pd.DataFrame  # category, before_per_month, after_per_month, change_pct


def before_after(
    monthly: pd.DataFrame,
    split_month: str,
    *,
    by: str = Col.CATEGORY,
    window_months: int | None = 12,
) -> BeforeAfter:
    """Compare monthly means before ``split_month`` with those from it on.

    ``window_months`` limits each side to that many months next to the split (equal
    windows make a fairer comparison); ``None`` uses everything.
    """
    m = monthly.copy()
    months = sorted(m["month"].unique())
    before = [x for x in months if x < split_month]
    after = [x for x in months if x >= split_month]
    if window_months:
        before, after = before[-window_months:], after[:window_months]
    rows = []
    for key, g in m.groupby(by):
        b = g[g["month"].isin(before)]["n"].sum() / max(len(before), 1)
        a = g[g["month"].isin(after)]["n"].sum() / max(len(after), 1)
        change = (a - b) / b * 100 if b > 0 else np.nan
        rows.append(
            {
                by: key,
                "before_per_month": round(b, 2),
                "after_per_month": round(a, 2),
                "change_pct": round(change, 1) if not np.isnan(change) else np.nan,
            }
        )
    table = pd.DataFrame(rows, columns=[by, "before_per_month", "after_per_month", "change_pct"])
    return BeforeAfter(split_month, len(before), len(after), table)


def period_months(start: date, end: date) -> pd.DataFrame:
    """The months of a period: ``month`` (``YYYY-MM``), ``label``, ``part``.

    A month the period covers only in part (it starts or ends inside it, such as the
    month just begun) has ``part`` True and a label naming its days ("2026-11 (1-21)"),
    so that its short bar reads as a part month rather than a fall.

    >>> period_months(date(2026, 9, 7), date(2026, 11, 21))["label"].tolist()
    ['2026-09 (7-30)', '2026-10', '2026-11 (1-21)']
    """
    rows = []
    for m in month_range(f"{start:%Y-%m}", f"{end:%Y-%m}"):
        p = pd.Period(m, freq="M")
        a = max(p.start_time.date(), start)
        b = min(p.end_time.date(), end)
        part = a != p.start_time.date() or b != p.end_time.date()
        label = f"{m} ({a.day}-{b.day})" if part else m
        rows.append((m, label, part))
    return pd.DataFrame(rows, columns=["month", "label", "part"])
