"""The meeting pack: self-contained, the partner view holds nothing record-level, escaped."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from clic_geo._errors import ConfigError, NotFoundError, PermissionDeniedError
from clic_geo.access import privacy
from clic_geo.access.audit import Action
from clic_geo.access.audit_log import read_audit
from clic_geo.access.auth import AuthPolicy, login
from clic_geo.access.identity import Session
from clic_geo.access.isa import get_isa_scope, set_isa_scope
from clic_geo.access.partner_evaluation import evaluation_dates, share_evaluation_date
from clic_geo.cli import main
from clic_geo.demo.accounts import DEMO_ACCOUNTS, sync_demo_accounts
from clic_geo.demo.seeding import seed_demo
from clic_geo.reporting.pack_service import build_meeting_pack
from clic_geo.settings import REPO_ROOT, Settings, load_settings
from clic_geo.store import Store
from tests.leaks import MARK, Secrets, result_text, scan, seed_marked, store_secrets
from tests.test_app import app_env, demo_store, run  # noqa: F401 - fixtures
from tests.test_cli import cli, last_json

TODAY = date(2026, 11, 22)
PW = {a.username: a.password for a in DEMO_ACCOUNTS}
XSS_AREA = '<script>window.__xss=1</script>Barrow "&" <img src=x onerror=alert(1)>'
XSS_REF = '<img src=x onerror="window.__xss=1"> ISA-1 \' " &'
PERIOD = {"start": "2025-10", "end": "2026-09"}
SHARED = {"barrow": date(2026, 3, 1), "kendal": date(2026, 1, 1), "carlisle": date(2025, 9, 1)}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    """The demo store with demo accounts and marked rows; Barrow's name is a script."""
    d = tmp_path_factory.mktemp("pack") / "store"
    shutil.copytree(REPO_ROOT / "boundaries", d / "boundaries")
    f = d / "boundaries" / "areas" / "barrow.geojson"
    feat = json.loads(f.read_text())
    feat["properties"]["name"] = XSS_AREA
    f.write_text(json.dumps(feat))
    settings = load_settings(d, demo=True)
    store = Store.open(settings)
    seed_demo(settings, store, today=TODAY)
    policy = AuthPolicy(bcrypt_rounds=4, demo=True)
    sync_demo_accounts(settings, store, policy=policy)
    seed_marked(settings, store, d)
    for area, since in SHARED.items():  # evaluation dates the officers shared with partners
        share_evaluation_date(store, "cli", settings=settings, area=area, since=since)
    yield settings, store, policy, store_secrets(store)
    store.close()


def sign_in(world, username: str) -> Session:
    _, store, policy, _ = world
    return login(store, username, PW[username], policy=policy)


def pack(world, username: str, **kw) -> str:
    settings, store, _, _ = world
    args = {"area": "barrow", **PERIOD, "since": date(2026, 3, 1), "today": TODAY, **kw}
    return build_meeting_pack(store, sign_in(world, username), settings=settings, **args)


# ------------------------------------------------------------------ self-contained

ALLOWED_TAGS = {
    *("html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "strong"),
    *("table", "thead", "tbody", "tr", "th", "td", "div", "span", "i"),
    *("svg", "rect", "line", "text", "path"),
}


def _tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    """Every tag and its attributes, as a browser's parser sees them."""
    out: list[tuple[str, dict[str, str | None]]] = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            out.append((tag, dict(attrs)))

    P().feed(page)
    return out


@pytest.mark.parametrize(
    ("user", "kw"),
    [("demo-officer", {}), ("demo-housing", {}), ("demo-officer", {"organisation": "demo-nhs"})],
    ids=["officer", "partner", "officer-previews-partner"],
)
def test_pack_is_one_self_contained_page(world, user: str, kw: dict) -> None:
    page = pack(world, user, **kw)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    low = page.lower()
    # nothing to fetch: no address of anything elsewhere, no script, no linked file
    assert "http://" not in low and "https://" not in low and "//" not in re.sub(r"\s", "", low)
    assert "<script" not in low and "<link" not in low and "<iframe" not in low
    assert "@import" not in low and "url(" not in low
    tags = _tags(page)
    assert not [t for t in tags if {"src", "href", "xlink:href", "srcset"} & set(t[1])]
    assert {t[0] for t in tags} <= ALLOWED_TAGS
    assert "content-security-policy" in low and "default-src 'none'" in low
    # charts and a map, drawn inline
    assert low.count("<svg") >= 2
    assert "<rect" in low and "<path" in low
    assert "before and after" in low and "figures" in low


def test_officer_pack_has_the_officer_view(world) -> None:
    page = pack(world, "demo-officer")
    assert "Incidents per month, by category" in page
    assert "Hotspots by trend category" in page and "Map: hotspot outlines by trend" in page
    assert "Vulnerability visits" in page and "Per month before" in page
    # one row per month of the period in the monthly table
    for m in pd.period_range("2025-10", "2026-09", freq="M"):
        assert f"<td>{m}</td>" in page


# ------------------------------------------------------------------ nothing record-level


@pytest.mark.parametrize(
    ("user", "area", "kw"),
    [
        ("demo-housing", "barrow", {}),
        ("demo-housing", "kendal", {}),
        ("demo-nhs", "barrow", {}),
        ("demo-nhs", "carlisle", {}),
        ("demo-officer", "barrow", {"organisation": "demo-housing"}),
    ],
    ids=["housing-barrow", "housing-kendal", "nhs-barrow", "nhs-carlisle", "preview"],
)
def test_partner_pack_holds_no_record_level_values(world, user, area, kw) -> None:
    secrets: Secrets = world[3]
    assert len(secrets.texts) > 100 and len(secrets.pairs) > 10_000
    page = pack(world, user, area=area, **kw)
    assert MARK not in page
    assert scan(page, secrets) == []
    # the partner view has no decimal number outside the drawing (no coordinate)
    text = re.sub(r"<svg.*?</svg>", "", page, flags=re.S)
    text = re.sub(r"<style>.*?</style>", "", text, flags=re.S)
    assert not re.search(r"\d\.\d{3}", text)


def test_the_scanner_finds_what_is_there(world) -> None:
    """Negative control: the same scan finds values that are put into a partner pack."""
    _, store, _, secrets = world
    page = pack(world, "demo-housing")
    inc = store.incidents(area="barrow")
    marked = inc[inc["source_id"].str.startswith(MARK)].iloc[0]
    demo = inc.iloc[100]
    adr = store.addresses(area="barrow").iloc[3]
    for injected in [
        f"<td>{marked['notes']}</td>",
        f"<td>{demo['latitude']:.5f}, {demo['longitude']:.5f}</td>",
        f"<td>{demo['latitude']:.4f} {demo['longitude']:.4f}</td>",
        f"[{demo['longitude']:.6f},{demo['latitude']:.6f}]",
        f"<td>{round(demo['easting'])} {round(demo['northing'])}</td>",
        f"<p>{adr['address']}</p>".replace("'", "&#x27;"),
    ]:
        leaked = page.replace("</body>", injected + "</body>")
        assert scan(leaked, secrets), injected[:30]


def test_partner_pack_uses_the_partner_pages_figures(world) -> None:
    """Same path as the partner page: each month cell is the published label."""
    settings, store, _, _ = world
    s = sign_in(world, "demo-housing")
    page = pack(world, "demo-housing")
    table = privacy.partner_area_table(
        store, s, settings=settings, areas=["barrow"], years=[2025, 2026], today=TODAY
    ).frame
    months = table[(table["period_type"] == "month") & table["period"].between(*PERIOD.values())]
    assert len(months)
    scope = get_isa_scope(store, "demo-housing")
    for m, g in months.groupby("period"):
        row = re.search(rf"<tr><td>{m}</td>(.*?)</tr>", page)
        assert row, m
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
        expected = g.set_index("layer")["label"]
        assert cells == [expected[str(x)] for x in scope.layers]
    # small numbers are suppressed: the marked drug incidents of Sept 2026 and the
    # cuckooing reports are "fewer than 10" (the true small count is never printed)
    assert "fewer than 10" in page
    cuck = store.incidents(area="barrow", categories=["cuckooing_report"])
    true_small = cuck[cuck["month"] == "2026-05"].shape[0]
    assert 0 < true_small < 10
    may = re.search(r"<tr><td>2026-05</td>(.*?)</tr>", page).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", may)
    col = [str(x) for x in scope.layers].index("cuckooing_reports")
    assert cells[col] == "fewer than 10"


def test_partner_before_after_only_from_published_months(world) -> None:
    page = pack(world, "demo-housing")
    ba = page.split("<h2>Before and after")[1].split("<h2>")[0]
    assert "some months are fewer than 10 or withheld" in ba  # cuckooing: not computable
    assert re.search(r"Vulnerability visits</td><td[^>]*>\d+\.\d \(12 months\)", ba)


# ------------------------------------------------------------------ scope


@pytest.mark.parametrize(
    ("user", "kw"),
    [
        ("demo-housing", {"area": "carlisle"}),
        ("demo-housing", {"area": "no_such_area"}),
        ("demo-nhs", {"area": "kendal"}),
        ("demo-housing", {"organisation": "demo-nhs"}),
        ("demo-officer", {"area": "carlisle", "organisation": "demo-housing"}),
    ],
    ids=["outside", "unknown", "nhs-kendal", "other-org", "preview-outside"],
)
def test_outside_the_scope_is_refused_and_logged(world, user, kw) -> None:
    _, store, _, _ = world
    before = len(read_audit(store, "cli", action=Action.VIEW_AGGREGATES))
    with pytest.raises(PermissionDeniedError):
        pack(world, user, **kw)
    denied = read_audit(store, "cli", action=Action.VIEW_AGGREGATES)
    assert len(denied) == before + 1 and denied.iloc[0]["outcome"] == "denied"


def test_officer_pack_errors(world) -> None:
    with pytest.raises(NotFoundError, match="no operating area"):
        pack(world, "demo-officer", area="nowhere")
    with pytest.raises(ConfigError, match="ends"):
        pack(world, "demo-officer", start="2026-05", end="2026-01")
    with pytest.raises(ConfigError, match="expected a month"):
        pack(world, "demo-officer", start="May")


def test_export_is_audited_without_values(world) -> None:
    _, store, _, _ = world
    pack(world, "demo-nhs")
    e = read_audit(store, "cli", action=Action.EXPORT).iloc[0]
    assert (e["actor"], e["subject"], e["area_id"]) == ("demo-nhs", "meeting_pack", "barrow")
    assert e["detail"] == {
        "format": "html",
        "from": "2025-10",
        "to": "2026-09",
        "organisation": "demo-nhs",
        "kind": "partner",
    }


# ------------------------------------------------------------------ escaping


def test_text_from_data_is_escaped(world) -> None:
    _, store, _, _ = world
    old = get_isa_scope(store, "demo-housing")
    set_isa_scope(
        store,
        "demo-housing",
        areas=old.areas,
        layers=[str(x) for x in old.layers],
        reference=XSS_REF,
        actor="cli",
        known_areas=["barrow", "kendal", "carlisle", "west_cumbria"],
        data_from=old.data_from,
    )
    try:
        for user in ("demo-officer", "demo-housing"):
            page = pack(world, user)
            body = page.split("<body>", 1)[1]
            assert "<script" not in page.lower() and "<img" not in page.lower()
            assert "&lt;script&gt;window.__xss=1&lt;/script&gt;Barrow" in body
            assert "onerror=alert(1)" not in page.replace("&lt;img src=x onerror=alert(1)&gt;", "")
        assert "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt; ISA-1" in page
    finally:
        set_isa_scope(
            store,
            "demo-housing",
            areas=old.areas,
            layers=[str(x) for x in old.layers],
            reference=old.reference,
            actor="cli",
            known_areas=["barrow", "kendal", "carlisle", "west_cumbria"],
            data_from=old.data_from,
        )


# ------------------------------------------------------------------ command line


def _cli_env(world) -> Path:
    settings: Settings = world[0]
    return settings.data_dir


def test_cli_writes_officer_and_partner_packs(world, tmp_path: Path) -> None:
    d = _cli_env(world)
    out = tmp_path / "officer.html"
    r = cli(
        "meeting-pack",
        "--area",
        "kendal",
        "--from",
        "2026-01",
        "--to",
        "2026-06",
        "--since",
        "2026-03-01",
        "--out",
        str(out),
        "--json",
        data_dir=d,
    )
    assert r.returncode == 0, r.stderr
    info = last_json(r.stdout)
    assert info["out"] == str(out) and info["bytes"] == len(out.read_bytes())
    assert "Hotspots by trend category" in out.read_text(encoding="utf-8")
    p = tmp_path / "p.html"
    r = cli(
        "meeting-pack",
        *("--area", "kendal", "--from", "2026-01", "--to", "2026-06"),
        *("--organisation", "demo-housing", "--out", str(p)),
        data_dir=d,
    )
    assert r.returncode == 0, r.stderr
    text = p.read_text(encoding="utf-8")
    assert "Partnership figures for demo-housing" in text
    assert scan(text, world[3]) == [] and "Hotspots by trend" not in text


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--area", "carlisle", "--organisation", "demo-housing"], 1, "outside your organisation"),
        (["--area", "barrow", "--organisation", "nobody"], 1, "has no ISA scope"),
        (["--area", "atlantis"], 1, "no operating area 'atlantis'"),
        (["--area", "barrow", "--from", "2026-13"], 2, "not a month"),
        (["--area", "barrow", "--since", "1st March"], 2, "not a date"),
        (["--area", "barrow", "--out", "pack.pdf"], 1, "name it *.html"),
    ],
    ids=["outside-scope", "no-scope", "unknown-area", "bad-month", "bad-date", "not-html"],
)
def test_cli_errors_are_one_line(world, tmp_path: Path, capsys, args, code, message) -> None:
    base = {"--from": "2026-01", "--to": "2026-06", "--out": str(tmp_path / "x.html")}
    for i in range(0, len(args), 2):
        base[args[i]] = args[i + 1]
    flat = [x for kv in base.items() for x in kv]
    if "--area" not in base:
        flat += ["--area", "barrow"]
    if code == 2:  # argparse's usage lines and one error line
        with pytest.raises(SystemExit) as exc:
            main(["--data-dir", str(_cli_env(world)), "meeting-pack", *flat])
        rc = exc.value.code
    else:
        rc = main(["--data-dir", str(_cli_env(world)), "meeting-pack", *flat])
    err = capsys.readouterr().err
    assert rc == code
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= (4 if code == 2 else 1)
    assert not (tmp_path / "x.html").exists()


# ------------------------------------------------------------------ the pages


@pytest.mark.parametrize(
    ("user", "page", "key"),
    [
        ("demo-officer", "app_pages/trends_page.py", "trends_pack"),
        ("demo-housing", None, "partner_pack"),
        ("demo-officer", "app_pages/partner_page.py", "partner_pack"),
    ],
    ids=["trends", "partner", "officer-preview"],
)
@pytest.mark.usefixtures("app_env")
def test_pages_offer_the_meeting_pack(user, page, key) -> None:
    at = run(page, as_user=user)
    if key == "trends_pack":
        at.selectbox(key="trends_area").select("kendal").run()
    assert not at.exception, [e.value for e in at.exception]
    buttons = [
        b for b in at.get("download_button") if b.proto.id.endswith(key) or key in str(b.proto)
    ]
    assert buttons, "no meeting-pack button"
    assert "Download meeting pack (HTML, works offline)" in str(buttons[0].proto)


# ------------------------------------------------------------------ the evaluation


def test_officer_pack_has_the_evaluation(world) -> None:
    page = pack(world, "demo-officer", area="west_cumbria", since=date(2025, 9, 1))
    ev = page.split("<h2>Did it work? The evaluation from 01 Sep 2025</h2>")[1].split("<h2>")[0]
    assert "Change against the comparison (difference-in-differences)" in ev
    assert "Naive before/after in the same place" in ev
    assert "Weighted displacement quotient (250 m buffer)" in ev
    assert "Crime in the treated zones fell by" in ev  # the demo's planted fall
    # one chart, treated against comparison, the date marked; exact monthly counts
    assert ev.count("<svg") == 1 and "from 01 Sep 2025" in ev
    assert "<th>Comparison area</th>" in ev and "<td>2025-09</td>" in ev
    assert "How to read this" in ev


def _evaluation_part(page: str) -> str:
    return page.split("<h2>Did it work?")[1].split("<h2>")[0]


@pytest.mark.parametrize(
    ("user", "area", "since", "kw"),
    [
        ("demo-housing", "barrow", date(2026, 3, 1), {}),
        ("demo-nhs", "carlisle", date(2025, 9, 1), {}),
        # (the calibrated demo's Kendal has too few drug crimes for a hotspot to stand out
        # before its shared date, as a small real town would: docs/demo.md)
        ("demo-officer", "barrow", date(2026, 3, 1), {"organisation": "demo-nhs"}),
    ],
    ids=["housing-barrow", "nhs-carlisle", "preview-barrow"],
)
def test_partner_pack_evaluation_is_published_figures_only(world, user, area, since, kw) -> None:
    secrets: Secrets = world[3]
    page = pack(world, user, area=area, since=since, **kw)
    ev = _evaluation_part(page)
    assert "95 % interval" in ev or "The data cannot tell" in ev
    # the comparison spans other areas: an index, never a count; no hotspot outline
    assert "<th>Comparison (index)</th>" in ev and "Comparison area</th>" not in ev
    assert "outlines not shared" in ev
    assert scan(page, secrets) == [] and MARK not in page
    # every count shown in its table is a multiple of 5 of at least 10, or a label
    table = ev.split("<table>")[-1]
    for row in re.findall(r"<tr><td>(\d{4}-\d{2}|Total)</td><td>\w+</td>(.*?)</tr>", table):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row[1])[:2]
        for cell in cells:
            assert cell in ("fewer than 10", "withheld") or (
                int(cell) >= 10 and int(cell) % 5 == 0
            ), cell


def test_partner_evaluation_matches_the_officers_and_hides_small_counts(world) -> None:
    """Same months, same estimate (rounded); the officer's small counts are not shown."""
    from clic_geo.reporting.evaluation_service import (
        evaluate_area,
        force_incidents,
        partner_evaluation,
    )

    settings, store, _, _ = world
    s = sign_in(world, "demo-nhs")
    pub = partner_evaluation(
        store,
        s,
        settings=settings,
        area="carlisle",
        layer="incidents_drugs",
        since=date(2025, 9, 1),
        today=TODAY,
    )
    inc = force_incidents(store)
    inc = inc[inc["month"].between("2025-01", "2026-10")]  # the NHS agreement's months
    ev, _ = evaluate_area(
        inc,
        settings=settings,
        area="carlisle",
        since=date(2025, 9, 1),
        categories=("drug_supply", "drug_possession", "drugs"),
        last_month="2026-10",
    )
    assert list(pub.months["month"]) == list(ev.monthly["month"])
    assert pub.can_tell and ev.can_tell
    assert pub.effect_pct == round(ev.estimate.effect_pct)
    assert pub.ci_low_pct == round(ev.estimate.ci_low_pct)
    assert pub.naive_change_pct == round(ev.naive_change_pct)
    small = ev.monthly["buffer"] < 10
    assert small.any()
    assert (pub.months.loc[small.to_numpy(), "buffer_label"] == "fewer than 10").all()
    assert "comparison" not in pub.months.columns
    assert set(pub.totals["zone"]) == {"treated", "buffer"}
    # the object handed to the page, scanned whole: nothing record-level, no exact count
    text = result_text(pub)
    assert scan(text, world[3]) == [] and MARK not in text
    shown = pd.concat([pub.months["treated"], pub.months["buffer"], pub.totals["count"]])
    assert ((shown.dropna() % 5 == 0) & (shown.dropna() >= 10)).all()
    # negative control: the officer's frame, scanned the same way, holds small counts
    assert (ev.monthly[["treated", "buffer"]] < 10).any().any()


def test_partner_evaluation_scope_and_audit(world) -> None:
    from clic_geo.reporting.evaluation_service import partner_evaluation

    settings, store, _, _ = world
    s = sign_in(world, "demo-housing")
    args = {"settings": settings, "since": SHARED["barrow"], "today": TODAY}
    before = len(read_audit(store, "cli", action=Action.VIEW_AGGREGATES))
    with pytest.raises(PermissionDeniedError):
        partner_evaluation(store, s, area="carlisle", layer="incidents_drugs", **args)
    with pytest.raises(PermissionDeniedError):
        partner_evaluation(store, s, area="barrow", layer="incidents_violence", **args)
    with pytest.raises(PermissionDeniedError):
        partner_evaluation(
            store, s, area="barrow", layer="incidents_drugs", organisation="demo-nhs", **args
        )
    with pytest.raises(ConfigError, match="not an incident count"):
        partner_evaluation(store, s, area="barrow", layer="visits", **args)
    log = read_audit(store, "cli", action=Action.VIEW_AGGREGATES)
    assert len(log) == before + 3 and set(log.iloc[:3]["outcome"]) == {"denied"}
    partner_evaluation(store, s, area="barrow", layer="incidents_drugs", **args)
    e = read_audit(store, "cli", action=Action.VIEW_AGGREGATES).iloc[0]
    assert (e["actor"], e["subject"], e["area_id"]) == ("demo-housing", "evaluation", "barrow")
    assert e["detail"]["layer"] == "incidents_drugs" and e["detail"]["period"] == "2026-03"
    assert set(e["detail"]) <= {"areas", "layer", "period", "from", "to", "organisation"}


def test_partners_see_evaluations_only_at_shared_dates(world) -> None:
    """Each date is a different set of hotspots: partners get the partnership's dates only."""
    from clic_geo.reporting.evaluation_service import partner_evaluation

    settings, store, _, _ = world
    assert evaluation_dates(store, settings=settings, area="carlisle") == [
        date(2024, 1, 1),  # the partnership start, from the area file
        date(2025, 9, 1),
    ]
    s = sign_in(world, "demo-nhs")
    args = {"settings": settings, "area": "carlisle", "layer": "incidents_drugs", "today": TODAY}
    before = len(read_audit(store, "cli", action=Action.VIEW_AGGREGATES))
    with pytest.raises(PermissionDeniedError, match="has been shared"):
        partner_evaluation(store, s, since=date(2025, 10, 1), **args)
    denied = read_audit(store, "cli", action=Action.VIEW_AGGREGATES)
    assert len(denied) == before + 1 and denied.iloc[0]["outcome"] == "denied"
    # an officer previewing the partner's view is held to the same dates ...
    officer = sign_in(world, "demo-officer")
    with pytest.raises(PermissionDeniedError):
        partner_evaluation(store, officer, since=date(2025, 10, 1), organisation="demo-nhs", **args)
    # ... and the pack says so instead of showing one
    page = pack(world, "demo-nhs", area="carlisle", since=date(2025, 10, 1))
    assert "No evaluation from 01 Oct 2025 has been shared" in _evaluation_part(page)
    # partners cannot share; officers can, and it is logged
    with pytest.raises(PermissionDeniedError):
        share_evaluation_date(store, s, settings=settings, area="carlisle", since=date(2025, 10, 1))
    share_evaluation_date(
        store, officer, settings=settings, area="carlisle", since=date(2025, 10, 1)
    )
    e = read_audit(store, "cli", action=Action.EXPORT).iloc[0]
    assert (e["subject"], e["area_id"], e["detail"]["period"]) == (
        "evaluation_date",
        "carlisle",
        "2025-10-01",
    )
    assert partner_evaluation(store, s, since=date(2025, 10, 1), **args).since == date(2025, 10, 1)
    dates = share_evaluation_date(
        store, officer, settings=settings, area="carlisle", since=date(2025, 10, 1), remove=True
    )
    assert date(2025, 10, 1) not in dates
    # Barrow's start (2022) is before the data: no hotspots then, said in words
    h = sign_in(world, "demo-housing")
    pub = partner_evaluation(
        store,
        h,
        settings=settings,
        area="barrow",
        layer="incidents_drugs",
        since=date(2022, 2, 1),
        today=TODAY,
    )
    assert pub.reasons == ("no_hotspots",) and not pub.can_tell and pub.months.empty
