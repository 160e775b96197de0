"""Read data.police.uk street-level files as canonical incidents, with no store.

The rows go through the ordinary reader and validator, exactly as an import would
take them; what is left out is counted in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from clic_geo._errors import ConfigError
from clic_geo.ingest.importer import validation_context
from clic_geo.ingest.readers import read_table
from clic_geo.ingest.validate import validate
from clic_geo.settings import load_settings

__all__ = ["load_police_uk"]

log = logging.getLogger(__name__)


def load_police_uk(
    paths: Sequence[str | Path],
    *,
    types: Sequence[str] | None = None,
    months: tuple[str, str] | None = None,
    settings: Any = None,
) -> gpd.GeoDataFrame:
    """Read data.police.uk street-level CSV files as canonical incidents (WGS84 points).

    Rows are validated as an import would (rows without a location or outside the
    service area are left out and counted in the log).

    Parameters
    ----------
    paths : sequence of path
    types : sequence of str, optional
        data.police.uk crime types to keep (e.g. ``["Drugs"]``), case-insensitive.
    months : (first, last), optional
        ``YYYY-MM`` bounds, inclusive.
    settings : Settings, optional
        For the service area and operating areas (default :func:`load_settings`).
    """
    if not paths:
        raise ConfigError("give at least one data.police.uk CSV file")
    ctx = validation_context(settings or load_settings())
    frames, rejected = [], 0
    for p in paths:
        v = validate(read_table(p), "incidents", ctx, source="police-uk", police_uk=True)
        frames.append(v.accepted)
        rejected += len(v.rejected)
    df = pd.concat(frames, ignore_index=True)
    if rejected:
        log.info("%d rows left out (no location or outside the service area)", rejected)
    if types:
        want = {t.strip().lower() for t in types}
        known = set(df["original_type"].str.lower())
        unknown = want - known
        if unknown == want:
            raise ConfigError(
                f"no rows of type {', '.join(sorted(types))}; the files have: "
                + ", ".join(sorted(df["original_type"].unique()))
            )
        df = df[df["original_type"].str.lower().isin(want)]
    if months:
        df = df[(df["month"] >= months[0]) & (df["month"] <= months[1])]
    df = df.reset_index(drop=True)
    return gpd.GeoDataFrame(
        df, geometry=gpd.points_from_xy(df["longitude"], df["latitude"]), crs="EPSG:4326"
    )
