"""The fictional demo world: its generator, its published demo accounts, seeding a store.

May import: foundation, geo, store, ingest (the demo is seeded through the ordinary import),
access (accounts) and hotspots (only ``calibration``: the demo measured beside the real
months).
"""
