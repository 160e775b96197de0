"""Importing addresses of concern, visits and county lines."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from clic_geo._errors import InputFileError
from clic_geo.ingest.importer import import_file

ADDR_HEADER = (
    "id,address,latitude,longitude,status,status date,safe alert,protection plan,"
    "next visit due,hardening,notes\n"
)


def run(path, settings, store, ctx, kind, **kw):
    r = import_file(path, kind, settings=settings, store=store, context=ctx, **kw)
    assert r.read == r.accepted + r.rejected + r.duplicates
    return r


def test_address_status_history_and_blank_means_no_change(write, settings, store, ctx) -> None:
    text = ADDR_HEADER + (
        "A1,Flat 2 Example Row,54.115,-3.227,suspected,01/02/2024,yes,yes,2026-11-25,"
        "spy hole 2024-02-10; CCTV,first note\n"
        "A1,,,,confirmed,2024-03-01,,,,,\n"
        "A1,,,,resolved,2024-09-01,,no,,Key chain (2024-03-05),\n"
    )
    r = run(write("a.csv", text), settings, store, ctx, "addresses")
    assert (r.accepted, r.rejected, r.duplicates) == (3, 0, 0)
    a = store.addresses().iloc[0]
    assert a["id"] == "local:A1" and a["address"] == "Flat 2 Example Row"
    assert a["cuckooing_status"] == "resolved"
    assert bool(a["safe_alert"]) is True  # blank cell kept the earlier yes
    assert bool(a["protection_plan"]) is False  # an explicit no changed it
    assert a["next_visit_due"] == pd.Timestamp("2026-11-25")
    assert a["notes"] == "first note"
    assert a["hardening"] == ("cctv", "key_chain", "spy_hole")
    assert a["area_id"] == "barrow"
    # status as of a date in the past
    past = store.addresses(as_of=date(2024, 3, 15)).iloc[0]
    assert past["cuckooing_status"] == "confirmed"
    assert past["hardening"] == ("cctv", "key_chain", "spy_hole")
    early = store.addresses(as_of=date(2024, 2, 5)).iloc[0]
    assert early["hardening"] == ("cctv",)  # undated, plus nothing fitted yet
    hist = store.address_status_history()
    assert hist["status"].tolist() == ["suspected", "confirmed", "resolved"]


def test_address_update_and_duplicate(write, settings, store, ctx) -> None:
    first = write("a.csv", ADDR_HEADER + "A1,1 Row,54.115,-3.227,suspected,2024-02-01,no,no,,,\n")
    assert run(first, settings, store, ctx, "addresses").accepted == 1
    again = run(first, settings, store, ctx, "addresses")
    assert (again.accepted, again.duplicates, again.updated) == (0, 1, 0)
    update = write("b.csv", ADDR_HEADER + "A1,,,,confirmed,2024-04-01,yes,,,,\n")
    r = run(update, settings, store, ctx, "addresses")
    assert (r.accepted, r.updated, r.duplicates) == (1, 1, 0)
    a = store.addresses().iloc[0]
    assert a["cuckooing_status"] == "confirmed" and bool(a["safe_alert"])


def test_hardening_columns_per_measure(write, settings, store, ctx) -> None:
    text = (
        "id,address,lat,lon,Spy hole,CCTV,Door chain,Warning notice\n"
        "A1,1 Row,54.115,-3.227,2024-01-05,yes,,no\n"
    )
    assert run(write("a.csv", text), settings, store, ctx, "addresses").accepted == 1
    h = store.hardening().sort_values("measure")
    assert h[["measure", "fitted_on"]].values.tolist() == [["cctv", ""], ["spy_hole", "2024-01-05"]]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("A1,1 Row,54.115,-3.227,cuckoo-ish,2024-01-01,,,,,\n", "unknown cuckooing status"),
        ("A1,1 Row,54.115,-3.227,confirmed,,,,,,\n", "needs a status date"),
        ("A1,1 Row,54.115,-3.227,,,perhaps,,,,\n", "expected yes/no"),
        ("A1,1 Row,54.115,-3.227,,,,,someday,,\n", "next visit due: not a date"),
        ("A1,1 Row,54.115,-3.227,,,,,,moat 2024-01-01,\n", "unknown hardening measure 'moat"),
        ("A9,,,,confirmed,2024-01-01,,,,,\n", "address id 'A9' has none in the store"),
        (
            "A1,1 Row,54.115,-3.227,confirmed,2099-01-01,,,,,\nA1,,,,resolved,2024-02-01,,,,,\n",
            "has none in the store or in an accepted earlier row",
        ),
    ],
    ids=[
        "status",
        "status-date",
        "flag",
        "due",
        "hardening",
        "unknown-id-no-location",
        "first-row-rejected",
    ],
)
def test_address_rejections(write, settings, store, ctx, row: str, reason: str) -> None:
    r = run(write("a.csv", ADDR_HEADER + row), settings, store, ctx, "addresses")
    assert r.rejected == row.count("\n")
    assert store.counts()["addresses"] == 0
    assert reason in store.rejects()["reason"].iloc[-1]


def test_addresses_without_ids_are_known_by_their_text(write, settings, store, ctx) -> None:
    header = "address,lat,lon,status,status date\n"
    run(
        write("a.csv", header + "1  Example Row ,54.115,-3.227,suspected,2024-01-01\n"),
        settings,
        store,
        ctx,
        "addresses",
    )
    r = run(
        write("b.csv", header + "1 example row,54.115,-3.227,confirmed,2024-02-01\n"),
        settings,
        store,
        ctx,
        "addresses",
    )
    assert (r.accepted, r.updated) == (1, 1)
    assert store.counts()["addresses"] == 1


VISIT_HEADER = (
    "visit id,date,address id,latitude,longitude,officers,outcome,support,referrals,notes\n"
)


def test_visits_placed_by_address_id_and_by_coordinates(write, settings, store, ctx) -> None:
    run(
        write("a.csv", ADDR_HEADER + "A1,1 Row,54.115,-3.227,confirmed,2024-01-01,,,,,\n"),
        settings,
        store,
        ctx,
        "addresses",
    )
    text = VISIT_HEADER + (
        "V1,2024-03-05 11:00,A1,,,PC 1 + TWC,engaged,Calling card; naloxone,Food bank; MH,\n"
        "V2,2024-03-05 12:00,,54.120,-3.234,PC 1 + TWC,no answer,card,,walk-through\n"
        "V3,2024-03-05 13:00,A404,,,PC 1,engaged,,,\n"
        "V4,2024-03-05 13:00,,,,PC 1,engaged,,,\n"
        "V5,2024-03-05 14:00,A1,,,PC 1,partied,hugs,space travel,\n"
    )
    r = run(write("v.csv", text), settings, store, ctx, "visits")
    assert (r.accepted, r.rejected) == (2, 3)
    v = store.visits().set_index("source_id")
    assert v.loc["V1", "address_id"] == "local:A1"
    assert v.loc["V1", "latitude"] == pytest.approx(54.115)
    assert v.loc["V1", "area_id"] == "barrow"
    assert v.loc["V1", "support"] == ("calling_card", "harm_reduction_kit", "referral")
    assert set(v.loc["V1", "referrals"]) == {"food_bank", "mental_health"}
    assert v.loc["V2", "outcome"] == "no_answer"
    reasons = store.rejects().sort_values("row")["reason"].tolist()
    assert "address id 'A404' is not in the store" in reasons[0]
    assert "no location (no address id" in reasons[1]
    assert "unknown outcome 'partied'" in reasons[2]
    assert "support: unknown value(s): 'hugs'" in reasons[2]
    assert "referrals: unknown value(s): 'space travel'" in reasons[2]


def test_visits_need_a_date_column(write, settings, store, ctx) -> None:
    with pytest.raises(InputFileError, match="no date column"):
        run(write("v.csv", "id,lat,lon\n1,54.1,-3.2\n"), settings, store, ctx, "visits")


def test_county_lines_active_on_a_date(write, settings, store, ctx) -> None:
    text = (
        "line id,line name,area,status,date\n"
        "L1,Line one,Barrow-in-Furness,active,2022-01-01\n"
        "L1,Line one,barrow,disrupted,2022-06-01\n"
        "L2,Line two,Kendal,active,2022-03-01\n"
        "L3,Line three,Atlantis,active,2022-03-01\n"
        "L4,Line four,Carlisle,dormant,2022-03-01\n"
    )
    r = run(write("l.csv", text), settings, store, ctx, "lines")
    assert (r.accepted, r.rejected) == (3, 2)
    assert store.active_lines(date(2021, 12, 31)) == 0
    assert store.active_lines(date(2022, 4, 1)) == 2
    assert store.active_lines(date(2022, 4, 1), area="barrow") == 1
    assert store.active_lines(date(2022, 7, 1)) == 1
    reasons = " ".join(store.rejects()["reason"])
    assert "unknown area 'Atlantis'" in reasons and "unknown line status 'dormant'" in reasons
    assert run(write("l.csv", text), settings, store, ctx, "lines").duplicates == 3
