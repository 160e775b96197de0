"""The store's schema migrations: Alembic revisions shipped inside the package.

``versions/`` holds one revision per schema change, oldest first (``0001`` ...);
:meth:`clic_geo.store.Store.migrate` runs them on open, on SQLite and PostgreSQL alike.
A store made before Alembic (schema version N in its ``meta`` table) is stamped with
the revision that N corresponds to (:data:`LEGACY_REVISIONS`) and upgraded from there.

To add a schema change: copy the newest file in ``versions/`` to the next number, set
``revision`` and ``down_revision``, write ``upgrade()`` with ``alembic.op`` (tables
are changed with ``op.add_column`` / ``op.create_table``; on SQLite use
``op.batch_alter_table`` to alter or drop a column) and change ``tables.py`` (or
``auth_tables.py``) to match. Revisions never import ``tables.py``: they stay as they
were written.

May import: the foundation modules and :mod:`clic_geo.store` (nothing above it).
"""

from __future__ import annotations

__all__ = ["LEGACY_REVISIONS"]

#: Schema versions stamped in ``meta`` by clic-geo before Alembic -> the revision.
LEGACY_REVISIONS = {1: "0001", 2: "0002"}
