"""Did it work? Difference-in-differences on monthly counts, and displacement.

The statistics of an impact evaluation, on numbers only (no geometry; the zones and
the counting are in :mod:`clic_geo.hotspots.evaluation`):

- :func:`did_estimate`: the relative change in the treated zones against a comparison
  area, from a Poisson regression of the monthly counts of both with one effect per
  month (which absorbs a force-wide trend, the seasons and any month-wide shock), one
  for the treated zones, and the treated × after interaction whose exponent is the
  rate ratio. Overdispersion is allowed for (quasi-Poisson: the variance is scaled by
  the Pearson χ² per residual degree of freedom when that exceeds 1, and the interval
  and p-value then use Student's t on those degrees of freedom).
- :func:`weighted_displacement_quotient`: Bowers & Johnson's (2003) WDQ for a buffer
  round the treated zones, with :func:`displacement_meaning` saying what it means.
- :func:`evaluate_counts`: everything together from a frame of monthly counts, saying
  plainly when the data cannot tell (too few months or crimes) instead of printing a
  number.

See ``docs/evaluation.md`` for the method, its assumptions and how to read the numbers.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from clic_geo._errors import ConfigError

__all__ = [
    "MIN_COMPARISON_CRIMES",
    "MIN_MONTHS_EACH_SIDE",
    "MIN_TREATED_BEFORE",
    "REASONS",
    "DidEstimate",
    "Evaluation",
    "cannot_tell_reasons",
    "cannot_tell_text",
    "did_estimate",
    "displacement_meaning",
    "evaluate_counts",
    "format_p",
    "naive_change_pct",
    "verdict_text",
    "weighted_displacement_quotient",
]

#: Fewest covered months on each side of the date for an estimate (the dispersion
#: then has at least two degrees of freedom).
MIN_MONTHS_EACH_SIDE = 2
#: Fewest crimes in the treated zones before the date: with fewer there is too
#: little to fall for a fall to be told from chance.
MIN_TREATED_BEFORE = 10
#: Fewest crimes in the comparison area on each side of the date.
MIN_COMPARISON_CRIMES = 10
#: Fewest crimes in the buffer before the date for the WDQ to be read.
MIN_BUFFER_BEFORE = 5
#: Columns of the monthly frame :func:`evaluate_counts` takes.
ZONES = ("treated", "buffer", "comparison")


@dataclass(frozen=True)
class DidEstimate:
    """A difference-in-differences estimate on monthly counts.

    ``effect_pct`` is the change in the treated zones relative to what the comparison
    area's months predict: ``100 * (rate_ratio - 1)``; -40 means 40 % fewer crimes
    than expected. ``ci_*_pct`` is its 95 % confidence interval and ``p_value`` the
    two-sided test of no change. ``dispersion`` is the Pearson χ² per residual degree
    of freedom (1 for Poisson noise; used when above 1), ``df_resid`` those degrees
    of freedom, ``method`` "poisson" or "quasi-poisson" (what the interval used).
    """

    rate_ratio: float
    effect_pct: float
    ci_low_pct: float
    ci_high_pct: float
    p_value: float
    log_ratio: float
    se_log: float
    dispersion: float
    df_resid: int
    method: str

    @property
    def covers_zero(self) -> bool:
        """Whether the interval includes no change."""
        return self.ci_low_pct <= 0 <= self.ci_high_pct


def _design(n_months: int, after: np.ndarray) -> np.ndarray:
    """Month effects (one column per month), treated, treated × after; treated rows first."""
    x = np.zeros((2 * n_months, n_months + 2))
    rows = np.arange(2 * n_months)
    x[rows, np.r_[np.arange(n_months), np.arange(n_months)]] = 1.0
    x[:n_months, n_months] = 1.0
    x[:n_months, n_months + 1] = after.astype(float)
    return x


def did_estimate(
    treated: Sequence[float], comparison: Sequence[float], after: Sequence[bool]
) -> DidEstimate:
    """Difference-in-differences of two monthly count series, with month effects.

    Fits ``log E[y] = month + treated + effect * treated * after`` by Poisson maximum
    likelihood (statsmodels ``GLM``) on the stacked series. The effect's standard
    error is scaled by ``sqrt(dispersion)`` when the Pearson χ² per residual degree
    of freedom exceeds 1 (quasi-Poisson), and its 95 % interval and p-value then use
    Student's t with the residual degrees of freedom; otherwise the Poisson standard
    error and the normal distribution.

    Parameters
    ----------
    treated, comparison : sequence of float
        Counts per month (same months, same order), not negative.
    after : sequence of bool
        Whether each month is after the date.

    Returns
    -------
    DidEstimate

    Raises
    ------
    ConfigError
        Mismatched lengths, negative counts, fewer than 3 months or no month on one
        side, or no crime in the treated zones on one side (the ratio is then 0 or
        infinite and has no interval).

    Examples
    --------
    >>> e = did_estimate([20, 22, 19, 21, 12, 11, 13, 12], [500] * 8, [0, 0, 0, 0, 1, 1, 1, 1])
    >>> round(e.effect_pct)
    -41
    """
    yt = np.asarray(treated, dtype=float)
    yc = np.asarray(comparison, dtype=float)
    a = np.asarray(after, dtype=bool)
    if not (len(yt) == len(yc) == len(a)):
        raise ConfigError("treated, comparison and after need one value per month each")
    if (yt < 0).any() or (yc < 0).any() or not np.isfinite(np.r_[yt, yc]).all():
        raise ConfigError("monthly counts must be finite and not negative")
    if len(a) < 3 or a.all() or not a.any():
        raise ConfigError("a difference-in-differences needs months before and after the date")
    if yt[~a].sum() == 0 or yt[a].sum() == 0:
        raise ConfigError("no crime in the treated zones before or after the date: no ratio")
    m = len(a)
    y = np.r_[yt, yc]
    x = _design(m, a)
    with warnings.catch_warnings():
        # a comparison month with no crime at all makes its month effect run off to
        # -inf; the fit is still right for the effect, only statsmodels complains
        warnings.simplefilter("ignore")
        fit = sm.GLM(y, x, family=sm.families.Poisson()).fit()
    beta = float(fit.params[-1])
    se_poisson = float(fit.bse[-1])
    df = round(float(fit.df_resid))
    dispersion = float(fit.pearson_chi2 / df) if df > 0 else math.nan
    if df > 0 and dispersion > 1:
        se = se_poisson * math.sqrt(dispersion)
        q = float(stats.t.ppf(0.975, df))
        p = float(2 * stats.t.sf(abs(beta) / se, df))
        method = "quasi-poisson"
    else:
        se = se_poisson
        q = float(stats.norm.ppf(0.975))
        p = float(2 * stats.norm.sf(abs(beta) / se))
        method = "poisson"
    return DidEstimate(
        rate_ratio=math.exp(beta),
        effect_pct=100 * math.expm1(beta),
        ci_low_pct=100 * math.expm1(beta - q * se),
        ci_high_pct=100 * math.expm1(beta + q * se),
        p_value=p,
        log_ratio=beta,
        se_log=se,
        dispersion=dispersion,
        df_resid=df,
        method=method,
    )


def naive_change_pct(before: float, after: float, months_before: int, months_after: int) -> float:
    """Change of the monthly mean in the same place, after against before, in %.

    What the old before/after table showed: blind to a force-wide trend, the seasons
    and regression to the mean. ``nan`` when there was nothing before.

    >>> naive_change_pct(60, 30, 3, 3)
    -50.0
    """
    if before <= 0 or months_before <= 0 or months_after <= 0:
        return math.nan
    return 100 * ((after / months_after) / (before / months_before) - 1)


def weighted_displacement_quotient(
    treated: tuple[float, float], buffer: tuple[float, float], control: tuple[float, float]
) -> float:
    """Bowers & Johnson's (2003) weighted displacement quotient.

    Each argument is ``(before, after)`` counts over the same months.
    ``WDQ = (B_a/C_a - B_b/C_b) / (A_a/C_a - A_b/C_b)``: the buffer's change relative
    to the control, per unit of the treated zones' change relative to the control.
    Positive: diffusion of benefits (the buffer fell too); negative: displacement
    (the buffer rose while the treated zones fell); about 0: neither. Only defined
    when the treated zones fell relative to the control (the denominator, the
    "success measure", is negative) and every count needed is positive; else ``nan``.

    >>> round(weighted_displacement_quotient((100, 60), (50, 40), (1000, 1000)), 2)
    0.25
    """
    (ab, aa), (bb, ba), (cb, ca) = treated, buffer, control
    if min(cb, ca) <= 0:
        return math.nan
    success = aa / ca - ab / cb
    if not success < 0:
        return math.nan
    return (ba / ca - bb / cb) / success


def displacement_meaning(wdq: float, *, buffer_within_chance: bool | None = None) -> str:
    """What a WDQ means, in words (Bowers & Johnson's reading), with the chance caveat."""
    if math.isnan(wdq):
        return (
            "No displacement quotient: the treated zones did not fall relative to the "
            "comparison, so there is no fall to be displaced."
        )
    if wdq > 1:
        text = (
            "Diffusion of benefits larger than the direct effect: the buffer round the "
            "treated zones fell, relative to the comparison, by more than the zones did."
        )
    elif wdq > 0.1:
        text = (
            "Diffusion of benefits: the buffer round the treated zones fell too, relative "
            "to the comparison (no sign that crime moved round the corner)."
        )
    elif wdq >= -0.1:
        text = "Neither displacement nor diffusion: the buffer changed as the comparison did."
    elif wdq >= -1:
        text = (
            "Some displacement: crime in the buffer rose relative to the comparison, but by "
            "less than it fell in the treated zones (a net benefit)."
        )
    else:
        text = (
            "Displacement larger than the direct effect: the buffer rose, relative to the "
            "comparison, by more than the treated zones fell (a net loss)."
        )
    if buffer_within_chance:
        text += (
            " The buffer's own change is within what chance gives, so this is weak evidence "
            "either way."
        )
    return text


@dataclass(frozen=True)
class Evaluation:
    """An impact evaluation: estimate, naive contrast, displacement, or why none.

    ``monthly`` has one row per month used: ``month``, ``after`` (bool) and the counts
    ``treated``, ``buffer``, ``comparison``. Totals are over those months.
    ``estimate`` is ``None`` when the data cannot tell (``reasons``: codes of
    :data:`REASONS`);
    ``buffer_estimate`` is the buffer against the comparison (for the chance caveat
    on the WDQ). ``verdict`` and ``displacement`` are the findings in words.
    """

    since_month: str
    monthly: pd.DataFrame
    treated_before: int
    treated_after: int
    buffer_before: int
    buffer_after: int
    comparison_before: int
    comparison_after: int
    months_before: tuple[str, ...]
    months_after: tuple[str, ...]
    estimate: DidEstimate | None
    buffer_estimate: DidEstimate | None
    naive_change_pct: float
    wdq: float
    verdict: str
    displacement: str
    reasons: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def can_tell(self) -> bool:
        """Whether there is an estimate (enough months and crimes)."""
        return self.estimate is not None

    def to_dict(self, *, exact: bool = False) -> dict[str, Any]:
        """Plain numbers for JSON (``None`` where there is no number), rounded for
        reading unless ``exact`` (for figures rounded again later: 19.49 must not
        become 19.5 and then 20)."""

        def num(x: float | None, nd: int = 1) -> float | None:
            if x is None or not math.isfinite(x):
                return None
            return float(x) if exact else round(float(x), nd)

        e, b = self.estimate, self.buffer_estimate
        return {
            "since_month": self.since_month,
            "months_before": list(self.months_before),
            "months_after": list(self.months_after),
            "treated_before": self.treated_before,
            "treated_after": self.treated_after,
            "buffer_before": self.buffer_before,
            "buffer_after": self.buffer_after,
            "comparison_before": self.comparison_before,
            "comparison_after": self.comparison_after,
            "effect_pct": num(e.effect_pct) if e else None,
            "ci_low_pct": num(e.ci_low_pct) if e else None,
            "ci_high_pct": num(e.ci_high_pct) if e else None,
            "p_value": num(e.p_value, 4) if e else None,
            "rate_ratio": num(e.rate_ratio, 3) if e else None,
            "dispersion": num(e.dispersion, 2) if e else None,
            "method": e.method if e else None,
            "naive_change_pct": num(self.naive_change_pct),
            "wdq": num(self.wdq, 2) if self.estimate else None,
            "buffer_effect_pct": num(b.effect_pct) if b else None,
            "buffer_ci_low_pct": num(b.ci_low_pct) if b else None,
            "buffer_ci_high_pct": num(b.ci_high_pct) if b else None,
            "can_tell": self.can_tell,
            "reasons": list(self.reasons),
            "verdict": self.verdict,
            "displacement": self.displacement,
            **self.details,
        }


#: Why the data cannot tell, in words a meeting reads (no counts: partners see them too).
REASONS: dict[str, str] = {
    "few_months": (
        f"too few months with data on one side of the date (at least {MIN_MONTHS_EACH_SIDE} "
        "before and from it are needed)"
    ),
    "few_treated": (
        f"fewer than {MIN_TREATED_BEFORE} crimes in the treated zones before the date: too "
        "little to fall for a fall to be told from chance"
    ),
    "none_after": (
        "no crime at all in the treated zones after the date: a fall to zero has no "
        "interval (look at the monthly counts)"
    ),
    "few_comparison": (
        f"fewer than {MIN_COMPARISON_CRIMES} crimes in the comparison area on one side of the date"
    ),
    "selection": (
        "the months before the date are the months the hotspots were chosen from; "
        "compared with them, any place chosen for being busy looks quieter afterwards "
        "(regression to the mean), so choose the hotspots from earlier months"
    ),
    "no_hotspots": (
        "no hotspot stood out in the months before the date, so there are no treated zones"
    ),
    "few_to_publish": (
        "too few crimes in the treated zones to publish an estimate under the information "
        "sharing agreement"
    ),
    "few_buffer": (
        f"Not assessed: fewer than {MIN_BUFFER_BEFORE} crimes in the buffer before the date."
    ),
}


def cannot_tell_reasons(
    months_before: int,
    months_after: int,
    treated_before: int,
    treated_after: int,
    comparison_before: int,
    comparison_after: int,
) -> list[str]:
    """Codes of :data:`REASONS` why the data cannot tell (empty: it can)."""
    out = []
    if min(months_before, months_after) < MIN_MONTHS_EACH_SIDE:
        out.append("few_months")
    if treated_before < MIN_TREATED_BEFORE:
        out.append("few_treated")
    elif treated_after == 0:
        out.append("none_after")
    if min(comparison_before, comparison_after) < MIN_COMPARISON_CRIMES:
        out.append("few_comparison")
    return out


def cannot_tell_text(reasons: Sequence[str]) -> str:
    """ "The data cannot tell: ..." with each reason in words."""
    return "The data cannot tell: " + "; ".join(REASONS.get(r, r) for r in reasons) + "."


def _pct(x: float) -> str:
    return f"{x:+.0f} %".replace("-", "−")


def format_p(p: float, *, floor: float = 0.001) -> str:
    """A p-value as a meeting reads it: two decimals, "< 0.01" or "< ``floor``" below.

    >>> format_p(0.0891), format_p(0.004), format_p(0.0004), format_p(0.0004, floor=0.01)
    ('p = 0.09', 'p < 0.01', 'p < 0.001', 'p < 0.01')
    """
    if p < floor:
        return f"p < {floor:g}"
    if p < 0.01:
        return "p < 0.01"
    return f"p = {p:.2f}"


def verdict_text(
    effect_pct: float,
    ci_low_pct: float,
    ci_high_pct: float,
    p_value: float,
    *,
    p_floor: float = 0.001,
) -> str:
    """The estimate in one sentence: which way, how much, and whether chance could do it.

    >>> verdict_text(-38.2, -52.0, -20.1, 0.0004)[:60]
    'Crime in the treated zones fell by 38 % against what the com'
    """
    ci = f"95 % interval {_pct(ci_low_pct)} to {_pct(ci_high_pct)}"
    p = format_p(p_value, floor=p_floor)
    if ci_high_pct < 0:
        return (
            f"Crime in the treated zones fell by {-effect_pct:.0f} % against what the "
            f"comparison area predicts ({ci}; {p}): unlikely to be chance."
        )
    if ci_low_pct > 0:
        return (
            f"Crime in the treated zones rose by {effect_pct:.0f} % against what the "
            f"comparison area predicts ({ci}; {p}): unlikely to be chance."
        )
    return (
        f"The change in the treated zones against the comparison area, {_pct(effect_pct)} "
        f"({ci}; {p}), is within what chance gives: these months do not show an effect "
        "either way."
    )


def _sides(monthly: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    after = monthly["after"].astype(bool)
    return monthly[~after], monthly[after]


def evaluate_counts(
    monthly: pd.DataFrame,
    since_month: str,
    *,
    details: dict[str, Any] | None = None,
    extra_reasons: Sequence[str] = (),
) -> Evaluation:
    """The whole evaluation from monthly counts per zone.

    Parameters
    ----------
    monthly : DataFrame
        One row per covered month: ``month`` (``YYYY-MM``), ``after`` (bool: the month
        is on or after the date), ``treated``, ``comparison`` and optionally
        ``buffer`` counts. Months with no data at all must be left out, not given as
        zeros.
    since_month : str
        The first month after the date (for the record).
    details : dict, optional
        Extra facts carried into :meth:`Evaluation.to_dict` (zones' sizes, types...).
    extra_reasons : sequence of str
        More reasons (codes of :data:`REASONS`) the caller knows the data cannot tell.

    Returns
    -------
    Evaluation
        With ``estimate=None`` and the reasons (codes of :data:`REASONS`; the verdict
        says them in words) when there are fewer than
        :data:`MIN_MONTHS_EACH_SIDE` months on a side, fewer than
        :data:`MIN_TREATED_BEFORE` treated crimes before, none after, or fewer than
        :data:`MIN_COMPARISON_CRIMES` comparison crimes on a side.
    """
    need = {"month", "after", "treated", "comparison"}
    if missing := need - set(monthly.columns):
        raise ConfigError(f"monthly counts need columns {sorted(missing)}")
    df = monthly.copy()
    if "buffer" not in df:
        df["buffer"] = 0
    df = df.sort_values("month").reset_index(drop=True)
    df["after"] = df["after"].astype(bool)
    for z in ZONES:
        df[z] = df[z].astype("int64")
    before, after = _sides(df)
    tb, ta = int(before["treated"].sum()), int(after["treated"].sum())
    bb, ba = int(before["buffer"].sum()), int(after["buffer"].sum())
    cb, ca = int(before["comparison"].sum()), int(after["comparison"].sum())
    naive = naive_change_pct(tb, ta, len(before), len(after))
    reasons = [*extra_reasons, *cannot_tell_reasons(len(before), len(after), tb, ta, cb, ca)]
    if "selection" in extra_reasons:  # the rest follow from it
        reasons = list(extra_reasons)
    estimate = buffer_est = None
    wdq = math.nan
    if reasons:
        verdict = cannot_tell_text(reasons)
        displacement = "Not assessed: there is no estimate for the treated zones."
    else:
        a = df["after"].to_numpy()
        estimate = did_estimate(df["treated"], df["comparison"], a)
        verdict = verdict_text(
            estimate.effect_pct, estimate.ci_low_pct, estimate.ci_high_pct, estimate.p_value
        )
        if bb >= MIN_BUFFER_BEFORE and ba > 0:
            buffer_est = did_estimate(df["buffer"], df["comparison"], a)
        if bb < MIN_BUFFER_BEFORE:
            displacement = REASONS["few_buffer"]
        else:
            wdq = weighted_displacement_quotient((tb, ta), (bb, ba), (cb, ca))
            displacement = displacement_meaning(
                wdq, buffer_within_chance=buffer_est.covers_zero if buffer_est else None
            )
    return Evaluation(
        since_month=since_month,
        monthly=df[["month", "after", *ZONES]],
        treated_before=tb,
        treated_after=ta,
        buffer_before=bb,
        buffer_after=ba,
        comparison_before=cb,
        comparison_after=ca,
        months_before=tuple(before["month"]),
        months_after=tuple(after["month"]),
        estimate=estimate,
        buffer_estimate=buffer_est,
        naive_change_pct=naive,
        wdq=wdq,
        verdict=verdict,
        displacement=displacement,
        reasons=tuple(reasons),
        details=dict(details or {}),
    )
