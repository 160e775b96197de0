"""The store's tables (SQLAlchemy Core), portable between SQLite and PostgreSQL.

These describe the tables for queries; the Alembic revisions in
:mod:`clic_geo.store.migrations` create and change them (keep the two in step). On
PostGIS, ``incidents``, ``addresses`` and ``visits`` also have a ``geom`` point column
(EPSG:27700, computed by the database; see revision 0003), not listed here.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("source", String(64), nullable=False),
    Column("imported_at", DateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("read", Integer, nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("duplicates", Integer, nullable=False),
    Column("blank_rows", Integer, nullable=False),
    Column("rejects_path", Text),
    Column("encoding", String(32)),
    Column("notes", Text),
    # writing | published (migration 0004): readers see rows of published imports only
    Column("status", String(16), nullable=False, server_default="published"),
    Index("ix_imports_status", "status"),
)

rejects = Table(
    "rejects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("import_id", Integer, ForeignKey("imports.id"), nullable=False, index=True),
    Column("row", Integer),
    Column("outcome", String(16), nullable=False),  # rejected | duplicate
    Column("reason", Text, nullable=False),
    Column("raw", Text, nullable=False),  # JSON object of the original values
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("source", String(64), nullable=False),
    Column("source_id", Text),
    Column("occurred_at", DateTime, nullable=False),
    Column("month", String(7), nullable=False),
    Column("time_precision", String(8), nullable=False),
    Column("category", String(32), nullable=False),
    Column("original_type", Text),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("easting", Float, nullable=False),
    Column("northing", Float, nullable=False),
    Column("area_id", String(64)),
    Column("location", Text),
    Column("notes", Text),
    Column("attributes", Text),
    Column("import_id", Integer, ForeignKey("imports.id")),
    Index("ix_incidents_month", "month"),
    Index("ix_incidents_area_month", "area_id", "month"),
    Index("ix_incidents_category", "category"),
    Index("ix_incidents_import_id", "import_id"),
)

addresses = Table(
    "addresses",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("source_id", Text),
    Column("address", Text),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("easting", Float, nullable=False),
    Column("northing", Float, nullable=False),
    Column("area_id", String(64)),
    Column("safe_alert", Boolean, nullable=False, default=False),
    Column("protection_plan", Boolean, nullable=False, default=False),
    Column("next_visit_due", Date),
    Column("notes", Text),
    Column("import_id", Integer, ForeignKey("imports.id")),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_addresses_area", "area_id"),
)

address_status = Table(
    "address_status",
    metadata,
    Column("address_id", String(200), ForeignKey("addresses.id"), primary_key=True),
    Column("since", Date, primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("import_id", Integer, ForeignKey("imports.id")),
)

address_hardening = Table(
    "address_hardening",
    metadata,
    Column("address_id", String(200), ForeignKey("addresses.id"), primary_key=True),
    Column("measure", String(32), primary_key=True),
    Column("fitted_on", String(10), primary_key=True),  # YYYY-MM-DD, or "" if not known
    Column("import_id", Integer, ForeignKey("imports.id")),
)

visits = Table(
    "visits",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("source_id", Text),
    Column("visited_at", DateTime, nullable=False),
    Column("time_precision", String(8), nullable=False),
    Column("address_id", String(200)),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("easting", Float, nullable=False),
    Column("northing", Float, nullable=False),
    Column("area_id", String(64)),
    Column("officers", Text),
    Column("outcome", String(32)),
    Column("notes", Text),
    Column("import_id", Integer, ForeignKey("imports.id")),
    Index("ix_visits_area_time", "area_id", "visited_at"),
    Index("ix_visits_address", "address_id"),
    Index("ix_visits_import_id", "import_id"),
)

visit_support = Table(
    "visit_support",
    metadata,
    Column("visit_id", String(200), ForeignKey("visits.id"), primary_key=True),
    Column("support", String(32), primary_key=True),
)

visit_referrals = Table(
    "visit_referrals",
    metadata,
    Column("visit_id", String(200), ForeignKey("visits.id"), primary_key=True),
    Column("referral", String(32), primary_key=True),
)

county_lines = Table(
    "county_lines",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("source_id", Text),
    Column("name", Text, nullable=False),
    Column("area_id", String(64)),
    Column("notes", Text),
    Column("import_id", Integer, ForeignKey("imports.id")),
)

line_status = Table(
    "line_status",
    metadata,
    Column("line_id", String(200), ForeignKey("county_lines.id"), primary_key=True),
    Column("since", Date, primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("import_id", Integer, ForeignKey("imports.id")),
)

derived_results = Table(
    "derived_results",
    metadata,
    Column("kind", String(32), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("data_version", Integer, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("computed_at", DateTime, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("payload", Text, nullable=False),
)

#: Base map layers (migration 0006): a force's roads, water, buildings or places,
#: imported by ``clic-geo basemap import``, kept in WGS84 as compact GeoJSON.
base_layers = Table(
    "base_layers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("source_crs", Text),
    Column("features", Integer, nullable=False),
    Column("attribution", Text, nullable=False),
    Column("imported_at", DateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("geojson", Text, nullable=False),
    Index("ix_base_layers_kind", "kind"),
)

#: Saved visit plans (migration 0007): every version of an area's plan for a day, the
#: newest being the plan; ``settings`` and ``route`` are JSON text, read whole.
plans = Table(
    "plans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("area_id", String(64), nullable=False),
    Column("day", Date, nullable=False),
    Column("version", Integer, nullable=False),
    Column("made_by", String(128), nullable=False),
    Column("made_at", DateTime, nullable=False),  # UTC
    Column("stops", Integer, nullable=False),
    Column("settings", Text, nullable=False),
    Column("route", Text, nullable=False),
    Index("ux_plans_area_day_version", "area_id", "day", "version", unique=True),
    Index("ix_plans_made_at", "made_at"),
)

#: Tables holding record-level data (for wiping and for privacy checks).
RECORD_TABLES = (
    visit_support,
    visit_referrals,
    visits,
    address_hardening,
    address_status,
    addresses,
    line_status,
    county_lines,
    incidents,
    rejects,
    imports,
)
