"""The store's engine, schema migrations and key-value metadata.

Callers never write SQL: they call :class:`~clic_geo.store.Store` methods that take and
return (Geo)DataFrames. This module holds what every part of the store shares: the
connection, the ordered migrations and the ``meta`` table (schema and data versions).
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Self

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from clic_geo._errors import StoreError
from clic_geo.files import tighten_data_dir, write_private
from clic_geo.geo.crs import WGS84
from clic_geo.schema import Col
from clic_geo.store import tables as T  # noqa: N812 - T.incidents reads like SQL
from clic_geo.store.migrations import LEGACY_REVISIONS

__all__ = ["MIGRATIONS_DIR", "REVISIONS", "SCHEMA_VERSION", "StoreBase"]

log = logging.getLogger(__name__)


#: Where the Alembic revisions live (inside the package, so an installed clic-geo has them).
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _alembic_config(conn: Connection | None = None) -> Any:
    from alembic.config import Config  # only when migrating: Alembic takes ~0.3 s to import

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    return cfg


#: The store's schema revisions, oldest first ("0001", "0002", ...): revision N is
#: schema version N, the number stamped in the ``meta`` table. Read from the file
#: names (``versions/NNNN_what.py``); tests/test_migrations.py checks that Alembic's
#: own chain of ``down_revision`` agrees.
REVISIONS: tuple[str, ...] = tuple(
    p.name[:4] for p in sorted((MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
)
# numbered in order; a branch may hold a gap until the revisions between are merged
assert list(REVISIONS) == sorted(set(REVISIONS)), REVISIONS
assert REVISIONS[0] == "0001", REVISIONS

SCHEMA_VERSION = int(REVISIONS[-1])


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # the wait first: even asking for WAL mode needs a lock, and a new connection made
    # while another thread checkpoints would otherwise fail at once ("database is locked")
    cur.execute("PRAGMA busy_timeout=15000")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _is_sqlite_file(path: Path) -> bool:
    """True if SQLite reads ``path`` as a database (a read-only probe of its header)."""
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=15)
        try:
            con.execute("PRAGMA schema_version").fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        if re.search(r"not a database|malformed|encrypted", str(exc)):
            return False
        raise StoreError(f"cannot open store {path}: {exc}") from exc
    return True


def _private_sqlite_file(path: Path) -> None:
    """Refuse an empty or damaged store file; create a new one owner-only (``0600`` in a
    ``0700`` folder), so the journals SQLite makes beside it are owner-only too."""
    if path.exists():
        if path.is_dir():
            raise StoreError(f"the store {path} is a folder, not a store file")
        if path.stat().st_size == 0:
            raise StoreError(
                f"the store file {path} is empty (0 bytes), not a store: restore it from a "
                "backup, or move it away to start a new store"
            )
        # Asked through SQLite, never with open(): closing any other descriptor of the
        # file drops every POSIX lock this process holds on it, so another process
        # could then take the WAL away from this process's open connections
        # (https://www.sqlite.org/howtocorrupt.html, section 2.2): their later writes
        # were lost (a sign-in, a revocation).
        if not _is_sqlite_file(path):
            raise StoreError(
                f"the store file {path} is damaged or not a store: restore it from a backup, "
                "or move it away to start a new store"
            )
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the data dir: tightened after
    write_private(path, b"")
    con = sqlite3.connect(path)  # WAL mode writes the header: the file is never left empty
    try:
        con.execute("PRAGMA journal_mode=WAL")
    finally:
        con.close()


def _one_line(exc: BaseException) -> str:
    """A database error as one line (SQLAlchemy adds the SQL and a link on more lines)."""
    inner = getattr(exc, "orig", None) or exc
    return f"{inner.__class__.__name__}: {str(inner).splitlines()[0] if str(inner) else ''}"


class StoreBase:
    """The connection, schema and metadata every part of the store uses."""

    def __init__(self, url: str, data_dir: str | Path, *, migrate: bool = True) -> None:
        self.url = url
        self.data_dir = Path(data_dir)
        own_dir = False  # the data directory is the store file's own folder
        if url.startswith("sqlite:///"):
            db = url.removeprefix("sqlite:///").split("?", 1)[0]
            if db and db != ":memory:":
                _private_sqlite_file(Path(db))
                own_dir = Path(db).resolve().parent == self.data_dir.resolve()
        # the rejects and uploads folders on any database; the folder itself only when
        # it is the store's own (never a shared folder such as /tmp)
        tighten_data_dir(self.data_dir, root=own_dir)
        try:
            self.engine: Engine = sa.create_engine(url, future=True)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise StoreError(f"cannot open store {url!r}: {exc}") from exc
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        if migrate:
            self.migrate()

    @classmethod
    def open(cls, settings: Any) -> Self:
        """Open the store described by a :class:`~clic_geo.settings.Settings`."""
        return cls(settings.database_url, settings.data_dir)

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    def schema_version(self) -> int:
        """How many migrations have run (0 for an empty database)."""
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("meta"):
                return 0
            v = conn.execute(
                sa.select(T.meta.c.value).where(T.meta.c.key == "schema_version")
            ).scalar()
            return int(v or 0)

    def migrate(self) -> int:
        """Bring the schema up to date with the Alembic revisions; returns the version reached.

        A store made before Alembic (schema version N in ``meta``, no
        ``alembic_version`` table) is first stamped with revision N. On PostgreSQL an
        advisory lock makes two processes opening a new store at once take turns.

        Raises
        ------
        StoreError
            If the store was written by a newer clic-geo, or a migration fails.
        """
        try:
            with self.engine.begin() as conn:
                T.meta.create(conn, checkfirst=True)
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot open store {self.url}: {_one_line(exc)}") from exc
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"the store is at schema version {current}, newer than this clic-geo "
                f"understands ({SCHEMA_VERSION}); upgrade clic-geo"
            )
        if self._alembic_revision() == REVISIONS[-1]:
            return SCHEMA_VERSION  # up to date: no need to load Alembic
        try:
            with self.engine.connect() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_lock(7218001)"))
                    conn.commit()
                try:
                    self._upgrade(conn, current)
                finally:
                    if conn.dialect.name == "postgresql":
                        conn.rollback()
                        conn.execute(sa.text("SELECT pg_advisory_unlock(7218001)"))
                        conn.commit()
        except StoreError:
            raise
        except (sa.exc.SQLAlchemyError, RuntimeError) as exc:
            raise StoreError(
                f"migration of the store to schema version {SCHEMA_VERSION} failed: "
                f"{_one_line(exc)}"
            ) from exc
        return SCHEMA_VERSION

    def _alembic_revision(self) -> str | None:
        """The revision in ``alembic_version`` (None before Alembic or for a new store)."""
        try:
            with self.engine.connect() as conn:
                if not sa.inspect(conn).has_table("alembic_version"):
                    return None
                return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot open store {self.url}: {exc.__class__.__name__}") from exc

    def _upgrade(self, conn: Connection, legacy_version: int) -> None:
        from alembic import command as alembic_command
        from alembic.runtime.migration import MigrationContext

        revision = MigrationContext.configure(conn).get_current_revision()
        conn.commit()  # reading alembic_version began a transaction
        cfg = _alembic_config(conn)
        if revision is None and legacy_version:
            if legacy_version not in LEGACY_REVISIONS:
                raise StoreError(f"the store's schema version {legacy_version} is not known")
            alembic_command.stamp(cfg, LEGACY_REVISIONS[legacy_version])
            conn.commit()
            log.info("store made before Alembic stamped at revision %s", legacy_version)
        elif revision is not None and revision not in REVISIONS:
            raise StoreError(
                f"the store is at schema revision {revision!r}, newer than this clic-geo "
                f"understands ({REVISIONS[-1]}); upgrade clic-geo"
            )
        if revision != REVISIONS[-1]:
            alembic_command.upgrade(cfg, "head")
            conn.commit()
            log.info("store migrated to schema version %d", SCHEMA_VERSION)

    def _set_meta(self, conn: Connection, key: str, value: str) -> None:
        conn.execute(sa.delete(T.meta).where(T.meta.c.key == key))
        conn.execute(sa.insert(T.meta).values(key=key, value=value))

    def bump_data_version(self, conn: Connection) -> None:
        """Mark the store's records as changed (inside the writing transaction)."""
        v = conn.execute(sa.select(T.meta.c.value).where(T.meta.c.key == "data_version")).scalar()
        self._set_meta(conn, "data_version", str(int(v or 0) + 1))

    def data_version(self) -> int:
        """A number that changes whenever records are written (a cache key for readers)."""
        return int(self.get_meta("data_version") or 0)

    def get_meta(self, key: str) -> str | None:
        """A value from the store's key-value table."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(T.meta.c.value).where(T.meta.c.key == key)).scalar()

    def set_meta(self, key: str, value: str) -> None:
        """Set a value in the store's key-value table."""
        with self.engine.begin() as conn:
            self._set_meta(conn, key, value)

    def _read(self, query: sa.Select) -> pd.DataFrame:
        with self.engine.connect() as conn:
            return pd.read_sql(query, conn)

    @staticmethod
    def _points(df: pd.DataFrame) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(
            df, geometry=gpd.points_from_xy(df[Col.LON], df[Col.LAT]), crs=WGS84
        )

    @staticmethod
    def _filters(
        table: sa.Table,
        time_col: str,
        area: str | Sequence[str] | None,
        start: date | datetime | None,
        end: date | datetime | None,
    ) -> list[Any]:
        conds: list[Any] = []
        if area is not None:
            areas = [area] if isinstance(area, str) else list(area)
            conds.append(table.c.area_id.in_(areas))
        if start is not None:
            conds.append(table.c[time_col] >= pd.Timestamp(start).to_pydatetime())
        if end is not None:
            # end is inclusive of the whole day given
            conds.append(
                table.c[time_col] < (pd.Timestamp(end) + pd.Timedelta(days=1)).to_pydatetime()
                if not isinstance(end, datetime)
                else table.c[time_col] <= end
            )
        return conds
