"""The record tables: imports, rejects, incidents, addresses, visits, county lines.

Revision ID: 0001
Revises:
Create Date: 2026-12-07

Frozen as clic-geo created them before Alembic (schema version 1).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_KEY = sa.String(200)


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("imported_at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        *(
            sa.Column(c, sa.Integer, nullable=False)
            for c in ("read", "accepted", "updated", "rejected", "duplicates", "blank_rows")
        ),
        sa.Column("rejects_path", sa.Text),
        sa.Column("encoding", sa.String(32)),
        sa.Column("notes", sa.Text),
    )
    op.create_table(
        "rejects",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id"), nullable=False),
        sa.Column("row", sa.Integer),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
    )
    op.create_index("ix_rejects_import_id", "rejects", ["import_id"])
    op.create_table(
        "incidents",
        sa.Column("id", _KEY, primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("source_id", sa.Text),
        sa.Column("occurred_at", sa.DateTime, nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("time_precision", sa.String(8), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("original_type", sa.Text),
        *(
            sa.Column(c, sa.Float, nullable=False)
            for c in ("latitude", "longitude", "easting", "northing")
        ),
        sa.Column("area_id", sa.String(64)),
        sa.Column("location", sa.Text),
        sa.Column("notes", sa.Text),
        sa.Column("attributes", sa.Text),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id")),
    )
    op.create_index("ix_incidents_month", "incidents", ["month"])
    op.create_index("ix_incidents_area_month", "incidents", ["area_id", "month"])
    op.create_index("ix_incidents_category", "incidents", ["category"])
    op.create_table(
        "addresses",
        sa.Column("id", _KEY, primary_key=True),
        sa.Column("source_id", sa.Text),
        sa.Column("address", sa.Text),
        *(
            sa.Column(c, sa.Float, nullable=False)
            for c in ("latitude", "longitude", "easting", "northing")
        ),
        sa.Column("area_id", sa.String(64)),
        sa.Column("safe_alert", sa.Boolean, nullable=False),
        sa.Column("protection_plan", sa.Boolean, nullable=False),
        sa.Column("next_visit_due", sa.Date),
        sa.Column("notes", sa.Text),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id")),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_addresses_area", "addresses", ["area_id"])
    op.create_table(
        "address_status",
        sa.Column("address_id", _KEY, sa.ForeignKey("addresses.id"), primary_key=True),
        sa.Column("since", sa.Date, primary_key=True),
        sa.Column("status", sa.String(16), primary_key=True),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id")),
    )
    op.create_table(
        "address_hardening",
        sa.Column("address_id", _KEY, sa.ForeignKey("addresses.id"), primary_key=True),
        sa.Column("measure", sa.String(32), primary_key=True),
        sa.Column("fitted_on", sa.String(10), primary_key=True),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id")),
    )
    op.create_table(
        "visits",
        sa.Column("id", _KEY, primary_key=True),
        sa.Column("source_id", sa.Text),
        sa.Column("visited_at", sa.DateTime, nullable=False),
        sa.Column("time_precision", sa.String(8), nullable=False),
        sa.Column("address_id", _KEY),
        *(
            sa.Column(c, sa.Float, nullable=False)
            for c in ("latitude", "longitude", "easting", "northing")
        ),
        sa.Column("area_id", sa.String(64)),
        sa.Column("officers", sa.Text),
        sa.Column("outcome", sa.String(32)),
        sa.Column("notes", sa.Text),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id")),
    )
    op.create_index("ix_visits_area_time", "visits", ["area_id", "visited_at"])
    op.create_index("ix_visits_address", "visits", ["address_id"])
    op.create_table(
        "visit_support",
        sa.Column("visit_id", _KEY, sa.ForeignKey("visits.id"), primary_key=True),
        sa.Column("support", sa.String(32), primary_key=True),
    )
    op.create_table(
        "visit_referrals",
        sa.Column("visit_id", _KEY, sa.ForeignKey("visits.id"), primary_key=True),
        sa.Column("referral", sa.String(32), primary_key=True),
    )
    op.create_table(
        "county_lines",
        sa.Column("id", _KEY, primary_key=True),
        sa.Column("source_id", sa.Text),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("area_id", sa.String(64)),
        sa.Column("notes", sa.Text),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id")),
    )
    op.create_table(
        "line_status",
        sa.Column("line_id", _KEY, sa.ForeignKey("county_lines.id"), primary_key=True),
        sa.Column("since", sa.Date, primary_key=True),
        sa.Column("status", sa.String(16), primary_key=True),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id")),
    )


def downgrade() -> None:
    for name in (
        "line_status",
        "county_lines",
        "visit_referrals",
        "visit_support",
        "visits",
        "address_hardening",
        "address_status",
        "addresses",
        "incidents",
        "rejects",
        "imports",
    ):
        op.drop_table(name)
