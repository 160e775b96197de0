"""Tables of accounts, sessions, information-sharing agreements and the audit log.

They live in their own :class:`~sqlalchemy.MetaData`; Alembic revision ``0002``
(:mod:`clic_geo.store.migrations`) creates them.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

auth_metadata = MetaData()

organisations = Table(
    "organisations",
    auth_metadata,
    Column("id", String(64), primary_key=True),  # slug, e.g. "housing-south"
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=False),  # police, charity, housing, nhs, ...
    Column("demo", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
)

users = Table(
    "users",
    auth_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(128), nullable=False, unique=True),  # stored lower-case
    Column("display_name", Text, nullable=False),
    Column("role", String(16), nullable=False),  # officer | partner | admin
    Column("organisation_id", String(64), ForeignKey("organisations.id"), nullable=False),
    Column("password_hash", Text),  # NULL: single sign-on only
    Column("email", String(254)),  # for single sign-on, lower-case
    Column("oidc_subject", String(512), unique=True),  # "<issuer>|<sub>", bound at first SSO
    Column("disabled", Boolean, nullable=False, default=False),
    Column("demo", Boolean, nullable=False, default=False),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", DateTime),
    Column("last_login_at", DateTime),
    Column("password_changed_at", DateTime),
    Column("created_at", DateTime, nullable=False),
)

sessions = Table(
    "sessions",
    auth_metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the token, hex
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("method", String(16), nullable=False),  # password | oidc
    Column("created_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),  # absolute limit
    Column("idle_timeout_s", Integer, nullable=False),
    Column("revoked_at", DateTime),
)

isa_scopes = Table(
    "isa_scopes",
    auth_metadata,
    Column("organisation_id", String(64), ForeignKey("organisations.id"), primary_key=True),
    Column("reference", Text, nullable=False),  # the agreement's document reference
    Column("areas", Text, nullable=False),  # JSON list of area ids
    Column("layers", Text, nullable=False),  # JSON list of layer names
    Column("data_from", Date),  # first day of data the partner may see (None: no limit)
    Column("data_to", Date),  # last day (None: up to date)
    Column("updated_at", DateTime, nullable=False),
    Column("updated_by", String(128), nullable=False),
)

audit_log = Table(
    "audit_log",
    auth_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(128)),  # username, "cli", or NULL for an unknown login name
    Column("role", String(16)),
    Column("organisation_id", String(64)),
    Column("action", String(32), nullable=False),
    Column("outcome", String(16), nullable=False),  # ok | failed | denied | locked
    Column("area_id", String(64)),
    Column("subject", String(128)),  # what was acted on: a layer, a username, a kind
    Column("detail", Text, nullable=False),  # JSON object of checked scalars, never values
    Index("ix_audit_at", "at"),
    Index("ix_audit_actor", "actor"),
)

#: The tables in creation order (the migration creates exactly these).
AUTH_TABLES = (organisations, users, sessions, isa_scopes, audit_log)
