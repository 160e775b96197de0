"""Imports that never block readers: one importer at a time, rows hidden until published.

A large import (hundreds of thousands of incidents) used to be one transaction: on
SQLite it held the database's write lock for the whole import, so a sign-in, a session
check or an audit entry (all writes) waited behind it and failed after the 15 s busy
timeout. Now an import of incidents or visits

1. takes the store's import lock (one import at a time: a file lock beside the SQLite
   file, an advisory lock on PostgreSQL) and deletes what a crashed import left;
2. writes its ``imports`` row with status ``writing``, then its rows in batches of
   :data:`BATCH_ROWS`, each batch its own short transaction (other writers get the
   lock between batches, readers in WAL mode never wait);
3. publishes in one short transaction: status ``published`` and the data version.

Readers see only rows of published imports (:func:`published`), so a reader sees the
whole file or none of it, and a crash half way leaves the store as it was: the rows of
an import left ``writing`` are deleted by the next import, or on opening the store,
once no process holds the import lock.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from clic_geo.store import tables as T  # noqa: N812 - T.incidents reads like SQL
from clic_geo.store.base import StoreBase

__all__ = ["BATCH_ROWS", "ImportPublishing", "published"]

log = logging.getLogger(__name__)

#: Rows written per transaction by a batched import (~0.1 s of write lock each).
BATCH_ROWS = 5_000
#: The PostgreSQL advisory lock key of the import lock ("clic" in ASCII).
_PG_IMPORT_LOCK = 0x636C6963

PUBLISHED = "published"
WRITING = "writing"


def published(table: sa.Table) -> Any:
    """Condition for rows of ``table`` that belong to a published import (or to none)."""
    pending = sa.select(T.imports.c.id).where(T.imports.c.status != PUBLISHED)
    return sa.or_(table.c.import_id.is_(None), table.c.import_id.not_in(pending))


class ImportPublishing(StoreBase):
    """The import lock and the clean-up of crashed imports, mixed into the Store."""

    def _lock_path(self) -> Path | None:
        if self.engine.dialect.name != "sqlite":
            return None
        db = self.engine.url.database
        if not db or db == ":memory:":
            return None
        return Path(db + ".import-lock")

    @contextmanager
    def import_lock(self, *, wait: bool = True) -> Iterator[bool]:
        """Hold the store's import lock; yields False if ``wait`` is off and it is taken."""
        path = self._lock_path()
        if path is not None:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
                except BlockingIOError:
                    yield False
                    return
                try:
                    yield True
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
            return
        if self.engine.dialect.name != "postgresql":
            yield True
            return
        with self.engine.connect() as conn:
            fn = sa.func.pg_advisory_lock if wait else sa.func.pg_try_advisory_lock
            got = conn.execute(sa.select(fn(_PG_IMPORT_LOCK))).scalar()
            conn.commit()
            got = True if wait else bool(got)
            try:
                yield got
            finally:
                if got:
                    conn.execute(sa.select(sa.func.pg_advisory_unlock(_PG_IMPORT_LOCK)))
                    conn.commit()

    def clean_abandoned_imports(self) -> int:
        """Delete the rows of imports a crashed process left unpublished (hold the lock).

        Returns the number of imports removed.
        """
        with self.engine.connect() as conn:
            ids = list(
                conn.execute(
                    sa.select(T.imports.c.id).where(T.imports.c.status != PUBLISHED)
                ).scalars()
            )
        for import_id in ids:
            self.discard_import(import_id)
            log.warning(
                "import %s was not finished (process stopped?): its rows removed", import_id
            )
        return len(ids)

    def discard_import(self, import_id: int) -> None:
        """Delete an unpublished import's rows, batch by batch, then its ``imports`` row."""
        v = T.visits

        def in_batches(table: sa.Table, key: Any, where: Any) -> None:
            while True:
                with self.engine.begin() as conn:
                    keys = list(
                        conn.execute(sa.select(key).where(where).limit(BATCH_ROWS)).scalars()
                    )
                    if not keys:
                        return
                    conn.execute(sa.delete(table).where(key.in_(keys)))

        mine = sa.select(v.c.id).where(v.c.import_id == import_id)
        for child in (T.visit_support, T.visit_referrals):
            # one visit's children are few: delete them per batch of visits
            in_batches(child, child.c.visit_id, child.c.visit_id.in_(mine))
        in_batches(v, v.c.id, v.c.import_id == import_id)
        in_batches(T.incidents, T.incidents.c.id, T.incidents.c.import_id == import_id)
        in_batches(T.rejects, T.rejects.c.id, T.rejects.c.import_id == import_id)
        with self.engine.begin() as conn:
            conn.execute(
                sa.delete(T.imports).where(
                    T.imports.c.id == import_id, T.imports.c.status != PUBLISHED
                )
            )
        for tmp in (self.data_dir / "rejects").glob(f"{import_id:05d}-*.csv.tmp"):
            tmp.unlink(missing_ok=True)

    def migrate(self) -> int:
        """Bring the schema up to date, then remove what a crashed import left (if idle)."""
        version = super().migrate()
        with self.import_lock(wait=False) as got:
            if got:
                self.clean_abandoned_imports()
        return version
