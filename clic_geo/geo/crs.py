"""Coordinates: WGS84 <-> British National Grid, OS grid references, sanity checks.

All distance work happens in British National Grid (EPSG:27700, metres); storage and
maps use WGS84 (EPSG:4326). Without the OSTN15 grid file (not shipped with pyproj's
wheels and not downloadable offline), PROJ uses a Helmert transformation that is
accurate to about 2 m across Great Britain: far below the ~80 m median geocoding
error of police data, so harmless at hotspot scale.
"""

from __future__ import annotations

import re
import threading
import warnings
from functools import lru_cache

import numpy as np
import pandas as pd
from pyproj import Transformer
from pyproj.enums import TransformDirection
from pyproj.transformer import TransformerGroup

from clic_geo._errors import CRSError

__all__ = [
    "BNG",
    "BNG_BOUNDS",
    "WGS84",
    "check_projected",
    "format_grid_ref",
    "parse_grid_refs",
    "to_bng",
    "to_wgs84",
]

WGS84 = "EPSG:4326"
BNG = "EPSG:27700"
#: Valid extent of the British National Grid, metres (minx, miny, maxx, maxy).
BNG_BOUNDS = (0.0, 0.0, 700_000.0, 1_300_000.0)

_LETTERS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"  # no I
_GRID_RE = re.compile(r"^\s*([A-HJ-Z])\s*([A-HJ-Z])\s*(\d+)\s*(\d*)\s*$", re.IGNORECASE)


_LOCAL = threading.local()


def _bng_transformer() -> Transformer:
    """WGS84 -> BNG through one fixed operation, used in both directions.

    One per thread: a PROJ transformer must not be shared between threads (the
    dashboard's sessions and its background refresh run in threads of one process;
    sharing one crashed the interpreter with a segmentation fault).

    Left to choose per point, PROJ picks different operations for the forward and
    inverse transforms near the edges of the grid (off Scilly they disagreed by
    ~85 m). We pin "OSGB36 to WGS 84 (6)" (EPSG:1314, a 2 m Helmert valid for all
    of Great Britain) unless the OSTN15 grid is installed, which is better still.
    """
    best = getattr(_LOCAL, "transformer", None)
    if best is None:
        with warnings.catch_warnings():
            # pyproj may warn that the OSTN15 grid is missing: documented above.
            warnings.simplefilter("ignore")
            group = TransformerGroup(WGS84, BNG, always_xy=True)
        candidates = [t for t in group.transformers if t.accuracy is not None and t.accuracy > 0]
        best = _LOCAL.transformer = min(candidates, key=lambda t: t.accuracy)
    return best


def to_bng(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 longitude/latitude (degrees) to BNG easting/northing (metres).

    Parameters
    ----------
    lon, lat : array-like of float
        Degrees. NaN stays NaN.

    Returns
    -------
    tuple of numpy.ndarray
        ``(easting, northing)`` in metres.

    Examples
    --------
    >>> e, n = to_bng([-3.2280], [54.1115])
    >>> round(float(e[0]) / 1000), round(float(n[0]) / 1000)
    (320, 469)
    """
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    e, n = _bng_transformer().transform(lon, lat)
    return np.asarray(e, dtype="float64"), np.asarray(n, dtype="float64")


def to_wgs84(easting: np.ndarray, northing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project BNG easting/northing (metres) to WGS84 ``(lon, lat)`` in degrees."""
    easting = np.asarray(easting, dtype="float64")
    northing = np.asarray(northing, dtype="float64")
    lon, lat = _bng_transformer().transform(easting, northing, direction=TransformDirection.INVERSE)
    return np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")


def _square_origin(l1: str, l2: str) -> tuple[int, int]:
    i1 = _LETTERS.index(l1)
    i2 = _LETTERS.index(l2)
    e100k = ((i1 - 2) % 5) * 5 + (i2 % 5)
    n100k = (19 - (i1 // 5) * 5) - (i2 // 5)
    return e100k * 100_000, n100k * 100_000


@lru_cache(maxsize=100_000)
def _parse_one(text: str) -> tuple[float, float]:
    m = _GRID_RE.match(text)
    if not m:
        return (np.nan, np.nan)
    l1, l2, a, b = m.group(1).upper(), m.group(2).upper(), m.group(3), m.group(4)
    digits = a + b if b else a
    if b and len(a) != len(b):
        return (np.nan, np.nan)
    if len(digits) % 2 or not 2 <= len(digits) <= 10:
        return (np.nan, np.nan)
    half = len(digits) // 2
    scale = 10 ** (5 - half)
    e0, n0 = _square_origin(l1, l2)
    if not (0 <= e0 < 700_000 and 0 <= n0 < 1_300_000):
        return (np.nan, np.nan)
    # the centre of the square the reference names (a 6-figure ref is a 100 m square)
    e = e0 + int(digits[:half]) * scale + scale / 2
    n = n0 + int(digits[half:]) * scale + scale / 2
    return (float(e), float(n))


def parse_grid_refs(refs: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse OS grid references such as ``SD 19684 68935`` or ``NY4055``.

    Returns the easting/northing (metres) of the centre of the square each reference
    names; NaN where a value is not a grid reference.

    Examples
    --------
    >>> e, n = parse_grid_refs(pd.Series(["SD 19684 68935", "NY 40 55", "nonsense"]))
    >>> e.tolist()[:2], n.tolist()[:2]
    ([319684.5, 340500.0], [468935.5, 555500.0])
    >>> bool(np.isnan(e[2]))
    True
    """
    values = refs.astype("string").fillna("")
    uniq = pd.unique(values)
    parsed = {u: _parse_one(str(u)) for u in uniq}
    e = np.fromiter((parsed[v][0] for v in values), dtype="float64", count=len(values))
    n = np.fromiter((parsed[v][1] for v in values), dtype="float64", count=len(values))
    return e, n


def format_grid_ref(easting: float, northing: float, digits: int = 10) -> str:
    """Format an easting/northing as an OS grid reference (``digits`` in total).

    Examples
    --------
    >>> format_grid_ref(319684, 468935)
    'SD 19684 68935'
    """
    if not (0 <= easting < 700_000 and 0 <= northing < 1_300_000):
        raise CRSError(f"({easting}, {northing}) is outside the British National Grid")
    e100k, n100k = int(easting // 100_000), int(northing // 100_000)
    # invert _square_origin: rows of letters count down from the north
    r1, r2 = divmod(19 - n100k, 5)
    i1 = r1 * 5 + (e100k // 5 + 2) % 5
    i2 = r2 * 5 + e100k % 5
    half = digits // 2
    scale = 10 ** (5 - half)
    e_rest = int(easting % 100_000) // scale
    n_rest = int(northing % 100_000) // scale
    return f"{_LETTERS[i1]}{_LETTERS[i2]} {e_rest:0{half}d} {n_rest:0{half}d}"


def check_projected(crs: object, what: str = "data") -> None:
    """Raise :class:`CRSError` unless ``crs`` is British National Grid (metres).

    Distances (``eps_m``, ``buffer_m``) only mean metres in a projected CRS.
    """
    text = str(crs) if crs is not None else "no CRS"
    try:
        from pyproj import CRS

        ok = crs is not None and CRS.from_user_input(crs).to_epsg() == 27700
    except Exception:
        ok = False
    if not ok:
        raise CRSError(
            f"{what} must be in British National Grid (EPSG:27700, metres) for distance "
            f"work, got {text}. Project it first, e.g. gdf.to_crs('EPSG:27700')."
        )
