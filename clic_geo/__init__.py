"""clic_geo: hotspot mapping and visit planning for 1-CLIC (County Lines Informed Cumbria).

The library is pure (no user interface); ``app.py`` is a thin Streamlit front end.
Modules, in the order data flows: :mod:`readers` -> :mod:`validate` -> :mod:`store`
(:mod:`importer` ties them together), :mod:`areas`, :mod:`geo`, :mod:`demo`,
:mod:`export`, :mod:`cli`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("clic-geo")
except PackageNotFoundError:  # running from a checkout without installing
    __version__ = "0.0.0+local"

__all__ = ["__version__"]
