"""Saved plans: a planned day kept in the store per area and day, versions, audit, CLI."""

from __future__ import annotations

import json
from datetime import date, datetime, time

import pytest

from clic_geo._errors import PermissionDeniedError
from clic_geo.access.audit_log import read_audit
from clic_geo.access.auth import AuthPolicy, login
from clic_geo.cli import main
from clic_geo.demo.accounts import sync_demo_accounts
from clic_geo.demo.seeding import seed_demo
from clic_geo.geo.areas import load_areas
from clic_geo.planning.plan_service import DayRequest, plan_day
from clic_geo.planning.saved_plan_service import (
    latest_plan,
    open_plan,
    plan_from_json,
    plan_to_json,
    save_plan,
)
from clic_geo.settings import load_settings
from clic_geo.store import Store

DAY = date(2026, 11, 23)
OFFICER, PARTNER = ("demo-officer", "officer-demo-1clic"), ("demo-housing", "housing-demo-1clic")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    settings = load_settings(tmp_path_factory.mktemp("store"), demo=True)
    store = Store.open(settings)
    seed_demo(settings, store, today=DAY)
    policy = AuthPolicy.from_settings(settings, bcrypt_rounds=4)
    sync_demo_accounts(settings, store, policy=policy)
    areas = load_areas(settings.areas_dir)
    plan = plan_day(
        store,
        areas,
        DayRequest("barrow", DAY, start_time=time(10, 15), hours_available=3, exclude=frozenset()),
    )
    yield settings, store, areas, policy, plan
    store.close()


def _session(world, who=OFFICER):
    _, store, _, policy, _ = world
    return login(store, *who, policy=policy)


def test_the_json_round_trip_keeps_every_field(world) -> None:
    plan = world[-1]
    assert plan.route.stops and plan.route.dropped
    request, start_name, route = plan_from_json(*plan_to_json(plan))
    assert route == plan.route  # every stop, time, distance, reason and note
    assert request == plan.request
    assert start_name == plan.start_name
    assert isinstance(route.stops[0].arrive_at, datetime)


def test_save_then_open_gives_the_same_plan_and_versions_are_kept(world) -> None:
    _, store, areas, _, plan = world
    session = _session(world)
    assert open_plan(store, session, areas, "kendal", DAY) is None
    first = save_plan(store, session, plan, now=datetime(2026, 11, 22, 16, 0))
    opened = open_plan(store, session, areas, "barrow", DAY)
    assert opened is not None
    assert (opened.version, opened.versions, opened.made_by) == (
        first.version,
        first.version,
        "demo-officer",
    )
    assert opened.made_at == datetime(2026, 11, 22, 16, 0)
    assert opened.route == plan.route and opened.request == plan.request
    assert opened.area.id == "barrow" and opened.start_name == plan.start_name
    # re-plan with fewer hours: a new version; the earlier one is kept and can be opened
    shorter = plan_day(store, areas, DayRequest("barrow", DAY, hours_available=1.5))
    second = save_plan(store, session, shorter, now=datetime(2026, 11, 22, 17, 0))
    assert second.version == first.version + 1
    newest = open_plan(store, session, areas, "barrow", DAY)
    assert newest.version == second.version and newest.versions == second.version
    assert newest.route == shorter.route
    again = open_plan(store, session, areas, "barrow", DAY, version=first.version)
    assert again.route == plan.route
    assert latest_plan(store, session, areas).version == second.version
    assert latest_plan(store, session, areas, "kendal") is None
    # audited: who saved and opened which version, with counts and ids only
    log = read_audit(store, "cli")
    saves = log[log["action"] == "save_plan"]
    opens = log[log["action"] == "open_plan"]
    assert len(saves) >= 2 and len(opens) >= 3
    detail = saves.iloc[0]["detail"]
    assert detail == {
        "to": DAY.isoformat(),
        "version": second.version,
        "stops": len(shorter.route.stops),
    }
    assert set(saves["actor"]) == {"demo-officer"} and set(saves["area_id"]) == {"barrow"}
    labels = {s.label for s in plan.route.stops if s.label}
    text = log.to_json(date_format="iso")
    assert labels and not any(label in text for label in labels)


def test_a_partner_can_neither_save_nor_open_a_plan(world) -> None:
    _, store, areas, _, plan = world
    partner = _session(world, PARTNER)
    with pytest.raises(PermissionDeniedError):
        save_plan(store, partner, plan)
    with pytest.raises(PermissionDeniedError):
        open_plan(store, partner, areas, "barrow", DAY)
    with pytest.raises(PermissionDeniedError):
        latest_plan(store, partner, areas)
    log = read_audit(store, "cli", actor="demo-housing")
    refused = log[log["outcome"] == "denied"]
    assert {"save_plan", "open_plan"} <= set(refused["action"])


def test_cli_saves_and_shows_the_plan(world, capsys) -> None:
    settings, store, _, _, _ = world
    dd = str(settings.data_dir)
    day = "2026-11-24"
    assert main(["--data-dir", dd, "plan", "show", "--area", "carlisle", "--day", day]) == 1
    assert "no saved plan for carlisle on 2026-11-24" in capsys.readouterr().err
    args = ["--data-dir", dd, "plan", "--area", "carlisle", "--date", day, "--minutes", "90"]
    assert main([*args, "--save", "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    planned = json.loads(out[-1])
    assert "saved as version 1 of the plan for carlisle on 2026-11-24" in "\n".join(out)
    assert main([*args, "--save", "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    planned = json.loads(out[-1])  # the router may order a second plan differently
    assert "saved as version 2" in out[0]
    assert (
        main(["--data-dir", dd, "plan", "show", "--area", "carlisle", "--day", day, "--json"]) == 0
    )
    shown = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert shown["version"] == 2 and shown["made_by"] == "cli"
    assert [s["id"] for s in shown["stops"]] == [s["id"] for s in planned["stops"]]
    assert main(["--data-dir", dd, "plan", "show", "--area", "carlisle", "--day", day]) == 0
    text = capsys.readouterr().out
    assert (
        "version 2 of 2, saved by cli" in text
        and f"1. {planned['stops'][0]['arrive_at'][11:16]}" in text
    )
    log = read_audit(store, "cli", actor="cli")
    assert {"save_plan", "open_plan"} <= set(log["action"])


@pytest.mark.slow
def test_saved_plans_on_postgresql(pg_url, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CLIC_DATABASE_URL", pg_url)
    settings = load_settings(tmp_path / "data", demo=True)
    store = Store.open(settings)
    seed_demo(settings, store, today=DAY)
    sync_demo_accounts(settings, store, policy=AuthPolicy.from_settings(settings, bcrypt_rounds=4))
    areas = load_areas(settings.areas_dir)
    plan = plan_day(store, areas, DayRequest("kendal", DAY, hours_available=2))
    assert [save_plan(store, "cli", plan).version for _ in range(2)] == [1, 2]
    opened = open_plan(store, "cli", areas, "kendal", DAY)
    assert (opened.version, opened.versions) == (2, 2) and opened.route == plan.route
    assert latest_plan(store, "cli", areas).area.id == "kendal"
    store.close()
