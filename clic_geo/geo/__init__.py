"""Geography: coordinates (WGS84 <-> British National Grid), operating areas, walking distances.

May import: the foundation modules only (``_errors``, ``schema``, ``settings``).
"""
