"""Density clustering of points in metres: DBSCAN, ST-DBSCAN and HDBSCAN.

Every clusterer is a small scikit-learn style estimator with one signature,
``fit(X, sample_weight=None)`` then ``labels_`` (``-1`` = noise), so the hotspot
engine can swap them (the strategy pattern). ``X`` holds British National Grid
eastings and northings in metres (a third column of days for ST-DBSCAN).

data.police.uk snaps many crimes onto one point, so the estimators collapse exact
duplicate rows into one distinct point carrying the summed ``sample_weight``
before any neighbour search: the answer is the same as with the duplicates (a
property the tests check) and the work scales with distinct points, not rows.

Unlike scikit-learn's DBSCAN, a border point (within ``eps_m`` of two clusters)
joins the cluster of its *nearest* core point, so labels do not depend on the
order of the rows.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from sklearn.base import BaseEstimator, ClusterMixin

from clic_geo._errors import ConfigError

__all__ = [
    "DBSCAN",
    "HDBSCAN",
    "STDBSCAN",
    "collapse_duplicates",
    "disjoint_discs",
    "frontage_labels",
    "k_distance_knee",
    "make_clusterer",
]

log = logging.getLogger(__name__)

#: Gerell (2018): median geocoding error of police data is about 83 m; no eps below it.
EPS_FLOOR_M = 80.0
#: Above this, a "hotspot" is a neighbourhood, not a place to walk to.
EPS_CEILING_M = 400.0


def _row_codes(columns: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Number the distinct rows of some columns, in order of first appearance.

    Returns ``(codes, first)``: ``codes[i]`` numbers row ``i``'s combination and
    ``first[k]`` is the first row with combination ``k``. Coordinates in whole
    decimetres (what validation stores) and integer labels are used as integers
    directly; other columns are numbered by hashing (missing values count as one
    value). The numbers are combined, so no row is turned into a tuple.
    """
    n = len(columns[0]) if len(columns) else 0
    key, size = np.zeros(n, dtype=np.int64), 1
    for col in columns:
        col = np.asarray(col)
        c = None
        if n and col.dtype.kind in "iuf":
            r = np.round(col * 10.0) if col.dtype.kind == "f" else col
            if col.dtype.kind != "f" or np.array_equal(r / 10.0, col):
                lo, hi = float(r.min()), float(r.max())
                if hi - lo < 2**40:
                    c, k = (r - lo).astype(np.int64), int(hi - lo) + 1
        if c is None:
            c, u = pd.factorize(col, use_na_sentinel=False)
            k = max(len(u), 1)
        if size * k >= 2**62:  # renumber before the product could overflow
            key, uk = pd.factorize(key)
            size = max(len(uk), 1)
        key, size = key * k + c, size * k
    codes, uniq = pd.factorize(key)
    first = np.full(len(uniq), n, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(n))
    return codes.astype(np.int64, copy=False), first


def collapse_duplicates(
    X: np.ndarray, sample_weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Collapse identical rows of ``X`` into distinct rows with summed weights.

    Parameters
    ----------
    X : array of shape (n, d)
    sample_weight : array of shape (n,), optional
        Default 1 per row.

    Returns
    -------
    unique : array (m, d)
        The distinct rows (sorted).
    weight : array (m,)
        Summed weight of each distinct row.
    inverse : array (n,)
        Index into ``unique`` of every input row.

    Examples
    --------
    >>> u, w, inv = collapse_duplicates(np.array([[0.0, 0.0], [5.0, 5.0], [0.0, 0.0]]))
    >>> u.tolist(), w.tolist(), inv.tolist()
    ([[0.0, 0.0], [5.0, 5.0]], [2.0, 1.0], [0, 1, 0])
    """
    X = np.asarray(X, dtype="float64")
    w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, dtype="float64")
    if len(X) == 0:
        return X.reshape(0, X.shape[1] if X.ndim == 2 else 2), np.zeros(0), np.zeros(0, int)
    # number the distinct rows (no sort of every row: published data repeat a few
    # thousand points a million times), then sort the distinct rows
    codes, first = _row_codes([X[:, j] for j in range(X.shape[1])])
    order = np.lexsort(X[first].T[::-1])
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    inverse = rank[codes]
    # summed in row order within each point, as a sort by point would have summed them
    weight = np.bincount(inverse, weights=w, minlength=len(order))
    return X[first][order], weight, inverse


def _check_X(X: Any, ncols: int, name: str) -> np.ndarray:
    X = np.asarray(X, dtype="float64")
    if X.ndim != 2 or X.shape[1] != ncols:
        raise ConfigError(
            f"{name}: X must have shape (n, {ncols}) (easting, northing"
            + (", days" if ncols == 3 else "")
            + f"), got {X.shape}"
        )
    if not np.isfinite(X).all():
        raise ConfigError(f"{name}: X has NaN or infinite values; drop unlocated rows first")
    return X


def _check_weight(w: Any, n: int, name: str) -> np.ndarray | None:
    if w is None:
        return None
    w = np.asarray(w, dtype="float64")
    if w.shape != (n,) or not np.isfinite(w).all() or (w < 0).any():
        raise ConfigError(f"{name}: sample_weight must be {n} finite non-negative numbers")
    return w


def _positive(value: float, name: str) -> float:
    if not np.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def _graph_dbscan(
    graph: sparse.csr_matrix, dist: sparse.csr_matrix, weight: np.ndarray, min_w: float
) -> np.ndarray:
    """DBSCAN labels of distinct points from their neighbour graphs (self loops included).

    ``graph`` holds ones and ``dist`` the distances of the same pairs.
    """
    m = len(weight)
    core = (graph @ weight) >= min_w - 1e-9
    labels = np.full(m, -1, dtype=np.int64)
    if not core.any():
        return labels
    cidx = np.flatnonzero(core)
    _, comp = connected_components(graph[cidx][:, cidx], directed=False)
    labels[cidx] = comp
    # border points join the cluster of their nearest core neighbour
    border = np.flatnonzero(~core)
    if len(border):
        g = dist[border].tocsr()
        rows = np.repeat(np.arange(len(border)), np.diff(g.indptr))
        cols, d = g.indices, g.data
        keep = core[cols]
        rows, cols, d = rows[keep], cols[keep], d[keep]
        if len(rows):
            order = np.lexsort((labels[cols], d, rows))
            rows, cols = rows[order], cols[order]
            first = np.ones(len(rows), dtype=bool)
            first[1:] = rows[1:] != rows[:-1]
            labels[border[rows[first]]] = labels[cols[first]]
    # number clusters by their first distinct point (points are sorted: order-free)
    used = np.flatnonzero(labels >= 0)
    _, renum = np.unique(labels[used], return_inverse=True)
    firsts = np.full(renum.max() + 1, m, dtype=np.int64)
    np.minimum.at(firsts, renum, used)
    rank = np.argsort(np.argsort(firsts))
    labels[used] = rank[renum]
    return labels


def _radius_graph(pts: np.ndarray, r: float) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """Connectivity and distance graphs of points within ``r`` (self loops included)."""
    tree = cKDTree(pts)
    pairs = tree.query_pairs(r, output_type="ndarray")
    m = len(pts)
    i = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(m)])
    j = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(m)])
    d = np.hypot(*(pts[i] - pts[j]).T)
    conn = sparse.csr_matrix((np.ones(len(i)), (i, j)), shape=(m, m))
    # distance graph keeps explicit zeros for self loops via a tiny offset
    dist = sparse.csr_matrix((d + 1e-9, (i, j)), shape=(m, m))
    return conn, dist


class DBSCAN(ClusterMixin, BaseEstimator):
    """Weighted DBSCAN in metres, duplicates collapsed, order-independent borders.

    Parameters
    ----------
    eps_m : float
        Neighbourhood radius in metres.
    min_samples : float
        Weighted count (the point itself included) that makes a core point.

    Attributes
    ----------
    labels_ : ndarray of shape (n,)
        Cluster of every input row, ``-1`` for noise.
    n_clusters_ : int
    unique_ : ndarray (m, 2)
        Distinct points; ``unique_labels_`` and ``unique_weight_`` describe them.

    Examples
    --------
    >>> X = np.array([[0, 0], [0, 0], [10, 0], [500, 500]], dtype=float)
    >>> DBSCAN(eps_m=50, min_samples=3).fit(X).labels_.tolist()
    [0, 0, 0, -1]
    """

    def __init__(self, eps_m: float = 200.0, min_samples: float = 5) -> None:
        self.eps_m = eps_m
        self.min_samples = min_samples

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> DBSCAN:
        """Cluster the rows of ``X`` (easting, northing in metres)."""
        X = _check_X(X, 2, "DBSCAN")
        w = _check_weight(sample_weight, len(X), "DBSCAN")
        eps = _positive(self.eps_m, "eps_m")
        ms = _positive(self.min_samples, "min_samples")
        u, uw, inv = collapse_duplicates(X, w)
        if len(u):
            conn, dist = _radius_graph(u, eps)
            ulab = _graph_dbscan(conn, dist, uw, ms)
        else:
            ulab = np.zeros(0, dtype=np.int64)
        self.unique_, self.unique_weight_, self.unique_labels_ = u, uw, ulab
        self.labels_ = ulab[inv] if len(X) else np.zeros(0, dtype=np.int64)
        self.n_clusters_ = int(ulab.max() + 1) if len(ulab) and ulab.max() >= 0 else 0
        return self


class STDBSCAN(ClusterMixin, BaseEstimator):
    """ST-DBSCAN: points are neighbours when within ``eps_m`` *and* ``eps_days``.

    Catches a spate: e.g. five incidents within 300 m of each other in ten days.
    ``X`` has three columns: easting, northing (metres) and time in days.

    Parameters
    ----------
    eps_m : float
        Spatial radius in metres.
    eps_days : float
        Temporal radius in days.
    min_samples : float
        Weighted count within both radii (the point itself included) of a core point.

    Examples
    --------
    >>> X = np.array([[0, 0, 0], [50, 0, 2], [0, 50, 4], [0, 0, 90], [50, 0, 91]], float)
    >>> STDBSCAN(eps_m=100, eps_days=10, min_samples=3).fit(X).labels_.tolist()
    [0, 0, 0, -1, -1]
    """

    def __init__(
        self, eps_m: float = 300.0, eps_days: float = 10.0, min_samples: float = 5
    ) -> None:
        self.eps_m = eps_m
        self.eps_days = eps_days
        self.min_samples = min_samples

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> STDBSCAN:
        """Cluster the rows of ``X`` (easting, northing in metres, time in days)."""
        X = _check_X(X, 3, "STDBSCAN")
        w = _check_weight(sample_weight, len(X), "STDBSCAN")
        eps = _positive(self.eps_m, "eps_m")
        eps_t = _positive(self.eps_days, "eps_days")
        ms = _positive(self.min_samples, "min_samples")
        u, uw, inv = collapse_duplicates(X, w)
        if len(u):
            # scale time so one Chebyshev-free test works: neighbours within eps_m in space
            # are found with a tree, then pairs further apart in time are dropped
            conn, dist = _radius_graph(u[:, :2], eps)
            coo = conn.tocoo()
            ok = np.abs(u[coo.row, 2] - u[coo.col, 2]) <= eps_t
            m = len(u)
            conn = sparse.csr_matrix((coo.data[ok], (coo.row[ok], coo.col[ok])), shape=(m, m))
            dcoo = dist.tocoo()
            okd = np.abs(u[dcoo.row, 2] - u[dcoo.col, 2]) <= eps_t
            dist = sparse.csr_matrix((dcoo.data[okd], (dcoo.row[okd], dcoo.col[okd])), shape=(m, m))
            ulab = _graph_dbscan(conn, dist, uw, ms)
        else:
            ulab = np.zeros(0, dtype=np.int64)
        self.unique_, self.unique_weight_, self.unique_labels_ = u, uw, ulab
        self.labels_ = ulab[inv] if len(X) else np.zeros(0, dtype=np.int64)
        self.n_clusters_ = int(ulab.max() + 1) if len(ulab) and ulab.max() >= 0 else 0
        return self


class HDBSCAN(ClusterMixin, BaseEstimator):
    """HDBSCAN (scikit-learn's) for areas whose density varies, with weights.

    HDBSCAN has no ``sample_weight``; a weight is honoured by repeating the distinct
    point ``round(weight)`` times (at least once), which is exactly what duplicate
    rows would have done.

    Parameters
    ----------
    min_cluster_size : int
        Smallest weighted group that counts as a cluster.
    min_samples : int, optional
        Density smoothing (default: ``min_cluster_size``).
    """

    def __init__(self, min_cluster_size: int = 5, min_samples: int | None = None) -> None:
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> HDBSCAN:
        """Cluster the rows of ``X`` (easting, northing in metres)."""
        from sklearn.cluster import HDBSCAN as _SkHDBSCAN

        X = _check_X(X, 2, "HDBSCAN")
        w = _check_weight(sample_weight, len(X), "HDBSCAN")
        mcs = int(self.min_cluster_size)
        if mcs < 2:
            raise ConfigError(f"min_cluster_size must be at least 2, got {self.min_cluster_size}")
        u, uw, inv = collapse_duplicates(X, w)
        reps = np.maximum(np.rint(uw), 1).astype(np.int64)
        ulab = np.full(len(u), -1, dtype=np.int64)
        if reps.sum() >= mcs:
            expanded = np.repeat(np.arange(len(u)), reps)
            est = _SkHDBSCAN(
                min_cluster_size=mcs,
                min_samples=None if self.min_samples is None else int(self.min_samples),
                copy=True,
            )
            lab = est.fit(u[expanded]).labels_
            # every copy of a point gets the same label: HDBSCAN treats ties alike
            ulab = np.full(len(u), -1, dtype=np.int64)
            np.maximum.at(ulab, expanded, lab)
        self.unique_, self.unique_weight_, self.unique_labels_ = u, uw, ulab
        self.labels_ = ulab[inv] if len(X) else np.zeros(0, dtype=np.int64)
        self.n_clusters_ = int(ulab.max() + 1) if len(ulab) and ulab.max() >= 0 else 0
        return self


def k_distance_knee(
    X: Any,
    sample_weight: Any = None,
    *,
    k: float = 5,
    floor_m: float = EPS_FLOOR_M,
    ceiling_m: float = EPS_CEILING_M,
    dense_share: float = 0.75,
) -> float:
    """A DBSCAN radius from the knee of the sorted weighted k-distance curve.

    For each distinct point the k-distance is the radius within which the
    neighbouring weight (the point's own included) first reaches ``k``. Sorted,
    these distances bend upward where points stop being in dense groups; the knee
    (the point furthest from the chord joining the curve's ends, Satopää et al.
    2011's "Kneedle" in its simplest form) is the radius that separates the two.
    The knee is sought among the ``dense_share`` of locations with the shortest
    k-distances: the remaining tail (isolated rural points, kilometres apart) would
    otherwise stretch the curve so far that its knee lands at the ceiling for every
    town. Points whose own weight reaches ``k`` (distance 0) are left out. The
    result is clipped to ``[floor_m, ceiling_m]``: below ~80 m is inside the
    geocoding error of police data, above 400 m a hotspot is a neighbourhood.

    Returns ``ceiling_m`` when there are too few points to have a curve.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> town = rng.normal(0, 60, (200, 2))
    >>> spread = rng.uniform(-20000, 20000, (60, 2))
    >>> 80 <= k_distance_knee(np.vstack([town, spread]), k=5) <= 400
    True
    """
    X = _check_X(X, 2, "k_distance_knee")
    w = _check_weight(sample_weight, len(X), "k_distance_knee")
    u, uw, _ = collapse_duplicates(X, w)
    if len(u) < 4:
        return float(ceiling_m)
    nn = int(min(len(u), max(2, int(np.ceil(k)) + 1)))
    dist, idx = cKDTree(u).query(u, k=nn)
    cum = np.cumsum(uw[idx], axis=1)
    reach = cum >= k - 1e-9
    kd = np.where(reach.any(axis=1), dist[np.arange(len(u)), reach.argmax(axis=1)], dist[:, -1])
    y = np.sort(kd[kd > 0])
    if len(y) < 4:
        return float(floor_m)
    y = y[: max(4, int(np.ceil(dense_share * len(y))))]
    x = np.linspace(0.0, 1.0, len(y))
    span = y[-1] - y[0]
    if span <= 0:
        return float(np.clip(y[0], floor_m, ceiling_m))
    yn = (y - y[0]) / span
    knee = int(np.argmax(x - yn))  # furthest below the chord y = x of a convex curve
    return float(np.clip(y[knee], floor_m, ceiling_m))


def make_clusterer(method: str, **params: Any) -> BaseEstimator:
    """A clusterer by name: ``"dbscan"``, ``"st-dbscan"`` or ``"hdbscan"``.

    Raises
    ------
    ConfigError
        For an unknown name or parameter; the message lists the valid ones.
    """
    classes = {"dbscan": DBSCAN, "st-dbscan": STDBSCAN, "hdbscan": HDBSCAN}
    key = method.lower().replace("_", "-")
    if key not in classes:
        raise ConfigError(f"unknown clustering method {method!r}; expected one of {list(classes)}")
    cls = classes[key]
    valid = cls().get_params()
    unknown = set(params) - set(valid)
    if unknown:
        raise ConfigError(
            f"{method}: unknown parameter(s) {sorted(unknown)}; valid: {sorted(valid)}"
        )
    return cls(**params)


def frontage_labels(xy: np.ndarray, labels: np.ndarray, reach_m: float) -> np.ndarray:
    """Cluster labels split into frontages: within each cluster (label >= 0), the groups
    of points joined by steps of at most ``reach_m`` (single linkage). Noise (-1) stays.
    New labels are numbered by cluster, then by each group's first point. The forecast
    map's units (a cluster's spots 150-300 m apart are not one place to stand).

    >>> xy = np.array([[0, 0], [40, 0], [300, 0], [330, 0], [900, 0]], float)
    >>> frontage_labels(xy, np.array([0, 0, 0, 0, -1]), 50.0).tolist()
    [0, 0, 1, 1, -1]
    """
    labels = np.asarray(labels)
    inside = np.flatnonzero(labels >= 0)
    if len(inside) == 0:
        return labels
    lab_in = labels[inside]
    pairs = cKDTree(xy[inside]).query_pairs(reach_m, output_type="ndarray")
    pairs = pairs[lab_in[pairs[:, 0]] == lab_in[pairs[:, 1]]]  # (k, 2), k may be 0
    n = len(inside)
    graph = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    first = np.full(comp.max() + 1, n)
    np.minimum.at(first, comp, np.arange(n))
    order = np.lexsort((first, lab_in[first]))  # by cluster, then by first point
    new_id = np.empty_like(order)
    new_id[order] = np.arange(len(order))
    out = labels.copy()
    out[inside] = new_id[comp]
    return out


def disjoint_discs(xy: np.ndarray, unit: np.ndarray, radius_m: float) -> np.ndarray:
    """One outline per unit (sorted unit ids): the union of its points' ``radius_m``
    discs, each disc cut to the part nearer its own point than any other point's
    (the points' Voronoi cells). Neighbouring units then never overlap, and every
    outline holds its own points and no one else's, however close two units' points
    are; within a unit nothing is lost (a point of the disc of p that lies in the
    cell of q, both in the unit, is inside q's disc too).

    >>> xy = np.array([[0, 0], [20, 0], [200, 0]], float)
    >>> out = disjoint_discs(xy, np.array([0, 1, 1]), 25.0)
    >>> out[0].intersection(out[1]).area, bool(out[1].contains(shapely.Point(200, 0)))
    (0.0, True)
    """
    xy = np.asarray(xy, dtype=float)
    unit = np.asarray(unit)
    discs = shapely.buffer(shapely.points(xy), radius_m, quad_segs=4)
    uniq, inv = np.unique(xy, axis=0, return_inverse=True)
    if len(uniq) > 1:
        box = shapely.box(*(uniq.min(0) - 2 * radius_m), *(uniq.max(0) + 2 * radius_m))
        cells = shapely.voronoi_polygons(shapely.multipoints(uniq), extend_to=box, ordered=True)
        discs = shapely.intersection(discs, shapely.get_parts(cells)[inv.ravel()])
    ids = np.unique(unit)
    order = np.argsort(unit, kind="stable")
    bounds = np.append(np.searchsorted(unit[order], ids), len(unit))
    out = np.empty(len(ids), dtype=object)
    for j in range(len(ids)):
        part = discs[order[bounds[j] : bounds[j + 1]]]
        out[j] = part[0] if len(part) == 1 else shapely.union_all(part)
    return out
