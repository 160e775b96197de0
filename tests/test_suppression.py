"""Small-number suppression: known answers and adversarial property tests.

The attacks here are written independently of :mod:`clic_geo.access.suppression`: a
single-unknown equation solver (what a person with a spreadsheet does) and a plain
linear program over every suppressed entry at once (no merging, no propagation).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from clic_geo.access.suppression import Line, Status, audit, feasible_ranges, protect, protect_table
from tests.attacks import T, assert_safe, lp_attack


def months_table(table: np.ndarray):
    """Areas x 12 months, published with quarters, years, and totals across areas."""
    a = table.shape[0]
    vals: list[int] = []
    idx = {}

    def add(key, v):
        idx[key] = len(vals)
        vals.append(int(v))

    for r in range(a + 1):
        row = table[r] if r < a else table.sum(axis=0)
        for m in range(12):
            add((r, "m", m), row[m])
        for q in range(4):
            add((r, "q", q), row[3 * q : 3 * q + 3].sum())
        add((r, "y", 0), row.sum())
    lines = []
    for r in range(a + 1):
        for q in range(4):
            lines.append(
                Line(idx[r, "q", q], tuple(idx[r, "m", m] for m in range(3 * q, 3 * q + 3)))
            )
        lines.append(Line(idx[r, "y", 0], tuple(idx[r, "q", q] for q in range(4))))
    for kind, n in (("m", 12), ("q", 4), ("y", 1)):
        for j in range(n):
            lines.append(Line(idx[a, kind, j], tuple(idx[r, kind, j] for r in range(a))))
    return np.array(vals), lines


# ------------------------------------------------------------------ known answers


def test_one_small_cell_gets_a_complement() -> None:
    p = protect([3, 40, 50, 93], [Line(3, (0, 1, 2))])
    assert p.labels() == ["fewer than 10", "withheld", "50", "93"]


def test_two_nines_would_be_pinned_so_the_total_is_withheld() -> None:
    # 9 + 9 = 18 and each is at most 9: both would be known exactly
    p = protect([9, 9, 18], [Line(2, (0, 1))])
    assert list(p.status) == [Status.FEWER_THAN, Status.FEWER_THAN, Status.WITHHELD]


def test_small_group_sum_is_protected() -> None:
    # 4 + 3 = 7: the pair's sum would be a small count
    p = protect([4, 3, 50, 57], [Line(3, (0, 1, 2))])
    assert p.status[2] == Status.WITHHELD


def test_zero_may_be_derived() -> None:
    # a derived zero says nothing happened: no extra suppression for it
    p = protect([0, 40, 50, 90], [Line(3, (0, 1, 2))])
    assert list(p.status) == [Status.FEWER_THAN, Status.SHOWN, Status.SHOWN, Status.SHOWN]


def test_threshold_and_rounding() -> None:
    p = protect([12, 13, 17, 42], [Line(3, (0, 1, 2))], threshold=10, round_to=5)
    assert list(p.shown) == [10, 15, 15, 40]
    p = protect([12, 13, 17, 42], [Line(3, (0, 1, 2))], threshold=13)
    assert p.labels()[0] == "fewer than 13"


def test_fixed_entries_are_never_withheld() -> None:
    # months fixed, quarter withholdable: the quarter goes, not a month
    p = protect([3, 40, 50, 93], [Line(3, (0, 1, 2))], withholdable=[False, False, False, True])
    assert p.labels() == ["fewer than 10", "40", "50", "withheld"]


@pytest.mark.parametrize(
    ("values", "message"),
    [([-1, 1, 0], "negative")],
    ids=["negative"],
)
def test_bad_input(values, message) -> None:
    with pytest.raises(ValueError, match=message):
        protect(values, [Line(2, (0, 1))])


def test_audit_flags_unprotected_publication() -> None:
    values = np.array([3, 40, 50, 93])
    status = np.array([Status.FEWER_THAN, Status.SHOWN, Status.SHOWN, Status.SHOWN], dtype=object)
    pinned, small = audit(values, status, [Line(3, (0, 1, 2))], T)
    assert pinned == [0]
    assert small == [0]
    lo, hi = feasible_ranges(values, status, [Line(3, (0, 1, 2))], T)
    assert (lo[0], hi[0]) == (3, 3)


def test_merged_variables_match_plain_lp_on_a_grid() -> None:
    # a line with many private cells (a grid under an area total) plus a shared total
    rng = np.random.default_rng(4)
    cells = rng.integers(0, 14, size=40)
    q = cells.sum()
    values = np.array([*cells, q, q - 5, 5], dtype=int)  # total also = month a + month b
    lines = [Line(40, tuple(range(40))), Line(40, (41, 42))]
    p = protect(values, lines)
    lo, hi = feasible_ranges(values, p.status, lines, T)
    for u, plo, phi in lp_attack(values, p.status, lines, T):
        assert lo[u] == pytest.approx(plo, abs=1e-6)
        assert hi[u] == pytest.approx(phi, abs=1e-6) or (math.isinf(hi[u]) and math.isinf(phi))
    assert_safe(values, p, lines)


def test_protect_table_layout() -> None:
    full, lines, layout, p = protect_table(np.array([[20, 3], [30, 40]]))
    assert layout.shape == (3, 3)
    assert full[layout[2, 2]] == 93
    assert p.status[layout[0, 1]] == Status.FEWER_THAN
    assert_safe(full, p, list(lines))


# ------------------------------------------------------------------ properties

SMALLISH = st.integers(min_value=0, max_value=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrays(np.int64, st.tuples(st.integers(1, 5), st.integers(1, 6)), elements=SMALLISH))
def test_random_tables_with_margins_are_safe(table: np.ndarray) -> None:
    full, lines, _, p = protect_table(table)
    assert_safe(full, p, list(lines))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrays(np.int64, st.tuples(st.integers(1, 3), st.just(12)), elements=SMALLISH))
def test_months_quarters_years_across_areas_are_safe(table: np.ndarray) -> None:
    values, lines = months_table(table)
    p = protect(values, lines)
    assert_safe(values, p, lines)


@settings(max_examples=40, deadline=None)
@given(arrays(np.int64, st.just(12), elements=st.integers(0, 15)))
def test_one_area_with_fixed_months(months: np.ndarray) -> None:
    values, lines = months_table(months[None, :])
    values, lines = values[:17], [ln for ln in lines if ln.total < 17]
    fixed = np.zeros(17, dtype=bool)
    fixed[:12] = True
    p = protect(values, lines, withholdable=~fixed)
    assert_safe(values, p, lines)
    # months are only ever shown or "fewer than": their status depends on them alone
    assert all(
        p.status[m] == (Status.SHOWN if months[m] >= T else Status.FEWER_THAN) for m in range(12)
    )
