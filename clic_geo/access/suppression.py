"""Small-number suppression with complementary suppression and an exactness audit.

A *publication* is a vector of counts (cells and totals) and a list of *lines*: each
line says that one entry is the sum of others (``total = sum(parts)``). Rules:

1. **Primary**: a count below the threshold ``t`` (default 10, zero included) is shown
   as "fewer than t" (:attr:`Status.FEWER_THAN`).
2. **Complementary (secondary)**: more entries are *withheld*
   (:attr:`Status.WITHHELD`) until an attacker who knows every visible value, every
   line, that "fewer than t" means 0..t-1, that "withheld" means at least ``t`` (it
   would otherwise say "fewer than t") and that counts are whole numbers >= 0

   - cannot pin any suppressed non-zero count to one value, however they combine the
     lines (an exact audit: the range of each suppressed entry over all solutions,
     by interval propagation where the lines form a tree, by linear programming
     otherwise), and
   - cannot compute, from any line whose total is known, a sum of suppressed entries
     between 1 and t-1 (a small count for a group of cells).

   Deriving that a suppressed entry is *zero* is allowed: it says nothing happened.
3. Which entries are withheld: on each line needing it, the visible *part* of lowest
   ``priority`` and smallest value (parts before the total, to keep totals), among
   the entries marked ``withholdable``. Callers mark entries published earlier (for
   example past months) as not withholdable, so that what was shown stays shown.
4. **Rounding** (optional, ``round_to``): shown counts are then rounded to the nearest
   multiple. Rounding only widens what an attacker can infer, so the guarantee holds.

The proof obligations are checked, not assumed: :func:`audit` recomputes each
suppressed entry's feasible range, and :func:`protect` loops until it is clean.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from scipy.optimize import linprog

__all__ = ["Line", "Protection", "Status", "audit", "feasible_ranges", "protect", "protect_table"]

log = logging.getLogger(__name__)


class Status(StrEnum):
    """How an entry is published."""

    SHOWN = "shown"
    FEWER_THAN = "fewer_than"  # primary suppression: 0 .. threshold-1
    WITHHELD = "withheld"  # complementary suppression: threshold or more


@dataclass(frozen=True)
class Line:
    """``values[total] == sum(values[p] for p in parts)``."""

    total: int
    parts: tuple[int, ...]


@dataclass(frozen=True)
class Protection:
    """The result of :func:`protect`.

    Attributes
    ----------
    status : numpy.ndarray
        A :class:`Status` per entry.
    shown : numpy.ndarray
        The published number per entry (rounded), ``nan`` where suppressed.
    threshold, round_to : int
        The rule applied.
    rounds : int
        How many audit rounds it took (for diagnostics).
    """

    status: np.ndarray
    shown: np.ndarray
    threshold: int
    round_to: int
    rounds: int

    def labels(self) -> list[str]:
        """Display text per entry: the number, "fewer than 10" or "withheld"."""
        out = []
        for st, v in zip(self.status, self.shown, strict=True):
            if st == Status.FEWER_THAN:
                out.append(f"fewer than {self.threshold}")
            elif st == Status.WITHHELD:
                out.append("withheld")
            else:
                out.append(str(int(v)))
        return out


def _bounds(status: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    lo = np.where(status == Status.WITHHELD, float(threshold), 0.0)
    hi = np.where(status == Status.FEWER_THAN, float(threshold - 1), math.inf)
    return lo, hi


def _forest(eq_vars: list[list[int]]) -> bool:
    """True if the incidence graph of equations and variables has no cycle."""
    parent: dict[object, object] = {}

    def find(x: object) -> object:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for e, vs in enumerate(eq_vars):
        for v in vs:
            a, b = find(("e", e)), find(("v", v))
            if a == b:
                return False
            parent[a] = b
    return True


def _others(finite_sum: float, n_inf: int, own: float, inf: float) -> float:
    """Sum of all terms but one, given the finite part's sum and how many are infinite."""
    if n_inf - int(np.isinf(own)) > 0:
        return inf
    return finite_sum - (own if np.isfinite(own) else 0.0)


def _propagate(
    eqs: list[tuple[np.ndarray, np.ndarray, float]], lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Bounds propagation to a fixed point (exact on a forest of equations)."""
    lo, hi = lo.copy(), hi.copy()
    for _ in range(10_000):
        changed = False
        for idx, coef, rhs in eqs:
            # sum(coef * x) == rhs ; for each var, isolate it
            cl = np.where(coef > 0, lo[idx], -hi[idx])  # min of coef*x
            ch = np.where(coef > 0, hi[idx], -lo[idx])  # max of coef*x
            n_inf_l, n_inf_h = np.isinf(cl).sum(), np.isinf(ch).sum()
            sl = cl[np.isfinite(cl)].sum()
            sh = ch[np.isfinite(ch)].sum()
            for k, v in enumerate(idx):
                # coef_k * x_v = rhs - sum(others); the others range over [ol, oh]
                ol = _others(sl, n_inf_l, cl[k], -math.inf)
                oh = _others(sh, n_inf_h, ch[k], math.inf)
                a, b = rhs - oh, rhs - ol  # range of coef_k * x_v
                if coef[k] < 0:
                    a, b = -b, -a
                if a > lo[v] + 1e-9:
                    lo[v], changed = a, True
                if b < hi[v] - 1e-9:
                    hi[v], changed = b, True
        if not changed:
            break
    return lo, hi


def _lp_ranges(
    eqs: list[tuple[np.ndarray, np.ndarray, float]],
    lo: np.ndarray,
    hi: np.ndarray,
    which: Sequence[int],
) -> tuple[np.ndarray, np.ndarray]:
    n = len(lo)
    a = np.zeros((len(eqs), n))
    b = np.zeros(len(eqs))
    for r, (idx, coef, rhs) in enumerate(eqs):
        a[r, idx] = coef
        b[r] = rhs
    bounds = [(lo[i], None if math.isinf(hi[i]) else hi[i]) for i in range(n)]
    out_lo, out_hi = lo.copy(), hi.copy()
    for i in which:
        for sign in (1.0, -1.0):
            c = np.zeros(n)
            c[i] = sign
            res = linprog(c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
            if res.status == 3:  # unbounded
                val = -math.inf if sign > 0 else math.inf
            elif res.status != 0:  # fail closed: report the entry as pinned
                log.warning("suppression audit: solver status %d", res.status)
                out_lo[i] = out_hi[i] = lo[i]
                break
            else:
                val = sign * res.fun
            if sign > 0:
                out_lo[i] = max(out_lo[i], val)
            else:
                out_hi[i] = min(out_hi[i], val)
    return out_lo, out_hi


def feasible_ranges(
    values: np.ndarray,
    status: np.ndarray,
    lines: Sequence[Line],
    threshold: int,
    *,
    exact: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """What an attacker can infer: the range of each entry over every consistent table.

    Visible entries get their own value as both ends. Entries that appear in only
    one line are first merged into one variable per line and side (exact: they
    interact with the rest only through their sum), which keeps large grids cheap.
    Where the remaining equations form a forest, interval propagation is exact; else
    each range is found by linear programming, unless ``exact`` is false, when the
    (wider, still valid) propagated ranges are returned.
    """
    values = np.asarray(values, dtype=float)
    n = len(values)
    unknown = status != Status.SHOWN
    lo0, hi0 = _bounds(status, threshold)
    out_lo = np.where(unknown, lo0, values)
    out_hi = np.where(unknown, hi0, values)
    # equations over unknowns: sum(coef * x) == rhs
    raw: list[tuple[list[int], list[float], float]] = []
    for ln in lines:
        members = [(ln.total, 1.0)] + [(p, -1.0) for p in ln.parts]
        idx = [m for m, _ in members if unknown[m]]
        if not idx:
            continue
        coef = [c for m, c in members if unknown[m]]
        rhs = -sum(c * values[m] for m, c in members if not unknown[m])
        raw.append((idx, coef, rhs))
    count: dict[int, int] = defaultdict(int)
    for idx, _, _ in raw:
        for v in idx:
            count[v] += 1
    # reduced variables: shared unknowns keep their own; private ones merge per (eq, sign)
    red_of: dict[int, int] = {}
    groups: list[list[int]] = []
    red_lo: list[float] = []
    red_hi: list[float] = []
    eqs: list[tuple[np.ndarray, np.ndarray, float]] = []
    for idx, coef, rhs in raw:
        r_idx, r_coef = [], []
        merged: dict[float, int] = {}
        for v, c in zip(idx, coef, strict=True):
            if count[v] > 1:
                if v not in red_of:
                    red_of[v] = len(groups)
                    groups.append([v])
                    red_lo.append(lo0[v])
                    red_hi.append(hi0[v])
                r_idx.append(red_of[v])
                r_coef.append(c)
            else:
                if c not in merged:
                    merged[c] = len(groups)
                    groups.append([])
                    red_lo.append(0.0)
                    red_hi.append(0.0)
                    r_idx.append(merged[c])
                    r_coef.append(c)
                g = merged[c]
                groups[g].append(v)
                red_lo[g] += lo0[v]
                red_hi[g] += hi0[v]
        eqs.append((np.array(r_idx), np.array(r_coef), float(rhs)))
    if not groups:
        return out_lo, out_hi
    rlo, rhi = np.array(red_lo), np.array(red_hi)
    rlo, rhi = _propagate(eqs, rlo, rhi)
    if exact and not _forest([list(idx) for idx, _, _ in eqs]):
        rlo, rhi = _lp_ranges(eqs, rlo, rhi, range(len(groups)))
    for g, members in enumerate(groups):
        if len(members) == 1:
            v = members[0]
            out_lo[v], out_hi[v] = max(lo0[v], rlo[g]), min(hi0[v], rhi[g])
            continue
        mlo = lo0[members]
        mhi = hi0[members]
        s_lo = mlo.sum()
        n_inf = np.isinf(mhi).sum()
        s_hi = mhi[np.isfinite(mhi)].sum()
        for k, v in enumerate(members):
            others_hi = _others(s_hi, n_inf, mhi[k], math.inf)
            others_lo = s_lo - mlo[k]
            out_lo[v] = max(lo0[v], rlo[g] - others_hi)
            out_hi[v] = min(hi0[v], rhi[g] - others_lo)
    assert n == len(out_lo)
    return out_lo, out_hi


def audit(
    values: np.ndarray,
    status: np.ndarray,
    lines: Sequence[Line],
    threshold: int,
    *,
    exact: bool = True,
) -> tuple[list[int], list[int]]:
    """Problems of a publication: ``(pinned entries, lines disclosing a small sum)``.

    A pinned entry is a suppressed entry with a non-zero true value whose feasible
    whole-number range is a single value. A line discloses a small sum when its total
    is visible or pinned and its suppressed parts add up to 1..threshold-1. With
    ``exact=False`` only problems that interval propagation finds are reported (fast;
    everything it reports is real, but it may miss some on cyclic tables).
    """
    values = np.asarray(values)
    lo, hi = feasible_ranges(values, status, lines, threshold, exact=exact)
    pinned_all = np.ceil(lo - 1e-6) >= np.floor(hi + 1e-6)
    suppressed = status != Status.SHOWN
    pinned = [int(i) for i in np.flatnonzero(suppressed & pinned_all & (values > 0))]
    small = []
    for k, ln in enumerate(lines):
        if suppressed[ln.total] and not pinned_all[ln.total]:
            continue
        r = sum(int(values[p]) for p in ln.parts if suppressed[p])
        if 0 < r < threshold:
            small.append(k)
    return pinned, small


def _choose(
    candidates: Sequence[tuple[int, bool]],
    values: np.ndarray,
    status: np.ndarray,
    withholdable: np.ndarray,
    priority: np.ndarray,
    derivable: Callable[[int], bool],
) -> int | None:
    """The entry to withhold among ``(index, is_total)`` candidates.

    Withholding an entry that another line gives away at once (all its other
    members visible) protects nothing, so such entries go last.
    """
    opts = [
        (derivable(i), is_total, priority[i], values[i], i)
        for i, is_total in candidates
        if status[i] == Status.SHOWN and withholdable[i]
    ]
    if opts:
        return int(min(opts)[-1])
    rest = [(derivable(i), values[i], i) for i, _ in candidates if status[i] == Status.SHOWN]
    if rest:  # nothing the caller allows: fail safe, withhold a visible one anyway
        log.warning("suppression: withholding an entry the caller marked as fixed")
        return int(min(rest)[-1])
    return None


def protect(
    values: Sequence[int] | np.ndarray,
    lines: Sequence[Line],
    *,
    threshold: int = 10,
    withholdable: Sequence[bool] | np.ndarray | None = None,
    priority: Sequence[float] | np.ndarray | None = None,
    round_to: int = 1,
    withheld: Sequence[bool] | np.ndarray | None = None,
) -> Protection:
    """Decide what to publish. See the module docstring for the rules and guarantee.

    Parameters
    ----------
    values : array of int
        True counts (>= 0), cells and totals alike.
    lines : sequence of Line
        The additive relations among them.
    threshold : int
        Counts below this are "fewer than threshold".
    withholdable : array of bool, optional
        Entries that may be withheld to protect others (default all).
    priority : array of float, optional
        Lower is withheld first (default 0 for all).
    round_to : int
        Round shown counts to a multiple of this (1: no rounding; 5: ONS 10-5 rule).
    withheld : array of bool, optional
        Entries already withheld by an earlier publication (they stay withheld).

    Examples
    --------
    >>> p = protect([3, 40, 50, 93], [Line(3, (0, 1, 2))], threshold=10)
    >>> p.labels()
    ['fewer than 10', 'withheld', '50', '93']
    """
    v = np.asarray(values, dtype=np.int64)
    if (v < 0).any():
        raise ValueError("counts must not be negative")
    if threshold < 1 or round_to < 1:
        raise ValueError("threshold and round_to must be at least 1")
    n = len(v)
    wh = np.ones(n, dtype=bool) if withholdable is None else np.asarray(withholdable, bool)
    pr = np.zeros(n) if priority is None else np.asarray(priority, dtype=float)
    status = np.where(v < threshold, Status.FEWER_THAN, Status.SHOWN).astype(object)
    if withheld is not None:
        status[np.asarray(withheld, bool) & (v >= threshold)] = Status.WITHHELD
    member_of: dict[int, list[int]] = defaultdict(list)
    for k, ln in enumerate(lines):
        member_of[ln.total].append(k)
        for p in ln.parts:
            member_of[p].append(k)

    def derivable(i: int) -> bool:
        for k in member_of[i]:
            ln = lines[k]
            if all(status[m] == Status.SHOWN for m in (ln.total, *ln.parts) if m != i):
                return True
        return False

    def line_candidates(k: int) -> list[tuple[int, bool]]:
        ln = lines[k]
        return [(p, False) for p in ln.parts] + [(ln.total, True)]

    def fix(start_lines: list[int]) -> bool:
        """Withhold one entry to protect something reachable from ``start_lines``.

        Looks at the lines themselves first, then, through their suppressed entries,
        at the lines those belong to, and so on outwards: an entry is often exposed
        because a neighbouring line gives away a total it depends on.
        """
        seen_lines: set[int] = set()
        seen_entries: set[int] = set()
        frontier = list(dict.fromkeys(start_lines))
        fallback: list[tuple[int, bool]] = []
        while frontier:
            seen_lines.update(frontier)
            cands = [c for k in frontier for c in line_candidates(k)]
            usable = [
                c
                for c in cands
                if status[c[0]] == Status.SHOWN and wh[c[0]] and not derivable(c[0])
            ]
            if usable:
                c = _choose(usable, v, status, wh, pr, derivable)
                status[c] = Status.WITHHELD
                return True
            fallback += cands
            nxt: list[int] = []
            for k in frontier:
                ln = lines[k]
                for m in (ln.total, *ln.parts):
                    if status[m] != Status.SHOWN and m not in seen_entries:
                        seen_entries.add(m)
                        nxt += [j for j in member_of[m] if j not in seen_lines]
            frontier = list(dict.fromkeys(nxt))
        c = _choose(fallback, v, status, wh, pr, derivable)
        if c is None:
            return False
        status[c] = Status.WITHHELD
        return True

    rounds = 0
    while True:
        rounds += 1
        # cheap line rule first, until stable
        while True:
            added = False
            for k, ln in enumerate(lines):
                if status[ln.total] != Status.SHOWN:
                    continue
                r = sum(int(v[p]) for p in ln.parts if status[p] != Status.SHOWN)
                if 0 < r < threshold:
                    added = fix([k]) or added
            if not added:
                break
        pinned, small = audit(v, status, lines, threshold, exact=False)
        if not pinned and not small:
            pinned, small = audit(v, status, lines, threshold, exact=True)
            if not pinned and not small:
                break
        # one fix per audit: a fix often protects several problems at once
        added = fix(member_of[pinned[0]]) if pinned else fix([small[0]])
        if not added:  # nothing left to withhold: cannot happen with consistent input
            raise RuntimeError("suppression could not protect the table")
    shown = np.where(status == Status.SHOWN, v, np.nan).astype(float)
    if round_to > 1:
        shown = np.round(shown / round_to) * round_to
    return Protection(
        status=status, shown=shown, threshold=threshold, round_to=round_to, rounds=rounds
    )


def protect_table(
    table: np.ndarray, *, threshold: int = 10, round_to: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Protection]:
    """Protect a 2-D count table published with row totals, column totals and a grand total.

    Returns ``(values, lines, layout, protection)`` where ``values`` is the flat vector
    (cells row by row, then row totals, column totals, the grand total), ``layout`` an
    ``(R+1, C+1)`` array of indices into it (last row/column: the totals).
    """
    t = np.asarray(table, dtype=np.int64)
    r, c = t.shape
    layout = np.arange((r + 1) * (c + 1)).reshape(r + 1, c + 1)
    full = np.zeros((r + 1, c + 1), dtype=np.int64)
    full[:r, :c] = t
    full[:r, c] = t.sum(axis=1)
    full[r, :c] = t.sum(axis=0)
    full[r, c] = t.sum()
    lines = [Line(int(layout[i, c]), tuple(int(x) for x in layout[i, :c])) for i in range(r + 1)]
    lines += [Line(int(layout[r, j]), tuple(int(x) for x in layout[:r, j])) for j in range(c + 1)]
    prio = np.zeros((r + 1, c + 1))
    prio[r, :] = 1
    prio[:, c] = 1
    p = protect(full.ravel(), lines, threshold=threshold, priority=prio.ravel(), round_to=round_to)
    return full.ravel(), np.array(lines, dtype=object), layout, p
