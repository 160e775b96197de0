"""Results computed when data change (hotspot maps, trust backtests): ``derived_results``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

Pages read hotspot maps and trust backtests from this table instead of computing them
while a person waits. Each row is one result (``kind`` and ``key``: what was computed,
for which area, period and categories), stamped with the store's data version and a
fingerprint of the incidents it was computed from; ``payload`` is its JSON.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "derived_results",
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("data_version", sa.Integer, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("computed_at", sa.DateTime, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("derived_results")
