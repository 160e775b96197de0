"""Partner-safe aggregates, ISA scopes and record-level access, on the demo store."""

from __future__ import annotations

import json
import logging
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from clic_geo._errors import ConfigError, PermissionDeniedError
from clic_geo.access import accounts, privacy
from clic_geo.access.audit import Action
from clic_geo.access.audit_log import read_audit, record_action
from clic_geo.access.auth import AuthPolicy, login
from clic_geo.access.identity import Session
from clic_geo.access.isa import Layer, get_isa_scope, set_isa_scope
from clic_geo.access.suppression import Line, Status
from clic_geo.demo.accounts import DEMO_ACCOUNTS, sync_demo_accounts
from clic_geo.demo.seeding import seed_demo
from clic_geo.geo.areas import load_areas
from clic_geo.geo.crs import to_bng
from clic_geo.settings import Settings, load_settings
from clic_geo.store import Store
from clic_geo.store.auth_tables import audit_log
from tests.attacks import assert_safe

TODAY = date(2026, 11, 22)
PW = {a.username: a.password for a in DEMO_ACCOUNTS}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Store, AuthPolicy]:
    """The demo store with demo accounts (seeded once for this module)."""
    d = tmp_path_factory.mktemp("privacy")
    settings = load_settings(d, demo=True, extra={"privacy": {"round_to": 1}})
    store = Store.open(settings)
    seed_demo(settings, store, today=TODAY)
    policy = AuthPolicy(bcrypt_rounds=4, demo=True)
    sync_demo_accounts(settings, store, policy=policy)
    yield settings, store, policy
    store.close()


def sign_in(world, username: str) -> Session:
    _, store, policy = world
    return login(store, username, PW[username], policy=policy)


def rounded(settings: Settings, r: int) -> Settings:
    return settings.with_(extra={"privacy": {"round_to": r}})


# ------------------------------------------------------------------ scope and roles


def test_partner_gets_only_its_scope(world) -> None:
    settings, store, _ = world
    s = sign_in(world, "demo-housing")
    t = privacy.partner_area_table(store, s, settings=settings, today=TODAY)
    assert set(t.frame["area_id"]) == {"barrow", "kendal"}
    scope = get_isa_scope(store, "demo-housing")
    assert set(t.frame["layer"]) == {str(x) for x in scope.layers}
    assert Layer.THREATS_TO_LIFE not in scope.layers
    assert list(t.frame.columns) == privacy.TABLE_COLUMNS


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"areas": ["carlisle"]}, "area 'carlisle' is outside"),
        ({"layers": ["threats_to_life"]}, "layer 'threats_to_life' is outside"),
        ({"organisation": "demo-nhs"}, "own organisation"),
    ],
    ids=["area", "layer", "other-org"],
)
def test_partner_refused_outside_scope(world, kwargs, match) -> None:
    settings, store, _ = world
    s = sign_in(world, "demo-housing")
    with pytest.raises(PermissionDeniedError, match=match):
        privacy.partner_area_table(store, s, settings=settings, today=TODAY, **kwargs)
    with store.engine.connect() as conn:
        last = conn.execute(sa.select(audit_log).order_by(audit_log.c.id.desc())).first()
    assert (last.action, last.outcome, last.actor) == ("view_aggregates", "denied", "demo-housing")


def test_partner_refused_grid_outside_scope(world) -> None:
    settings, store, _ = world
    s = sign_in(world, "demo-nhs")
    with pytest.raises(PermissionDeniedError, match="kendal"):
        privacy.partner_grid(
            store, s, "visits", "2026-Q2", settings=settings, areas=["kendal"], today=TODAY
        )


def test_partner_refused_record_level(world) -> None:
    _settings, store, _ = world
    s = sign_in(world, "demo-housing")
    for kind in privacy.RECORD_KINDS:
        with pytest.raises(PermissionDeniedError, match="partner account may not"):
            privacy.officer_records(store, s, kind, area="barrow")
    with pytest.raises(PermissionDeniedError):
        read_audit(store, s)
    with store.engine.connect() as conn:
        denied = conn.execute(
            sa.select(audit_log.c.action, audit_log.c.subject).where(
                audit_log.c.outcome == "denied", audit_log.c.actor == "demo-housing"
            )
        ).all()
    assert {("view_records", k) for k in privacy.RECORD_KINDS} <= set(denied)


def test_isa_scope_change_excludes_an_area(world) -> None:
    settings, store, _ = world
    admin = sign_in(world, "demo-admin")
    before = get_isa_scope(store, "demo-housing")
    try:
        set_isa_scope(
            store,
            "demo-housing",
            areas=["barrow"],
            layers=before.layers,
            reference=before.reference,
            actor=admin,
            known_areas=["barrow", "kendal", "carlisle"],
        )
        s = sign_in(world, "demo-housing")
        t = privacy.partner_area_table(store, s, settings=settings, today=TODAY)
        assert set(t.frame["area_id"]) == {"barrow"}
        with pytest.raises(PermissionDeniedError, match="kendal"):
            privacy.partner_area_table(store, s, settings=settings, areas=["kendal"], today=TODAY)
    finally:
        set_isa_scope(
            store,
            "demo-housing",
            areas=before.areas,
            layers=before.layers,
            reference=before.reference,
            actor="cli",
            known_areas=["barrow", "kendal"],
        )


def test_isa_scope_dates_limit_periods(world) -> None:
    settings, store, _ = world
    s = sign_in(world, "demo-nhs")  # data_from 2025-01-01
    t = privacy.partner_area_table(store, s, settings=settings, today=TODAY, years=[2024, 2025])
    assert len(t.frame)
    assert not t.frame["period"].str.startswith("2024").any()
    assert {"2025", "2025-Q1", "2025-01"} <= set(t.frame["period"])


def test_no_scope_no_access(world) -> None:
    settings, store, policy = world
    accounts.create_organisation(store, "probation-x", "Probation X", "probation", actor="cli")
    accounts.create_user(
        store,
        "pete",
        role="partner",
        organisation="probation-x",
        password="probation pass-phrase",
        actor="cli",
        policy=policy,
    )
    s = login(store, "pete", "probation pass-phrase", policy=policy)
    with pytest.raises(PermissionDeniedError, match="no information-sharing agreement"):
        privacy.partner_area_table(store, s, settings=settings, today=TODAY)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"areas": ["atlantis"]}, "unknown areas"),
        ({"layers": ["gossip"]}, "unknown layer"),
        ({"areas": []}, "no areas"),
        ({"data_from": date(2026, 1, 1), "data_to": date(2025, 1, 1)}, "after data_to"),
    ],
    ids=["area", "layer", "empty", "dates"],
)
def test_isa_scope_validation(world, kwargs, match) -> None:
    _, store, _ = world
    args = {"areas": ["barrow"], "layers": ["visits"]} | kwargs
    with pytest.raises(ConfigError, match=match):
        set_isa_scope(
            store, "demo-nhs", reference="x", actor="cli", known_areas=["barrow", "kendal"], **args
        )


def test_officer_previews_a_partner_view(world) -> None:
    settings, store, _ = world
    s = sign_in(world, "demo-officer")
    t = privacy.partner_area_table(
        store, s, settings=settings, organisation="demo-housing", today=TODAY
    )
    assert set(t.frame["area_id"]) == {"barrow", "kendal"}
    full = privacy.partner_scope(store, s, settings=settings)
    assert set(full.layers) == set(Layer)
    assert "carlisle" in full.areas


# ------------------------------------------------------------------ suppression on real output


def _truth(world, layer: str, area: str) -> pd.DataFrame:
    """Exact monthly counts from the officer's record-level view."""
    _, store, _ = world
    s = sign_in(world, "demo-officer")
    inc = privacy.officer_records(store, s, "incidents", area=area)
    cats = {
        "incidents_drugs": ("drug_supply", "drug_possession", "drugs"),
        "cuckooing_reports": ("cuckooing_report",),
    }[layer]
    inc = inc[inc["category"].isin(cats)]
    return inc


@pytest.mark.parametrize("layer", ["incidents_drugs", "cuckooing_reports"])
def test_table_counts_and_threshold(world, layer) -> None:
    settings, store, _ = world
    s = sign_in(world, "demo-housing")
    t = privacy.partner_area_table(
        store, s, settings=settings, layers=[layer], areas=["barrow"], today=TODAY
    ).frame
    inc = _truth(world, layer, "barrow")
    month_truth = inc["occurred_at"].dt.to_period("M").astype(str).value_counts()
    months = t[t["period_type"] == "month"]
    assert len(months) == 12 * 2 + 10  # 2024, 2025 and Jan-Oct 2026 (November is not over)
    for r in months.itertuples():
        n = int(month_truth.get(r.period, 0))
        if n < 10:
            assert (r.status, r.label, r.count) == ("fewer_than", "fewer than 10", pd.NA)
        else:
            assert (r.status, r.count) == ("shown", n)  # months are never withheld
    assert not t["label"].str.contains(r"^[1-9]$").any()
    shown = t[t["status"] == "shown"]
    assert (shown["count"] >= 10).all()


def test_threshold_and_rounding_settings(world) -> None:
    settings, store, _ = world
    s = sign_in(world, "demo-housing")
    t = privacy.partner_area_table(
        store,
        s,
        settings=rounded(settings, 5).with_(suppression_threshold=20),
        layers=["incidents_drugs"],
        areas=["kendal"],
        today=TODAY,
    ).frame
    shown = t[t["status"] == "shown"]
    assert len(shown)
    assert (shown["count"] % 5 == 0).all()
    assert (shown["count"] >= 20).all()
    assert set(t.loc[t["status"] == "fewer_than", "label"]) <= {"fewer than 20"}


def test_published_units_resist_attack(world) -> None:
    """Rebuild each (area, layer, year) publication with the true counts and attack it."""
    settings, store, _ = world
    s = sign_in(world, "demo-housing")
    checked = 0
    for layer in ("incidents_drugs", "cuckooing_reports"):
        inc = _truth(world, layer, "barrow")
        for year in (2024, 2025):
            t = privacy.partner_area_table(
                store,
                s,
                settings=settings,
                layers=[layer],
                areas=["barrow"],
                years=[year],
                today=TODAY,
            ).frame.set_index("period")
            ev = inc[inc["occurred_at"].dt.year == year]
            per_m = ev["occurred_at"].dt.month.value_counts()
            m = [int(per_m.get(i, 0)) for i in range(1, 13)]
            q = [sum(m[3 * i : 3 * i + 3]) for i in range(4)]
            values = [*m, *q, sum(q)]
            status = [Status(t.loc[f"{year}-{i:02d}", "status"]) for i in range(1, 13)]
            status += [Status(t.loc[f"{year}-Q{i}", "status"]) for i in range(1, 5)]
            status += [Status(t.loc[str(year), "status"])]
            lines = [Line(12 + i, (3 * i, 3 * i + 1, 3 * i + 2)) for i in range(4)]
            lines.append(Line(16, (12, 13, 14, 15)))
            # the squares of each quarter, as the partner's grid shows them
            for qi in range(4):
                g = privacy.partner_grid(
                    store,
                    s,
                    layer,
                    f"{year}-Q{qi + 1}",
                    settings=settings,
                    areas=["barrow"],
                    today=TODAY,
                ).cells
                e, n = ev["easting"].to_numpy(), ev["northing"].to_numpy()
                in_q = (ev["occurred_at"].dt.quarter == qi + 1).to_numpy()
                keys = pd.Series(list(zip(e[in_q] // 250, n[in_q] // 250, strict=True)))
                counts = keys.value_counts()
                start = len(values)
                for r in g.itertuples():
                    x, y = _cell_key(r.geometry)
                    values.append(int(counts.get((x, y), 0)))
                    status.append(Status(r.status))
                assert sum(values[start:]) == q[qi], "every event is in one square"
                lines.append(Line(12 + qi, tuple(range(start, len(values)))))
            p = type("P", (), {"status": np.array(status, dtype=object)})
            assert_safe(np.array(values), p, lines, nonzero_only=True)
            checked += 1
    assert checked == 4


def _cell_key(poly) -> tuple[int, int]:
    lon, lat = np.array(poly.exterior.coords).T
    e, n = to_bng(lon, lat)
    return round(e.min() / 250), round(n.min() / 250)


def test_grid_matches_table_and_is_squares_only(world) -> None:
    settings, store, _ = world
    s = sign_in(world, "demo-housing")
    g = privacy.partner_grid(store, s, "incidents_drugs", "2026-Q2", settings=settings, today=TODAY)
    t = privacy.partner_area_table(
        store, s, settings=settings, layers=["incidents_drugs"], years=[2026], today=TODAY
    ).frame
    tq = t[t["period"] == "2026-Q2"].set_index("area_id")
    for r in g.totals.itertuples():
        assert (r.status, r.label) == (tq.loc[r.area_id, "status"], tq.loc[r.area_id, "label"])
    assert set(g.cells.geom_type) == {"Polygon"}
    for poly in g.cells.geometry.iloc[::37]:
        lon, lat = np.array(poly.exterior.coords).T
        e, n = to_bng(lon, lat)
        assert np.allclose(e / 250, np.round(e / 250), atol=0.01)  # corners on the grid
        assert np.allclose(n / 250, np.round(n / 250), atol=0.01)
        assert round(e.max() - e.min()) == 250
    feats = json.loads(g.to_geojson())["features"]
    assert {f["geometry"]["type"] for f in feats} == {"Polygon"}
    assert g.cells["cell_id"].str.match(r"^[A-Z]{2} \d{4} \d{4}$").all()
    # the incomplete quarter has no squares
    assert privacy.partner_grid(
        store, s, "incidents_drugs", "2026-Q4", settings=settings, today=TODAY
    ).cells.empty


def test_grid_refuses_active_lines_and_bad_quarter(world) -> None:
    settings, store, _ = world
    s = sign_in(world, "demo-officer")
    with pytest.raises(ConfigError, match="no locations"):
        privacy.partner_grid(store, s, "active_county_lines", "2026-Q1", settings=settings)
    with pytest.raises(ConfigError, match=r"expected e\.g\."):
        privacy.partner_grid(store, s, "visits", "spring", settings=settings)


def test_active_lines_months_only(world) -> None:
    settings, store, _ = world
    s = sign_in(world, "demo-officer")
    t = privacy.partner_area_table(
        store,
        s,
        settings=settings.with_(suppression_threshold=1),
        layers=["active_county_lines"],
        areas=["barrow"],
        years=[2026],
        today=TODAY,
    ).frame
    assert set(t["period_type"]) == {"month"}
    truth = store.active_lines(date(2026, 3, 31), area="barrow")
    assert int(t.set_index("period").loc["2026-03", "count"]) == truth


# ------------------------------------------------------------------ nothing record-level leaks


def _sensitive_strings(store: Store) -> set[str]:
    out: set[str] = set()
    for frame, cols in (
        (store.addresses(), ["address", "notes", "id", "source_id"]),
        (store.visits(), ["notes", "officers", "id", "address_id"]),
        (store.incidents(), ["location", "notes", "source_id"]),
        (store.county_lines(), ["name", "notes"]),
    ):
        for c in cols:
            out |= {str(v) for v in frame[c].dropna() if len(str(v)) >= 6}
    return out


def test_partner_outputs_hold_no_record_level_values(world, tmp_path: Path) -> None:
    settings, store, _ = world
    texts, vertices = [], set()
    for user in ("demo-housing", "demo-nhs"):
        s = sign_in(world, user)
        scope = get_isa_scope(store, s.user.organisation_id)
        t = privacy.partner_area_table(store, s, settings=settings, today=TODAY)
        texts.append(t.frame.to_csv())
        for layer in scope.layers:
            if layer == Layer.ACTIVE_COUNTY_LINES:
                continue
            g = privacy.partner_grid(store, s, layer, "2026-Q3", settings=settings, today=TODAY)
            assert set(g.cells.columns) == {*privacy.GRID_COLUMNS, "geometry"}
            for f in json.loads(g.to_geojson())["features"]:
                texts.append(json.dumps(f["properties"]))
                assert f["geometry"]["type"] == "Polygon"
                vertices |= {(round(x, 6), round(y, 6)) for x, y in f["geometry"]["coordinates"][0]}
        p = privacy.partner_export_csv(
            store, s, tmp_path / f"{user}.csv", settings=settings, today=TODAY
        )
        texts.append(p.read_text(encoding="utf-8-sig"))
        p = privacy.partner_export_csv(
            store,
            s,
            tmp_path / f"{user}-grid.csv",
            settings=settings,
            grid_layer="visits",
            quarter="2026-Q3",
            today=TODAY,
        )
        texts.append(p.read_text(encoding="utf-8-sig"))
    blob = "\n".join(texts)
    # 1. no published field equals a record's address, note, location, name or id
    fields = set(re.split(r'[,\n"{}:]+', blob))
    assert not fields & _sensitive_strings(store)
    # 2. every word published comes from a small vocabulary (so no free text got in)
    areas = load_areas(settings.areas_dir)
    vocab = {w.lower() for a in areas for w in re.findall(r"[A-Za-z]+", f"{a.id} {a.name}")}
    vocab |= {w for x in Layer for w in str(x).split("_")}
    vocab |= {w for c in privacy.TABLE_COLUMNS + privacy.GRID_COLUMNS for w in c.split("_")}
    vocab |= {"shown", "fewer", "than", "withheld", "month", "quarter", "year", "q", "type", "null"}
    words = set(re.findall(r"[A-Za-z]+", blob))
    odd = {w for w in words if w.lower() not in vocab and not re.fullmatch(r"[A-HJ-Z]{2}", w)}
    assert odd == set()
    # 3. no decimal numbers at all outside the geometry
    assert not re.search(r"\d\.\d", blob), "no coordinates outside the geometry"
    # the only coordinates are square corners; no record's point is among them
    for frame in (store.incidents(), store.addresses(), store.visits()):
        points = set(zip(frame["longitude"].round(6), frame["latitude"].round(6), strict=True))
        assert not points & vertices


def test_officer_records_are_audited_without_values(world) -> None:
    _settings, store, _ = world
    s = sign_in(world, "demo-officer")
    df = privacy.officer_records(store, s, "addresses", area="barrow")
    assert len(df) > 0
    assert "address" in df.columns
    v = privacy.officer_records(
        store, s, "visits", area=["barrow", "kendal"], start=date(2026, 1, 1), end=date(2026, 6, 30)
    )
    assert v["visited_at"].min() >= pd.Timestamp("2026-01-01")
    record_action(store, s, Action.PLAN, area_id="barrow", detail={"stops": 12})
    log = read_audit(store, s)
    mine = log[log["actor"] == "demo-officer"]
    assert {"view_records", "plan"} <= set(mine["action"])
    vr = mine[(mine["action"] == "view_records") & (mine["subject"] == "addresses")].iloc[0]
    assert vr["area_id"] == "barrow"
    assert vr["detail"]["rows"] == len(df)
    with store.engine.connect() as conn:
        dump = "\n".join(str(tuple(r)) for r in conn.execute(sa.select(audit_log)))
    assert [x for x in _sensitive_strings(store) if x in dump] == []
    assert not re.search(r"5[45]\.\d{3,}|-[23]\.\d{3,}", dump), "no coordinates"
    for pw in PW.values():
        assert pw not in dump


def test_no_addresses_in_log_lines(world, caplog: pytest.LogCaptureFixture) -> None:
    settings, store, _ = world
    caplog.set_level(logging.DEBUG, logger="clic_geo")
    officer = sign_in(world, "demo-officer")
    privacy.officer_records(store, officer, "addresses", area="barrow")
    s = sign_in(world, "demo-housing")
    privacy.partner_area_table(store, s, settings=settings, today=TODAY)
    privacy.partner_grid(store, s, "visits", "2026-Q1", settings=settings, today=TODAY)
    text = caplog.text
    assert caplog.records
    assert [x for x in _sensitive_strings(store) if x in text] == []
    assert officer.token not in text
    assert s.token not in text
    for pw in PW.values():
        assert pw not in text


def test_sessions_are_checked(world) -> None:
    settings, store, _policy = world
    s = sign_in(world, "demo-housing")
    from clic_geo.access.auth import SessionExpiredError, logout

    logout(store, s)
    with pytest.raises(SessionExpiredError):
        privacy.partner_area_table(store, s, settings=settings, today=TODAY)
