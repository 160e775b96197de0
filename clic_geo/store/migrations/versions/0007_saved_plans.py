"""Saved visit plans: one row per version of an area's plan for a day.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

The planner saves every route it plans for an area and day as a new version, with
who made it and when; earlier versions are kept (the newest is the plan). The
stops and the settings are JSON text: a plan is read whole, never queried by stop.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("area_id", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("made_by", sa.String(128), nullable=False),
        sa.Column("made_at", sa.DateTime, nullable=False),
        sa.Column("stops", sa.Integer, nullable=False),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("route", sa.Text, nullable=False),
    )
    op.create_index(
        "ux_plans_area_day_version", "plans", ["area_id", "day", "version"], unique=True
    )
    op.create_index("ix_plans_made_at", "plans", ["made_at"])


def downgrade() -> None:
    op.drop_index("ix_plans_made_at", table_name="plans")
    op.drop_index("ux_plans_area_day_version", table_name="plans")
    op.drop_table("plans")
