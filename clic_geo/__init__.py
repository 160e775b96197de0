"""clic_geo: hotspot mapping and visit planning for 1-CLIC (County Lines Informed Cumbria).

The library is pure (no user interface); ``app.py`` is a thin Streamlit front end.
Packages from the bottom up, each importing only those below it (``docs/code-map.md``):
the foundation modules here (:mod:`_errors`, :mod:`schema`, :mod:`vocab`,
:mod:`settings`, :mod:`export`), then :mod:`geo`, :mod:`store`, :mod:`ingest`,
:mod:`access`, :mod:`hotspots`, :mod:`planning`, :mod:`reporting`, :mod:`demo` and
:mod:`cli`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("clic-geo")
except PackageNotFoundError:  # running from a checkout without installing
    __version__ = "0.0.0+local"

__all__ = ["__version__"]
