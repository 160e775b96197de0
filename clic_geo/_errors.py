"""Exceptions raised by clic_geo.

Every exception subclasses :class:`ClicGeoError` *and* a built-in exception, so the
user interface can catch one type and tests can still use the built-in.
"""

from __future__ import annotations

__all__ = [
    "CRSError",
    "ClicGeoError",
    "ConfigError",
    "InputFileError",
    "NotFoundError",
    "PermissionDeniedError",
    "StoreError",
]


class ClicGeoError(Exception):
    """Base class of every error clic_geo raises on purpose."""


class InputFileError(ClicGeoError, ValueError):
    """A file could not be read as a table at all (empty, not a table, no usable columns)."""


class ConfigError(ClicGeoError, ValueError):
    """A setting, an area definition or an argument is invalid."""


class CRSError(ClicGeoError, ValueError):
    """Coordinates are in the wrong or an unknown coordinate reference system."""


class StoreError(ClicGeoError, RuntimeError):
    """The store could not be opened, migrated or written."""


class NotFoundError(ClicGeoError, KeyError):
    """A named thing (area, hotspot, address, user) does not exist."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class PermissionDeniedError(ClicGeoError, PermissionError):
    """The current role may not see or do this."""
