"""Saved visit plans: every version of an area's plan for a day, the newest being the plan.

The store keeps what it is given (the settings and route as JSON text, who saved it,
when) and numbers the versions; :mod:`clic_geo.planning.saved_plan_service` turns a
plan into that text and back, and checks who may save or read one.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from clic_geo._errors import StoreError
from clic_geo.store import tables as T  # noqa: N812 - T.plans reads like SQL
from clic_geo.store.base import StoreBase

__all__ = ["StorePlans"]

log = logging.getLogger(__name__)

#: The columns of :meth:`StorePlans.saved_plans` (everything but the JSON).
PLAN_LIST_COLUMNS = ("id", "area_id", "day", "version", "made_by", "made_at", "stops")


class StorePlans(StoreBase):
    """Saved plans, mixed into :class:`~clic_geo.store.Store`."""

    def save_plan(
        self,
        *,
        area_id: str,
        day: date,
        made_by: str,
        made_at: datetime,
        stops: int,
        settings: str,
        route: str,
    ) -> int:
        """Save a new version of the area's plan for the day; returns its version (1, 2...).

        Earlier versions are kept. Two saves at once get different versions (the
        unique index on area, day and version makes the later one try again).
        """
        for _attempt in range(3):
            try:
                with self.engine.begin() as conn:
                    newest = conn.execute(
                        sa.select(sa.func.max(T.plans.c.version)).where(
                            T.plans.c.area_id == area_id, T.plans.c.day == day
                        )
                    ).scalar()
                    version = int(newest or 0) + 1
                    conn.execute(
                        sa.insert(T.plans).values(
                            area_id=area_id,
                            day=day,
                            version=version,
                            made_by=made_by,
                            made_at=made_at.replace(microsecond=0),
                            stops=int(stops),
                            settings=settings,
                            route=route,
                        )
                    )
            except sa.exc.IntegrityError:
                continue  # another save took this version number: take the next
            except sa.exc.SQLAlchemyError as exc:
                raise StoreError(f"the plan was not saved: {exc.__class__.__name__}") from exc
            log.info("plan %s %s saved as version %d", area_id, day, version)
            return version
        raise StoreError("the plan was not saved: too many saves of this day at once")

    def saved_plans(
        self,
        *,
        area_id: str | None = None,
        day: date | None = None,
        from_day: date | None = None,
        limit: int = 200,
    ) -> pd.DataFrame:
        """Saved plan versions (no stops), newest saved first.

        Columns ``id, area_id, day, version, made_by, made_at, stops``; ``from_day``
        keeps the plans of that day and later.
        """
        t = T.plans
        q = sa.select(*(t.c[c] for c in PLAN_LIST_COLUMNS))
        if area_id is not None:
            q = q.where(t.c.area_id == area_id)
        if day is not None:
            q = q.where(t.c.day == day)
        if from_day is not None:
            q = q.where(t.c.day >= from_day)
        q = q.order_by(t.c.made_at.desc(), t.c.id.desc()).limit(limit)
        df = self._read(q)
        if len(df):
            df["day"] = pd.to_datetime(df["day"]).dt.date
            df["made_at"] = pd.to_datetime(df["made_at"])
        return df

    def saved_plan(self, area_id: str, day: date, version: int | None = None) -> dict[str, Any]:
        """One saved version (default the newest) as a dict of its columns, with
        ``versions``: how many versions of the day's plan there are. Empty if none."""
        t = T.plans
        where = [t.c.area_id == area_id, t.c.day == day]
        with self.engine.connect() as conn:
            n = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar()
            q = sa.select(t).where(*where)
            q = (
                q.where(t.c.version == version)
                if version is not None
                else q.order_by(t.c.version.desc()).limit(1)
            )
            row = conn.execute(q).mappings().first()
        if row is None:
            return {}
        return {**row, "versions": int(n or 0)}
