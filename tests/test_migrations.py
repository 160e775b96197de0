"""Schema migrations (Alembic): a store made before Alembic upgrades without losing a row.

``tests/legacy/store_v2_sqlite.sql`` is the schema clic-geo created before the move to
Alembic (schema version 2 stamped in ``meta``). The test fills such a store with every
kind of record (the demo world, its accounts, an import with rejects and duplicates,
real police.uk rows when they are here), opens it with today's code and compares every
row of every table.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from clic_geo.access.auth import AuthPolicy, login
from clic_geo.demo.accounts import sync_demo_accounts
from clic_geo.demo.seeding import seed_demo
from clic_geo.ingest.importer import import_file
from clic_geo.settings import load_settings
from clic_geo.store import SCHEMA_VERSION, Store
from clic_geo.store.auth_tables import auth_metadata
from clic_geo.store.base import REVISIONS
from clic_geo.store.tables import metadata
from tests.conftest import POLICE_UK, TODAY

LEGACY_SQL = Path(__file__).parent / "legacy" / "store_v2_sqlite.sql"


def _rows(con: sqlite3.Connection, table: str, cols: list[str]) -> list[tuple]:
    q = f"SELECT {', '.join(repr(c).replace(chr(39), chr(34)) for c in cols)} FROM {table}"
    return sorted(con.execute(q).fetchall(), key=repr)


def _legacy_store(path: Path, source: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    """A store as clic-geo made it before Alembic, holding ``source``'s rows."""
    con = sqlite3.connect(path)
    con.executescript(LEGACY_SQL.read_text())
    src = sqlite3.connect(source)
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    before: dict[str, tuple[list[str], list[tuple]]] = {}
    for t in tables:
        cols = [r[1] for r in con.execute(f"PRAGMA table_info({t})")]
        rows = _rows(src, t, cols) if t != "meta" else []
        con.executemany(f"INSERT INTO {t} VALUES ({', '.join('?' * len(cols))})", rows)
        before[t] = (cols, rows)
    con.execute("INSERT INTO meta VALUES ('schema_version', '2'), ('data_version', '7')")
    con.commit()
    con.close()
    src.close()
    return before


@pytest.mark.slow
def test_a_store_made_before_alembic_upgrades_without_losing_a_row(tmp_path: Path, write) -> None:
    # every kind of record, written by today's importer into a scratch store
    settings = load_settings(tmp_path / "scratch", demo=True)
    scratch = Store.open(settings)
    seed_demo(settings, scratch, today=TODAY)
    sync_demo_accounts(
        settings, scratch, policy=AuthPolicy.from_settings(settings, bcrypt_rounds=4)
    )
    policy = AuthPolicy.from_settings(settings, bcrypt_rounds=4)
    sync_demo_accounts(settings, scratch, policy=policy)
    login(scratch, "demo-officer", "officer-demo-1clic", policy=policy)
    bad = write(
        "bad.csv",
        "id,date,type,lat,lon\nX1,2026-10-05,drugs,0,0\nX2,2026-10-05,drugs,54.115,-3.227\nX2,2026-10-05,drugs,54.115,-3.227\n",
    )
    import_file(bad, "incidents", settings=settings, store=scratch)
    real = sorted(POLICE_UK.glob("*-cumbria-street.csv"))[:1]
    if real:
        import_file(real[0], "incidents", settings=settings, store=scratch)
    scratch.close()

    legacy = tmp_path / "legacy" / "store.sqlite"
    legacy.parent.mkdir()
    before = _legacy_store(legacy, settings.data_dir / "store.sqlite")
    n = {t: len(rows) for t, (_cols, rows) in before.items()}
    assert n["incidents"] > 1000 and n["rejects"] and n["audit_log"]
    assert all(n[t] for t in ("addresses", "visits", "visit_support", "users", "sessions"))

    store = Store(f"sqlite:///{legacy}", legacy.parent)  # opening migrates
    assert store.schema_version() == SCHEMA_VERSION == int(REVISIONS[-1])
    with store.engine.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            == (REVISIONS[-1])
        )
        assert set(conn.execute(sa.text("SELECT DISTINCT status FROM imports")).scalars()) == {
            "published"
        }
    assert store.data_version() == 7
    store.close()
    con = sqlite3.connect(legacy)
    for t, (cols, rows) in before.items():
        if t != "meta":
            assert _rows(con, t, cols) == rows, t
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    # and it is a working store: its records read back, a new import lands
    store = Store(f"sqlite:///{legacy}", legacy.parent)
    assert len(store.incidents()) == n["incidents"]
    r = import_file(
        write("new.csv", "id,date,type,lat,lon\nN1,2026-10-06,drugs,54.116,-3.228\n"),
        "incidents",
        settings=load_settings(legacy.parent),
        store=store,
    )
    assert r.accepted == 1 and store.counts()["incidents"] == n["incidents"] + 1
    store.close()


def test_the_revisions_make_the_tables_the_code_reads(store) -> None:
    """tables.py / auth_tables.py and the Alembic revisions describe the same schema."""
    insp = sa.inspect(store.engine)
    for table in [*metadata.sorted_tables, *auth_metadata.sorted_tables]:
        cols = {c["name"] for c in insp.get_columns(table.name)}
        assert cols == {c.name for c in table.columns}, table.name
        made = {i["name"] for i in insp.get_indexes(table.name)}
        declared = {i.name for i in table.indexes}
        assert declared <= made, (table.name, declared - made)


def test_a_store_from_an_unknown_newer_revision_is_refused(settings) -> None:
    s = Store.open(settings)
    with s.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0999'"))
    s.close()
    with pytest.raises(Exception, match="newer than this clic-geo"):
        Store.open(settings)


def test_the_revision_files_form_alembics_chain_in_order() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from clic_geo.store.base import MIGRATIONS_DIR

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    chain = [s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()]
    assert tuple(reversed(chain)) == REVISIONS


def test_the_revisions_ship_inside_the_package() -> None:
    from clic_geo.store.base import MIGRATIONS_DIR

    assert MIGRATIONS_DIR.is_relative_to(Path(__import__("clic_geo").__file__).parent)
    assert (MIGRATIONS_DIR / "env.py").is_file() and (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert len(list((MIGRATIONS_DIR / "versions").glob("0*.py"))) == len(REVISIONS)
