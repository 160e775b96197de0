"""Importing incidents: every row accepted, rejected with its reason, or a duplicate."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest

from clic_geo._errors import InputFileError
from clic_geo.ingest.checks import map_headers
from clic_geo.ingest.importer import import_file
from clic_geo.ingest.readers import read_table
from clic_geo.ingest.validate import validate

HEADER = "ref,date,type,latitude,longitude,notes\n"
GOOD = "A1,2024-03-05 14:30,drug supply,54.1150,-3.2270,outside the shop\n"


def run(path, settings, store, ctx, kind="incidents", **kw):
    r = import_file(path, kind, settings=settings, store=store, context=ctx, **kw)
    assert r.read == r.accepted + r.rejected + r.duplicates
    return r


def one_row(write, settings, store, ctx, row: str, header: str = HEADER):
    return run(write("f.csv", header + row), settings, store, ctx)


def test_a_good_row_is_stored(write, settings, store, ctx) -> None:
    r = one_row(write, settings, store, ctx, GOOD)
    assert (r.read, r.accepted, r.rejected, r.duplicates) == (1, 1, 0, 0)
    inc = store.incidents()
    row = inc.iloc[0]
    assert row["id"] == "local:A1"
    assert row["category"] == "drug_supply"
    assert row["original_type"] == "drug supply"
    assert row["area_id"] == "barrow"
    assert row["time_precision"] == "minute"
    assert row["month"] == "2024-03"
    assert row["notes"] == "outside the shop"
    assert 319_000 < row["easting"] < 321_000 and 468_000 < row["northing"] < 470_000
    assert inc.crs.to_epsg() == 4326


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("A1,,drugs,54.115,-3.227,\n", "no date"),
        ("A1,31/02/2024,drugs,54.115,-3.227,\n", "not a valid date"),
        ("A1,03/25/2024,drugs,54.115,-3.227,\n", "looks month-first (US)"),
        ("A1,2027-01-01,drugs,54.115,-3.227,\n", "date is in the future"),
        ("A1,1995-01-01,drugs,54.115,-3.227,\n", "before 2000-01-01"),
        ("A1,2024-03-05,,54.115,-3.227,\n", "no category"),
        ("A1,2024-03-05,jaywalking,54.115,-3.227,\n", "unknown category 'jaywalking'"),
        ("A1,2024-03-05,drugs,,,\n", "no location"),
        ("A1,2024-03-05,drugs,north,west,\n", "latitude/longitude not understood"),
        ("A1,2024-03-05,drugs,0,0,\n", "location is 0, 0"),
        ("A1,2024-03-05,drugs,154.1,-3.2,\n", "out of range"),
        ("A1,2024-03-05,drugs,-3.227,54.115,\n", "latitude and longitude look swapped"),
        ("A1,2024-03-05,drugs,54.115,3.227,\n", "minus sign is missing"),
        ("A1,2024-03-05,drugs,51.5074,-0.1278,\n", "outside the service area (Cumbria)"),
        ("A1,2024-03-05,drugs,54.05,-2.80,\n", "outside the service area (Cumbria)"),
        ("A1,2024-03-05,drugs,54.115,-3.227," + "x" * 10_001 + "\n", "longer than 10,000"),
        ("A1,2024-03-05,drugs,54.115,-3.227,a,b\n", "fields but the header has 6"),
    ],
    ids=[
        "no-date",
        "bad-date",
        "us-date",
        "future",
        "too-old",
        "no-category",
        "unknown-category",
        "no-location",
        "coords-text",
        "zero-zero",
        "out-of-range",
        "swapped",
        "lost-minus",
        "london",
        "lancaster",
        "too-long",
        "ragged",
    ],
)
def test_each_rejection_reason(write, settings, store, ctx, row: str, reason: str) -> None:
    r = one_row(write, settings, store, ctx, row)
    assert (r.read, r.accepted, r.rejected) == (1, 0, 1)
    rej = store.rejects()
    assert reason in rej["reason"].iloc[0]
    assert rej["outcome"].iloc[0] == "rejected"
    assert json.loads(rej["raw"].iloc[0])["ref"] == "A1"
    assert store.counts()["incidents"] == 0


def test_several_problems_in_one_row_are_all_reported(write, settings, store, ctx) -> None:
    r = one_row(write, settings, store, ctx, "A1,someday,jaywalking,,,\n")
    reason = store.rejects()["reason"].iloc[0]
    assert r.rejected == 1
    for part in ("not a date: 'someday'", "unknown category", "no location"):
        assert part in reason


@pytest.mark.parametrize(
    ("header", "row"),
    [
        (
            "Reference,Occurred,Crime type,Lat,Lng,Description\n",
            "A1,05/03/2024,Drugs,54.115,-3.227,x\n",
        ),
        (
            "ID;DATETIME;CATEGORY;LATITUDE;LONGITUDE;NOTES\n",
            "A1;05/03/2024;drugs;54,115;-3,227;x\n",
        ),
        ("id,date,type,easting,northing\n", "A1,2024-03-05,drugs,319700,468500\n"),
        ("id,date,type,Eastings,Northings\n", 'A1,2024-03-05,drugs,"319,700","468,500"\n'),
        ("id,date,type,grid_ref\n", "A1,2024-03-05,drugs,SD 1970 6850\n"),
        ("Incident ID,When,Offence,OS Grid Reference\n", "A1,45356,PWITS,SD1970068500\n"),
    ],
    ids=["aliases", "semicolon-decimal-comma", "bng", "bng-thousands", "grid-ref", "serial-date"],
)
def test_header_aliases_and_location_forms(write, settings, store, ctx, header, row) -> None:
    r = one_row(write, settings, store, ctx, row, header=header)
    assert (r.accepted, r.rejected) == (1, 0), store.rejects()["reason"].tolist()
    inc = store.incidents().iloc[0]
    assert inc["area_id"] == "barrow"
    assert 54.10 < inc["latitude"] < 54.13 and -3.24 < inc["longitude"] < -3.21


def test_swapped_eastings_and_northings(write, settings, store, ctx) -> None:
    r = one_row(
        write,
        settings,
        store,
        ctx,
        "A1,2024-03-05,drugs,468500,319700\n",
        header="id,date,type,easting,northing\n",
    )
    assert r.rejected == 1
    assert "easting and northing look swapped" in store.rejects()["reason"].iloc[0]


def test_map_headers_prefers_first_match_and_reports_rest() -> None:
    mapping, rest = map_headers(["Lat", "Latitude", "Long", "When", "Type", "Colour"], "incidents")
    assert mapping == {"date": "When", "category": "Type", "lat": "Lat", "lon": "Long"}
    assert rest == ["Latitude", "Colour"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,date,type,notes\n1,2024-01-01,drugs,x\n", "no usable location columns"),
        ("id,type,lat,lon\n1,drugs,54.1,-3.2\n", "no date column"),
        ("id,date,lat,lon\n1,2024-01-01,54.1,-3.2\n", "no category column"),
        ("", "the file is empty"),
    ],
    ids=["no-location-columns", "no-date-column", "no-category-column", "empty"],
)
def test_whole_file_errors_import_nothing(write, settings, store, ctx, content, message) -> None:
    with pytest.raises(InputFileError, match=message):
        run(write("f.csv", content), settings, store, ctx)
    assert store.is_empty()


def test_reimporting_the_same_file_adds_nothing(write, settings, store, ctx) -> None:
    p = write("f.csv", HEADER + GOOD + "A2,2024-03-06,violence,54.116,-3.228,\n")
    first = run(p, settings, store, ctx)
    again = run(p, settings, store, ctx)
    assert (first.accepted, first.duplicates) == (2, 0)
    assert (again.accepted, again.duplicates) == (0, 2)
    assert store.counts()["incidents"] == 2
    # and a differently encoded copy of the same rows is recognised too
    q = write("g.csv", (HEADER + GOOD).replace(",", ";"), encoding="cp1252")
    assert run(q, settings, store, ctx).duplicates == 1


def test_same_id_twice_in_a_file(write, settings, store, ctx) -> None:
    r = one_row(write, settings, store, ctx, GOOD + GOOD.replace("drug supply", "violence"))
    assert (r.accepted, r.duplicates) == (1, 1)
    assert "duplicate of row 2 in this file" in store.rejects()["reason"].iloc[0]


def test_ids_are_namespaced_by_source(write, settings, store, ctx) -> None:
    p = write("f.csv", HEADER + GOOD)
    run(p, settings, store, ctx, source="rms")
    r = run(p, settings, store, ctx, source="team-sheet")
    assert r.accepted == 1
    assert sorted(store.incidents()["id"]) == ["rms:A1", "team-sheet:A1"]


def test_rows_without_ids_fingerprint_by_content_and_occurrence(
    write, settings, store, ctx
) -> None:
    # data.police.uk ASB rows have no id, and identical rows are separate incidents
    header = "date,type,lat,lon\n"
    rows = "2024-03,asb,54.115,-3.227\n" * 3 + "2024-03,asb,54.116,-3.228\n"
    p = write("f.csv", header + rows)
    first = run(p, settings, store, ctx)
    assert (first.accepted, first.duplicates) == (4, 0)
    assert run(p, settings, store, ctx).duplicates == 4
    # a later download of the month with one more identical report adds exactly one
    q = write("g.csv", header + rows + "2024-03,asb,54.115,-3.227\n")
    r = run(q, settings, store, ctx)
    assert (r.accepted, r.duplicates) == (1, 4)


def test_rejects_file_keeps_original_values_and_is_formula_safe(
    write, settings, store, ctx
) -> None:
    p = write(
        "f.csv", HEADER + GOOD + GOOD + "=cmd|' /C calc'!A0,2024-03-05,drugs,0,0,\"@SUM(1)\"\n"
    )
    r = run(p, settings, store, ctx)
    assert (r.accepted, r.rejected, r.duplicates) == (1, 1, 1)
    with open(r.rejects_path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [x["import_outcome"] for x in rows] == ["duplicate", "rejected"]
    assert rows[0]["ref"] == "A1" and rows[0]["notes"] == "outside the shop"
    assert rows[1]["ref"].startswith("'=cmd")
    assert rows[1]["notes"] == "'@SUM(1)"
    assert rows[1]["file_row"] == "4"
    # the store keeps the text exactly as given
    raw = json.loads(store.rejects().query("outcome == 'rejected'")["raw"].iloc[0])
    assert raw["ref"].startswith("=cmd")


def test_unused_columns_are_kept_as_attributes(write, settings, store, ctx) -> None:
    r = one_row(
        write,
        settings,
        store,
        ctx,
        "A1,2024-03-05,drugs,54.115,-3.227,x,LSOA1\n",
        header="id,date,type,lat,lon,notes,lsoa code\n",
    )
    assert r.accepted == 1
    assert json.loads(store.incidents()["attributes"].iloc[0]) == {"lsoa code": "LSOA1"}
    assert any("attributes" in n for n in r.notes)


def test_text_stored_exactly_as_given(write, settings, store, ctx) -> None:
    note = "<img src=x onerror=alert(1)> & 'quotes' \"double\""
    one_row(
        write,
        settings,
        store,
        ctx,
        f'A1,2024-03-05,drugs,54.115,-3.227,"{note.replace(chr(34), chr(34) * 2)}"\n',
    )
    assert store.incidents()["notes"].iloc[0] == note


def test_police_uk_mode_requires_the_published_columns(write, ctx) -> None:
    raw = read_table(write("f.csv", HEADER + GOOD))
    with pytest.raises(InputFileError, match=r"not a data\.police\.uk street-level file"):
        validate(raw, "incidents", ctx, source="police-uk", police_uk=True)


def test_police_uk_row_mapping(write, settings, store, ctx) -> None:
    text = (
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
        "LSOA name,Crime type,Last outcome category,Context\n"
        "abc123,2024-01,Cumbria Constabulary,Cumbria Constabulary,-3.227,54.115,On or near X,"
        "E01,Barrow 001A,Drugs,Under investigation,\n"
        ",2024-01,Cumbria Constabulary,Cumbria Constabulary,-3.227,54.115,On or near X,E01,"
        "Barrow 001A,Anti-social behaviour,,\n"
        "def456,2024-01,Cumbria Constabulary,Cumbria Constabulary,-3.227,54.115,On or near X,"
        "E01,Barrow 001A,Bicycle theft,Unable to prosecute,\n"
    )
    r = import_file(
        write("2024-01-cumbria-street.csv", text),
        "incidents",
        settings=settings,
        store=store,
        context=ctx,
        source="police-uk",
        police_uk=True,
    )
    assert r.accepted == 3
    inc = store.incidents().set_index("original_type")
    assert inc.loc["Drugs", "category"] == "drugs"
    assert inc.loc["Anti-social behaviour", "category"] == "anti_social_behaviour"
    assert inc.loc["Bicycle theft", "category"] == "other"
    assert (inc["time_precision"] == "month").all()
    assert inc.loc["Drugs", "location"] == "On or near X"
    assert (
        json.loads(inc.loc["Drugs", "attributes"])["Last outcome category"] == "Under investigation"
    )


def test_import_report_to_dict_has_the_contract_keys(write, settings, store, ctx) -> None:
    d = one_row(write, settings, store, ctx, GOOD).to_dict()
    for key in ("read", "accepted", "rejected", "duplicates", "rejects_path"):
        assert key in d
    assert d["columns"]["date"] == "date"


def test_large_file_takes_the_fast_path_and_accounts_for_every_row(write, settings, store, ctx):
    rows = [HEADER.strip()]
    for i in range(3000):
        where = "0,0" if i % 100 == 0 else f"{54.10 + (i % 40) * 0.001:.4f},-3.22"
        rows.append(f"R{i},2024-03-{1 + i % 28:02d},violence,{where},")
    r = run(write("big.csv", "\n".join(rows) + "\n"), settings, store, ctx)
    assert (r.read, r.accepted, r.rejected) == (3000, 2970, 30)
    assert r.reasons == {"location is 0, 0 (a missing location written as zero)": 30}
    assert len(pd.read_csv(r.rejects_path)) == 30
