"""Single-value parsers: dates, numbers, coordinates, flags, lists; OS grid references."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clic_geo._errors import CRSError
from clic_geo.geo import crs as geo
from clic_geo.ingest.parse import (
    parse_bool,
    parse_coordinate,
    parse_dates,
    parse_list,
    parse_number,
)
from clic_geo.vocab import SUPPORT_ALIASES


@pytest.mark.parametrize(
    ("text", "expected", "precision"),
    [
        ("2024-03-05", "2024-03-05 00:00", "day"),
        ("2024-03-05T14:30", "2024-03-05 14:30", "minute"),
        ("2024-03-05 14:30:59", "2024-03-05 14:30", "minute"),
        ("2024-07-01T12:00:00Z", "2024-07-01 13:00", "minute"),  # BST
        ("2024-01-01T12:00:00+01:00", "2024-01-01 11:00", "minute"),
        ("2024-03", "2024-03-01 00:00", "month"),
        ("03/2024", "2024-03-01 00:00", "month"),
        ("05/03/2024", "2024-03-05 00:00", "day"),
        ("5/3/24", "2024-03-05 00:00", "day"),
        ("05.03.2024 14:30", "2024-03-05 14:30", "minute"),
        ("05-03-2024", "2024-03-05 00:00", "day"),
        ("45356", "2024-03-05 00:00", "day"),
        ("45356.5", "2024-03-05 12:00", "minute"),
        ("5 March 2024", "2024-03-05 00:00", "day"),
        ("05-Mar-24", "2024-03-05 00:00", "day"),
        ("March 2024", "2024-03-01 00:00", "month"),
        ("Mar-24", "2024-03-01 00:00", "month"),
    ],
)
def test_dates_understood(text: str, expected: str, precision: str) -> None:
    p = parse_dates(pd.Series([text]))
    assert p.error.iloc[0] == ""
    assert p.when.iloc[0].strftime("%Y-%m-%d %H:%M") == expected
    assert p.precision.iloc[0] == precision


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "missing"),
        ("yesterday", "not a date: 'yesterday'"),
        ("31/02/2024", "not a valid date"),
        ("03/25/2024", "looks month-first (US); write it as 25/03/2024"),
        ("2024-13-01", "not a valid date"),
        ("2024", "Excel date number it is out of range"),
        ("2024-14", "not a valid month"),
    ],
)
def test_dates_rejected_with_reason(text: str, message: str) -> None:
    p = parse_dates(pd.Series([text]))
    assert message in p.error.iloc[0]
    assert pd.isna(p.when.iloc[0])


def test_dates_outside_plausible_range() -> None:
    p = parse_dates(
        pd.Series(["1999-12-31", "2026-11-23", "2026-11-24"]),
        earliest=date(2000, 1, 1),
        latest=datetime(2026, 11, 23, 12, 0),
    )
    assert "before 2000-01-01" in p.error.iloc[0]
    assert p.error.iloc[1] == ""
    assert "in the future" in p.error.iloc[2]


def test_month_only_truncates() -> None:
    p = parse_dates(pd.Series(["2024-03-05 14:00", "2024-04"]), month_only=True)
    assert [t.strftime("%Y-%m-%d") for t in p.when] == ["2024-03-01", "2024-04-01"]
    assert list(p.precision) == ["month", "month"]


def test_numbers_decimal_comma_and_thousands() -> None:
    s = pd.Series(["54,1234", "319,684", "319684,5", "-3.2", "x", ""])
    assert parse_number(s).round(4).tolist()[:4] == [54.1234, 319.684, 319684.5, -3.2]
    en = parse_number(s, thousands=True)
    assert en.iloc[1] == 319684.0
    assert en.iloc[4:].isna().all()


@pytest.mark.parametrize(
    ("text", "axis", "value"),
    [
        ("54.1115", "lat", 54.1115),
        ("54,1115", "lat", 54.1115),
        ("54.1115N", "lat", 54.1115),
        ("3.228 W", "lon", -3.228),
        ("W3.228", "lon", -3.228),
        ("54°06'41.4\"N", "lat", 54 + 6 / 60 + 41.4 / 3600),
        ("3°13'40\" W", "lon", -(3 + 13 / 60 + 40 / 3600)),
        ("\u22123.228", "lon", -3.228),
    ],
)
def test_coordinates(text: str, axis: str, value: float) -> None:
    assert parse_coordinate(pd.Series([text]), axis=axis).iloc[0] == pytest.approx(value)


@pytest.mark.parametrize(("text", "axis"), [("54.1N", "lon"), ("3.2E", "lat"), ("abc", "lat")])
def test_coordinates_wrong_hemisphere_or_text(text: str, axis: str) -> None:
    assert np.isnan(parse_coordinate(pd.Series([text]), axis=axis).iloc[0])


def test_bool_and_list() -> None:
    value, ok = parse_bool(pd.Series(["Yes", "n", "", "maybe", "✓"]))
    assert value.tolist() == [True, False, False, False, True]
    assert ok.tolist() == [True, True, True, False, True]
    codes, err = parse_list(
        pd.Series(["Calling card; HR kit", "naloxone, calling card, naloxone", "teddy bear", ""]),
        SUPPORT_ALIASES,
    )
    assert codes.tolist() == [
        ("calling_card", "harm_reduction_kit"),
        ("harm_reduction_kit", "calling_card"),
        (),
        (),
    ]
    assert err.tolist()[2] == "unknown value(s): 'teddy bear'"


@pytest.mark.parametrize(
    ("ref", "e", "n"),
    [
        ("SD 19684 68935", 319684.5, 468935.5),
        ("sd1968468935", 319684.5, 468935.5),
        ("NY 40 55", 340500.0, 555500.0),
        ("NY 400 550", 340050.0, 555050.0),
        ("SV 00000 00000", 0.5, 0.5),
        ("HP 60000 10000", 460000.5, 1210000.5),
    ],
)
def test_grid_refs(ref: str, e: float, n: float) -> None:
    ge, gn = geo.parse_grid_refs(pd.Series([ref]))
    assert (ge[0], gn[0]) == (e, n)


@pytest.mark.parametrize("ref", ["SD 1968 689", "XX 123 456", "SD", "12345 67890", "IA 10 10"])
def test_bad_grid_refs(ref: str) -> None:
    ge, _ = geo.parse_grid_refs(pd.Series([ref]))
    assert np.isnan(ge[0])


@given(
    st.floats(min_value=1, max_value=699_999, allow_nan=False),
    st.floats(min_value=1, max_value=1_299_999, allow_nan=False),
)
def test_grid_ref_round_trip(e: float, n: float) -> None:
    ref = geo.format_grid_ref(e, n)
    ge, gn = geo.parse_grid_refs(pd.Series([ref]))
    assert abs(ge[0] - e) <= 1 and abs(gn[0] - n) <= 1


def test_format_grid_ref_outside_grid() -> None:
    with pytest.raises(CRSError, match="outside the British National Grid"):
        geo.format_grid_ref(-5, 10)


def test_projection_round_trip_at_grid_edges() -> None:
    # Barrow, Carlisle, and points near the grid's corners (Scilly, Shetland, Lowestoft)
    lon = np.array([-3.228, -2.934, -6.3, -1.2, 1.75])
    lat = np.array([54.1115, 54.892, 49.9, 60.7, 52.48])
    e, n = geo.to_bng(lon, lat)
    assert (e > 0).all() and (e < 700_000).all() and (n > 0).all() and (n < 1_300_000).all()
    lo, la = geo.to_wgs84(e, n)
    assert np.allclose(lo, lon, atol=1e-7) and np.allclose(la, lat, atol=1e-7)
    assert round(e[0] / 1000) == 320 and round(n[0] / 1000) == 469


@pytest.mark.parametrize("crs", [None, "EPSG:4326", "EPSG:3857", "nonsense"])
def test_check_projected_refuses_non_bng(crs) -> None:
    with pytest.raises(CRSError, match=r"to_crs\('EPSG:27700'\)"):
        geo.check_projected(crs)


def test_check_projected_accepts_bng() -> None:
    geo.check_projected("EPSG:27700")
