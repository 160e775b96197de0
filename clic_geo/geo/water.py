"""Straight-line walking estimates that do not cross water: round it, or over a bridge.

Without a street network the route planner estimates a walk as the straight line
times a detour factor. In Barrow that line crosses the Walney Channel; in Kendal or
Carlisle it crosses the Kent or the Eden. :class:`WaterAwareLine` keeps the
estimate but routes a leg that would cross water (the sea, estuaries, lakes, docks:
the polygons of the base map's water layer) through the places where a road crosses
that water (its bridges, taken from the base map's roads) or round the water's edge:
the shortest path over a visibility graph whose nodes are the bridge ends and the
corners of the water outlines (buffered a little outwards and simplified), and whose
edges are the straight lines that stay out of the water. A leg with no way round
(an island with no bridge in the data) keeps the straight line, and the route says so.

Distances are the path length times the detour factor (the bridge itself is walked as
drawn). :meth:`WaterAwareLine.leg_path` gives the path for drawing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from clic_geo.geo import crs as geo
from clic_geo.geo.network import DEFAULT_DETOUR_FACTOR, StraightLine

__all__ = ["WaterAwareLine"]

#: Water is shrunk by this before testing a line, so a line along a bank or ending at a
#: bridge end does not count as crossing (metres).
_BANK_M = 3.0
#: Outlines are buffered by this and simplified by :data:`_SIMPLIFY_M` to give the
#: corner nodes a path may turn at (metres; the buffer is larger, so paths stay dry).
_OUTSET_M = 40.0
_SIMPLIFY_M = 30.0


@dataclass(frozen=True)
class _Graph:
    nodes: np.ndarray  # (k, 2) eastings, northings of bridge ends and corners
    bridge: sparse.csr_matrix  # bridge edges (walked as drawn), k x k
    vis: sparse.csr_matrix  # straight edges between nodes that stay dry, k x k


class WaterAwareLine:
    """Straight line times a detour factor, routed round water and over bridges.

    Parameters
    ----------
    water : GeoDataFrame
        Water polygons (any CRS; lines and points are ignored).
    roads : GeoDataFrame, optional
        Road lines: where one crosses water is a bridge (or a causeway).
    bounds : sequence of float, optional
        ``(min_lon, min_lat, max_lon, max_lat)``: only water and roads in this box
        (plus 2 km) are used (a town's walk needs its own water, not the county's).
    detour_factor : float
        As :class:`~clic_geo.geo.network.StraightLine`.
    """

    def __init__(
        self,
        water: gpd.GeoDataFrame,
        roads: gpd.GeoDataFrame | None = None,
        *,
        bounds: Sequence[float] | None = None,
        detour_factor: float = DEFAULT_DETOUR_FACTOR,
    ) -> None:
        self.straight = StraightLine(detour_factor)
        self.detour_factor = float(detour_factor)
        w = water[water.geometry.geom_type.isin(["Polygon", "MultiPolygon"])].to_crs(geo.BNG)
        box = None
        if bounds is not None:
            e, n = geo.to_bng(np.array(bounds[::2], float), np.array(bounds[1::2], float))
            box = shapely.box(e[0] - 2000, n[0] - 2000, e[1] + 2000, n[1] + 2000)
            w = w.clip(box)
        polys = [g for g in w.geometry if g is not None and not g.is_empty]
        self.water = shapely.union_all(polys) if polys else shapely.Polygon()
        self._test = self.water.buffer(-_BANK_M)
        shapely.prepare(self._test)
        self._bank: shapely.Geometry | None = None
        self.n_bridges = 0
        self._graph = self._build(roads, box)

    # ------------------------------------------------------------------ graph
    def _build(self, roads: gpd.GeoDataFrame | None, box) -> _Graph:
        nodes: list[tuple[float, float]] = []
        bridges: list[tuple[int, int, float]] = []
        if self._test.is_empty:
            empty = sparse.csr_matrix((0, 0))
            return _Graph(np.zeros((0, 2)), empty, empty)
        if roads is not None and len(roads):
            r = roads[roads.geometry.geom_type.isin(["LineString", "MultiLineString"])]
            r = r.to_crs(geo.BNG)
            if box is not None:
                r = r.clip(box)
            wet = self.water.buffer(0.5)
            for geom in r.geometry[r.intersects(self._test)]:
                for piece in getattr(geom.intersection(wet), "geoms", [geom.intersection(wet)]):
                    if piece.geom_type != "LineString" or piece.length < 5:
                        continue
                    a, b = piece.coords[0], piece.coords[-1]
                    # the ends must be dry land (a road along a shore is no bridge)
                    if self._test.contains(shapely.Point(a)) or self._test.contains(
                        shapely.Point(b)
                    ):
                        continue
                    if not shapely.LineString([a, b]).intersects(self._test):
                        continue
                    nodes += [a, b]
                    bridges.append((len(nodes) - 2, len(nodes) - 1, piece.length))
        self.n_bridges = len(bridges)
        ring = self.water.buffer(_OUTSET_M).simplify(_SIMPLIFY_M)
        for poly in getattr(ring, "geoms", [ring]):
            for lr in [poly.exterior, *poly.interiors]:
                nodes += list(lr.coords)[:-1]
        pts = np.asarray(nodes, dtype=float).reshape(-1, 2)
        k = len(pts)
        rows = [b[0] for b in bridges] + [b[1] for b in bridges]
        cols = [b[1] for b in bridges] + [b[0] for b in bridges]
        lens = [b[2] for b in bridges] * 2
        bridge = sparse.csr_matrix((lens, (rows, cols)), shape=(k, k))
        vis = self._visible(pts, pts)
        vis = sparse.triu(vis, k=1)
        vis = (vis + vis.T).tocsr()
        return _Graph(pts, bridge, vis)

    def _crosses(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether each segment a[i]-b[i] crosses water."""
        if self._test.is_empty or len(a) == 0:
            return np.zeros(len(a), dtype=bool)
        lines = shapely.linestrings(np.stack([a, b], axis=1))
        return shapely.intersects(self._test, lines)

    def _visible(self, p: np.ndarray, q: np.ndarray) -> sparse.csr_matrix:
        """Lengths of the dry straight segments between every p[i] and q[j] (sparse)."""
        i, j = np.meshgrid(np.arange(len(p)), np.arange(len(q)), indexing="ij")
        i, j = i.ravel(), j.ravel()
        d = np.hypot(*(p[i] - q[j]).T)
        keep = d > 0
        i, j, d = i[keep], j[keep], d[keep]
        dry = ~self._crosses(p[i], q[j])
        return sparse.csr_matrix((d[dry], (i[dry], j[dry])), shape=(len(p), len(q)))

    def _ashore(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points in the water (a quay, a moored boat, a coast drawn a little inland) moved
        to the nearest bank, and how far each was moved (metres)."""
        moved = pts.copy()
        if len(pts) and not self._test.is_empty:
            inside = shapely.contains_xy(self._test, pts[:, 0], pts[:, 1])
            if inside.any():
                if self._bank is None:
                    self._bank = self.water.buffer(_BANK_M).boundary
                    shapely.prepare(self._bank)
                for i in np.flatnonzero(inside):
                    q = self._bank.interpolate(self._bank.project(shapely.Point(pts[i])))
                    moved[i] = (q.x, q.y)
        return moved, np.hypot(*(moved - pts).T)

    def _full(self, pts: np.ndarray) -> tuple[sparse.csr_matrix, int]:
        """The graph with ``pts`` added as the first nodes (weights: walked metres)."""
        g, n = self._graph, len(pts)
        k = len(g.nodes)
        pv = self._visible(pts, g.nodes) if k else sparse.csr_matrix((n, 0))
        pp = self._visible(pts, pts)
        inner = g.vis * self.detour_factor
        # a bridge is walked as drawn; elsewhere it is the straight-line estimate
        inner = inner.maximum(g.bridge) if g.bridge.nnz else inner
        top = sparse.hstack([pp * self.detour_factor, pv * self.detour_factor])
        bottom = sparse.hstack([(pv * self.detour_factor).T, inner])
        return sparse.vstack([top, bottom]).tocsr(), n

    # ------------------------------------------------------------------ DistanceModel
    def matrix_m(
        self, easting: np.ndarray, northing: np.ndarray
    ) -> tuple[np.ndarray, tuple[str, ...]]:
        """Walking metres between points: the straight-line estimate, round water."""
        e = np.asarray(easting, dtype=float)
        n = np.asarray(northing, dtype=float)
        out, _ = self.straight.matrix_m(e, n)
        pts, off = self._ashore(np.c_[e, n])
        i, j = np.triu_indices(len(pts), k=1)
        wet = self._crosses(pts[i], pts[j])
        if not wet.any():
            return out, ()
        graph, _ = self._full(pts)
        src = np.unique(np.r_[i[wet], j[wet]])
        dist = csgraph.dijkstra(graph, directed=False, indices=src)
        row = {s: r for r, s in enumerate(src)}
        stuck = 0
        for a, b in zip(i[wet], j[wet], strict=True):
            d = dist[row[a], b] + off[a] + off[b]
            if np.isfinite(d):
                out[a, b] = out[b, a] = max(d, out[a, b])
            else:
                stuck += 1
        notes = []
        if int(wet.sum()) > stuck:
            notes.append(
                "Walks that would cross water in a straight line are estimated round it "
                "or over a bridge."
            )
        if stuck:
            notes.append(
                "Some places are cut off by water with no bridge in the base map: the "
                "straight line is used to reach them."
            )
        return out, tuple(notes)

    def describe(self) -> str:
        """E.g. ``straight line x 1.3, round water and over 4 bridges``."""
        if self._test.is_empty:
            return self.straight.describe()
        return (
            f"straight line x {self.detour_factor:g}, round water and over "
            f"{self.n_bridges} bridge{'s' if self.n_bridges != 1 else ''}"
        )

    def leg_path(self, a: tuple[float, float], b: tuple[float, float]) -> list[tuple[float, float]]:
        """The path of one leg, ``(easting, northing)`` points from ``a`` to ``b``."""
        pts, off = self._ashore(np.array([a, b], dtype=float))
        if not self._crosses(pts[:1], pts[1:])[0]:
            return [tuple(a), tuple(b)]
        graph, _ = self._full(pts)
        dist, pred = csgraph.dijkstra(graph, directed=False, indices=0, return_predecessors=True)
        if not np.isfinite(dist[1]):
            return [tuple(a), tuple(b)]
        allpts = np.r_[pts, self._graph.nodes]
        seq, k = [], 1
        while k >= 0:
            seq.append(k)
            k = pred[k]
        path = [tuple(map(float, allpts[s])) for s in reversed(seq)]
        if off[0] > 0:
            path.insert(0, tuple(a))
        if off[1] > 0:
            path.append(tuple(b))
        return path
