"""Reading the store: incidents, addresses, visits and county lines as (Geo)DataFrames."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry

from clic_geo.schema import Col
from clic_geo.store import tables as T  # noqa: N812 - T.incidents reads like SQL
from clic_geo.store.publishing import PUBLISHED, published
from clic_geo.store.spatial import SpatialQueries

__all__ = ["StoreQueries"]

log = logging.getLogger(__name__)


class StoreQueries(SpatialQueries):
    """Reads, mixed into :class:`~clic_geo.store.Store`."""

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
        within: BaseGeometry | None = None,
    ) -> gpd.GeoDataFrame:
        """Incidents as points in WGS84, filtered by area, time, category or source.

        ``within`` keeps those inside an outline (a WGS84 polygon, e.g. an area's),
        whatever their ``area_id`` says: in the database on PostGIS (spatial index).
        """
        t = T.incidents
        conds = self._filters(t, "occurred_at", area, start, end)
        conds.append(published(t))
        spatial, exact = self._within(t, within)
        conds += spatial
        if categories:
            conds.append(t.c.category.in_(list(categories)))
        if original_types:
            conds.append(sa.func.lower(t.c.original_type).in_([x.lower() for x in original_types]))
        if sources:
            conds.append(t.c.source.in_(list(sources)))
        if columns and within is not None:
            columns = list(dict.fromkeys([*columns, "easting", "northing"]))
        cols = [t.c[c] for c in columns] if columns else list(t.c)
        df = exact(self._read(sa.select(*cols).where(*conds).order_by(t.c.occurred_at, t.c.id)))
        if "occurred_at" in df:
            df["occurred_at"] = pd.to_datetime(df["occurred_at"])
        return self._points(df)

    def addresses(
        self,
        *,
        area: str | Sequence[str] | None = None,
        as_of: date | None = None,
        within: BaseGeometry | None = None,
    ) -> gpd.GeoDataFrame:
        """Addresses of concern with their cuckooing status as of a date and hardening
        (``within``: inside a WGS84 outline, as for :meth:`incidents`)."""
        t = T.addresses
        spatial, exact = self._within(t, within)
        conds = self._filters(t, "updated_at", area, None, None) + spatial
        df = exact(self._read(sa.select(t).where(*conds).order_by(t.c.id)))
        hist = self.address_status_history()
        if as_of is not None:
            hist = hist[hist["since"] <= pd.Timestamp(as_of)]
        latest = hist.sort_values(["since"]).groupby("address_id").tail(1).set_index("address_id")
        # typed explicitly: with no status history at all, mapping through the empty
        # frame's columns gave float64 and the date column failed to cast (issue 9)
        status = df["id"].map(latest["status"].astype(object).to_dict())
        df[Col.STATUS] = status.astype(object).where(status.notna(), "none")
        df[Col.STATUS_SINCE] = df["id"].map(latest["since"].to_dict()).astype(hist["since"].dtype)
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
        within: BaseGeometry | None = None,
    ) -> gpd.GeoDataFrame:
        """Visits as points, with ``support`` and ``referrals`` as tuples of codes
        (``within``: inside a WGS84 outline, as for :meth:`incidents`)."""
        t = T.visits
        spatial, exact = self._within(t, within)
        conds = [*self._filters(t, "visited_at", area, start, end), published(t), *spatial]
        df = exact(self._read(sa.select(t).where(*conds).order_by(t.c.visited_at, t.c.id)))
        df["visited_at"] = pd.to_datetime(df["visited_at"])
        ids = set(df["id"])
        sup = self._read(sa.select(T.visit_support))
        ref = self._read(sa.select(T.visit_referrals))
        sup = sup[sup["visit_id"].isin(ids)].groupby("visit_id")["support"].agg(tuple)
        ref = ref[ref["visit_id"].isin(ids)].groupby("visit_id")["referral"].agg(tuple)
        df[Col.SUPPORT] = df["id"].map(sup).apply(lambda v: v if isinstance(v, tuple) else ())
        df[Col.REFERRALS] = df["id"].map(ref).apply(lambda v: v if isinstance(v, tuple) else ())
        return self._points(df)

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
                sa.select(sa.func.min(T.incidents.c.month), sa.func.max(T.incidents.c.month)).where(
                    published(T.incidents)
                )
            ).one()
        return (str(lo), str(hi)) if lo is not None else None

    def date_span(self) -> tuple[date, date] | None:
        """First and last day with incidents, or None when there are none."""
        with self.engine.connect() as conn:
            lo, hi = conn.execute(
                sa.select(
                    sa.func.min(T.incidents.c.occurred_at), sa.func.max(T.incidents.c.occurred_at)
                ).where(published(T.incidents))
            ).one()
        if lo is None:
            return None
        return pd.Timestamp(lo).date(), pd.Timestamp(hi).date()

    def imports(self) -> pd.DataFrame:
        """The import log, newest first."""
        df = self._read(
            sa.select(T.imports)
            .where(T.imports.c.status == PUBLISHED)
            .order_by(T.imports.c.id.desc())
        )
        df["imported_at"] = pd.to_datetime(df["imported_at"])
        return df

    def rejects(self, import_id: int | None = None) -> pd.DataFrame:
        """Rejected and duplicate rows (``raw`` holds the original values as JSON)."""
        q = (
            sa.select(T.rejects)
            .where(published(T.rejects))
            .order_by(T.rejects.c.import_id, T.rejects.c.row)
        )
        if import_id is not None:
            q = q.where(T.rejects.c.import_id == import_id)
        return self._read(q)

    def counts(self) -> dict[str, int]:
        """Row count of each record table (rows of imports not yet published excluded)."""

        def visible(t: sa.Table) -> list[Any]:
            if t is T.imports:
                return [t.c.status == PUBLISHED]
            return [published(t)] if "import_id" in t.c else []

        with self.engine.connect() as conn:
            return {
                t.name: int(
                    conn.execute(
                        sa.select(sa.func.count()).select_from(t).where(*visible(t))
                    ).scalar()
                    or 0
                )
                for t in T.RECORD_TABLES
            }

    def is_empty(self) -> bool:
        """True when nothing has ever been imported."""
        with self.engine.connect() as conn:
            return not conn.execute(
                sa.select(T.imports.c.id).where(T.imports.c.status == PUBLISHED).limit(1)
            ).first()

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
