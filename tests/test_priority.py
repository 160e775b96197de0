"""The priority model: named parts with known values, reasons in plain words."""

from __future__ import annotations

from datetime import date, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from clic_geo._errors import ConfigError
from clic_geo.geo import crs
from clic_geo.planning.priority import PARTS, PriorityWeights, build_candidates

DAY = date(2026, 11, 23)
E0, N0 = 320_000.0, 469_000.0  # Barrow


def ll(de: float, dn: float) -> tuple[float, float]:
    lon, lat = crs.to_wgs84([E0 + de], [N0 + dn])
    return float(lat[0]), float(lon[0])


def addresses(**over) -> pd.DataFrame:
    # id, metres east, status, protection plan, next visit due, SAFE alert
    rows = [
        ("a1", 0, "suspected", True, "2026-11-20", False),  # overdue plan, in hotspot H12
        ("a2", 3000, "none", False, None, True),  # SAFE alert only, far from everything
        ("a3", -3000, "none", False, None, False),  # not of concern: no candidate
    ]
    out = []
    for aid, dx, status, plan, due, safe in rows:
        lat, lon = ll(dx, 0)
        out.append(
            {
                "id": aid,
                "address": f"{aid} Test Street",
                "latitude": lat,
                "longitude": lon,
                "easting": E0 + dx,
                "northing": N0,
                "area_id": "barrow",
                "safe_alert": safe,
                "protection_plan": plan,
                "next_visit_due": pd.Timestamp(due) if due else pd.NaT,
                "notes": "SECRET: the man at number 4 deals",
                "cuckooing_status": status,
                "hardening": (),
            }
        )
    df = pd.DataFrame(out)
    for k, v in over.items():
        df[k] = v
    return df


def visits(*rows: tuple[str | None, str, float, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "visited_at": pd.Timestamp(when),
                "address_id": aid,
                "easting": E0 + dx,
                "northing": N0 + dy,
                "support": ("calling_card",),
                "referrals": (),
            }
            for aid, when, dx, dy in rows
        ],
        columns=["visited_at", "address_id", "easting", "northing", "support", "referrals"],
    )


def incidents(*rows: tuple[str, str, float, float, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "id": f"i{k}",
                "occurred_at": pd.Timestamp(when),
                "time_precision": precision,
                "category": cat,
                "easting": E0 + dx,
                "northing": N0 + dy,
                "latitude": ll(dx, dy)[0],
                "longitude": ll(dx, dy)[1],
                "area_id": "barrow",
                "location": "On or near Test Street",
                "notes": "SECRET incident note",
            }
            for k, (cat, when, dx, dy, precision) in enumerate(rows)
        ],
        columns=[
            "id", "occurred_at", "time_precision", "category", "easting", "northing",
            "latitude", "longitude", "area_id", "location", "notes",
        ],
    )  # fmt: skip


def hotspots() -> gpd.GeoDataFrame:
    polys = [
        shapely.Point(E0, N0).buffer(100),
        shapely.Point(E0 + 1000, N0 + 1000).buffer(100),
        shapely.Point(E0 - 1000, N0 + 1000).buffer(100),
        shapely.Point(E0 + 1000, N0 - 1000).buffer(100),
    ]
    return gpd.GeoDataFrame(
        {
            "hotspot_id": ["H12", "H3", "H7", "H9"],
            "rank": [1, 2, 3, 4],
            "score": [9.0, 5.0, 4.0, 3.0],
            "trend": ["intensifying", "historical", "persistent", "new"],
            "area_id": ["barrow"] * 4,
        },
        geometry=polys,
        crs=crs.BNG,
    ).to_crs(crs.WGS84)


def by_id(c: pd.DataFrame, i: str) -> pd.Series:
    return c.set_index("id").loc[i]


def test_parts_and_reasons_have_known_values():
    c = build_candidates(
        addresses(), visits(("a1", "2026-10-24 10:00", 0, 0)), incidents(), day=DAY,
        hotspots=hotspots(), area="barrow",
    )  # fmt: skip
    a1 = by_id(c, "a1")
    assert a1["part_plan_due"] == 40 + 3 * 3  # overdue by 3 days
    assert a1["part_status"] == 20  # suspected
    assert a1["part_since_visit"] == 0.5 * 30  # last visit 30 days ago
    assert a1["part_hotspot"] == 20 * 1.5 * 1.0  # inside rank-1 intensifying
    # H12 had no visit in the last 14 days: the whole coverage-gap weight
    assert a1["part_coverage_gap"] == 15
    assert a1["priority"] == pytest.approx(sum(a1[f"part_{p}"] for p in PARTS))
    assert a1["reasons"] == (
        "protection plan visit overdue by 3 days; cuckooing suspected; last visited 30 days "
        "ago; in hotspot #1 (intensifying); hotspot #1 had 0 visits in the last 14 "
        "days (4 wanted)"
    )
    assert "harm reduction kit" in a1["bring"]
    assert "protection plan review" in a1["bring"]
    a2 = by_id(c, "a2")
    assert a2["part_safe_alert"] == 5
    assert a2["part_since_visit"] == 30
    assert "no visit on record" in a2["reasons"]
    assert "a3" not in set(c["id"])
    assert (c["priority"].diff().dropna() <= 0).all()  # highest first


def test_reasons_never_quote_notes_or_addresses():
    inc = incidents(("threat_to_life", "2026-11-21 22:00", 500, 500, "minute"))
    c = build_candidates(addresses(), visits(), inc, day=DAY, hotspots=hotspots())
    assert (c["kind"] == "incident").any()
    text = " ".join(c["reasons"]) + " ".join(c["bring"])
    assert "SECRET" not in text
    assert "Test Street" not in text


def test_a_visit_near_the_due_date_counts_as_done():
    c = build_candidates(
        addresses(), visits(("a1", "2026-11-18 10:00", 0, 0)), incidents(), day=DAY
    )
    assert by_id(c, "a1")["part_plan_due"] == 0
    due_soon = addresses().assign(next_visit_due=pd.Timestamp("2026-11-25"))
    c = build_candidates(due_soon, visits(), incidents(), day=DAY)
    assert by_id(c, "a1")["part_plan_due"] == 15
    assert "protection plan visit due in 2 days" in by_id(c, "a1")["reasons"]


def test_coverage_gap_shrinks_with_recent_visits_in_the_hotspot():
    recent = visits(*[(None, f"2026-11-{d} 10:00", 20, 0) for d in (20, 21, 22)])
    c = build_candidates(addresses(), recent, incidents(), day=DAY, hotspots=hotspots())
    assert by_id(c, "a1")["part_coverage_gap"] == pytest.approx(15 * 1 / 4)
    assert "#1 had 3 visits in the last 14 days" in by_id(c, "a1")["reasons"]


def test_near_repeat_incidents_and_incident_candidates():
    inc = incidents(
        ("drug_supply", "2026-11-20 12:00", 50, 0, "minute"),  # 50 m from a1: near repeat
        ("threat_to_life", "2026-11-22 23:00", 1500, -1500, "day"),  # no address near
        ("drug_supply", "2026-11-01 12:00", 0, 0, "month"),  # month-only: ignored
        ("violence", "2026-10-01 12:00", 0, 0, "minute"),  # too old
    )
    c = build_candidates(addresses(), visits(), inc, day=DAY)
    a1 = by_id(c, "a1")
    assert a1["part_incidents"] == 2.0 * 3.0  # one drug supply (severity 3)
    assert "1 incident within 200 m in the last 14 days (drug supply)" in a1["reasons"]
    follow = c[c["kind"] == "incident"]
    assert len(follow) == 1
    f = follow.iloc[0]
    assert f["part_follow_up"] == pytest.approx(5.0 * 5.0 * (1 - 0.5 / 7), abs=0.005)  # 1 day
    assert f["reasons"].startswith("threat to life here yesterday")
    assert f["visit_minutes"] == 10
    assert f["label"] == "On or near Test Street"


def test_hotspot_walk_throughs_for_the_top_active_hotspots():
    c = build_candidates(addresses(), visits(), incidents(), day=DAY, hotspots=hotspots())
    walks = c[c["kind"] == "hotspot"]
    assert sorted(walks["id"]) == ["hotspot:H12", "hotspot:H7", "hotspot:H9"]  # H3 historical
    assert (walks["visit_minutes"] == 15).all()
    h7 = by_id(c, "hotspot:H7")
    assert h7["part_hotspot"] == pytest.approx(20 * 1.2 * 0.8)  # persistent, rank 3
    inside = gpd.GeoSeries(hotspots().set_index("hotspot_id").loc[["H7"]].geometry).iloc[0]
    assert inside.contains(shapely.Point(h7["longitude"], h7["latitude"]))


def test_weights_are_configurable_and_checked():
    c = build_candidates(
        addresses(), visits(), incidents(), day=DAY, weights=PriorityWeights(plan_due=100.0)
    )
    assert by_id(c, "a1")["part_plan_due"] == 100 + 9
    with pytest.raises(ConfigError, match="plan_due must be a number >= 0"):
        PriorityWeights(plan_due=-1.0)
    with pytest.raises(ConfigError, match="unknown trend"):
        PriorityWeights(trend_factor={"booming": 2.0})


def test_inputs_not_mutated_and_empty_inputs():
    a, v, i = addresses(), visits(), incidents()
    copies = (a.copy(), v.copy(), i.copy())
    build_candidates(a, v, i, day=DAY, hotspots=hotspots())
    for x, y in zip((a, v, i), copies, strict=True):
        pd.testing.assert_frame_equal(x, y)
    empty = build_candidates(a.iloc[:0], v, i, day=DAY)
    assert len(empty) == 0
    assert "priority" in empty.columns
    assert np.isfinite(build_candidates(a, v, i, day=datetime(2026, 11, 23))["priority"]).all()
