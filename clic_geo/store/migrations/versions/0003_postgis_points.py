"""PostGIS: a point geometry in British National Grid on every located record.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07

On PostgreSQL, ``incidents``, ``addresses`` and ``visits`` get ``geom``, a
``geometry(Point, 27700)`` the database computes from ``easting``/``northing`` (a
stored generated column, so no writer has to fill it and it can never disagree with
them), with a GiST spatial index. Area and distance queries then run in the database
(``ST_Intersects``, ``ST_DWithin``, ``ST_ClusterDBSCAN``). Needs the PostGIS extension
(Debian: ``postgresql-15-postgis-3``). SQLite stores keep easting/northing only: the
store answers the same questions there with a bounding-box query and shapely.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TABLES = ("incidents", "addresses", "visits")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    have = bind.execute(
        sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'")
    ).scalar()
    if not have:
        raise RuntimeError(
            "this PostgreSQL server has no PostGIS extension: install it "
            "(Debian: apt-get install postgresql-15-postgis-3) and open the store again"
        )
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    for table in _TABLES:
        op.add_column(
            table,
            sa.Column(
                "geom",
                Geometry("POINT", srid=27700, spatial_index=False),
                sa.Computed("ST_SetSRID(ST_MakePoint(easting, northing), 27700)", persisted=True),
            ),
        )
        op.create_index(f"ix_{table}_geom", table, ["geom"], postgresql_using="gist")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _TABLES:
        op.drop_index(f"ix_{table}_geom", table_name=table)
        op.drop_column(table, "geom")
