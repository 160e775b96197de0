"""Attacks on published tables, written independently of clic_geo.access.suppression.

- :func:`single_unknown_attack`: what a person with a spreadsheet does: solve every
  line with one unknown, again and again.
- :func:`lp_attack`: a plain linear program over every suppressed entry at once.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import linprog

from clic_geo.access.suppression import Status

T = 10


def single_unknown_attack(values, status, lines) -> dict[int, int]:
    """Solve every line with exactly one unknown, repeatedly; returns derived entries."""
    known = {i: int(values[i]) for i in range(len(values)) if status[i] == Status.SHOWN}
    derived: dict[int, int] = {}
    changed = True
    while changed:
        changed = False
        for ln in lines:
            members = [ln.total, *ln.parts]
            unknown = [m for m in members if m not in known]
            if len(unknown) != 1:
                continue
            u = unknown[0]
            parts_known = sum(known[p] for p in ln.parts if p != u)
            val = parts_known if u == ln.total else known[ln.total] - parts_known
            known[u] = derived[u] = val
            changed = True
    return derived


def lp_attack(
    values, status, lines, threshold, *, nonzero_only: bool = False
) -> list[tuple[int, float, float]]:
    """Range of each suppressed entry by linear programming over all of them at once.

    With ``nonzero_only``, ranges only of entries whose true value is not zero (a
    derived zero is allowed; this saves time on grids of mostly empty squares).
    """
    unknown = [i for i in range(len(values)) if status[i] != Status.SHOWN]
    pos = {u: k for k, u in enumerate(unknown)}
    rows, rhs = [], []
    for ln in lines:
        row = np.zeros(len(unknown))
        b = 0.0
        for m, c in [(ln.total, 1.0)] + [(p, -1.0) for p in ln.parts]:
            if m in pos:
                row[pos[m]] += c
            else:
                b -= c * values[m]
        if row.any():
            rows.append(row)
            rhs.append(b)
    bounds = [
        (0, threshold - 1) if status[u] == Status.FEWER_THAN else (threshold, None) for u in unknown
    ]
    out = []
    for u in unknown:
        if nonzero_only and values[u] == 0:
            continue
        c = np.zeros(len(unknown))
        c[pos[u]] = 1
        if not rows:
            lo, hi = bounds[pos[u]][0], bounds[pos[u]][1]
        else:
            lo_res = linprog(c, A_eq=np.array(rows), b_eq=rhs, bounds=bounds, method="highs")
            hi_res = linprog(-c, A_eq=np.array(rows), b_eq=rhs, bounds=bounds, method="highs")
            assert lo_res.status == 0, "the true table is feasible"
            lo = lo_res.fun
            hi = math.inf if hi_res.status == 3 else -hi_res.fun
        out.append((u, lo, hi))
    return out


def assert_safe(values, p, lines, threshold=T, *, nonzero_only: bool = False) -> None:
    status = p.status
    # primary rule
    assert all(status[i] != Status.SHOWN for i in range(len(values)) if values[i] < threshold)
    assert all(values[i] >= threshold for i in range(len(values)) if status[i] == Status.WITHHELD)
    # spreadsheet attack: nothing non-zero under the threshold comes out
    for i, val in single_unknown_attack(values, status, lines).items():
        assert val == values[i], "the attack is sound"
        assert not (status[i] == Status.FEWER_THAN and val > 0), f"entry {i} = {val} derived"
    # linear-programming attack: no suppressed non-zero count is pinned to one value
    for u, lo, hi in lp_attack(values, status, lines, threshold, nonzero_only=nonzero_only):
        assert lo - 1e-6 <= values[u] <= hi + 1e-6
        if values[u] > 0:
            assert math.isinf(hi) or math.ceil(lo - 1e-6) < math.floor(hi + 1e-6), (
                f"entry {u} (value {values[u]}) pinned to [{lo}, {hi}]"
            )
    # no line with a visible total gives away a small group sum
    for ln in lines:
        if status[ln.total] == Status.SHOWN:
            r = sum(int(values[q]) for q in ln.parts if status[q] != Status.SHOWN)
            assert not 0 < r < threshold
