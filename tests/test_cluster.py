"""Clusterers: known answers, invariants (hypothesis) and error paths."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clic_geo._errors import ClicGeoError, ConfigError
from clic_geo.hotspots.cluster import (
    DBSCAN,
    HDBSCAN,
    STDBSCAN,
    collapse_duplicates,
    k_distance_knee,
    make_clusterer,
)


def _blob(rng, centre, n, sd):
    return rng.normal(centre, sd, (n, 2))


def test_planted_cluster_of_twelve_comes_back_as_one():
    rng = np.random.default_rng(3)
    X = np.vstack([_blob(rng, [330_000, 470_000], 12, 30), rng.uniform(0, 20_000, (20, 2))])
    lab = DBSCAN(eps_m=100, min_samples=5).fit(X).labels_
    assert set(lab[:12]) == {0}
    assert (lab[12:] == -1).all()


def test_weights_make_a_single_point_a_cluster():
    X = np.array([[0.0, 0.0], [1000.0, 0.0]])
    est = DBSCAN(eps_m=50, min_samples=5).fit(X, sample_weight=[6, 1])
    assert est.labels_.tolist() == [0, -1]
    assert est.n_clusters_ == 1


def test_border_point_joins_nearest_core_cluster():
    # two clusters 190 m apart; a border point 90 m from a core of the left one and
    # 100 m from a core of the right one (scikit-learn picks whichever it meets first)
    X = np.array([[-90, 0], [0, 0], [190, 0], [280, 0], [90, 0]], dtype=float)
    w = np.array([4, 4, 1, 7, 1], dtype=float)
    for order in ([0, 1, 2, 3, 4], [3, 2, 4, 1, 0]):
        lab = DBSCAN(eps_m=100, min_samples=8).fit(X[order], sample_weight=w[order]).labels_
        by_point = dict(zip(order, lab, strict=True))
        assert by_point[4] == by_point[1] != by_point[2]


coords = st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), min_size=1, max_size=60).map(
    lambda v: np.array(v, dtype=float) * 20.0
)


@settings(max_examples=40, deadline=None)
@given(coords, st.randoms(use_true_random=False))
def test_dbscan_is_permutation_invariant(X, rnd):
    perm = list(range(len(X)))
    rnd.shuffle(perm)
    a = DBSCAN(eps_m=45, min_samples=3).fit(X).labels_
    b = DBSCAN(eps_m=45, min_samples=3).fit(X[perm]).labels_
    # same partition (labels are numbered by position in space, so equal outright)
    assert a[perm].tolist() == b.tolist()


@settings(max_examples=40, deadline=None)
@given(coords, st.lists(st.integers(1, 4), min_size=60, max_size=60))
def test_weights_equal_duplicates(X, reps):
    w = np.array(reps[: len(X)], dtype=float)
    weighted = DBSCAN(eps_m=45, min_samples=4).fit(X, sample_weight=w).labels_
    expanded = np.repeat(X, w.astype(int), axis=0)
    dup = DBSCAN(eps_m=45, min_samples=4).fit(expanded).labels_
    assert np.repeat(weighted, w.astype(int)).tolist() == dup.tolist()


@settings(max_examples=25, deadline=None)
@given(coords)
def test_noise_and_core_agree_with_scikit_learn(X):
    from sklearn.cluster import DBSCAN as SkDBSCAN

    ours = DBSCAN(eps_m=45, min_samples=3).fit(X).labels_
    theirs = SkDBSCAN(eps=45, min_samples=3).fit(X).labels_
    assert ((ours == -1) == (theirs == -1)).all()


def test_collapse_duplicates_round_trip():
    X = np.array([[2.0, 1.0], [0.0, 0.0], [2.0, 1.0], [2.0, 1.0]])
    u, w, inv = collapse_duplicates(X, np.array([1.0, 2.0, 3.0, 4.0]))
    assert u.tolist() == [[0.0, 0.0], [2.0, 1.0]]
    assert w.tolist() == [2.0, 8.0]
    assert (u[inv] == X).all()


def test_st_dbscan_finds_a_spate_but_not_the_same_place_spread_over_months():
    # five incidents within 300 m in ten days -> a spate; five more at the same
    # places one a month -> not
    rng = np.random.default_rng(0)
    xy = rng.normal([320_000, 470_000], 80, (5, 2))
    spate = np.column_stack([xy, [0, 2, 4, 7, 9]])
    spread = np.column_stack([xy, [60, 90, 120, 150, 180]])
    lab = STDBSCAN(eps_m=300, eps_days=10, min_samples=5).fit(np.vstack([spate, spread])).labels_
    assert set(lab[:5]) == {0}
    assert (lab[5:] == -1).all()


def test_hdbscan_separates_dense_and_sparse_towns():
    rng = np.random.default_rng(1)
    dense = _blob(rng, [0, 0], 60, 40)
    sparse_town = _blob(rng, [5000, 0], 60, 400)
    lab = HDBSCAN(min_cluster_size=10).fit(np.vstack([dense, sparse_town])).labels_
    assert lab[:60].max() >= 0
    assert lab[60:].max() >= 0
    assert set(lab[:60][lab[:60] >= 0]).isdisjoint(set(lab[60:][lab[60:] >= 0]))


def test_hdbscan_weights_equal_duplicates():
    rng = np.random.default_rng(2)
    X = np.round(_blob(rng, [0, 0], 40, 100) / 10) * 10
    w = rng.integers(1, 4, len(X)).astype(float)
    a = HDBSCAN(min_cluster_size=8).fit(X, sample_weight=w).labels_
    b = HDBSCAN(min_cluster_size=8).fit(np.repeat(X, w.astype(int), axis=0)).labels_
    assert np.repeat(a, w.astype(int)).tolist() == b.tolist()


def test_knee_is_smaller_for_a_dense_town_than_a_sparse_one():
    rng = np.random.default_rng(4)
    rural = rng.uniform(-30_000, 30_000, (80, 2))
    dense = np.vstack([_blob(rng, [0, 0], 400, 300), rural])
    sparse_town = np.vstack([_blob(rng, [0, 0], 120, 900), rural])
    a, b = k_distance_knee(dense, k=5), k_distance_knee(sparse_town, k=5)
    assert 80 <= a < b <= 400


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: DBSCAN(eps_m=-1).fit(np.zeros((3, 2))), "eps_m must be a positive"),
        (lambda: DBSCAN().fit(np.zeros((3, 3))), r"shape \(n, 2\)"),
        (lambda: DBSCAN().fit(np.array([[0.0, np.nan]])), "NaN"),
        (lambda: DBSCAN().fit(np.zeros((2, 2)), sample_weight=[1, -1]), "non-negative"),
        (lambda: STDBSCAN().fit(np.zeros((3, 2))), r"shape \(n, 3\)"),
        (lambda: HDBSCAN(min_cluster_size=1).fit(np.zeros((3, 2))), "at least 2"),
        (lambda: make_clusterer("optics"), "unknown clustering method"),
        (lambda: make_clusterer("dbscan", radius=3), "unknown parameter"),
    ],
    ids=["neg-eps", "bad-shape", "nan", "neg-weight", "st-shape", "hdb-size", "name", "param"],
)
def test_errors_name_the_problem(call, match):
    with pytest.raises(ConfigError, match=match) as info:
        call()
    assert isinstance(info.value, ClicGeoError)
    assert isinstance(info.value, ValueError)


def test_empty_input_gives_no_clusters():
    est = DBSCAN().fit(np.zeros((0, 2)))
    assert est.n_clusters_ == 0
    assert len(est.labels_) == 0
