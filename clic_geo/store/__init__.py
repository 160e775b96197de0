"""Storage: the record store's tables, migrations, writes and reads (SQLAlchemy Core).

May import: the foundation modules (``clic_geo._errors``, ``schema``, ``vocab``,
``settings``, ``export``) and :mod:`clic_geo.geo`; nothing above it.
"""

from clic_geo.store.base import SCHEMA_VERSION
from clic_geo.store.database import Store
from clic_geo.store.rows import ImportReport, Validated

__all__ = ["SCHEMA_VERSION", "ImportReport", "Store", "Validated"]
