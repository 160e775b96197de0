"""Alembic revisions of the store, oldest first (see :mod:`clic_geo.store.migrations`)."""
