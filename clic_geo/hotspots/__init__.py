"""Hotspots: point layers, clustering, the hotspot engine, trends, the backtest and forecast,
and the national run on Dask (partitions with a halo, the same map computed in parts).

Algorithms take frames and return frames; nothing here opens the store.
May import: foundation, geo, and ingest (its value parsers, the police.uk file loader,
and the reader and validation the Dask workers run on each file).
"""
