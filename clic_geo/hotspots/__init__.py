"""Hotspots: point layers, clustering, the hotspot engine, trends, the backtest and forecast.

Algorithms take frames and return frames; nothing here opens the store.
May import: foundation, geo, and ingest (its value parsers and the police.uk file loader).
"""
