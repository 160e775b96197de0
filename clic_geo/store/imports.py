"""Writing an import: accepted rows, duplicates and rejected rows, in one transaction.

Every file import is one transaction, so a crash half way leaves the store as it was.
Rejected and duplicate rows keep their original values, in the store and in a rejects file.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clic_geo._errors import StoreError
from clic_geo.export import write_safe_csv
from clic_geo.schema import (
    KEY,
    OUTCOME_COL,
    REASON_COL,
    ROW,
    ROW_COL,
    Col,
)
from clic_geo.store import tables as T  # noqa: N812 - T.incidents reads like SQL
from clic_geo.store.base import StoreBase
from clic_geo.store.rows import ImportReport, Validated, _none, _reason_key, _records

__all__ = ["ImportWrites"]


log = logging.getLogger(__name__)


_BATCH = 5_000


class ImportWrites(StoreBase):
    """Import writing, mixed into :class:`~clic_geo.store.Store`."""

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
