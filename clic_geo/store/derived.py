"""Results computed when data change, kept beside the data: ``derived_results``.

A result (a hotspot map, a trust backtest) is one row: what it is (``kind``, ``key``),
the store's data version and the fingerprint of the incidents it was computed from,
and its JSON. Writing one is one short transaction, so a reader never waits behind a
refresh; what the JSON holds is for :mod:`clic_geo.reporting.derived_service`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from clic_geo.store import tables as T  # noqa: N812 - T.incidents reads like SQL
from clic_geo.store.base import StoreBase

__all__ = ["DerivedResults", "StoredResult"]


@dataclass(frozen=True)
class StoredResult:
    """One stored result and what it was computed from."""

    kind: str
    key: str
    data_version: int
    fingerprint: str
    computed_at: datetime
    seconds: float
    payload: str


class DerivedResults(StoreBase):
    """Stored results, mixed into the Store."""

    def put_result(
        self,
        kind: str,
        key: str,
        *,
        data_version: int,
        fingerprint: str,
        payload: str,
        seconds: float = 0.0,
    ) -> None:
        """Store (or replace) one result, in one short transaction."""
        t = T.derived_results
        with self.engine.begin() as conn:
            conn.execute(sa.delete(t).where(t.c.kind == kind, t.c.key == key))
            conn.execute(
                sa.insert(t).values(
                    kind=kind,
                    key=key,
                    data_version=int(data_version),
                    fingerprint=fingerprint,
                    computed_at=datetime.now(),
                    seconds=float(seconds),
                    payload=payload,
                )
            )

    def get_result(self, kind: str, key: str) -> StoredResult | None:
        """The stored result, or None."""
        t = T.derived_results
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t).where(t.c.kind == kind, t.c.key == key)).first()
        return StoredResult(**row._mapping) if row is not None else None

    def result_stamp(self, kind: str, key: str) -> tuple[int, str] | None:
        """(data version, fingerprint) of a stored result without its payload, or None."""
        t = T.derived_results
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.c.data_version, t.c.fingerprint).where(t.c.kind == kind, t.c.key == key)
            ).first()
        return (int(row[0]), str(row[1])) if row is not None else None

    def result_stamps(self) -> list[tuple[str, str, int, str]]:
        """(kind, key, data version, fingerprint) of every stored result."""
        t = T.derived_results
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.c.kind, t.c.key, t.c.data_version, t.c.fingerprint)
            ).all()
        return [(r[0], r[1], int(r[2]), r[3]) for r in rows]

    def restamp_results(
        self, fingerprint: str, data_version: int, *, match_all: bool = False
    ) -> int:
        """Mark every result computed from incidents with ``fingerprint`` as current for
        ``data_version`` (a write that left the incidents alone, e.g. a visit); with
        ``match_all``, every result (e.g. version -1: out of date, to recompute)."""
        t = T.derived_results
        where = [] if match_all else [t.c.fingerprint == fingerprint]
        with self.engine.begin() as conn:
            return conn.execute(
                sa.update(t)
                .where(*where, t.c.data_version != data_version)
                .values(data_version=int(data_version))
            ).rowcount

    def drop_results(self, keep_fingerprint: str | None = None) -> int:
        """Delete stored results (those not computed from ``keep_fingerprint``, if given)."""
        t = T.derived_results
        with self.engine.begin() as conn:
            q = sa.delete(t)
            if keep_fingerprint is not None:
                q = q.where(t.c.fingerprint != keep_fingerprint)
            return conn.execute(q).rowcount
