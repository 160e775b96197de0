"""The hotspots to walk now: the recommended map of a period, with a longer history.

The recommended map (:func:`clic_geo.hotspots.forecast.recommended_map`) is built from the
period the user looks at (by default the last three months). Three months are too
few to say whether a hotspot is emerging or fading, so each hotspot's monthly counts
are taken over a longer history (default twelve months ending with the period)
inside its outline, and its trend category is classified from those counts against
the area's background rate (:func:`clic_geo.hotspots.trends.classify_trend`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from clic_geo.geo.crs import BNG
from clic_geo.hotspots.forecast import recommended_map
from clic_geo.hotspots.trends import classify_trend, month_range
from clic_geo.schema import TREND_LABELS, Col, Trend

__all__ = ["TREND_MEANING", "CurrentHotspots", "current_hotspots", "places_inside"]

#: What each trend category means, in plain words, for the map's side panel.
TREND_MEANING: Mapping[str, str] = {
    Trend.NEW: "hot in the latest complete month, for the first time in the history shown",
    Trend.CONSECUTIVE: "hot for the last few months in a row, not before",
    Trend.INTENSIFYING: "hot almost every month, and getting busier",
    Trend.PERSISTENT: "hot almost every month, with no clear rise or fall",
    Trend.DIMINISHING: "hot almost every month, but getting quieter",
    Trend.SPORADIC: "hot now, on and off before",
    Trend.OSCILLATING: "hot now, quiet in between, on and off",
    Trend.HISTORICAL: "was hot most months, but not lately",
    Trend.NO_PATTERN: "no month stood out from the area's background",
}


@dataclass(frozen=True)
class CurrentHotspots:
    """Hotspots (clusters only, ranked 1..n) and their monthly history.

    ``hotspots`` is the recommended map's frame (EPSG:4326) with ``trend`` from the
    longer history, ``trend_label``, ``place`` (the commonest location description
    inside) and ``history`` (counts, comma-separated). ``history`` is a frame:
    one row per hotspot, one column per month.
    """

    hotspots: gpd.GeoDataFrame
    history: pd.DataFrame
    months: tuple[str, ...]


def _counts_inside(
    polys_bng: gpd.GeoSeries, e: np.ndarray, n: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(polygon index, point index) pairs of points inside each polygon."""
    tree = shapely.STRtree(polys_bng.values)
    pts = shapely.points(e, n)
    point_i, poly_i = tree.query(pts, predicate="within")
    return poly_i, point_i


def places_inside(polys_bng: gpd.GeoSeries, frame: pd.DataFrame) -> list[str]:
    """A name a person recognises for each outline: the commonest location description
    of ``frame``'s rows inside it ("On or near " dropped; "" when none)."""
    place = [""] * len(polys_bng)
    if Col.LOCATION not in frame or len(frame) == 0 or len(polys_bng) == 0:
        return place
    wi, wq = _counts_inside(
        polys_bng, frame[Col.EASTING].to_numpy(float), frame[Col.NORTHING].to_numpy(float)
    )
    loc = frame[Col.LOCATION].astype(object).fillna("").to_numpy()
    df = pd.DataFrame({"h": wi, "loc": loc[wq]})
    for h, g in df[df["loc"] != ""].groupby("h"):
        place[int(h)] = str(g["loc"].value_counts().index[0]).removeprefix("On or near ")
    return place


def current_hotspots(
    incidents: pd.DataFrame,
    *,
    start: date,
    end: date,
    area_km2: Mapping[str, float],
    history_months: int = 12,
    n_simulations: int = 99,
    **params: Any,
) -> CurrentHotspots:
    """The recommended hotspots of ``start``..``end`` with a ``history_months`` history.

    Parameters
    ----------
    incidents : DataFrame
        As :meth:`Store.incidents` returns (``occurred_at, month, easting, northing,
        area_id, category, location``), covering at least the history.
    start, end : date
        The period the map is built from (inclusive).
    area_km2 : mapping
        Each operating area's size, for the background rate of the trend tests.
    history_months : int
        Complete months of history, ending with ``end``'s month (or the month before
        when ``end`` is not a month's last day), for trends; a part month at the end
        is in ``history`` but not in the trend test.
    n_simulations : int
        Monte Carlo runs for the significance of each hotspot.
    **params
        Passed to :func:`~clic_geo.hotspots.forecast.recommended_map`.
    """
    t0, t1 = pd.Timestamp(start), pd.Timestamp(end) + pd.Timedelta(days=1)
    when = pd.to_datetime(incidents[Col.WHEN])
    window = incidents[(when >= t0) & (when < t1)]
    last_month = pd.Timestamp(end).strftime("%Y-%m")
    # A month the period ends part way through (the demo and live data run to
    # yesterday) has fewer incidents only because it is not over: trends are
    # classified on complete months, and the part month is shown after them.
    partial = not pd.Timestamp(end).is_month_end
    first_month = str(pd.Period(last_month, "M") - (history_months - 1) - int(partial))
    months = tuple(month_range(first_month, last_month))
    n_trend = len(months) - int(partial)
    empty = gpd.GeoDataFrame(
        {Col.HOTSPOT_ID: pd.Series(dtype=str), Col.RANK: pd.Series(dtype="int64")},
        geometry=gpd.GeoSeries([], crs=4326),
    )
    if len(window) < 5:
        return CurrentHotspots(empty, pd.DataFrame(columns=list(months)), months)
    hs = recommended_map(window, n_simulations=n_simulations, **params)
    hs = hs[hs["kind"] == "cluster"].sort_values(Col.RANK).reset_index(drop=True)
    if hs.empty:
        return CurrentHotspots(empty, pd.DataFrame(columns=list(months)), months)
    hs[Col.RANK] = np.arange(1, len(hs) + 1)
    polys = hs.to_crs(BNG).geometry
    # monthly counts inside each outline over the history
    hist = incidents[incidents[Col.MONTH].isin(months)]
    pi, qi = _counts_inside(
        polys, hist[Col.EASTING].to_numpy(float), hist[Col.NORTHING].to_numpy(float)
    )
    month_idx = pd.Categorical(hist[Col.MONTH].to_numpy()[qi], categories=months).codes
    counts = np.zeros((len(hs), len(months)))
    np.add.at(counts, (pi, month_idx), 1)
    # the area's background: its monthly count spread over its km²
    area_month = (
        hist.groupby([Col.AREA, Col.MONTH])
        .size()
        .unstack(fill_value=0)
        .reindex(columns=list(months), fill_value=0)
    )
    km2 = polys.area.to_numpy() / 1e6
    trends, labels = [], []
    for i, row in hs.iterrows():
        a = row.get(Col.AREA)
        size = float(area_km2.get(a, 0) or 0)
        if a in area_month.index and size > 0:
            bg = area_month.loc[a].to_numpy(float) * km2[i] / size
        else:
            bg = np.full(len(months), 0.05)
        t = classify_trend(counts[i, :n_trend], np.maximum(bg[:n_trend], 0.01))
        trends.append(t.value)
        labels.append(TREND_LABELS[t])
    hs[Col.TREND] = trends
    hs["trend_label"] = labels
    hs["history"] = [",".join(str(int(x)) for x in r) for r in counts]
    hs["place"] = places_inside(polys, window)
    history = pd.DataFrame(counts.astype(int), columns=list(months), index=hs[Col.HOTSPOT_ID])
    return CurrentHotspots(hs, history, months)
