"""The fictional demo world: its generator, its published demo accounts, seeding a store.

May import: foundation, geo, store, ingest (the demo is seeded through the ordinary import)
and access (accounts).
"""
