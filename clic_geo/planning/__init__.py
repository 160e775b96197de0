"""Planning tomorrow: candidates and priorities, the walking route, route exports.

Algorithms take frames; :mod:`~clic_geo.planning.plan_service` is the service that reads
the store, :mod:`~clic_geo.planning.saved_plan_service` keeps plans in it. May import:
foundation, geo, store (the services only), ingest (parsers) and access (the saved-plan
service: who may save or open a plan, and its audit).
"""
