"""Writing an import: accepted rows, duplicates and rejected rows, published at once.

Every file import is published at once, so a crash half way leaves the store as it was
(:mod:`~clic_geo.store.publishing`).
Rejected and duplicate rows keep their original values, in the store and in a rejects file.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clic_geo._errors import StoreError
from clic_geo.export import write_safe_csv
from clic_geo.files import private_dir
from clic_geo.schema import (
    KEY,
    OUTCOME_COL,
    REASON_COL,
    ROW,
    ROW_COL,
    Col,
)
from clic_geo.store import tables as T  # noqa: N812 - T.incidents reads like SQL
from clic_geo.store.publishing import BATCH_ROWS, PUBLISHED, WRITING, ImportPublishing
from clic_geo.store.registers import RegisterWrites
from clic_geo.store.rows import ImportReport, Validated, _none, _reason_key, _records

__all__ = ["ImportWrites"]


log = logging.getLogger(__name__)


_BATCH = BATCH_ROWS
#: Kinds written in batches and published at once (large, insert-only files).
_BATCHED_KINDS = frozenset({"incidents", "visits"})


class ImportWrites(ImportPublishing, RegisterWrites):
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
        """Write a validated table, account for every row, and publish it all at once.

        Incidents and visits are written in batches of short transactions and published
        by one more (:mod:`~clic_geo.store.publishing`): readers and sign-ins never wait
        behind a large import, and readers see the whole file or none of it. Addresses
        and county lines (registers of a few thousand rows, which may update existing
        rows) are written in one transaction. Either way a crash half way leaves the
        store as it was. ``before_commit`` is called with the import id just before
        the publishing commit (used by progress display and by the crash test).
        """
        batched = v.kind in _BATCHED_KINDS
        now = datetime.now().replace(microsecond=0)
        row = {
            "kind": v.kind,
            "file_name": file_name,
            "file_sha256": file_sha256,
            "source": source,
            "imported_at": now,
            "actor": actor,
            **dict.fromkeys(("read", "accepted", "updated", "rejected", "duplicates"), 0),
            "blank_rows": blank_rows,
            "encoding": encoding,
            "notes": "\n".join(v.notes),
            "status": WRITING if batched else PUBLISHED,
        }
        import_id: int | None = None
        tmp_path: Path | None = None
        try:
            with self.import_lock():
                self.clean_abandoned_imports()
                if batched:
                    with self.engine.begin() as conn:
                        import_id = conn.execute(
                            sa.insert(T.imports).values(**row)
                        ).inserted_primary_key[0]
                    out = self._write_rows(self.engine.begin, v, import_id, now, file_name)
                    tmp_path = out["tmp_path"]
                    with self.engine.begin() as conn:
                        self._publish(conn, import_id, out, before_commit)
                else:
                    with self.engine.begin() as conn:
                        import_id = conn.execute(
                            sa.insert(T.imports).values(**row)
                        ).inserted_primary_key[0]
                        out = self._write_rows(
                            lambda: nullcontext(conn), v, import_id, now, file_name
                        )
                        tmp_path = out["tmp_path"]
                        self._publish(conn, import_id, out, before_commit)
                if tmp_path is not None:
                    os.replace(tmp_path, out["rejects_path"])
                    tmp_path = None
        except BaseException as exc:
            if batched and import_id is not None:
                try:
                    self.discard_import(import_id)
                except sa.exc.SQLAlchemyError:  # the next import or opening cleans up
                    log.exception("could not remove the rows of failed import %s", import_id)
            if isinstance(exc, sa.exc.SQLAlchemyError):
                raise StoreError(
                    f"the import failed and nothing was stored: {exc.__class__.__name__}"
                ) from exc
            raise
        finally:
            if tmp_path is not None:  # rolled back: no rejects file for an import that is not
                tmp_path.unlink(missing_ok=True)
        rejected = v.rejected
        reasons: dict[str, int] = {}
        for r in rejected[REASON_COL] if len(rejected) else []:
            k = _reason_key(str(r))
            reasons[k] = reasons.get(k, 0) + 1
        log.info(
            "import %s (%s): read %d, accepted %d, rejected %d, duplicates %d",
            import_id,
            v.kind,
            out["read"],
            out["accepted"],
            out["rejected"],
            out["duplicates"],
        )
        return ImportReport(
            kind=v.kind,
            file=file_name,
            import_id=int(import_id),
            read=out["read"],
            accepted=out["accepted"],
            rejected=out["rejected"],
            duplicates=out["duplicates"],
            updated=out["updated"],
            blank_rows=blank_rows,
            rejects_path=str(out["rejects_path"]) if out["rejects_path"] else None,
            reasons=reasons,
            mapping=v.mapping,
            notes=v.notes,
            encoding=encoding,
        )

    def _publish(
        self,
        conn: Connection,
        import_id: int,
        out: dict[str, Any],
        before_commit: Callable[[int], None] | None,
    ) -> None:
        """The import's counts, status ``published`` and the data version, in ``conn``."""
        conn.execute(
            sa.update(T.imports)
            .where(T.imports.c.id == import_id)
            .values(
                read=out["read"],
                accepted=out["accepted"],
                updated=out["updated"],
                rejected=out["rejected"],
                duplicates=out["duplicates"],
                rejects_path=str(out["rejects_path"]) if out["rejects_path"] else None,
                status=PUBLISHED,
            )
        )
        if out["accepted"] or out["updated"]:
            self.bump_data_version(conn)
        if before_commit is not None:
            before_commit(import_id)

    def _write_rows(
        self,
        txn: Callable[[], AbstractContextManager[Connection]],
        v: Validated,
        import_id: int,
        now: datetime,
        file_name: str,
    ) -> dict[str, Any]:
        """Write accepted rows and kept rejected/duplicate rows; ``txn()`` gives the
        transaction of each batch (one shared transaction for unbatched kinds)."""
        acc, rejected = v.accepted, v.rejected
        updated = 0
        if v.kind == "incidents":
            new, dup_rows = self._write_incidents(txn, acc, import_id)
        elif v.kind == "visits":
            new, dup_rows = self._write_visits(txn, acc, import_id)
        else:
            with txn() as conn:
                if v.kind == "addresses":
                    new, dup_rows, updated = self._write_addresses(conn, acc, import_id, now)
                elif v.kind == "lines":
                    new, dup_rows = self._write_lines(conn, acc, import_id)
                else:  # pragma: no cover - validate() refuses other kinds
                    raise StoreError(f"unknown kind {v.kind}")
        n_dup = len(dup_rows)
        n_rej = len(rejected)
        assert new + n_dup == len(acc), "every accepted row is new, an update or a duplicate"
        raw_cols = [c for c in rejected.columns if c not in (ROW_COL, REASON_COL)]
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
            with txn() as conn:
                conn.execute(sa.insert(T.rejects), reject_records[i : i + _BATCH])
        rejects_path = tmp_path = None
        if n_rej or n_dup:
            rejects_path, tmp_path = self._write_rejects_file(
                import_id, v.kind, file_name, rejected, dup_rows
            )
        return {
            "read": len(acc) + n_rej,
            "accepted": new,
            "updated": updated,
            "rejected": n_rej,
            "duplicates": n_dup,
            "rejects_path": rejects_path,
            "tmp_path": tmp_path,
        }

    def _write_rejects_file(
        self,
        import_id: int,
        kind: str,
        file_name: str,
        rejected: pd.DataFrame,
        dups: list[dict[str, Any]],
    ) -> tuple[Path, Path]:
        folder = private_dir(self.data_dir / "rejects")
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
        self,
        txn: Callable[[], AbstractContextManager[Connection]],
        acc: pd.DataFrame,
        import_id: int,
    ) -> tuple[int, list[dict[str, Any]]]:
        with txn() as conn:
            new, dups = self._split_new(conn, T.incidents, acc)
        cols = list(self._INCIDENT_COLS)
        for i in range(0, len(new), _BATCH):
            chunk = new.iloc[i : i + _BATCH]
            recs = _records(chunk, cols)
            for rec, key in zip(recs, chunk[KEY], strict=True):
                rec["id"] = key
                rec["import_id"] = import_id
            with txn() as conn:
                conn.execute(sa.insert(T.incidents), recs)
        return len(new), dups

    # visits -----------------------------------------------------------------

    def _write_visits(
        self,
        txn: Callable[[], AbstractContextManager[Connection]],
        acc: pd.DataFrame,
        import_id: int,
    ) -> tuple[int, list[dict[str, Any]]]:
        with txn() as conn:
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
            with txn() as conn:
                conn.execute(sa.insert(T.visits), recs)
                if sup:
                    conn.execute(sa.insert(T.visit_support), sup)
                if ref:
                    conn.execute(sa.insert(T.visit_referrals), ref)
        return len(new), dups
