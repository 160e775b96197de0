"""Ingestion: read a file losing nothing, parse values, validate rows, import them into the store.

May import: foundation, geo and store (an import ends by handing validated rows to the store).
"""
