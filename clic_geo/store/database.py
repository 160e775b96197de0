"""The record store: one SQLite file by default, any SQLAlchemy URL in principle.

:class:`Store` puts together the parts of the store, each in its own module:
:mod:`~clic_geo.store.base` (connection, migrations, metadata),
:mod:`~clic_geo.store.imports` (writing an import), :mod:`~clic_geo.store.queries`
(reads), :mod:`~clic_geo.store.spatial` (spatial reads, in the database on PostGIS),
:mod:`~clic_geo.store.publishing` (imports that never block readers),
:mod:`~clic_geo.store.edits` (single edits), :mod:`~clic_geo.store.derived` (results
computed when data change), :mod:`~clic_geo.store.base_layers` (base map layers) and
:mod:`~clic_geo.store.plans` (saved visit plans).
"""

from __future__ import annotations

from clic_geo.store.base_layers import StoreBaseLayers
from clic_geo.store.derived import DerivedResults
from clic_geo.store.edits import StoreEdits
from clic_geo.store.imports import ImportWrites
from clic_geo.store.plans import StorePlans
from clic_geo.store.queries import StoreQueries

__all__ = ["Store"]


class Store(ImportWrites, StoreQueries, StoreEdits, DerivedResults, StoreBaseLayers, StorePlans):
    """The record store.

    Callers never write SQL: they call methods that take and return (Geo)DataFrames.
    Every file import is published at once, so a crash half way leaves the store as
    it was, and a large import never makes readers or sign-ins wait. The schema is
    created and migrated by :meth:`migrate` (Alembic revisions).

    Parameters
    ----------
    url : str
        SQLAlchemy database URL, e.g. ``sqlite:////path/store.sqlite`` or
        ``postgresql+psycopg://user@host/db``.
    data_dir : Path
        Where rejected-row files are written.
    migrate : bool
        Create or upgrade the schema on open (default).
    """
