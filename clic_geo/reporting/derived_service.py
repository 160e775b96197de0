"""Hotspot maps and trust backtests computed when data change, stored, read by the pages.

Nothing is clustered while a person waits for a page they open every day: after an
import (``clic-geo import``, the Data page), a recorded visit, a nightly run or
``clic-geo refresh``, :func:`refresh` computes what the pages ask for by default:

- the hotspot map (with its 12-month trends) of every area and of all Cumbria, for
  the county-lines categories, over the last 3 and the last 12 months of the data
  (the Map page's default period and the Trends page's);
- the trust backtest of every area and of all Cumbria (the Map page's verdict, the
  Data page's table);

and stores each in ``derived_results`` with the store's data version and a
fingerprint of the incidents it was computed from. A page reads a result with
:func:`load_hotspots` or :func:`load_trust`; one whose data version is older than the
store's is still returned (``stale``), for the page to show with a note while the
refresh runs. A write that left the incidents alone (a visit, an address) changes the
data version but not the fingerprint: the refresh then only restamps the results.

What a person asks for beyond the defaults (another period, other categories) is
computed on the page, with a progress indicator, and stored with :func:`save_hotspots`
so the next person who asks does not wait.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from clic_geo.geo.areas import AreaSet
from clic_geo.hotspots.current import CurrentHotspots, current_hotspots
from clic_geo.hotspots.forecast import TrustSummary, trust_summary
from clic_geo.schema import COUNTY_LINES_CATEGORIES, Col
from clic_geo.store import Store

__all__ = [
    "DEFAULT_CATEGORIES",
    "DEFAULT_PERIOD_MONTHS",
    "BackgroundRefresh",
    "RefreshReport",
    "Stored",
    "default_period",
    "fingerprint",
    "hotspots_key",
    "load_hotspots",
    "load_trust",
    "needs_refresh",
    "refresh",
    "save_hotspots",
    "save_trust",
    "trust_key",
]

log = logging.getLogger(__name__)

HOTSPOTS = "hotspots"
TRUST = "trust"
#: The categories the pages show by default (the county-lines preset), sorted.
DEFAULT_CATEGORIES: tuple[str, ...] = tuple(sorted(COUNTY_LINES_CATEGORIES))
#: The periods the pages show by default: months ending with the data's last day.
DEFAULT_PERIOD_MONTHS = (3, 12)
_FINGERPRINT_COLS = [
    Col.ID,
    Col.CATEGORY,
    "month",
    "occurred_at",
    "easting",
    "northing",
    "area_id",
    "location",
]


# ----------------------------------------------------------------------------- keys


def default_period(first: date, last: date, months: int) -> tuple[date, date]:
    """The last ``months`` months of the data (``first``..``last``), as the pages pick them."""
    start = (pd.Timestamp(last) - pd.DateOffset(months=months) + pd.Timedelta(days=1)).date()
    return max(first, start), last


def _cats(cats: Iterable[str]) -> str:
    return hashlib.sha256(",".join(sorted(cats)).encode()).hexdigest()[:16]


def hotspots_key(area: str | None, start: date, end: date, cats: Iterable[str]) -> str:
    """The stored name of a hotspot map (area None: all Cumbria)."""
    return f"{area or '*'}|{start.isoformat()}|{end.isoformat()}|{_cats(cats)}"


def trust_key(area: str | None, cats: Iterable[str]) -> str:
    """The stored name of a trust backtest (area None: all Cumbria)."""
    return f"{area or '*'}|{_cats(cats)}"


def fingerprint(incidents: pd.DataFrame) -> str:
    """A digest of the incidents a result is computed from (order does not matter)."""
    cols = [c for c in _FINGERPRINT_COLS if c in incidents.columns]
    if incidents.empty:
        return "empty"
    h = pd.util.hash_pandas_object(incidents[cols], index=False).to_numpy()
    return hashlib.sha256(np.sort(h).tobytes()).hexdigest()[:32]


# --------------------------------------------------------------------- (de)serialising


def _frame_json(df: pd.DataFrame) -> dict[str, Any]:
    d = json.loads(df.to_json(orient="split", index=False))
    d["dtypes"] = {k: str(v) for k, v in df.dtypes.items()}
    return d


def _frame(d: dict[str, Any]) -> pd.DataFrame:
    df = pd.DataFrame(d["data"], columns=d["columns"])
    for col, dtype in d["dtypes"].items():
        if dtype != "object":
            df[col] = df[col].astype(dtype)
    return df


def _hotspots_payload(cur: CurrentHotspots) -> str:
    hs = cur.hotspots
    props = pd.DataFrame(hs.drop(columns=hs.geometry.name))
    # named, so that an empty history (an area with no data) keeps its index column
    index = cur.history.index.name or Col.HOTSPOT_ID
    history = cur.history.rename_axis(index).reset_index()
    return json.dumps(
        {
            "hotspots": _frame_json(props),
            "wkt": [str(w) for w in shapely.to_wkt(hs.geometry.values, rounding_precision=6)],
            "history": _frame_json(history),
            "history_index": index,
            "months": list(cur.months),
        }
    )


def _hotspots(payload: str) -> CurrentHotspots:
    d = json.loads(payload)
    props = _frame(d["hotspots"])
    geom = shapely.from_wkt(np.asarray(d["wkt"], dtype=object)) if d["wkt"] else []
    hs = gpd.GeoDataFrame(props, geometry=gpd.GeoSeries(geom, crs=4326), crs=4326)
    history = _frame(d["history"])
    index = d["history_index"]
    if index not in history and "index" in history:  # stored before it was named
        history = history.rename(columns={"index": index})
    history = history.set_index(index)
    history.columns.name = None
    return CurrentHotspots(hotspots=hs, history=history, months=tuple(d["months"]))


def _trust_payload(t: TrustSummary, before_month: str) -> str:
    return json.dumps(
        {
            "summary": t.to_dict(),
            "per_month": _frame_json(t.per_month),
            "before_month": before_month,
        }
    )


def _trust(payload: str) -> tuple[TrustSummary, str]:
    d = json.loads(payload)
    return TrustSummary(**d["summary"], per_month=_frame(d["per_month"])), d["before_month"]


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Stored:
    """A stored result: what it holds, and whether the data changed since."""

    value: Any
    data_version: int
    computed_at: datetime
    stale: bool


def hotspots_stamp(
    store: Store, area: str | None, start: date, end: date, cats: Iterable[str]
) -> int | None:
    """The data version of the stored hotspot map (cheap: a cache key), or None."""
    s = store.result_stamp(HOTSPOTS, hotspots_key(area, start, end, cats))
    return None if s is None else s[0]


def load_hotspots(
    store: Store,
    area: str | None,
    start: date,
    end: date,
    cats: Iterable[str],
    *,
    data_version: int | None = None,
) -> Stored | None:
    """The stored hotspot map of an area, period and categories, or None.

    ``stale`` when it was computed before the store's data version ``data_version``
    (default: the store's now).
    """
    row = store.get_result(HOTSPOTS, hotspots_key(area, start, end, cats))
    if row is None:
        return None
    v = store.data_version() if data_version is None else data_version
    return Stored(_hotspots(row.payload), row.data_version, row.computed_at, row.data_version < v)


def load_trust(
    store: Store,
    area: str | None,
    cats: Iterable[str],
    before_month: str,
    *,
    data_version: int | None = None,
) -> Stored | None:
    """The stored trust backtest of an area and categories, or None.

    ``stale`` when it was computed before the data version or for an earlier month
    than ``before_month`` (a new month makes one more month complete).
    """
    row = store.get_result(TRUST, trust_key(area, cats))
    if row is None:
        return None
    v = store.data_version() if data_version is None else data_version
    summary, month = _trust(row.payload)
    return Stored(
        summary, row.data_version, row.computed_at, row.data_version < v or month != before_month
    )


def needs_refresh(store: Store) -> bool:
    """True when a stored result is older than the data, or none is stored for data."""
    stamps = store.result_stamps()
    if not stamps:
        return not store.is_empty()
    v = store.data_version()
    return any(dv < v for _k, _key, dv, _fp in stamps)


# ----------------------------------------------------------------------------- writing


def save_hotspots(
    store: Store,
    area: str | None,
    start: date,
    end: date,
    cats: Iterable[str],
    cur: CurrentHotspots,
    *,
    data_version: int,
    incidents_fingerprint: str,
    seconds: float = 0.0,
) -> None:
    """Store a hotspot map computed from incidents with ``incidents_fingerprint``."""
    store.put_result(
        HOTSPOTS,
        hotspots_key(area, start, end, cats),
        data_version=data_version,
        fingerprint=incidents_fingerprint,
        payload=_hotspots_payload(cur),
        seconds=seconds,
    )


def save_trust(
    store: Store,
    area: str | None,
    cats: Iterable[str],
    summary: TrustSummary,
    *,
    before_month: str,
    data_version: int,
    incidents_fingerprint: str,
    seconds: float = 0.0,
) -> None:
    """Store a trust backtest (complete months before ``before_month``)."""
    store.put_result(
        TRUST,
        trust_key(area, cats),
        data_version=data_version,
        fingerprint=incidents_fingerprint,
        payload=_trust_payload(summary, before_month),
        seconds=seconds,
    )


@dataclass
class RefreshReport:
    """What a refresh did."""

    data_version: int
    computed: list[str] = field(default_factory=list)
    kept: int = 0
    dropped: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "data_version": self.data_version,
            "computed": len(self.computed),
            "kept": self.kept,
            "dropped": self.dropped,
            "seconds": round(self.seconds, 2),
        }


def _area_incidents(inc: pd.DataFrame, area: str | None) -> pd.DataFrame:
    return inc if area is None else inc[inc["area_id"] == area]


def refresh(
    store: Store,
    areas: AreaSet,
    *,
    area_ids: Sequence[str | None] | None = None,
    today: date | None = None,
    force: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
) -> RefreshReport:
    """Compute and store the pages' default results for the data as they are now.

    Parameters
    ----------
    area_ids : list of area ids (None for all Cumbria), optional
        Only these (default: all Cumbria and every area).
    today : date, optional
        The trust backtest tests complete months before this month (default: today).
    force : bool
        Recompute even results whose incidents did not change.
    progress : callable, optional
        ``progress(i, n, label)`` after each result.
    """
    t0 = time.perf_counter()
    v = store.data_version()  # read before the data: a write meanwhile leaves it stale
    inc = pd.DataFrame(store.incidents().drop(columns="geometry"))
    fp = fingerprint(inc)
    report = RefreshReport(data_version=v)
    before_month = (today or date.today()).strftime("%Y-%m")
    # results whose incidents did not change are current again; the others stay
    # readable (shown as out of date) until replaced, then go at the end (a result for
    # a period or categories no page shows by default is computed again when asked for)
    report.kept = store.restamp_results(fp, v)
    if force:
        store.restamp_results("", -1, match_all=True)
    targets: list[str | None] = list(area_ids) if area_ids is not None else [None, *areas.ids]
    area_km2 = {a.id: a.area_km2 for a in areas}
    jobs: list[tuple[str, str | None, tuple[date, date] | None]] = []
    if not inc.empty:
        first = inc["occurred_at"].min().date()
        last = inc["occurred_at"].max().date()
        periods = sorted({default_period(first, last, m) for m in DEFAULT_PERIOD_MONTHS})
        for a in targets:
            jobs += [(HOTSPOTS, a, p) for p in periods]
    jobs += [(TRUST, a, None) for a in targets]
    cats_inc = inc[inc[Col.CATEGORY].isin(DEFAULT_CATEGORIES)] if len(inc) else inc
    for i, (kind, a, period) in enumerate(jobs, 1):
        label = f"{kind} {a or 'all Cumbria'}" + (f" {period[0]}..{period[1]}" if period else "")
        if kind == HOTSPOTS:
            assert period is not None
            stamp = store.result_stamp(HOTSPOTS, hotspots_key(a, *period, DEFAULT_CATEGORIES))
            if stamp != (v, fp):
                s = time.perf_counter()
                cur = current_hotspots(
                    _area_incidents(cats_inc, a), start=period[0], end=period[1], area_km2=area_km2
                )
                save_hotspots(
                    store, a, *period, DEFAULT_CATEGORIES, cur,
                    data_version=v, incidents_fingerprint=fp, seconds=time.perf_counter() - s,
                )  # fmt: skip
                report.computed.append(label)
        else:
            stored = load_trust(store, a, DEFAULT_CATEGORIES, before_month, data_version=v)
            stamp = store.result_stamp(TRUST, trust_key(a, DEFAULT_CATEGORIES))
            if stored is None or stored.stale or stamp != (v, fp):
                s = time.perf_counter()
                ti = _area_incidents(cats_inc, a)
                ti = ti[ti["month"] < before_month] if len(ti) else ti
                summary = trust_summary(ti)
                save_trust(
                    store, a, DEFAULT_CATEGORIES, summary, before_month=before_month,
                    data_version=v, incidents_fingerprint=fp, seconds=time.perf_counter() - s,
                )  # fmt: skip
                report.computed.append(label)
        if progress is not None:
            progress(i, len(jobs), label)
    if area_ids is None:  # the other areas' results stay, out of date, until theirs
        report.dropped = store.drop_results(keep_fingerprint=fp)
    report.seconds = time.perf_counter() - t0
    log.info(
        "derived results refreshed for data version %d: %d computed, %d kept, %d dropped, %.1f s",
        v,
        len(report.computed),
        report.kept,
        report.dropped,
        report.seconds,
    )
    return report


class BackgroundRefresh:
    """At most one refresh at a time in a background thread (the dashboard's process).

    :meth:`request` returns at once; a request made while a refresh runs makes it run
    once more when it ends (the data changed again meanwhile).
    """

    def __init__(self, store: Store, areas: AreaSet) -> None:
        self.store = store
        self.areas = areas
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False
        self.last: RefreshReport | None = None
        self.failed: str | None = None

    @property
    def running(self) -> bool:
        with self._lock:
            return self._thread is not None

    def request(self) -> None:
        """Refresh soon, in the background."""
        with self._lock:
            if self._thread is not None:
                self._again = True
                return
            self._thread = threading.Thread(target=self._run, name="clic-refresh", daemon=True)
            self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the running refresh (for tests and the command line); True if idle."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                t = self._thread
            if t is None:
                return True
            t.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if deadline is not None and time.monotonic() >= deadline:
                return not self.running

    def _run(self) -> None:
        while True:
            try:
                self.last = refresh(self.store, self.areas)
                self.failed = None
            except Exception as exc:  # logged; the pages keep what is stored
                self.failed = exc.__class__.__name__
                log.exception("refreshing the stored hotspot maps failed")
            with self._lock:
                if not self._again:
                    self._thread = None
                    return
                self._again = False
