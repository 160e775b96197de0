"""Partitions of a national run: force areas (or a grid), a halo, and islands of points.

A national data set is split so that each part can be clustered on its own and the
parts put back together give exactly what one run over everything gives:

1. every distinct location has a *home* partition: the force area (any polygon layer:
   :meth:`Partitions.from_layer`) or grid cell (:meth:`Partitions.grid`) it lies in,
   or the nearest one when it lies in none;
2. each partition, with a *halo* of the locations within ``link_m`` of its own
   (``link_m`` = the largest DBSCAN radius of the run), splits its locations into
   *islands*: groups joined by steps of at most ``link_m`` (:func:`islands`). Every
   step that starts in a partition is inside its own run, halo included, so islands
   that cross a border are the same island on both sides;
3. :func:`merge_islands` joins the islands that share a location across partitions,
   and :func:`owners` gives each island to one partition (the one holding most of its
   locations). A DBSCAN cluster never leaves its island, so every cluster is found
   once, whole, by the partition that owns its island.

Nothing here opens the store or starts a cluster: the functions take arrays and
frames (:mod:`clic_geo.hotspots.dask_run` runs them on Dask).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from clic_geo._errors import ConfigError
from clic_geo.geo.crs import BNG

__all__ = ["FitContext", "Partitions", "islands", "merge_islands", "owners"]

#: Columns that may name a force area in a boundary file (ONS police force areas
#: use PFA<yy>NM / PFA<yy>CD), tried in this order before any other text column.
_NAME_FIELDS = ("name", "force", "pfa_name", "pfa23nm", "pfa22nm", "pfa21nm", "pfa20nm", "id")


@dataclass(frozen=True)
class FitContext:
    """The whole picture when a fit sees only part of it (one partition of a national run).

    Trends compare a hotspot's months with its area's, and the recency decay counts
    back from the newest month: given this, :meth:`~clic_geo.hotspots.engine.
    HotspotFinder.fit` takes those from the whole data set rather than from the
    partition it was handed, so each hotspot comes out as one run over everything
    would give it.

    Attributes
    ----------
    months : tuple of str
        Every ``YYYY-MM`` from the first month of the data to the last.
    newest_mi : int
        Month index (``year * 12 + month - 1``) of the newest month.
    month_counts : mapping of area id to ndarray
        Incidents per month in each area (aligned with ``months``).
    extent_km2 : mapping of area id to float
        Each area's extent: its points' padded convex hull, km².
    """

    months: tuple[str, ...]
    newest_mi: int
    month_counts: Mapping[str, np.ndarray]
    extent_km2: Mapping[str, float]


@dataclass(frozen=True)
class Partitions:
    """Polygons (British National Grid) that split a national run.

    Attributes
    ----------
    ids : tuple of str
        One name per partition (a force's name, or a grid cell's ``E<km>N<km>``).
    polygons : tuple of shapely geometries
        The partitions, EPSG:27700. They need not cover every point: a point in
        none belongs to the nearest.
    """

    ids: tuple[str, ...]
    polygons: tuple[shapely.Geometry, ...]

    def __post_init__(self) -> None:
        if not self.ids or len(self.ids) != len(self.polygons):
            raise ConfigError("partitions need at least one polygon, each with an id")

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def grid(cls, bounds: Sequence[float], cell_km: float) -> Partitions:
        """Square cells of ``cell_km`` covering ``bounds`` (minx, miny, maxx, maxy; metres).

        >>> p = Partitions.grid((300_000, 450_000, 349_000, 520_000), 25)
        >>> len(p), p.ids[0]
        (6, 'E300N450')
        """
        if not np.isfinite(cell_km) or cell_km <= 0:
            raise ConfigError(f"grid cells must be a positive size in km, got {cell_km!r}")
        size = cell_km * 1000.0
        minx, miny, maxx, maxy = (float(b) for b in bounds)
        x0, y0 = np.floor(minx / size) * size, np.floor(miny / size) * size
        nx = max(1, int(np.ceil((maxx - x0) / size + 1e-9)))
        ny = max(1, int(np.ceil((maxy - y0) / size + 1e-9)))
        xs, ys = np.meshgrid(x0 + size * np.arange(nx), y0 + size * np.arange(ny))
        xs, ys = xs.ravel(), ys.ravel()
        ids = tuple(f"E{x / 1000:g}N{y / 1000:g}" for x, y in zip(xs, ys, strict=True))
        return cls(ids, tuple(shapely.box(xs, ys, xs + size, ys + size)))

    @classmethod
    def from_layer(
        cls, layer: gpd.GeoDataFrame | str | Path, *, id_field: str | None = None
    ) -> Partitions:
        """Partitions from any polygon layer (GeoJSON, GeoPackage, Shapefile; any CRS).

        Parameters
        ----------
        layer : GeoDataFrame or path
            E.g. the ONS "Police Force Areas" boundaries: one polygon per force.
        id_field : str, optional
            The column naming each polygon; default the first of ``name``, ``force``,
            ``PFA23NM``... present, else the first text column, else the row number.

        Raises
        ------
        ConfigError
            When the file has no CRS, no polygons, or ``id_field`` is not a column.
        """
        gdf = gpd.read_file(layer) if isinstance(layer, str | Path) else layer
        if gdf.crs is None:
            raise ConfigError("the partition layer has no CRS; set one (e.g. EPSG:27700)")
        gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
        gdf = gdf[gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
        if gdf.empty:
            raise ConfigError("the partition layer has no polygons")
        if id_field is not None and id_field not in gdf.columns:
            raise ConfigError(
                f"no column {id_field!r} in the partition layer; columns: "
                + ", ".join(map(str, gdf.columns))
            )
        if id_field is None:
            lower = {str(c).lower(): c for c in gdf.columns if c != gdf.geometry.name}
            id_field = next((lower[f] for f in _NAME_FIELDS if f in lower), None)
            if id_field is None:
                text = [
                    c for c in lower.values() if gdf[c].dtype.kind in "OSU" or gdf[c].dtype == "str"
                ]
                id_field = text[0] if text else None
        names = [str(v) for v in gdf[id_field]] if id_field else [str(i) for i in range(len(gdf))]
        geoms = gdf.to_crs(BNG).geometry.make_valid().to_numpy()
        return cls(tuple(names), tuple(geoms))

    def bounds(self) -> tuple[float, float, float, float]:
        """Extent of all partitions (metres)."""
        return tuple(shapely.total_bounds(np.asarray(self.polygons, dtype=object)))

    def home(self, e: np.ndarray, n: np.ndarray) -> np.ndarray:
        """Index of the partition each point lies in (the first, if several; the
        nearest, if none)."""
        pts = shapely.points(np.asarray(e, dtype="float64"), np.asarray(n, dtype="float64"))
        tree = shapely.STRtree(np.asarray(self.polygons, dtype=object))
        out = np.full(len(pts), -1, dtype=np.int64)
        if len(pts):
            where, which = tree.query(pts, predicate="intersects")
            order = np.lexsort((which, where))  # per point, the lowest partition first
            where, which = where[order], which[order]
            first = np.ones(len(where), dtype=bool)
            first[1:] = where[1:] != where[:-1]
            out[where[first]] = which[first]
            lost = np.flatnonzero(out < 0)
            if len(lost):
                idx = tree.query_nearest(pts[lost], return_distance=False, all_matches=False)
                out[lost[idx[0]]] = idx[1]
        return out


def islands(xy: np.ndarray, link_m: float) -> np.ndarray:
    """Number the groups of points joined by steps of at most ``link_m`` metres.

    >>> islands(np.array([[0.0, 0], [90, 0], [180, 0], [1000, 0]]), 100).tolist()
    [0, 0, 0, 1]
    """
    xy = np.asarray(xy, dtype="float64").reshape(-1, 2)
    if len(xy) == 0:
        return np.zeros(0, dtype=np.int64)
    pairs = cKDTree(xy).query_pairs(link_m, output_type="ndarray")
    m = len(xy)
    graph = sparse.coo_matrix(
        (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(m, m)
    )
    return connected_components(graph, directed=False)[1].astype(np.int64)


def halo(
    xy: np.ndarray, home: np.ndarray, part: int, link_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Partition ``part``'s own points and its halo (other points within ``link_m`` of one).

    Returns two index arrays into ``xy``: the partition's points, and the halo's.
    """
    own = np.flatnonzero(home == part)
    if len(own) == 0:
        return own, own
    lo = xy[own].min(axis=0) - link_m
    hi = xy[own].max(axis=0) + link_m
    near = np.flatnonzero((home != part) & np.all(xy >= lo, axis=1) & np.all(xy <= hi, axis=1))
    if len(near) == 0:
        return own, near
    d, _ = cKDTree(xy[own]).query(xy[near], k=1, distance_upper_bound=link_m * (1 + 1e-12))
    return own, near[np.isfinite(d)]


def merge_islands(n_points: int, runs: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """One island number per point from the islands found by each partition's run.

    ``runs`` holds, per partition, the points it saw (own and halo, as indices) and
    the island each fell in there. Islands that share a point are one island.
    """
    node_of_point = np.full(n_points, -1, dtype=np.int64)
    offset, src, dst = 0, [], []
    for pts, lab in runs:
        nodes = offset + np.asarray(lab, dtype=np.int64)
        seen = node_of_point[pts] >= 0
        src.append(node_of_point[pts][seen])
        dst.append(nodes[seen])
        node_of_point[pts[~seen]] = nodes[~seen]
        offset += int(lab.max()) + 1 if len(lab) else 0
    if (node_of_point < 0).any():
        raise ConfigError("some points were in no partition's run")
    s, d = (
        np.concatenate([*src, np.zeros(0, np.int64)]),
        np.concatenate([*dst, np.zeros(0, np.int64)]),
    )
    graph = sparse.coo_matrix((np.ones(len(s), dtype=np.int8), (s, d)), shape=(offset, offset))
    comp = connected_components(graph, directed=False)[1]
    return pd.factorize(comp[node_of_point])[0].astype(np.int64)


def owners(island: np.ndarray, home: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """The partition that owns each island: the home of most of its points (by
    ``weight``, e.g. incidents per point), the lowest-numbered on a tie.

    >>> owners(np.array([0, 0, 0, 1]), np.array([2, 1, 1, 0])).tolist()
    [1, 0]
    """
    w = np.ones(len(island)) if weight is None else np.asarray(weight, dtype="float64")
    t = pd.DataFrame({"i": island, "h": home, "w": w}).groupby(["i", "h"], sort=True)["w"].sum()
    t = t.reset_index().sort_values(["i", "w", "h"], ascending=[True, False, True])
    best = t.drop_duplicates("i")
    out = np.zeros(int(island.max()) + 1 if len(island) else 0, dtype=np.int64)
    out[best["i"].to_numpy()] = best["h"].to_numpy()
    return out
