"""Base map layers: ``base_layers``.

Revision ID: 0006
Revises: 0005 (relinked at merge: the revisions between are other branches')
Create Date: 2026-12-07

A force's own base map (roads, water, buildings, places) imported with
``clic-geo basemap import``: one row per imported layer, with who imported which
file when, its attribution and its features as compact GeoJSON in WGS84 (the maps
cut it to the view they draw). No record-level data.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "base_layers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("source_crs", sa.Text),
        sa.Column("features", sa.Integer, nullable=False),
        sa.Column("attribution", sa.Text, nullable=False),
        sa.Column("imported_at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("geojson", sa.Text, nullable=False),
    )
    op.create_index("ix_base_layers_kind", "base_layers", ["kind"])


def downgrade() -> None:
    op.drop_index("ix_base_layers_kind", table_name="base_layers")
    op.drop_table("base_layers")
