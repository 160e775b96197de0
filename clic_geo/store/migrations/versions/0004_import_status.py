"""Imports written in batches and published at once: ``imports.status``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

An import of incidents or visits writes its rows in short transactions while its
``imports`` row says ``writing``; readers skip rows of imports not yet
``published``, and one short transaction publishes them all. Rows of an import left
``writing`` by a crashed process are deleted before the next import (or on open).
Imports made before this revision are ``published``. Indexes on ``import_id`` make
that cleanup (and the readers' filter) cheap.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "imports",
        sa.Column("status", sa.String(16), nullable=False, server_default="published"),
    )
    op.create_index("ix_imports_status", "imports", ["status"])
    op.create_index("ix_incidents_import_id", "incidents", ["import_id"])
    op.create_index("ix_visits_import_id", "visits", ["import_id"])


def downgrade() -> None:
    op.drop_index("ix_visits_import_id", table_name="visits")
    op.drop_index("ix_incidents_import_id", table_name="incidents")
    op.drop_index("ix_imports_status", table_name="imports")
    with op.batch_alter_table("imports") as batch:
        batch.drop_column("status")
