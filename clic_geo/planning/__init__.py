"""Planning tomorrow: candidates and priorities, the walking route, route exports.

Algorithms take frames; :mod:`~clic_geo.planning.plan_service` is the service that reads
the store. May import: foundation, geo, store (the service only) and ingest (parsers).
"""
