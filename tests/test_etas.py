"""The self-exciting process recovers what was planted in generated data (no real data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clic_geo.hotspots.etas import fit_etas, fit_etas_months, simulate_etas


def _planted(theta=0.5, omega=0.4, months=480, n=50, seed=1):
    """50 street points, 40 years: one background rate per point is a parameter each,
    so the record must be long for them not to soak up the excitation (with 5 years of
    300 quiet points EM finds theta ~0.37: the incidental-parameter bias of short records)."""
    rng = np.random.default_rng(seed)
    mu = rng.gamma(2.0, 0.15, n)  # crimes a month per street point
    loc, t = simulate_etas(mu, theta, omega, months, rng)
    return mu, loc, t


def test_em_recovers_planted_parameters_from_exact_times():
    mu, loc, t = _planted()
    fit = fit_etas(loc, t, observed_months=480, end=480, n_locations=len(mu))
    assert fit.theta == pytest.approx(0.5, abs=0.06)
    assert fit.omega == pytest.approx(0.4, rel=0.15)
    # background: busy points found busy
    assert pd.Series(mu).corr(pd.Series(fit.mu), method="spearman") > 0.9
    assert fit.mu.sum() == pytest.approx(mu.sum(), rel=0.1)


def test_em_recovers_them_from_months_only():
    """Published data give a month, not a date: the fit on months stays close."""
    mu, loc, t = _planted(omega=0.25, seed=2)
    month = pd.period_range("1990-01", periods=480, freq="M").astype(str).to_numpy()
    frame = pd.DataFrame({"month": month[np.floor(t).astype(int)]})
    fit, start = fit_etas_months(frame, location_codes=loc, n_locations=len(mu))
    assert start == 480
    assert fit.theta == pytest.approx(0.5, abs=0.1)
    assert fit.omega == pytest.approx(0.25, rel=0.3)


def test_no_excitation_is_found_where_none_was_planted():
    mu, loc, t = _planted(theta=0.0, seed=3)
    fit = fit_etas(loc, t, observed_months=480, end=480, n_locations=len(mu))
    assert fit.theta < 0.05


def test_forecast_rises_after_a_burst_and_falls_back():
    loc = np.zeros(6, dtype=np.int64)
    t = np.array([0.5, 10.1, 10.2, 10.3, 10.4, 10.5])
    fit = fit_etas(loc, t, observed_months=11, end=11, n_locations=2)
    soon, later = fit.expected(11.0)[0], fit.expected(40.0)[0]
    assert soon > later >= fit.mu[0] > 0
    assert fit.expected(11.0)[1] == 0  # a place with no crime has no forecast
