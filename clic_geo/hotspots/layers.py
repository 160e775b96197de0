"""Point layers the hotspot engine clusters: incidents, cuckooed addresses, visits, problem.

Each layer is a GeoDataFrame of points in WGS84 with ``easting``/``northing`` in
British National Grid metres, a ``weight`` per point, a ``category``, a ``month``
(``YYYY-MM``), a time ``occurred_at`` and an ``area_id``:

- ``incidents``: one point per incident, weight 1 (or the category's severity
  with ``weighted=True``);
- ``addresses``: addresses whose cuckooing is suspected or confirmed, weight 1;
- ``visits``: one point per visit, weight 1 (coverage: where the team has been);
- ``problem``: incidents and cuckooed addresses together, each weighted by the
  severity of its category from the settings (a confirmed cuckooing counts as a
  cuckooing report; a suspected one as half of that).
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from clic_geo._errors import ConfigError, CRSError
from clic_geo.geo.crs import BNG, BNG_BOUNDS, WGS84, to_bng, to_wgs84
from clic_geo.hotspots.cluster import _row_codes
from clic_geo.ingest.parse import strftime_distinct
from clic_geo.schema import Category, Col, CuckooingStatus
from clic_geo.settings import DEFAULT_SEVERITY

__all__ = ["LAYERS", "build_layer", "points_bng"]

LAYERS = ("incidents", "addresses", "visits", "problem")
_COLUMNS = [Col.EASTING, Col.NORTHING, Col.WEIGHT, Col.CATEGORY, Col.MONTH, Col.WHEN, Col.AREA]


def points_bng(gdf: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """British National Grid metres of a frame of points, checking the CRS.

    Uses the ``easting``/``northing`` columns when there are any (the store and the
    importer write them), else projects the geometry.

    Raises
    ------
    CRSError
        When the geometry has no CRS, when the CRS and the numbers disagree (metres
        labelled as degrees or the reverse), or when points fall off the grid. The
        message says how to fix it.
    """
    if Col.EASTING in gdf and Col.NORTHING in gdf:
        e = gdf[Col.EASTING].to_numpy(dtype="float64")
        n = gdf[Col.NORTHING].to_numpy(dtype="float64")
    elif isinstance(gdf, gpd.GeoDataFrame) and gdf.geometry.name in gdf:
        if gdf.crs is None:
            raise CRSError(
                "points have no CRS: set it first, e.g. gdf.set_crs('EPSG:4326') for "
                "longitude/latitude or gdf.set_crs('EPSG:27700') for eastings/northings"
            )
        x = gdf.geometry.x.to_numpy(dtype="float64")
        y = gdf.geometry.y.to_numpy(dtype="float64")
        ok = np.isfinite(x) & np.isfinite(y)
        if gdf.crs.is_geographic:
            if ok.any() and (np.abs(x[ok]).max() > 180 or np.abs(y[ok]).max() > 90):
                raise CRSError(
                    f"points are labelled {gdf.crs.to_string()} (degrees) but their "
                    "coordinates look like metres; if they are British National Grid "
                    "eastings/northings use gdf.set_crs('EPSG:27700', allow_override=True)"
                )
            e, n = to_bng(x, y)
        else:
            if gdf.crs.to_epsg() == 27700:
                e, n = x, y
            else:
                g = gdf.to_crs(BNG)
                e, n = g.geometry.x.to_numpy(), g.geometry.y.to_numpy()
            if ok.any() and np.abs(e[ok]).max() <= 180 and np.abs(n[ok]).max() <= 90:
                raise CRSError(
                    f"points are labelled {gdf.crs.to_string()} (metres) but their "
                    "coordinates look like degrees; if they are longitude/latitude use "
                    "gdf.set_crs('EPSG:4326', allow_override=True)"
                )
    else:
        raise ConfigError("points need easting/northing columns or a point geometry")
    minx, miny, maxx, maxy = BNG_BOUNDS
    ok = np.isfinite(e) & np.isfinite(n)
    off = ok & ~((e >= minx) & (e <= maxx) & (n >= miny) & (n <= maxy))
    if off.any():
        raise CRSError(
            f"{int(off.sum())} point(s) fall outside the British National Grid "
            f"(0-700 km east, 0-1300 km north), e.g. ({e[off][0]:.0f}, {n[off][0]:.0f}); "
            "check the CRS of the input (gdf.crs) and reproject with gdf.to_crs('EPSG:27700')"
        )
    return e, n


def _frame(
    e: np.ndarray,
    n: np.ndarray,
    weight: np.ndarray,
    category: pd.Series | str,
    when: pd.Series,
    area: pd.Series | None,
) -> gpd.GeoDataFrame:
    when = pd.to_datetime(pd.Series(when).reset_index(drop=True))
    if not isinstance(category, str):
        codes, uniq = pd.factorize(category, use_na_sentinel=False)
        category = pd.Series(uniq, dtype=category.dtype).take(codes).reset_index(drop=True)
    out = pd.DataFrame(
        {
            Col.EASTING: e,
            Col.NORTHING: n,
            Col.WEIGHT: np.asarray(weight, dtype="float64"),
            Col.CATEGORY: category,
            Col.MONTH: strftime_distinct(when, "%Y-%m").to_numpy(),
            Col.WHEN: when.to_numpy(),
            Col.AREA: area.to_numpy() if area is not None else None,
        }
    )
    # projected and drawn once per distinct location (published data repeat them a lot)
    codes, first = _row_codes([e, n])
    lon, lat = to_wgs84(e[first], n[first])
    points = gpd.points_from_xy(lon, lat)[codes]
    return gpd.GeoDataFrame(out, geometry=points, crs=WGS84)


def build_layer(
    kind: str,
    *,
    incidents: pd.DataFrame | None = None,
    addresses: pd.DataFrame | None = None,
    visits: pd.DataFrame | None = None,
    severity: Mapping[str, float] | None = None,
    weighted: bool = False,
) -> gpd.GeoDataFrame:
    """One of :data:`LAYERS` as weighted points.

    Parameters
    ----------
    kind : str
        ``"incidents"``, ``"addresses"``, ``"visits"`` or ``"problem"``.
    incidents, addresses, visits : DataFrame, optional
        As :class:`~clic_geo.store.Store` returns them (``addresses`` needs
        ``cuckooing_status`` and ``status_since``). Only the ones the layer uses
        are needed.
    severity : mapping, optional
        Weight per category (default the settings' defaults).
    weighted : bool
        Weight the ``incidents`` layer by severity too (``problem`` always is).

    Returns
    -------
    GeoDataFrame
        Columns ``easting, northing, weight, category, month, occurred_at, area_id``.

    Raises
    ------
    ConfigError
        For an unknown layer or a missing input frame.
    """
    if kind not in LAYERS:
        raise ConfigError(f"unknown layer {kind!r}; expected one of {', '.join(LAYERS)}")
    sev = dict(DEFAULT_SEVERITY if severity is None else severity)
    other = sev.get(Category.OTHER, 0.25)
    parts: list[gpd.GeoDataFrame] = []

    def need(df: pd.DataFrame | None, what: str) -> pd.DataFrame:
        if df is None:
            raise ConfigError(f"the {kind!r} layer needs the {what} frame")
        return df

    if kind in ("incidents", "problem"):
        inc = need(incidents, "incidents")
        e, n = points_bng(inc)
        c_codes, c_uniq = pd.factorize(inc[Col.CATEGORY], use_na_sentinel=False)
        c_text = pd.Series(c_uniq, dtype=object).fillna(Category.OTHER.value).astype(str)
        cat = pd.Series(c_text.to_numpy(dtype=object)[c_codes], index=inc.index, dtype=str)
        w = (
            np.array([sev.get(c, other) for c in c_text], dtype="float64")[c_codes]
            if (weighted or kind == "problem")
            else np.ones(len(inc))
        )
        when = inc[Col.WHEN] if Col.WHEN in inc else pd.to_datetime(inc[Col.MONTH] + "-01")
        parts.append(_frame(e, n, w, cat, when, inc.get(Col.AREA)))
    if kind in ("addresses", "problem"):
        adr = need(addresses, "addresses")
        status = (
            adr[Col.STATUS].astype(str) if Col.STATUS in adr else pd.Series("", index=adr.index)
        )
        keep = status.isin([CuckooingStatus.CONFIRMED.value, CuckooingStatus.SUSPECTED.value])
        a = adr[keep.to_numpy()]
        e, n = points_bng(a)
        if kind == "problem":
            full = sev.get(Category.CUCKOOING_REPORT, 4.0)
            w = np.where(status[keep].to_numpy() == CuckooingStatus.CONFIRMED.value, full, full / 2)
        else:
            w = np.ones(len(a))
        since = a[Col.STATUS_SINCE] if Col.STATUS_SINCE in a else pd.Series(pd.NaT, index=a.index)
        parts.append(_frame(e, n, w, Category.CUCKOOING_REPORT.value, since, a.get(Col.AREA)))
    if kind == "visits":
        vis = need(visits, "visits")
        e, n = points_bng(vis)
        when = vis["visited_at"] if "visited_at" in vis else vis[Col.WHEN]
        parts.append(_frame(e, n, np.ones(len(vis)), "visit", when, vis.get(Col.AREA)))
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    keep = np.isfinite(out[Col.EASTING].to_numpy()) & np.isfinite(out[Col.NORTHING].to_numpy())
    if not keep.all():
        out = out[keep].reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84)
