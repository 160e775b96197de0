"""plan_day on the demo store, recording visits, exports, and the plan command."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date, datetime

import pandas as pd
import pytest

from clic_geo._errors import ConfigError
from clic_geo.cli import main
from clic_geo.demo.seeding import seed_demo
from clic_geo.geo.areas import load_areas
from clic_geo.planning.plan_service import DayRequest, day_candidates, plan_day
from clic_geo.planning.route_model import DayOptions
from clic_geo.planning.route_sheet import GPX_NS, route_gpx, route_sheet_html, write_route_csv
from clic_geo.planning.routing import plan_route
from clic_geo.settings import load_settings
from clic_geo.store import Store

DAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    settings = load_settings(tmp_path_factory.mktemp("store"))
    store = Store.open(settings)
    seed_demo(settings, store, today=DAY)
    yield settings, store, load_areas(settings.areas_dir)
    store.close()


def test_plan_day_on_the_demo_store(demo):
    _, store, areas = demo
    plan = plan_day(store, areas, DayRequest("barrow", DAY, hours_available=3))
    r = plan.route
    assert r.stops
    assert r.total_minutes <= 180
    assert sorted([s.id for s in r.stops] + [d.id for d in r.dropped]) == sorted(
        plan.candidates["id"]
    )
    assert r.start == (54.114, -3.2268)
    assert plan.start_name.startswith("Barrow police")
    top = plan.candidates.iloc[0]
    assert top["reasons"]
    assert top["priority"] > 0


def test_pins_exclusions_and_windows_reach_the_router(demo):
    _, store, areas = demo
    base = plan_day(store, areas, DayRequest("barrow", DAY))
    low = base.candidates.iloc[-1]["id"]
    first = base.route.stops[0].id
    req = DayRequest(
        "barrow", DAY, must_visit=frozenset({low}), exclude=frozenset({first}),
        windows={low: (datetime(2026, 1, 1, 12).time(), datetime(2026, 1, 1, 13).time())},
    )  # fmt: skip
    plan = plan_day(store, areas, req)
    s = next(x for x in plan.route.stops if x.id == low)
    assert s.must_visit
    assert 12 <= s.arrive_at.hour < 13
    assert next(d for d in plan.route.dropped if d.id == first).code == "excluded"


def test_start_point_outside_the_area(demo):
    _, store, areas = demo
    with pytest.raises(ConfigError, match=r"start point .* km outside Barrow"):
        plan_day(store, areas, DayRequest("barrow", DAY, start=(54.89, -2.93)))


def test_recorded_visit_feeds_the_next_days_priorities(demo):
    _, store, areas = demo
    before = plan_day(store, areas, DayRequest("barrow", DAY)).candidates.set_index("id")
    aid = before[(before["kind"] == "address") & (before["part_plan_due"] > 0)].index[0]
    version = store.data_version()
    vid = store.record_visit(
        visited_at=datetime(2026, 11, 22, 11, 0), outcome="Engaged", address_id=aid,
        support=["calling card", "HR kit"], referrals=["foodbank", "housing"],
    )  # fmt: skip
    assert store.data_version() == version + 1  # cached loaders refresh
    v = store.visits(start=date(2026, 11, 22)).set_index("id").loc[vid]
    assert v["outcome"] == "engaged"
    assert v["address_id"] == aid
    assert set(v["support"]) == {"calling_card", "harm_reduction_kit", "referral"}
    assert set(v["referrals"]) == {"food_bank", "housing"}
    after = plan_day(store, areas, DayRequest("barrow", DAY)).candidates.set_index("id")
    assert after.loc[aid, "part_plan_due"] == 0
    assert "last visited 1 day ago" in after.loc[aid, "reasons"]
    assert after.loc[aid, "priority"] < before.loc[aid, "priority"]


def test_day_candidates_are_what_plan_day_routes(demo):
    _, store, areas = demo
    req = DayRequest("kendal", DAY, visit_minutes={"address": 25, "incident": 5, "hotspot": 15})
    cands = day_candidates(store, areas.get("kendal"), req)
    plan = plan_day(store, areas, req)
    pd.testing.assert_frame_equal(cands, plan.candidates)
    assert set(cands.loc[cands["kind"] == "address", "visit_minutes"]) == {25}


def test_record_visit_rejects_unknown_values_and_writes_nothing(demo):
    _, store, _ = demo
    n = len(store.visits())
    with pytest.raises(ConfigError, match=r"unknown outcome 'partied'.*unknown referral"):
        store.record_visit(
            visited_at=datetime(2026, 11, 22), outcome="partied", latitude=54.11,
            longitude=-3.22, referrals=["spa day"],
        )  # fmt: skip
    with pytest.raises(ConfigError, match="no location"):
        store.record_visit(visited_at=datetime(2026, 11, 22), outcome="engaged")
    assert len(store.visits()) == n


def _route():
    stops = pd.DataFrame(
        {
            "id": ["a", "b"],
            "latitude": [54.115, 54.12],
            "longitude": [-3.225, -3.22],
            "priority": [10, 5],
            "visit_minutes": [15, 15],
            "must_visit": [False, True],
            "label": ["<script>alert(1)</script>", '=HYPERLINK("http://x")'],
            "kind": ["address", "hotspot"],
        }
    )
    return plan_route(stops, DayOptions(54.114, -3.2268, datetime(2026, 11, 23, 9, 30), 120))


def test_route_sheet_is_escaped_and_offline():
    html = route_sheet_html(_route(), title="Barrow <test>")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "Barrow &lt;test&gt;" in html
    assert "<svg" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        "=HYPERLINK(&quot;http://x&quot;)", ""
    )
    assert "src=" not in html
    assert "<link" not in html


def test_gpx_is_valid_gpx_11_without_labels(tmp_path):
    text = route_gpx(_route())
    root = ET.fromstring(text.encode())
    assert root.tag == f"{{{GPX_NS}}}gpx"
    assert root.get("version") == "1.1"
    assert len(root.findall(f"{{{GPX_NS}}}wpt")) == 2
    assert len(root.findall(f".//{{{GPX_NS}}}rtept")) == 4  # start, 2 stops, end
    assert "script" not in text
    assert "HYPERLINK" not in text
    assert "script" in route_gpx(_route(), include_labels=True)


def test_csv_is_formula_safe(tmp_path):
    path = write_route_csv(_route(), tmp_path / "route.csv")
    df = pd.read_csv(path, encoding="utf-8-sig")
    assert df.loc[df["id"] == "b", "label"].iloc[0].startswith("'=")


def test_cli_plan_json_contract(tmp_path, capsys):
    csv = tmp_path / "stops.csv"
    csv.write_text(
        "id,latitude,longitude,priority,visit_minutes,must_visit\n"
        "a,54.115,-3.225,10,15,no\nb,54.12,-3.22,5,15,yes\nc,,,3,10,no\n",
        encoding="utf-8",
    )
    rc = main([
        "plan", "--stops", str(csv), "--start", "54.114,-3.2268", "--minutes", "120",
        "--speed-kmh", "4.5", "--detour", "1.3", "--json",
        "--html", str(tmp_path / "r.html"), "--gpx", str(tmp_path / "r.gpx"),
    ])  # fmt: skip
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rc == 0
    assert [s["id"] for s in out["stops"]]
    assert {"a", "b"} == {s["id"] for s in out["stops"]}
    assert [d["id"] for d in out["dropped"]] == ["c"]
    assert out["total_minutes"] <= 120
    assert out["total_walk_m"] > 0
    assert (tmp_path / "r.html").exists()
    assert (tmp_path / "r.gpx").exists()


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--start", "nowhere"], "--start: expected LAT,LON"),
        (["--start", "54.114,-3.2268", "--minutes", "5"], "b alone needs"),
        (["--start", "54.114,-3.2268", "--detour", "0.2"], "detour factor"),
        (["--area", "barrow", "--start", "54.89,-2.93"], "km outside Barrow"),
    ],
    ids=["bad-start", "infeasible", "bad-detour", "start-outside-area"],
)
def test_cli_plan_errors_are_one_line(tmp_path, capsys, args, match):
    csv = tmp_path / "stops.csv"
    csv.write_text(
        "id,latitude,longitude,priority,visit_minutes,must_visit\nb,54.12,-3.22,5,15,yes\n",
        encoding="utf-8",
    )
    rc = main(["--data-dir", str(tmp_path), "plan", "--stops", str(csv), "--json", *args])
    err = capsys.readouterr().err.strip()
    assert rc != 0
    assert "\n" not in err
    assert match in err
    assert "Traceback" not in err


def test_cli_plan_from_the_store_and_record_visit(demo, capsys):
    settings, _, _ = demo
    dd = str(settings.data_dir)
    assert main(["--data-dir", dd, "plan", "--area", "barrow", "--date", "2026-11-23",
                 "--minutes", "120", "--json"]) == 0  # fmt: skip
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["stops"]
    assert out["total_minutes"] <= 120
    aid = out["stops"][0]["id"]
    assert main(["--data-dir", dd, "record-visit", "--address", aid, "--outcome", "no reply",
                 "--when", "2026-11-22 10:00", "--json"]) == 0  # fmt: skip
    vid = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["id"]
    assert vid in set(Store.open(settings).visits()["id"])
