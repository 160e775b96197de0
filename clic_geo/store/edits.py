"""Single edits outside an import: a recorded visit, areas reassigned after a redraw."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from clic_geo._errors import ConfigError, StoreError
from clic_geo.geo.crs import to_bng
from clic_geo.schema import MAX_TEXT, Outcome, Support
from clic_geo.store import tables as T  # noqa: N812 - T.incidents reads like SQL
from clic_geo.store.base import StoreBase
from clic_geo.vocab import OUTCOME_ALIASES, REFERRAL_ALIASES, SUPPORT_ALIASES, normalise_token

__all__ = ["StoreEdits"]

log = logging.getLogger(__name__)


class StoreEdits(StoreBase):
    """Single edits, mixed into :class:`~clic_geo.store.Store`."""

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
