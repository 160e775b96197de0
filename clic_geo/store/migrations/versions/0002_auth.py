"""Accounts, sessions, ISA scopes and the audit log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07

Frozen as clic-geo created them before Alembic (schema version 2).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("demo", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(128), nullable=False, unique=True),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column(
            "organisation_id", sa.String(64), sa.ForeignKey("organisations.id"), nullable=False
        ),
        sa.Column("password_hash", sa.Text),
        sa.Column("email", sa.String(254)),
        sa.Column("oidc_subject", sa.String(512), unique=True),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("demo", sa.Boolean, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.DateTime),
        sa.Column("last_login_at", sa.DateTime),
        sa.Column("password_changed_at", sa.DateTime),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("last_seen_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("idle_timeout_s", sa.Integer, nullable=False),
        sa.Column("revoked_at", sa.DateTime),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_table(
        "isa_scopes",
        sa.Column(
            "organisation_id", sa.String(64), sa.ForeignKey("organisations.id"), primary_key=True
        ),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("areas", sa.Text, nullable=False),
        sa.Column("layers", sa.Text, nullable=False),
        sa.Column("data_from", sa.Date),
        sa.Column("data_to", sa.Date),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(128)),
        sa.Column("role", sa.String(16)),
        sa.Column("organisation_id", sa.String(64)),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("area_id", sa.String(64)),
        sa.Column("subject", sa.String(128)),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_at", "audit_log", ["at"])
    op.create_index("ix_audit_actor", "audit_log", ["actor"])


def downgrade() -> None:
    for name in ("audit_log", "isa_scopes", "sessions", "users", "organisations"):
        op.drop_table(name)
