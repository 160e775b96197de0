"""Writing the registers: addresses of concern and county lines (one transaction each).

Registers are small (a few thousand rows) and an import may update rows already in the
store (a new status, a changed next visit), so they are written in the import's one
transaction, unlike incidents and visits (see :mod:`~clic_geo.store.publishing`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from clic_geo.schema import KEY, ROW, Col
from clic_geo.store import tables as T  # noqa: N812 - T.incidents reads like SQL
from clic_geo.store.base import StoreBase
from clic_geo.store.rows import _none

__all__ = ["RegisterWrites"]

_BATCH = 5_000


class RegisterWrites(StoreBase):
    """Address and county-line imports, mixed into :class:`~clic_geo.store.Store`."""

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
