"""Reporting: offline Leaflet maps, the partnership's figures, the meeting pack.

:mod:`~clic_geo.reporting.pack_service` (with its views) is the service that reads the
store. May import: foundation, geo, store, access and hotspots.
"""
