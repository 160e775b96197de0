"""The recommended hotspot map, its honest tuning protocol and "how much to trust it".

- :func:`recommended_map` builds the map the ``clic-geo hotspots`` command writes;
- :func:`tune` runs the cross-period protocol of ``docs/hotspots.md``: settings are
  chosen on some windows and judged on windows they were not chosen on;
- :func:`trust_summary` is what the dashboard shows beside the map.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from clic_geo.hotspots.backtest import (
    RECOMMENDED,
    STREET_3,
    STREET_DECAYED,
    Window,
    backtest,
    choose_scale,
    grid_count,
    last_months,
    reference_methods,
    rolling_windows,
    with_params,
)
from clic_geo.hotspots.engine import find_hotspots
from clic_geo.hotspots.expected import ForecastSettings, add_expected, with_indicators
from clic_geo.hotspots.layers import build_layer

__all__ = [
    "TUNING_GRID",
    "TrustSummary",
    "period_folds",
    "recommended_map",
    "trust_summary",
    "tune",
]

log = logging.getLogger(__name__)

#: Settings the protocol chooses among (eps_m None = the per-area k-distance knee).
TUNING_GRID: Mapping[str, Sequence[Any]] = {
    "eps_m": (None, 150.0, 300.0),
    "min_samples": (3, 5),
    "buffer_m": (25.0, 50.0),
    "half_life_months": (None, 1.5),
}


def recommended_map(
    incidents: pd.DataFrame,
    *,
    n_simulations: int = 99,
    indicators: pd.DataFrame | None = None,
    forecast: ForecastSettings | None = None,
    **params: Any,
) -> gpd.GeoDataFrame:
    """The recommended hotspot map of some incidents (what ``clic-geo hotspots`` writes).

    The settings are :data:`~clic_geo.hotspots.backtest.RECOMMENDED` (the ones the backtest
    measures), with a Monte Carlo p-value per hotspot. The radius is chosen from the
    incidents themselves (:func:`~clic_geo.hotspots.backtest.choose_scale`) unless ``eps_m``
    is given. Each hotspot has its expected crimes next month and their uncertainty
    in words (``expected``, ``expected_words``: :func:`~clic_geo.hotspots.expected.add_expected`).
    With ``indicators`` (other layers' crimes: for drugs, violence and anti-social
    behaviour), the map is rescored and ranked by the point forecast
    (:func:`~clic_geo.hotspots.expected.with_indicators`), as the backtest scores it.
    """
    # one line per map: the app's cache is judged by counting these (tests/test_map_cache.py)
    log.debug("hotspot map built: %d incidents", len(incidents))
    fs = forecast or ForecastSettings()
    use_ind = indicators is not None and len(indicators) > 0
    p = {**RECOMMENDED, **(fs.outlines() if use_ind else {}), **params}
    if p["eps_m"] == "auto":
        p["eps_m"] = choose_scale(incidents, **p)
    layer = build_layer("incidents", incidents=incidents)
    hs = find_hotspots(layer, **{**p, "n_simulations": n_simulations})
    if use_ind and len(hs):
        return with_indicators(hs, incidents, indicators, fs)
    return add_expected(hs, p.get("half_life_months"))


def period_folds(windows: Sequence[Window], gap_months: int = 2) -> list[list[Window]]:
    """Group windows into periods: test months more than ``gap_months`` apart split."""
    if not windows:
        return []
    folds, cur = [], [windows[0]]
    for prev, w in itertools.pairwise(windows):
        step = (pd.Period(w.test_month, "M") - pd.Period(prev.test_month, "M")).n
        if step > gap_months:
            folds.append(cur)
            cur = []
        cur.append(w)
    folds.append(cur)
    return folds


def _key(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def tune(
    incidents: pd.DataFrame,
    *,
    grid: Mapping[str, Sequence[Any]] = TUNING_GRID,
    budget_km2: float = 1.0,
    lookback: int = 3,
    study_area: Any = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cross-period tuning: choose settings on one period's windows, test on the others.

    The windows are split into periods (:func:`period_folds`); with one period only,
    each window is held out in turn (leave-one-window-out). For each held-out fold the
    settings with the best mean hit rate at ``budget_km2`` on the *other* windows are
    chosen and scored on the held-out ones.

    Returns
    -------
    (per_config, held_out)
        ``per_config``: hit rate of every candidate and of the grid count per window;
        ``held_out``: per held-out window, the settings chosen without it, their hit
        rate and the grid count's.
    """
    names = list(grid)
    combos = [dict(zip(names, vals, strict=True)) for vals in itertools.product(*grid.values())]
    methods = {_key(c): with_params(**c) for c in combos}
    methods["grid count"] = last_months(grid_count, lookback)
    res = backtest(
        incidents,
        methods=methods,
        budgets_km2=(budget_km2,),
        lookback=lookback,
        study_area=study_area,
        progress=progress,
    )
    table = res.pivot(index="test_month", columns="method", values="hit_rate")
    wins = rolling_windows(incidents["month"], lookback)
    folds = period_folds([w for w in wins if w.test_month in table.index])
    if len(folds) < 2:
        folds = [[w] for w in wins if w.test_month in table.index]
    rows = []
    for fold in folds:
        held = [w.test_month for w in fold]
        rest = [m for m in table.index if m not in held]
        cand = table.drop(columns="grid count").loc[rest].mean()
        best = str(cand.idxmax())
        for m in held:
            rows.append(
                {
                    "test_month": m,
                    "chosen_on": f"{rest[0]}..{rest[-1]}" if rest else "",
                    "settings": best,
                    "hit_rate": table.loc[m, best],
                    "grid_count": table.loc[m, "grid count"],
                }
            )
    return table, pd.DataFrame(rows)


@dataclass(frozen=True)
class TrustSummary:
    """How well the recommended map would have forecast the loaded data's own months."""

    months_tested: int
    budget_km2: float
    ours_median: float
    grid_median: float
    ours_min: float
    ours_max: float
    months_won: int
    months_lost: int
    verdict: str
    per_month: pd.DataFrame
    #: The better of the two street-point counts (by median) on this data, its
    #: median, and the months the map beat / lost to it.
    street_method: str = STREET_DECAYED
    street_median: float = np.nan
    street_won: int = 0
    street_lost: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the per-month table)."""
        return {
            k: getattr(self, k)
            for k in (
                "months_tested",
                "budget_km2",
                "ours_median",
                "grid_median",
                "ours_min",
                "ours_max",
                "months_won",
                "months_lost",
                "verdict",
                "street_method",
                "street_median",
                "street_won",
                "street_lost",
            )
        }


def trust_summary(
    incidents: pd.DataFrame,
    *,
    budget_km2: float = 1.0,
    lookback: int = 3,
    max_windows: int = 12,
    study_area: Any = None,
) -> TrustSummary:
    """Backtest summary for the data a user has loaded, in plain words.

    Runs the rolling test on the last ``max_windows`` months (ours, the grid count
    and the two street-point counts, at one budget; every method given all the
    months before the one it forecasts), so it takes seconds; the app caches it. The
    verdict says in words whether the map beat the better street-point count: a map
    that does not is no better than marking every spot that had a crime lately.

    Parameters
    ----------
    incidents : DataFrame
        Incidents with ``easting``, ``northing`` and ``month`` (e.g. ``Store.incidents()``).
    """
    months = sorted(set(incidents["month"])) if len(incidents) else []
    # every method gets the same history, the last ``lookback`` months (the dashboard
    # runs this for every area whenever data change: more history costs clusterings)
    wins = rolling_windows(months, lookback)[-max_windows:]
    empty = pd.DataFrame(columns=["test_month", "ours", "grid count", STREET_3, STREET_DECAYED])
    if not wins:
        return TrustSummary(
            0,
            budget_km2,
            np.nan,
            np.nan,
            np.nan,
            np.nan,
            0,
            0,
            f"Not enough history to test the map: it needs at least {lookback + 1} months "
            f"of incidents, and {len(months)} are loaded.",
            empty,
        )
    res = backtest(
        incidents,
        methods={
            "ours": with_params(),
            "grid count": last_months(grid_count),
            STREET_3: reference_methods()[STREET_3],
            STREET_DECAYED: reference_methods()[STREET_DECAYED],
        },
        budgets_km2=(budget_km2,),
        windows=wins,
        study_area=study_area,
    )
    t = res.pivot(index="test_month", columns="method", values="hit_rate")
    diff = t["ours"] - t["grid count"]
    won, lost = int((diff > 0).sum()), int((diff < 0).sum())
    om, gm = float(t["ours"].median()), float(t["grid count"].median())
    if om > gm and won > lost:
        verdict = (
            f"Worth following: in {won} of {len(t)} past months the hotspots' best "
            f"{budget_km2:g} km² held a median {om:.0%} of the next month's incidents, "
            f"against {gm:.0%} for simply counting the busiest 100 m squares."
        )
    elif om >= gm:
        verdict = (
            f"About as good as counting the busiest squares: median {om:.0%} against "
            f"{gm:.0%} over {len(t)} months (better in {won}, worse in {lost})."
        )
    else:
        verdict = (
            f"Use with care: on this data the hotspots did worse than counting the busiest "
            f"squares (median {om:.0%} against {gm:.0%} over {len(t)} months)."
        )
    street = max((STREET_DECAYED, STREET_3), key=lambda m: (t[m].median(), t[m].mean()))
    sm = float(t[street].median())
    sd = t["ours"] - t[street]
    s_won, s_lost = int((sd > 1e-12).sum()), int((sd < -1e-12).sum())
    how = (
        "every spot's crimes of the past months, recent ones counting more"
        if street == STREET_DECAYED
        else "every spot's crimes of the last three months"
    )
    if om > sm and s_won > s_lost:
        verdict += (
            f" Against counting {how} (the street-point count, median {sm:.0%}) the map "
            f"does better in {s_won} of {len(t)} months: the outlines add something to a "
            "list of busy spots."
        )
    elif om >= sm and s_won >= s_lost:
        verdict += (
            f" It is about as good as counting {how} (the street-point count: {sm:.0%}; "
            f"better in {s_won} months, worse in {s_lost}): the outlines show where, but a "
            "list of busy spots would catch as much."
        )
    else:
        verdict += (
            f" It does not beat counting {how} (the street-point count: median {sm:.0%}, "
            f"better than the map in {s_lost} of {len(t)} months): on this data a list of "
            "busy spots forecasts as well or better."
        )
    if len(t) < 6:
        verdict += f" Only {len(t)} months could be tested, so this is a rough guide."
    per = t.reset_index()[["test_month", "ours", "grid count", STREET_3, STREET_DECAYED]]
    return TrustSummary(
        len(t),
        budget_km2,
        om,
        gm,
        float(t["ours"].min()),
        float(t["ours"].max()),
        won,
        lost,
        verdict,
        per,
        street,
        sm,
        s_won,
        s_lost,
    )


def held_out(
    results: pd.DataFrame,
    candidates: Sequence[str],
    *,
    choose_budgets: Sequence[float] = (0.25, 1.0),
    gap_months: int = 2,
) -> pd.DataFrame:
    """Cross-period choice among ``candidates`` on a :func:`backtest` result.

    The test months split into periods (:func:`period_folds`; one window per fold
    when there is one period). For each period, the candidate with the best mean hit
    rate over ``choose_budgets`` on the *other* periods' months is chosen, and its
    figures on the held-out period are kept. Returns the rows of ``results`` for the
    chosen candidate on each held-out month, its name in ``chosen`` and the method
    renamed ``held out``: other methods in ``results`` can be compared with it on
    exactly the same months.
    """
    months = sorted(results["test_month"].unique())
    wins = [Window(m, ()) for m in months]
    folds = period_folds(wins, gap_months)
    if len(folds) < 2:
        folds = [[w] for w in wins]
    sel = results[results["method"].isin(candidates)]
    score = (
        sel[sel["budget_km2"].isin(choose_budgets)]
        .groupby(["method", "test_month"])["hit_rate"]
        .mean()
        .unstack("test_month")
    )
    out = []
    for fold in folds:
        held = [w.test_month for w in fold]
        rest = [m for m in months if m not in held]
        best = str(score[rest].mean(axis=1).idxmax())
        rows = sel[(sel["method"] == best) & sel["test_month"].isin(held)].copy()
        rows["chosen"] = best
        rows["method"] = "held out"
        out.append(rows)
    return pd.concat(out, ignore_index=True)
