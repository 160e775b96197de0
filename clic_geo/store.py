"""The embedded store: one SQLite file by default, any SQLAlchemy URL in principle.

Callers never write SQL: they call :class:`Store` methods that take and return
(Geo)DataFrames. Every file import is one transaction, so a crash half way leaves
the store as it was. The schema is created and migrated by :meth:`Store.migrate`.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from clic_geo import _tables as T  # noqa: N812 - T.incidents reads like SQL
from clic_geo._auth_tables import AUTH_TABLES, auth_metadata
from clic_geo._errors import ConfigError, StoreError
from clic_geo._parse import normalise_token
from clic_geo.export import write_safe_csv
from clic_geo.geo import WGS84, to_bng
from clic_geo.readers import OUTCOME_COL, REASON_COL, ROW_COL
from clic_geo.schema import Col, Outcome, Support
from clic_geo.validate import KEY, MAX_TEXT, ROW, Validated
from clic_geo.vocab import OUTCOME_ALIASES, REFERRAL_ALIASES, SUPPORT_ALIASES

__all__ = ["SCHEMA_VERSION", "Store"]

log = logging.getLogger(__name__)

_BATCH = 5_000


def _m1_initial(conn: Connection) -> None:
    T.metadata.create_all(conn, tables=[t for t in T.metadata.sorted_tables if t is not T.meta])


def _m2_auth(conn: Connection) -> None:
    """Accounts, sessions, ISA scopes and the audit log (see :mod:`clic_geo.auth`)."""
    auth_metadata.create_all(conn, tables=list(AUTH_TABLES))


#: Ordered migrations; the store's version is how many have run.
MIGRATIONS: Sequence[Callable[[Connection], None]] = (_m1_initial, _m2_auth)
SCHEMA_VERSION = len(MIGRATIONS)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=15000")
    cur.close()


@dataclass(frozen=True)
class ImportReport:
    """What an import did. ``read == accepted + rejected + duplicates`` always."""

    kind: str
    file: str
    import_id: int | None
    read: int
    accepted: int
    rejected: int
    duplicates: int
    updated: int
    blank_rows: int
    rejects_path: str | None
    reasons: dict[str, int]
    mapping: dict[str, str]
    notes: list[str]
    encoding: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (the command line prints this)."""
        return {
            "kind": self.kind,
            "file": self.file,
            "import_id": self.import_id,
            "read": self.read,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "updated": self.updated,
            "blank_rows": self.blank_rows,
            "rejects_path": self.rejects_path,
            "reasons": self.reasons,
            "columns": self.mapping,
            "notes": self.notes,
            "encoding": self.encoding,
        }


def _reason_key(reason: str) -> str:
    """Group reasons without their row-specific values ("unknown category 'x'" -> ...)."""
    out = []
    for part in reason.split("; "):
        cut = min(
            (i for i in (part.find("'"), part.find(":"), part.find('"')) if i > 0),
            default=len(part),
        )
        out.append(part[:cut].strip())
    return "; ".join(dict.fromkeys(out))


def _none(v: Any) -> Any:
    """A plain Python value for the database; every kind of missing becomes None."""
    if v is None:
        return None
    if isinstance(v, list | tuple | dict | set):
        return v
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, np.generic):
        return v.item()
    return v


def _records(df: pd.DataFrame, columns: Iterable[str]) -> list[dict[str, Any]]:
    cols = list(columns)
    return [
        {c: _none(v) for c, v in zip(cols, row, strict=True)}
        for row in df[cols].itertuples(index=False, name=None)
    ]


class Store:
    """The record store.

    Parameters
    ----------
    url : str
        SQLAlchemy database URL, e.g. ``sqlite:////path/store.sqlite`` or
        ``postgresql+psycopg://user@host/db``.
    data_dir : Path
        Where rejected-row files are written.
    migrate : bool
        Create or upgrade the schema on open (default).
    """

    def __init__(self, url: str, data_dir: str | Path, *, migrate: bool = True) -> None:
        self.url = url
        self.data_dir = Path(data_dir)
        if url.startswith("sqlite:///"):
            path = Path(url.removeprefix("sqlite:///"))
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine: Engine = sa.create_engine(url, future=True)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise StoreError(f"cannot open store {url!r}: {exc}") from exc
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        if migrate:
            self.migrate()

    @classmethod
    def open(cls, settings: Any) -> Store:
        """Open the store described by a :class:`~clic_geo.settings.Settings`."""
        return cls(settings.database_url, settings.data_dir)

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    # ------------------------------------------------------------------ schema

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
        """Bring the schema up to date; returns the version reached.

        Raises
        ------
        StoreError
            If the store was written by a newer clic-geo, or a migration fails.
        """
        try:
            with self.engine.begin() as conn:
                T.meta.create(conn, checkfirst=True)
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(
                f"cannot open store {self.url}: {exc.__class__.__name__}: {exc}"
            ) from exc
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"the store is at schema version {current}, newer than this clic-geo "
                f"understands ({SCHEMA_VERSION}); upgrade clic-geo"
            )
        for version in range(current, SCHEMA_VERSION):
            try:
                with self.engine.begin() as conn:
                    MIGRATIONS[version](conn)
                    self._set_meta(conn, "schema_version", str(version + 1))
            except sa.exc.SQLAlchemyError as exc:
                raise StoreError(
                    f"migration to schema version {version + 1} failed: {exc}"
                ) from exc
            log.info("store migrated to schema version %d", version + 1)
        return SCHEMA_VERSION

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

    # ------------------------------------------------------------------ import

    def _existing(self, conn: Connection, table: sa.Table, keys: Iterable[str]) -> set[str]:
        keys = list(dict.fromkeys(keys))
        found: set[str] = set()
        for i in range(0, len(keys), _BATCH):
            chunk = keys[i : i + _BATCH]
            found.update(conn.execute(sa.select(table.c.id).where(table.c.id.in_(chunk))).scalars())
        return found

    def apply_import(
        self,
        v: Validated,
        *,
        file_name: str,
        file_sha256: str,
        source: str,
        actor: str,
        blank_rows: int = 0,
        encoding: str = "",
        before_commit: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Write a validated table in one transaction and account for every row.

        ``before_commit`` is called with the import id just before the commit
        (used by progress display and by the crash test).
        """
        acc = v.accepted
        rejected = v.rejected
        now = datetime.now().replace(microsecond=0)
        dup_rows: list[dict[str, Any]] = []
        updated = 0
        raw_cols = [c for c in rejected.columns if c not in (ROW_COL, REASON_COL)]
        tmp_path: Path | None = None
        try:
            with self.engine.begin() as conn:
                import_id = conn.execute(
                    sa.insert(T.imports).values(
                        kind=v.kind,
                        file_name=file_name,
                        file_sha256=file_sha256,
                        source=source,
                        imported_at=now,
                        actor=actor,
                        read=0,
                        accepted=0,
                        updated=0,
                        rejected=0,
                        duplicates=0,
                        blank_rows=blank_rows,
                        encoding=encoding,
                        notes="\n".join(v.notes),
                    )
                ).inserted_primary_key[0]
                if v.kind == "incidents":
                    new, dups = self._write_incidents(conn, acc, import_id)
                elif v.kind == "visits":
                    new, dups = self._write_visits(conn, acc, import_id)
                elif v.kind == "addresses":
                    new, dups, updated = self._write_addresses(conn, acc, import_id, now)
                elif v.kind == "lines":
                    new, dups = self._write_lines(conn, acc, import_id)
                else:  # pragma: no cover - validate() refuses other kinds
                    raise StoreError(f"unknown kind {v.kind}")
                dup_rows = dups
                n_dup = len(dup_rows)
                n_rej = len(rejected)
                n_read = len(acc) + n_rej
                assert new + n_dup == len(acc), (
                    "every accepted row is new, an update or a duplicate"
                )
                # keep rejected and duplicate rows, with their original values
                reject_records = [
                    {
                        "import_id": import_id,
                        "row": _none(r.get(ROW_COL)),
                        "outcome": "rejected",
                        "reason": str(r.get(REASON_COL)),
                        "raw": json.dumps(
                            {c: _none(r.get(c)) for c in raw_cols if _none(r.get(c)) is not None},
                            ensure_ascii=False,
                            default=str,
                        ),
                    }
                    for r in rejected.to_dict("records")
                ]
                for d in dup_rows:
                    d["raw_values"] = (
                        {k: x for k, x in v.original.loc[d["row"]].items() if x != ""}
                        if d["row"] in v.original.index
                        else {}
                    )
                reject_records += [
                    {
                        "import_id": import_id,
                        "row": d["row"],
                        "outcome": "duplicate",
                        "reason": d["reason"],
                        "raw": json.dumps(d["raw_values"], ensure_ascii=False, default=str),
                    }
                    for d in dup_rows
                ]
                for i in range(0, len(reject_records), _BATCH):
                    conn.execute(sa.insert(T.rejects), reject_records[i : i + _BATCH])
                rejects_path = None
                if n_rej or n_dup:
                    rejects_path, tmp_path = self._write_rejects_file(
                        import_id, v.kind, file_name, rejected, dup_rows
                    )
                conn.execute(
                    sa.update(T.imports)
                    .where(T.imports.c.id == import_id)
                    .values(
                        read=n_read,
                        accepted=new,
                        updated=updated,
                        rejected=n_rej,
                        duplicates=n_dup,
                        rejects_path=str(rejects_path) if rejects_path else None,
                    )
                )
                if new or updated:
                    self.bump_data_version(conn)
                if before_commit is not None:
                    before_commit(import_id)
            if tmp_path is not None:
                os.replace(tmp_path, rejects_path)
                tmp_path = None
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(
                f"the import failed and nothing was stored: {exc.__class__.__name__}"
            ) from exc
        finally:
            if tmp_path is not None:  # rolled back: no rejects file for an import that is not
                tmp_path.unlink(missing_ok=True)
        reasons: dict[str, int] = {}
        for r in rejected[REASON_COL] if len(rejected) else []:
            k = _reason_key(str(r))
            reasons[k] = reasons.get(k, 0) + 1
        log.info(
            "import %s (%s): read %d, accepted %d, rejected %d, duplicates %d",
            import_id,
            v.kind,
            n_read,
            new,
            n_rej,
            n_dup,
        )
        return ImportReport(
            kind=v.kind,
            file=file_name,
            import_id=int(import_id),
            read=n_read,
            accepted=new,
            rejected=n_rej,
            duplicates=n_dup,
            updated=updated,
            blank_rows=blank_rows,
            rejects_path=str(rejects_path) if rejects_path else None,
            reasons=reasons,
            mapping=v.mapping,
            notes=v.notes,
            encoding=encoding,
        )

    def _write_rejects_file(
        self,
        import_id: int,
        kind: str,
        file_name: str,
        rejected: pd.DataFrame,
        dups: list[dict[str, Any]],
    ) -> tuple[Path, Path]:
        folder = self.data_dir / "rejects"
        folder.mkdir(parents=True, exist_ok=True)
        stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in Path(file_name).stem)[
            :60
        ]
        path = folder / f"{import_id:05d}-{kind}-{stem}.csv"
        rej = rejected.copy()
        rej.insert(0, OUTCOME_COL, "rejected")
        if dups:
            dup_df = pd.DataFrame(
                [
                    {
                        OUTCOME_COL: "duplicate",
                        ROW_COL: d["row"],
                        REASON_COL: d["reason"],
                        **d["raw_values"],
                    }
                    for d in dups
                ]
            )
            rej = pd.concat([rej, dup_df], ignore_index=True)
        first = [OUTCOME_COL, ROW_COL, REASON_COL]
        rej = rej[first + [c for c in rej.columns if c not in first]]
        rej = rej.sort_values(ROW_COL, kind="stable").fillna("")
        tmp = path.with_suffix(".csv.tmp")
        write_safe_csv(rej, tmp)
        return path, tmp

    # incidents ----------------------------------------------------------

    _INCIDENT_COLS = (
        "source",
        "source_id",
        Col.WHEN,
        Col.MONTH,
        Col.PRECISION,
        Col.CATEGORY,
        Col.ORIGINAL_TYPE,
        Col.LAT,
        Col.LON,
        Col.EASTING,
        Col.NORTHING,
        Col.AREA,
        Col.LOCATION,
        Col.NOTES,
        "attributes",
    )

    def _split_new(
        self, conn: Connection, table: sa.Table, acc: pd.DataFrame
    ) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
        first_row = acc.groupby(KEY, sort=False)[ROW].transform("first")
        in_file = acc.duplicated(KEY, keep="first")
        existing = self._existing(conn, table, acc.loc[~in_file, KEY])
        in_store = acc[KEY].isin(existing) & ~in_file
        dups: list[dict[str, Any]] = []
        for i in np.flatnonzero((in_file | in_store).to_numpy()):
            r = acc.iloc[i]
            reason = (
                f"duplicate of row {int(first_row.iloc[i])} in this file (same id or same content)"
                if in_file.iloc[i]
                else "already in the store (same id or same content)"
            )
            dups.append({"row": int(r[ROW]), "reason": reason})
        return acc[~in_file & ~in_store], dups

    def _write_incidents(
        self, conn: Connection, acc: pd.DataFrame, import_id: int
    ) -> tuple[int, list[dict[str, Any]]]:
        new, dups = self._split_new(conn, T.incidents, acc)
        cols = list(self._INCIDENT_COLS)
        for i in range(0, len(new), _BATCH):
            chunk = new.iloc[i : i + _BATCH]
            recs = _records(chunk, cols)
            for rec, key in zip(recs, chunk[KEY], strict=True):
                rec["id"] = key
                rec["import_id"] = import_id
            conn.execute(sa.insert(T.incidents), recs)
        return len(new), dups

    # visits -----------------------------------------------------------------

    def _write_visits(
        self, conn: Connection, acc: pd.DataFrame, import_id: int
    ) -> tuple[int, list[dict[str, Any]]]:
        new, dups = self._split_new(conn, T.visits, acc)
        cols = [
            "source_id",
            "visited_at",
            Col.PRECISION,
            Col.ADDRESS_ID,
            Col.LAT,
            Col.LON,
            Col.EASTING,
            Col.NORTHING,
            Col.AREA,
            Col.OFFICERS,
            Col.OUTCOME,
            Col.NOTES,
        ]
        for i in range(0, len(new), _BATCH):
            chunk = new.iloc[i : i + _BATCH]
            recs = _records(chunk, cols)
            sup, ref = [], []
            for rec, key, s, rf in zip(
                recs, chunk[KEY], chunk[Col.SUPPORT], chunk[Col.REFERRALS], strict=True
            ):
                rec["id"] = key
                rec["import_id"] = import_id
                sup += [{"visit_id": key, "support": x} for x in s]
                ref += [{"visit_id": key, "referral": x} for x in rf]
            conn.execute(sa.insert(T.visits), recs)
            if sup:
                conn.execute(sa.insert(T.visit_support), sup)
            if ref:
                conn.execute(sa.insert(T.visit_referrals), ref)
        return len(new), dups

    # addresses --------------------------------------------------------------

    def _write_addresses(
        self, conn: Connection, acc: pd.DataFrame, import_id: int, now: datetime
    ) -> tuple[int, list[dict[str, Any]], int]:
        keys = list(dict.fromkeys(acc[KEY]))
        state: dict[str, dict[str, Any]] = {}
        for i in range(0, len(keys), _BATCH):
            chunk = keys[i : i + _BATCH]
            for row in conn.execute(
                sa.select(T.addresses).where(T.addresses.c.id.in_(chunk))
            ).mappings():
                state[row["id"]] = dict(row)
        statuses: set[tuple[str, date, str]] = set()
        hardening: set[tuple[str, str, str]] = set()
        if state:
            ids = list(state)
            for i in range(0, len(ids), _BATCH):
                chunk = ids[i : i + _BATCH]
                statuses |= {
                    (r.address_id, r.since, r.status)
                    for r in conn.execute(
                        sa.select(T.address_status).where(T.address_status.c.address_id.in_(chunk))
                    )
                }
                hardening |= {
                    (r.address_id, r.measure, r.fitted_on)
                    for r in conn.execute(
                        sa.select(T.address_hardening).where(
                            T.address_hardening.c.address_id.in_(chunk)
                        )
                    )
                }
        existed = set(state)
        created: set[str] = set()
        changed: set[str] = set()
        new_status: list[dict[str, Any]] = []
        new_hard: list[dict[str, Any]] = []
        dups: list[dict[str, Any]] = []
        first_row: dict[str, int] = {}
        fields = (
            Col.ADDRESS,
            Col.SAFE_ALERT,
            Col.PROTECTION_PLAN,
            Col.NEXT_VISIT_DUE,
            Col.NOTES,
            Col.LAT,
            Col.LON,
            Col.EASTING,
            Col.NORTHING,
            Col.AREA,
        )
        for rec in acc.to_dict("records"):
            r = {k: _none(v) for k, v in rec.items()}
            key = r[KEY]
            did = False
            if key not in state:
                state[key] = {
                    "id": key,
                    "source_id": r.get("source_id"),
                    "address": r[Col.ADDRESS],
                    "latitude": r[Col.LAT],
                    "longitude": r[Col.LON],
                    "easting": r[Col.EASTING],
                    "northing": r[Col.NORTHING],
                    "area_id": r[Col.AREA],
                    "safe_alert": bool(r[Col.SAFE_ALERT])
                    if r[Col.SAFE_ALERT] is not None
                    else False,
                    "protection_plan": bool(r[Col.PROTECTION_PLAN])
                    if r[Col.PROTECTION_PLAN] is not None
                    else False,
                    "next_visit_due": _none(r[Col.NEXT_VISIT_DUE]),
                    "notes": r[Col.NOTES],
                    "import_id": import_id,
                    "updated_at": now,
                }
                created.add(key)
                did = True
            else:
                cur = state[key]
                for f in fields:
                    val = _none(r[f])
                    if val is None or val == "":
                        continue  # not given in this row: no change
                    if f in (Col.SAFE_ALERT, Col.PROTECTION_PLAN):
                        val = bool(val)
                    if cur.get(f) != val and not (
                        isinstance(val, float)
                        and isinstance(cur.get(f), float)
                        and abs(val - cur[f]) < 1e-6
                    ):
                        cur[f] = val
                        did = True
                if did:
                    cur["updated_at"] = now
                    cur["import_id"] = import_id
                    if key in existed:
                        changed.add(key)
            if r[Col.STATUS] is not None and r[Col.STATUS_SINCE] is not None:
                st = (key, _none(r[Col.STATUS_SINCE]), r[Col.STATUS])
                if st not in statuses:
                    statuses.add(st)
                    new_status.append(
                        {
                            "address_id": st[0],
                            "since": st[1],
                            "status": st[2],
                            "import_id": import_id,
                        }
                    )
                    did = True
                    if key in existed:
                        changed.add(key)
            for measure, day in r[Col.HARDENING]:
                h = (key, measure, day or "")
                if h not in hardening:
                    hardening.add(h)
                    new_hard.append(
                        {
                            "address_id": key,
                            "measure": measure,
                            "fitted_on": day or "",
                            "import_id": import_id,
                        }
                    )
                    did = True
                    if key in existed:
                        changed.add(key)
            if not did:
                reason = (
                    f"duplicate of row {first_row[key]} in this file (nothing new)"
                    if key in first_row
                    else "already in the store with the same details"
                )
                dups.append({"row": int(r[ROW]), "reason": reason})
            first_row.setdefault(key, int(r[ROW]))
        cols = [c.name for c in T.addresses.columns]
        if created:
            conn.execute(
                sa.insert(T.addresses), [{c: _none(state[k].get(c)) for c in cols} for k in created]
            )
        for k in changed - created:
            vals = {c: _none(state[k].get(c)) for c in cols if c != "id"}
            conn.execute(sa.update(T.addresses).where(T.addresses.c.id == k).values(**vals))
        if new_status:
            conn.execute(sa.insert(T.address_status), new_status)
        if new_hard:
            conn.execute(sa.insert(T.address_hardening), new_hard)
        accepted = len(acc) - len(dups)
        return accepted, dups, len(changed)

    # county lines -----------------------------------------------------------

    def _write_lines(
        self, conn: Connection, acc: pd.DataFrame, import_id: int
    ) -> tuple[int, list[dict[str, Any]]]:
        existing_lines = {
            r.id: r
            for r in conn.execute(
                sa.select(T.county_lines).where(T.county_lines.c.id.in_(list(set(acc["line_id"]))))
            )
        }
        existing_status = {
            (r.line_id, r.since, r.status)
            for r in conn.execute(
                sa.select(T.line_status).where(
                    T.line_status.c.line_id.in_(list(set(acc["line_id"])))
                )
            )
        }
        dups: list[dict[str, Any]] = []
        first_row: dict[str, int] = {}
        new = 0
        for rec in acc.to_dict("records"):
            r = {k: _none(v) for k, v in rec.items()}
            lid = r["line_id"]
            if lid not in existing_lines:
                conn.execute(
                    sa.insert(T.county_lines).values(
                        id=lid,
                        source_id=r["source_id"],
                        name=r[Col.LINE_NAME],
                        area_id=r[Col.AREA],
                        notes=r[Col.NOTES],
                        import_id=import_id,
                    )
                )
                existing_lines[lid] = True
            elif r[Col.AREA]:
                conn.execute(
                    sa.update(T.county_lines)
                    .where(T.county_lines.c.id == lid)
                    .values(area_id=r[Col.AREA])
                )
            st = (lid, r["since"], r[Col.LINE_STATUS])
            if st in existing_status:
                dups.append(
                    {
                        "row": int(r[ROW]),
                        "reason": (
                            f"duplicate of row {first_row[r[KEY]]} in this file"
                            if r[KEY] in first_row
                            else "already in the store (same line, status and date)"
                        ),
                    }
                )
            else:
                existing_status.add(st)
                conn.execute(
                    sa.insert(T.line_status).values(
                        line_id=lid,
                        since=r["since"],
                        status=r[Col.LINE_STATUS],
                        import_id=import_id,
                    )
                )
                new += 1
            first_row.setdefault(r[KEY], int(r[ROW]))
        return new, dups

    # ------------------------------------------------------------------ reads

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

    def incidents(
        self,
        *,
        area: str | Sequence[str] | None = None,
        start: date | datetime | None = None,
        end: date | datetime | None = None,
        categories: Sequence[str] | None = None,
        original_types: Sequence[str] | None = None,
        sources: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
    ) -> gpd.GeoDataFrame:
        """Incidents as points in WGS84, filtered by area, time, category or source."""
        t = T.incidents
        conds = self._filters(t, "occurred_at", area, start, end)
        if categories:
            conds.append(t.c.category.in_(list(categories)))
        if original_types:
            conds.append(sa.func.lower(t.c.original_type).in_([x.lower() for x in original_types]))
        if sources:
            conds.append(t.c.source.in_(list(sources)))
        cols = [t.c[c] for c in columns] if columns else list(t.c)
        df = self._read(sa.select(*cols).where(*conds).order_by(t.c.occurred_at, t.c.id))
        if "occurred_at" in df:
            df["occurred_at"] = pd.to_datetime(df["occurred_at"])
        return self._points(df)

    def addresses(
        self, *, area: str | Sequence[str] | None = None, as_of: date | None = None
    ) -> gpd.GeoDataFrame:
        """Addresses of concern with their cuckooing status as of a date and hardening."""
        t = T.addresses
        df = self._read(
            sa.select(t).where(*self._filters(t, "updated_at", area, None, None)).order_by(t.c.id)
        )
        hist = self.address_status_history()
        if as_of is not None:
            hist = hist[hist["since"] <= pd.Timestamp(as_of)]
        latest = hist.sort_values(["since"]).groupby("address_id").tail(1).set_index("address_id")
        df[Col.STATUS] = df["id"].map(latest["status"]).fillna("none")
        df[Col.STATUS_SINCE] = df["id"].map(latest["since"])
        hard = self._read(sa.select(T.address_hardening))
        if as_of is not None and len(hard):
            hard = hard[(hard["fitted_on"] == "") | (hard["fitted_on"] <= as_of.isoformat())]
        grouped = hard.groupby("address_id")["measure"].agg(lambda s: tuple(sorted(set(s))))
        df[Col.HARDENING] = df["id"].map(grouped).apply(lambda v: v if isinstance(v, tuple) else ())
        df["next_visit_due"] = pd.to_datetime(df["next_visit_due"])
        df["safe_alert"] = df["safe_alert"].astype(bool)
        df["protection_plan"] = df["protection_plan"].astype(bool)
        return self._points(df)

    def address_status_history(self) -> pd.DataFrame:
        """Every cuckooing status change: address_id, since, status."""
        df = self._read(
            sa.select(T.address_status).order_by(
                T.address_status.c.address_id, T.address_status.c.since
            )
        )
        df["since"] = pd.to_datetime(df["since"])
        return df

    def hardening(self) -> pd.DataFrame:
        """Every target-hardening measure fitted: address_id, measure, fitted_on."""
        return self._read(sa.select(T.address_hardening))

    def visits(
        self,
        *,
        area: str | Sequence[str] | None = None,
        start: date | datetime | None = None,
        end: date | datetime | None = None,
    ) -> gpd.GeoDataFrame:
        """Visits as points, with ``support`` and ``referrals`` as tuples of codes."""
        t = T.visits
        df = self._read(
            sa.select(t)
            .where(*self._filters(t, "visited_at", area, start, end))
            .order_by(t.c.visited_at, t.c.id)
        )
        df["visited_at"] = pd.to_datetime(df["visited_at"])
        ids = set(df["id"])
        sup = self._read(sa.select(T.visit_support))
        ref = self._read(sa.select(T.visit_referrals))
        sup = sup[sup["visit_id"].isin(ids)].groupby("visit_id")["support"].agg(tuple)
        ref = ref[ref["visit_id"].isin(ids)].groupby("visit_id")["referral"].agg(tuple)
        df[Col.SUPPORT] = df["id"].map(sup).apply(lambda v: v if isinstance(v, tuple) else ())
        df[Col.REFERRALS] = df["id"].map(ref).apply(lambda v: v if isinstance(v, tuple) else ())
        return self._points(df)

    def record_visit(
        self,
        *,
        visited_at: datetime,
        outcome: str,
        address_id: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
        area_id: str | None = None,
        support: Sequence[str] = (),
        referrals: Sequence[str] = (),
        officers: str = "",
        notes: str = "",
        next_visit_due: date | None = None,
        source: str = "planner",
    ) -> str:
        """Record one visit with its outcome, support and referrals, in one transaction.

        Values are checked against the importer's vocabularies (so "no reply", "HR
        kit" or "foodbank" are understood); a referral adds "referral" to the
        support, as on import. The visit is placed at the address (``address_id``,
        a store id such as ``demo:DEMO-ADR-0001``) or at ``latitude``/``longitude``.
        ``next_visit_due`` moves the address's next protection-plan visit.

        Returns
        -------
        str
            The new visit's id.

        Raises
        ------
        ConfigError
            Listing every invalid value (nothing is written).
        """
        problems: list[str] = []
        code = OUTCOME_ALIASES.get(normalise_token(str(outcome or "")))
        if code is None:
            problems.append(
                f"unknown outcome {outcome!r} (expected {', '.join(o.value for o in Outcome)})"
            )

        def codes(values: Sequence[str], aliases: Mapping[str, str], what: str) -> list[str]:
            out, unknown = [], []
            for v in [values] if isinstance(values, str) else values:
                c = aliases.get(normalise_token(str(v)))
                if c is None:
                    unknown.append(repr(v))
                elif c not in out:
                    out.append(c)
            if unknown:
                problems.append(f"unknown {what}: {', '.join(unknown)}")
            return out

        sup = codes(support, SUPPORT_ALIASES, "support")
        ref = codes(referrals, REFERRAL_ALIASES, "referral")
        if ref and Support.REFERRAL.value not in sup:
            sup.append(Support.REFERRAL.value)
        when = pd.Timestamp(visited_at).to_pydatetime().replace(microsecond=0)
        if when > datetime.now() + pd.Timedelta(days=1):
            problems.append(f"visit time {when:%Y-%m-%d %H:%M} is in the future")
        for name, text in (("notes", notes), ("officers", officers)):
            if len(str(text or "")) > MAX_TEXT:
                problems.append(f"{name} longer than {MAX_TEXT:,} characters")
        place: dict[str, Any] | None = None
        if address_id:
            with self.engine.connect() as conn:
                row = conn.execute(
                    sa.select(T.addresses).where(T.addresses.c.id == address_id)
                ).first()
            if row is None:
                problems.append(f"no address {address_id!r} in the store")
            else:
                place = {
                    c: getattr(row, c) for c in ("latitude", "longitude", "easting", "northing")
                }
                place["area_id"] = area_id or row.area_id
        elif (
            latitude is not None
            and longitude is not None
            and np.isfinite([latitude, longitude]).all()
        ):
            if abs(latitude) > 90 or abs(longitude) > 180:
                problems.append(f"location ({latitude}, {longitude}) out of range")
            else:
                e, n = to_bng([longitude], [latitude])
                place = {
                    "latitude": round(float(latitude), 6),
                    "longitude": round(float(longitude), 6),
                    "easting": round(float(e[0]), 1),
                    "northing": round(float(n[0]), 1),
                    "area_id": area_id,
                }
        else:
            problems.append("no location: give an address id or a latitude and longitude")
        if next_visit_due is not None and not address_id:
            problems.append("next_visit_due needs an address id")
        if problems:
            raise ConfigError("cannot record the visit: " + "; ".join(problems))
        assert place is not None
        visit_id = f"{source}:{uuid.uuid4().hex[:16]}"
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.insert(T.visits).values(
                        id=visit_id,
                        visited_at=when,
                        time_precision="minute",
                        address_id=address_id or None,
                        officers=officers or None,
                        outcome=code,
                        notes=notes or None,
                        **place,
                    )
                )
                if sup:
                    conn.execute(
                        sa.insert(T.visit_support),
                        [{"visit_id": visit_id, "support": x} for x in sup],
                    )
                if ref:
                    conn.execute(
                        sa.insert(T.visit_referrals),
                        [{"visit_id": visit_id, "referral": x} for x in ref],
                    )
                if next_visit_due is not None:
                    conn.execute(
                        sa.update(T.addresses)
                        .where(T.addresses.c.id == address_id)
                        .values(
                            next_visit_due=next_visit_due,
                            updated_at=datetime.now().replace(microsecond=0),
                        )
                    )
                # cached loaders (and tomorrow's priorities) must see the new visit
                self.bump_data_version(conn)
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"the visit was not recorded: {exc.__class__.__name__}") from exc
        log.info("visit %s recorded (outcome %s)", visit_id, code)
        return visit_id

    def county_lines(self) -> pd.DataFrame:
        """County lines with their full status history (one row per status change)."""
        lines = self._read(sa.select(T.county_lines))
        st = self._read(sa.select(T.line_status))
        st["since"] = pd.to_datetime(st["since"])
        return st.merge(
            lines.rename(columns={"id": "line_id"}), on="line_id", how="left"
        ).sort_values(["line_id", "since"])

    def active_lines(self, on: date, area: str | None = None) -> int:
        """How many county lines were active on a date (latest status on or before it)."""
        df = self.county_lines()
        if area is not None:
            df = df[df["area_id"] == area]
        df = df[df["since"] <= pd.Timestamp(on)]
        if df.empty:
            return 0
        latest = df.sort_values("since").groupby("line_id").tail(1)
        return int((latest["status"] == "active").sum())

    def month_span(self) -> tuple[str, str] | None:
        """First and last month with incidents (``YYYY-MM``), or None when there are none."""
        with self.engine.connect() as conn:
            lo, hi = conn.execute(
                sa.select(sa.func.min(T.incidents.c.month), sa.func.max(T.incidents.c.month))
            ).one()
        return (str(lo), str(hi)) if lo is not None else None

    def date_span(self) -> tuple[date, date] | None:
        """First and last day with incidents, or None when there are none."""
        with self.engine.connect() as conn:
            lo, hi = conn.execute(
                sa.select(
                    sa.func.min(T.incidents.c.occurred_at), sa.func.max(T.incidents.c.occurred_at)
                )
            ).one()
        if lo is None:
            return None
        return pd.Timestamp(lo).date(), pd.Timestamp(hi).date()

    def imports(self) -> pd.DataFrame:
        """The import log, newest first."""
        df = self._read(sa.select(T.imports).order_by(T.imports.c.id.desc()))
        df["imported_at"] = pd.to_datetime(df["imported_at"])
        return df

    def rejects(self, import_id: int | None = None) -> pd.DataFrame:
        """Rejected and duplicate rows (``raw`` holds the original values as JSON)."""
        q = sa.select(T.rejects).order_by(T.rejects.c.import_id, T.rejects.c.row)
        if import_id is not None:
            q = q.where(T.rejects.c.import_id == import_id)
        return self._read(q)

    def counts(self) -> dict[str, int]:
        """Row count of each record table."""
        with self.engine.connect() as conn:
            return {
                t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar() or 0)
                for t in T.RECORD_TABLES
            }

    def is_empty(self) -> bool:
        """True when nothing has ever been imported."""
        with self.engine.connect() as conn:
            return not conn.execute(sa.select(T.imports.c.id).limit(1)).first()

    def address_locations(self) -> dict[str, tuple[float, float]]:
        """``{address id: (lat, lon)}`` for placing visits given only an address id."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    T.addresses.c.id,
                    T.addresses.c.source_id,
                    T.addresses.c.latitude,
                    T.addresses.c.longitude,
                )
            )
            out: dict[str, tuple[float, float]] = {}
            for r in rows:
                out[r.id] = (r.latitude, r.longitude)
            return out

    def reassign_areas(
        self, assign: Callable[[np.ndarray, np.ndarray], np.ndarray]
    ) -> dict[str, int]:
        """Recompute every record's area (after areas were added or redrawn)."""
        changed: dict[str, int] = {}
        with self.engine.begin() as conn:
            for t in (T.incidents, T.addresses, T.visits):
                df = pd.read_sql(sa.select(t.c.id, t.c.latitude, t.c.longitude, t.c.area_id), conn)
                new = assign(df["longitude"].to_numpy(), df["latitude"].to_numpy())
                old = df["area_id"].astype(object)
                diff = old.where(old.notna(), None).to_numpy() != new
                rows = [{"k": k, "a": a} for k, a in zip(df["id"][diff], new[diff], strict=True)]
                if rows:
                    conn.execute(
                        sa.update(t)
                        .where(t.c.id == sa.bindparam("k"))
                        .values(area_id=sa.bindparam("a")),
                        rows,
                    )
                changed[t.name] = len(rows)
        return changed
