"""Spatial questions asked of the store: records within an outline, clusters in the database.

On PostGIS (``CLIC_DATABASE_URL=postgresql+psycopg://...``) located records carry a
``geom`` point in British National Grid with a GiST index (Alembic revision 0003), and
these questions run in the database: ``ST_Intersects`` against the outline,
``ST_ClusterDBSCAN`` for clusters. On SQLite the same methods give the same answers
with a bounding-box query on easting/northing (indexed ranges) and an exact test in
shapely on the rows it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry

from clic_geo._errors import StoreError
from clic_geo.geo.crs import to_bng
from clic_geo.store import tables as T  # noqa: N812 - T.incidents reads like SQL
from clic_geo.store.base import StoreBase
from clic_geo.store.publishing import published

__all__ = ["SpatialQueries", "outline_to_bng"]

#: British National Grid, the SRID of every ``geom`` column.
BNG_SRID = 27700


def outline_to_bng(outline: BaseGeometry) -> BaseGeometry:
    """A WGS84 (longitude, latitude) geometry in British National Grid metres."""

    def fn(xy: np.ndarray) -> np.ndarray:
        e, n = to_bng(xy[:, 0], xy[:, 1])
        return np.column_stack([e, n])

    return shapely.transform(outline, fn)


class SpatialQueries(StoreBase):
    """Spatial reads, mixed into :class:`~clic_geo.store.Store`."""

    @property
    def postgis(self) -> bool:
        """True when the store is PostgreSQL with PostGIS geometry columns."""
        return self.engine.dialect.name == "postgresql"

    def _geom(self, table: sa.Table) -> Any:
        from geoalchemy2 import Geometry  # PostGIS only: not loaded for SQLite stores

        return sa.literal_column(f"{table.name}.geom", Geometry("POINT", srid=BNG_SRID))

    def _within(
        self, table: sa.Table, outline: BaseGeometry | None
    ) -> tuple[list[Any], Callable[[pd.DataFrame], pd.DataFrame]]:
        """SQL conditions for records inside ``outline`` (WGS84), and the exact test
        to apply to the rows read (a no-op on PostGIS, where the database did it)."""
        if outline is None:
            return [], lambda df: df
        bng = outline_to_bng(outline)
        if self.postgis:
            shape = sa.func.ST_GeomFromText(bng.wkt, BNG_SRID)
            return [sa.func.ST_Intersects(self._geom(table), shape)], lambda df: df
        minx, miny, maxx, maxy = bng.bounds
        conds = [table.c.easting.between(minx, maxx), table.c.northing.between(miny, maxy)]
        shapely.prepare(bng)

        def exact(df: pd.DataFrame) -> pd.DataFrame:
            if df.empty:
                return df
            inside = shapely.intersects_xy(bng, df["easting"], df["northing"])
            return df[inside].reset_index(drop=True)

        return conds, exact

    def db_clusters(
        self,
        *,
        eps_m: float,
        min_points: int,
        area: str | Sequence[str] | None = None,
        start: date | datetime | None = None,
        end: date | datetime | None = None,
        categories: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """DBSCAN of incidents done by PostGIS (``ST_ClusterDBSCAN``), one row per incident.

        Every incident is a point of weight one (PostGIS has no weights: several
        incidents at one place count as that many points, which is what our
        :class:`~clic_geo.hotspots.cluster.DBSCAN` does with the duplicates'
        summed ``sample_weight``). ``min_points`` counts the point itself.

        Returns
        -------
        DataFrame
            ``id, easting, northing, cluster`` (``-1`` for noise), ordered by id.

        Raises
        ------
        StoreError
            On a store without PostGIS (SQLite): cluster with
            :mod:`clic_geo.hotspots` instead.
        """
        if not self.postgis:
            raise StoreError("clustering in the database needs the PostGIS store")
        t = T.incidents
        conds = self._filters(t, "occurred_at", area, start, end)
        if categories:
            conds.append(t.c.category.in_(list(categories)))
        conds.append(published(t))
        cluster = sa.func.ST_ClusterDBSCAN(
            self._geom(t), sa.literal(float(eps_m)), sa.literal(int(min_points))
        ).over()
        q = (
            sa.select(t.c.id, t.c.easting, t.c.northing, cluster.label("cluster"))
            .where(*conds)
            .order_by(t.c.id)
        )
        df = self._read(q)
        df["cluster"] = df["cluster"].fillna(-1).astype("int64")
        return df
