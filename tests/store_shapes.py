"""Stores of every shape a real deployment meets, built through the ordinary importer.

Used by the page matrix (tests/test_page_matrix.py), the property test and the
police.uk browser journey. Each store has three accounts (officer, admin, partner with
an ISA scope) and a ``settings.toml`` with cheap password hashing for speed. The small
files are authored here (fictional places in Barrow-in-Furness); the police.uk store
imports the real months from ``../shared/data`` as ``clic-geo import police-uk`` does.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from clic_geo.access.accounts import create_organisation, create_user
from clic_geo.access.auth import AuthPolicy, login
from clic_geo.access.identity import Session
from clic_geo.access.isa import Layer, set_isa_scope
from clic_geo.geo.areas import load_areas
from clic_geo.ingest.importer import import_file, import_police_uk
from clic_geo.settings import load_settings
from clic_geo.store import Store

#: username -> (role, organisation, password)
USERS = {
    "officer": ("officer", "team", "sergeant pass-phrase one"),
    "admin": ("admin", "team", "keeper pass-phrase three"),
    "partner": ("partner", "housing", "housing pass-phrase two"),
}

#: Incidents in Barrow only, in May and August 2026 (June and July empty: a gap).
INCIDENTS = "id,date,type,latitude,longitude,location\n" + "".join(
    f"I{m}{i:02d},2026-{m:02d}-{3 + i % 20:02d} 2{i % 4}:00,"
    f"{('drug supply', 'weapons', 'drug possession', 'anti-social behaviour')[i % 4]},"
    f"{54.1150 + (i % 3) * 0.0004:.4f},{-3.2270 - (i % 2) * 0.0004:.4f},On or near Example Row\n"
    for m in (5, 8)
    for i in range(24)
)
#: Addresses with no cuckooing status at all (no status history: the issue-9 crash).
ADDRESSES_NO_STATUS = (
    "id,address,latitude,longitude,safe alert,protection plan\n"
    "A1,1 Example Row,54.1150,-3.2270,yes,no\n"
    "A2,2 Example Row,54.1153,-3.2275,no,yes\n"
)
ADDRESSES = (
    "id,address,latitude,longitude,status,status date,safe alert,next visit due,hardening\n"
    "A1,1 Example Row,54.1150,-3.2270,suspected,2026-05-04,yes,2026-12-20,spy hole 2026-06-01\n"
    "A2,2 Example Row,54.1153,-3.2275,,,no,,\n"
    "A1,,,,confirmed,2026-08-10,,,\n"
)
VISITS_BY_PLACE = (
    "visit id,date,latitude,longitude,officers,outcome,support,referrals\n"
    "V1,2026-05-12 11:00,54.1151,-3.2271,PC 1 + TWC,engaged,calling card,food bank\n"
    "V2,2026-08-20 14:00,54.1160,-3.2280,PC 1,no answer,,\n"
)
#: A visit placed by its address's id (the address must be imported first).
VISIT_AT_ADDRESS = (
    "visit id,date,address id,officers,outcome\nV3,2026-08-21 10:00,A1,PC 2,engaged\n"
)
LINES = (
    "line id,line name,area,status,date\n"
    "L1,Line one,Barrow-in-Furness,active,2026-03-01\n"
    "L1,Line one,barrow,disrupted,2026-09-01\n"
)

#: shape -> the (kind, file text) imported, in order; "police" adds the real months.
SHAPES: dict[str, list[tuple[str, str]]] = {
    "empty": [],
    "addresses": [("addresses", ADDRESSES_NO_STATUS)],
    "visits": [("visits", VISITS_BY_PLACE)],
    "lines": [("lines", LINES)],
    "gaps": [("incidents", INCIDENTS)],
    "mix": [
        ("addresses", ADDRESSES),
        ("visits", VISITS_BY_PLACE),
        ("visits", VISIT_AT_ADDRESS),
        ("lines", LINES),
        ("incidents", INCIDENTS),
    ],
    "police": [],
}


def accounts(store: Store, settings) -> None:
    """The team, a housing partner (Barrow and Kendal) and the three users."""
    policy = AuthPolicy.from_settings(settings)
    create_organisation(store, "team", "1-CLIC team", "police", actor="cli")
    create_organisation(store, "housing", "South Cumbria Housing", "housing", actor="cli")
    set_isa_scope(
        store,
        "housing",
        areas=["barrow", "kendal"],
        layers=[Layer.INCIDENTS_DRUGS, Layer.VISITS, Layer.ACTIVE_COUNTY_LINES],
        reference="TEST-ISA",
        actor="cli",
        known_areas=load_areas(settings.areas_dir).ids,
    )
    for name, (role, org, pw) in USERS.items():
        create_user(
            store, name, role=role, organisation=org, password=pw, actor="cli", policy=policy
        )


def build(data_dir: Path, shape: str, *, parts: list[tuple[str, str]] | None = None) -> Path:
    """A store of ``shape`` (or of the given ``parts``) with the three accounts in ``data_dir``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "settings.toml").write_text("[security]\nbcrypt_rounds = 4\n")
    settings = load_settings(data_dir)
    store = Store.open(settings)
    try:
        accounts(store, settings)
        files = data_dir.parent / f"{data_dir.name}-files"
        files.mkdir(exist_ok=True)
        todo = SHAPES[shape] if parts is None else parts
        for i, (kind, text) in enumerate(todo):
            f = files / f"{i}-{kind}.csv"
            f.write_text(text, encoding="utf-8")
            import_file(f, kind, settings=settings, store=store)
        if shape == "police":
            from tests.conftest import police_files

            import_police_uk(police_files(), settings=settings, store=store)
    finally:
        store.close()
    return data_dir


def sign_in(data_dir: Path, username: str) -> Session:
    settings = load_settings(data_dir)
    store = Store.open(settings)
    try:
        return login(store, username, USERS[username][2], policy=AuthPolicy.from_settings(settings))
    finally:
        store.close()


#: A day inside the authored data (the "gaps" and "mix" stores).
IN_DATA = date(2026, 8, 15)
