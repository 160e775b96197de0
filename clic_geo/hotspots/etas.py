"""A self-exciting point process per street point (ETAS-like, Mohler et al. 2015), by EM.

Each location ``n`` (a data.police.uk snap point) has its own background rate
``mu_n`` (crimes a month) and every crime there raises the rate at the same place
for a while after it:

    lambda_n(t) = mu_n + sum over earlier crimes i at n of theta * omega * exp(-omega (t - t_i))

``theta`` is the expected number of crimes one crime triggers (0 <= theta < 1) and
``1 / omega`` their mean delay in months. This is the grid-cell form Mohler et al.
(2015, JASA) ran in the LAPD and Kent field trials, with street points as cells.
Parameters are fitted by expectation-maximisation: each crime is split between the
background and the earlier crimes at its place in proportion to what each adds to
the rate (E step); ``mu``, ``theta`` and ``omega`` are then their closed-form
maximum-likelihood updates (M step).

Published police data give only a month: crimes are spread over their month at
evenly spaced, seeded positions (``jitter``), so the fit is repeatable. Nothing here
is specific to any force: ``tests/test_etas.py`` simulates a planted process and
recovers its parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clic_geo._errors import ConfigError

__all__ = ["EtasFit", "fit_etas", "fit_etas_months", "simulate_etas"]


@dataclass(frozen=True)
class EtasFit:
    """A fitted process: ``mu`` per location (crimes a month), ``theta``, ``omega``."""

    mu: np.ndarray
    theta: float
    omega: float
    iterations: int
    #: the data the forecast continues: location code and time of every crime
    loc: np.ndarray
    times: np.ndarray

    def expected(self, start: float, length: float = 1.0) -> np.ndarray:
        """Expected crimes per location in ``[start, start + length)`` (months)."""
        ages = start - self.times
        keep = ages >= 0
        trig = self.theta * (
            np.exp(-self.omega * ages[keep]) - np.exp(-self.omega * (ages[keep] + length))
        )
        return self.mu * length + np.bincount(self.loc[keep], trig, minlength=len(self.mu))


def _pairs(loc: np.ndarray, times: np.ndarray, max_lag: float) -> tuple[np.ndarray, np.ndarray]:
    """Every (later, earlier) pair of crimes at the same location within ``max_lag``."""
    order = np.lexsort((times, loc))
    later, earlier = [], []
    lo, ts = loc[order], times[order]
    starts = np.flatnonzero(np.r_[True, lo[1:] != lo[:-1]])
    ends = np.r_[starts[1:], len(lo)]
    for s, e in zip(starts, ends, strict=True):
        if e - s < 2:
            continue
        i, j = np.triu_indices(e - s, k=1)  # j > i: j is the later one
        ok = ts[s + j] - ts[s + i] <= max_lag
        later.append(order[s + j[ok]])
        earlier.append(order[s + i[ok]])
    if not later:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(later), np.concatenate(earlier)


def fit_etas(
    loc: np.ndarray,
    times: np.ndarray,
    *,
    observed_months: float,
    end: float,
    n_locations: int | None = None,
    theta0: float = 0.3,
    omega0: float = 0.5,
    max_lag: float = 36.0,
    max_iter: int = 200,
    tol: float = 1e-6,
) -> EtasFit:
    """Fit the process to crimes at integer location codes ``loc`` and ``times`` (months).

    ``observed_months``: how long the data cover (gaps in the record excluded; the
    background's exposure); ``end``: the end of the record (the triggering's
    exposure runs from each crime to it).
    """
    loc = np.asarray(loc, dtype=np.int64)
    times = np.asarray(times, dtype=float)
    if len(loc) != len(times):
        raise ConfigError("fit_etas needs one location per time")
    n_loc = int(n_locations if n_locations is not None else loc.max(initial=-1) + 1)
    if len(loc) == 0 or observed_months <= 0:
        return EtasFit(np.zeros(n_loc), 0.0, omega0, 0, loc, times)
    later, earlier = _pairs(loc, times, max_lag)
    lag = times[later] - times[earlier]
    theta, omega = theta0, omega0
    mu = np.bincount(loc, minlength=n_loc) / observed_months * (1 - theta)
    tail = np.clip(end - times, 0.0, None)
    it = 0
    while it < max_iter:
        it += 1
        trig = theta * omega * np.exp(-omega * lag)
        rate = mu[loc] + np.bincount(later, trig, minlength=len(loc))
        p_pair = trig / rate[later]
        p_bg = mu[loc] / rate
        new_mu = np.bincount(loc, p_bg, minlength=n_loc) / observed_months
        offspring = p_pair.sum()
        new_theta = min(offspring / max(np.sum(1 - np.exp(-omega * tail)), 1e-12), 0.99)
        new_omega = offspring / max(np.sum(p_pair * lag), 1e-12) if offspring > 0 else omega
        change = abs(new_theta - theta) + abs(new_omega - omega) / max(omega, 1e-9)
        mu, theta, omega = new_mu, float(new_theta), float(new_omega)
        if change < tol:
            break
    return EtasFit(mu, theta, omega, it, loc, times)


def fit_etas_months(
    frame: pd.DataFrame, *, location_codes: np.ndarray, n_locations: int, **kwargs: object
) -> tuple[EtasFit, float]:
    """Fit to crimes with a ``month`` ("YYYY-MM") each, at ``location_codes``.

    Crimes are spread evenly over their month (the k-th of m crimes of a month at
    a place at (k + 0.5) / m, after a seeded shuffle). Returns the fit and the time
    at which the month after the newest begins (to pass to
    :meth:`EtasFit.expected`).
    """
    m = frame["month"].astype(str).to_numpy()
    mi = np.array([int(x[:4]) * 12 + int(x[5:7]) - 1 for x in m], dtype=float)
    if len(mi) == 0:
        return fit_etas(location_codes, mi, observed_months=0, end=0, n_locations=n_locations), 0
    base = mi.min()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(mi))
    key = pd.Series(mi[order]).astype(str) + ":" + pd.Series(location_codes[order]).astype(str)
    rank = key.groupby(key).cumcount().to_numpy()
    size = key.map(key.value_counts()).to_numpy()
    times = np.empty(len(mi))
    times[order] = mi[order] - base + (rank + 0.5) / size
    end = mi.max() - base + 1
    fit = fit_etas(
        location_codes,
        times,
        observed_months=float(len(np.unique(mi))),
        end=end,
        n_locations=n_locations,
        **kwargs,  # type: ignore[arg-type]
    )
    return fit, end


def simulate_etas(
    mu: np.ndarray, theta: float, omega: float, months: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Crimes of the process over ``[0, months)``: (location codes, times), by branching."""
    n_bg = rng.poisson(np.asarray(mu) * months)
    loc = np.repeat(np.arange(len(mu)), n_bg)
    t = rng.uniform(0, months, len(loc))
    all_loc, all_t = [loc], [t]
    while len(t):
        kids = rng.poisson(theta, len(t))
        loc = np.repeat(loc, kids)
        t = np.repeat(t, kids) + rng.exponential(1 / omega, kids.sum())
        keep = t < months
        loc, t = loc[keep], t[keep]
        all_loc.append(loc)
        all_t.append(t)
    return np.concatenate(all_loc), np.concatenate(all_t)
