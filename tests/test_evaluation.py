"""Impact evaluation: known answers on generated data, the zones, the words, the command.

The generated world: a 20 km square "force area" with three round treated zones, a
force-wide trend (+3 % a month) and a seasonal cycle (±30 %), Poisson counts placed
uniformly at random inside each zone. What is planted is known, so the tests check
that the difference-in-differences recovers it within its interval where the naive
before/after does not, that displacement and diffusion give the WDQ's sign, and that
with nothing planted the interval covers 0 about 95 % of the time.
"""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import stats

from clic_geo._errors import ConfigError
from clic_geo.cli import main
from clic_geo.geo.crs import BNG, to_wgs84
from clic_geo.hotspots.evaluation import (
    evaluate,
    evaluate_incidents,
    evaluation_zones,
    zone_monthly_counts,
)
from clic_geo.hotspots.impact import (
    REASONS,
    did_estimate,
    displacement_meaning,
    evaluate_counts,
    weighted_displacement_quotient,
)
from tests.conftest import police_files
from tests.test_cli import cli, last_json

ORIGIN = (340_000.0, 500_000.0)  # south-west corner of the square, BNG (inside Cumbria)
SIDE_M = 20_000.0
CENTRES = [(6_000.0, 7_000.0), (9_000.0, 12_000.0), (14_000.0, 8_000.0)]
RADIUS_M = 200.0
MONTHS = [str(p) for p in pd.period_range("2023-01", "2024-12", freq="M")]
SINCE = date(2024, 1, 1)


def _force() -> shapely.Geometry:
    x, y = ORIGIN
    return shapely.box(x, y, x + SIDE_M, y + SIDE_M)


def _treated() -> gpd.GeoSeries:
    x, y = ORIGIN
    return gpd.GeoSeries(
        [shapely.Point(x + dx, y + dy).buffer(RADIUS_M) for dx, dy in CENTRES], crs=BNG
    )


def _month_factor(i: int) -> float:
    """Force-wide trend and season: +3 % a month, ±30 % over the year."""
    return math.exp(0.03 * i) * (1 + 0.3 * math.sin(2 * math.pi * i / 12))


def _uniform(geom: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = geom.bounds
    out = np.empty((0, 2))
    while len(out) < n:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(4 * n + 16, 2))
        out = np.vstack([out, xy[shapely.contains_xy(geom, xy[:, 0], xy[:, 1])]])
    return out[:n]


def generated_incidents(
    *,
    effect: float = 0.6,
    buffer_effect: float = 1.0,
    seed: int = 1,
    treated_rate: float = 40.0,
    buffer_rate: float = 30.0,
    comparison_rate: float = 1500.0,
) -> pd.DataFrame:
    """Incidents with ``effect`` in the treated zones and ``buffer_effect`` in the
    250 m ring from :data:`SINCE` on (1.0 = no change), over :data:`MONTHS`."""
    rng = np.random.default_rng(seed)
    zones = evaluation_zones(_treated(), buffer_m=250, force_area=_force())
    rows = []
    for i, m in enumerate(MONTHS):
        after = m >= "2024-01"
        f = _month_factor(i)
        for geom, rate, mult in (
            (zones.treated, treated_rate, effect),
            (zones.buffer, buffer_rate, buffer_effect),
            (zones.comparison, comparison_rate, 1.0),
        ):
            n = rng.poisson(rate * f * (mult if after else 1.0))
            for e, nn in _uniform(geom, n, rng):
                rows.append((m, e, nn))
    df = pd.DataFrame(rows, columns=["month", "easting", "northing"])
    df["category"] = "drugs"
    df["area_id"] = "barrow"
    df["occurred_at"] = pd.to_datetime(df["month"] + "-15")
    return df


def _zones():
    return evaluation_zones(_treated(), buffer_m=250, force_area=_force())


# ------------------------------------------------------------------ known answers


def test_planted_40_percent_drop_is_recovered_while_naive_is_biased_by_the_trend() -> None:
    ev = evaluate(generated_incidents(effect=0.6, seed=7), _zones(), since=SINCE)
    e = ev.estimate
    assert e is not None and ev.can_tell
    assert len(ev.months_before) == len(ev.months_after) == 12
    # the planted -40 % lies inside the 95 % interval, and the interval excludes 0
    assert e.ci_low_pct <= -40 <= e.ci_high_pct, (e.ci_low_pct, e.effect_pct, e.ci_high_pct)
    assert e.ci_high_pct < 0 and e.p_value < 0.001
    assert abs(e.effect_pct + 40) < 10
    # the naive before/after sees the fall shrunk by the force-wide rise (+3 % a month
    # over 12 months: 0.6 x ~1.43 - 1 = about -14 %): outside the interval, biased by
    # more than 15 points
    assert ev.naive_change_pct > e.ci_high_pct
    assert ev.naive_change_pct - (-40) > 15
    assert "fell by" in ev.verdict and "unlikely to be chance" in ev.verdict


def test_planted_displacement_gives_a_negative_wdq() -> None:
    ev = evaluate(generated_incidents(effect=0.6, buffer_effect=1.5, seed=3), _zones(), since=SINCE)
    assert ev.wdq < 0
    assert ev.buffer_estimate is not None and ev.buffer_estimate.ci_low_pct > 0
    assert "displacement" in ev.displacement.lower()
    assert "within what chance gives" not in ev.displacement


def test_planted_diffusion_gives_a_positive_wdq() -> None:
    ev = evaluate(generated_incidents(effect=0.6, buffer_effect=0.6, seed=4), _zones(), since=SINCE)
    assert ev.wdq > 0
    assert ev.buffer_estimate is not None and ev.buffer_estimate.ci_high_pct < 0
    assert ev.displacement.startswith("Diffusion of benefits")


def test_no_buffer_change_gives_a_wdq_near_zero_read_as_chance() -> None:
    ev = evaluate(generated_incidents(effect=0.6, buffer_effect=1.0, seed=5), _zones(), since=SINCE)
    # the buffer follows the comparison: the WDQ is small and its change within chance
    assert abs(ev.wdq) < 0.6
    assert ev.buffer_estimate is not None and ev.buffer_estimate.covers_zero


def _coverage_runs(n_runs: int, *, overdispersion_k: float | None, seed: int) -> int:
    """How many of ``n_runs`` no-effect panels give an interval covering 0."""
    rng = np.random.default_rng(seed)
    n_months = 12
    after = np.arange(n_months) >= 6
    factor = np.array([_month_factor(i) for i in range(n_months)])
    covered = 0
    for _ in range(n_runs):
        lam_t = 15.0 * factor
        if overdispersion_k is not None:  # gamma-Poisson (negative binomial) months
            lam_t = rng.gamma(overdispersion_k, lam_t / overdispersion_k)
        yt = rng.poisson(lam_t)
        yc = rng.poisson(600.0 * factor)
        e = did_estimate(yt, yc, after)
        covered += e.covers_zero
    return covered


@pytest.mark.parametrize("k", [None, 4.0], ids=["poisson", "overdispersed"])
def test_no_effect_interval_covers_zero_about_95_percent_of_runs(k: float | None) -> None:
    """200 simulated panels (12 months, trend and season, ~15 crimes a month in the zones).

    If the interval's coverage really is 95 %, the count of runs covering 0 is
    Binomial(200, 0.95); the bound is its 0.05 % quantile, so a correct method fails
    this test by chance less than once in 2,000 runs of it. (Seeds are fixed, so the
    test is also repeatable.) The method never assumes less noise than Poisson, so
    with Poisson months it errs on the wide side, which this one-sided bound allows;
    a quarter of the runs outside would not pass.
    """
    n = 200
    covered = _coverage_runs(n, overdispersion_k=k, seed=11 if k is None else 12)
    lowest = int(stats.binom.ppf(0.0005, n, 0.95))
    assert lowest >= 178  # i.e. at least 89 % of runs must cover 0
    assert covered >= lowest, covered
    assert covered <= n  # not vacuous: see the negative control below


def test_the_coverage_check_can_fail() -> None:
    """Negative control: Poisson intervals on overdispersed months cover far too rarely."""
    rng = np.random.default_rng(3)
    after = np.arange(12) >= 6
    factor = np.array([_month_factor(i) for i in range(12)])
    covered = 0
    for _ in range(200):
        yt = rng.poisson(rng.gamma(1.0, 40.0 * factor / 1.0))
        yc = rng.poisson(600.0 * factor)
        b = np.log(yt[after].sum() / yt[~after].sum()) - np.log(yc[after].sum() / yc[~after].sum())
        se = math.sqrt(1 / yt[after].sum() + 1 / yt[~after].sum())  # pure Poisson
        covered += abs(b) <= 1.96 * se
    assert covered < int(stats.binom.ppf(0.0005, 200, 0.95))


# ------------------------------------------------------------------ when it cannot tell


def _counts(treated_before, treated_after, months_before=6, months_after=6, comparison=500):
    rows = []
    for i in range(months_before):
        rows.append((f"2023-{i + 1:02d}", False, treated_before, 5, comparison))
    for i in range(months_after):
        rows.append((f"2024-{i + 1:02d}", True, treated_after, 5, comparison))
    return pd.DataFrame(rows, columns=["month", "after", "treated", "buffer", "comparison"])


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (_counts(10, 5, months_before=1), "few_months"),
        (_counts(1, 1), "few_treated"),
        (_counts(5, 0), "none_after"),
        (_counts(10, 5, comparison=1), "few_comparison"),
    ],
    ids=["one-month-before", "few-crimes", "zero-after", "empty-comparison"],
)
def test_the_data_cannot_tell_rather_than_a_number(frame: pd.DataFrame, code: str) -> None:
    ev = evaluate_counts(frame, "2024-01")
    assert not ev.can_tell and ev.estimate is None
    assert code in ev.reasons
    assert ev.verdict.startswith("The data cannot tell:") and REASONS[code] in ev.verdict
    d = ev.to_dict()
    assert d["effect_pct"] is None and d["ci_low_pct"] is None and d["wdq"] is None
    # no crime count in the words (partners read them too)
    assert not any(ch.isdigit() for ch in ev.verdict.replace("10", "").replace(" 2 ", ""))


def test_hotspots_chosen_from_the_before_months_are_not_compared_with_them() -> None:
    """Regression to the mean: the months the hotspots were chosen from are not 'before'."""
    df = generated_incidents(seed=8)
    ev = evaluate(df, _zones(), since=SINCE, window_months=2, exclude_before=["2023-11", "2023-12"])
    assert ev.reasons == ("selection",)
    assert "regression to the mean" in ev.verdict
    ev = evaluate(df, _zones(), since=SINCE, window_months=4, exclude_before=["2023-12"])
    assert ev.months_before == ("2023-09", "2023-10", "2023-11") and ev.can_tell


def test_months_without_data_are_left_out_not_zero() -> None:
    df = generated_incidents(seed=9)
    df = df[~df["month"].isin(["2023-06", "2024-06"])]
    ev = evaluate(df, _zones(), since=SINCE)
    assert "2023-06" not in ev.months_before and "2024-06" not in ev.months_after
    assert len(ev.months_before) == len(ev.months_after) == 11


# ------------------------------------------------------------------ pieces


def test_wdq_formula_and_words() -> None:
    # Bowers & Johnson: (Ba/Ca - Bb/Cb) / (Aa/Ca - Ab/Cb)
    assert weighted_displacement_quotient((100, 60), (50, 40), (1000, 1000)) == pytest.approx(
        (40 / 1000 - 50 / 1000) / (60 / 1000 - 100 / 1000)
    )
    assert math.isnan(weighted_displacement_quotient((100, 120), (50, 40), (1000, 1000)))
    assert math.isnan(weighted_displacement_quotient((100, 60), (50, 40), (0, 1000)))
    words = {w: displacement_meaning(w) for w in (1.5, 0.5, 0.0, -0.5, -1.5, math.nan)}
    assert words[1.5].startswith("Diffusion of benefits larger")
    assert words[0.5].startswith("Diffusion of benefits")
    assert words[0.0].startswith("Neither")
    assert words[-0.5].startswith("Some displacement")
    assert words[-1.5].startswith("Displacement larger")
    assert words[math.nan].startswith("No displacement quotient")
    assert "chance" in displacement_meaning(-0.5, buffer_within_chance=True)


def test_did_estimate_errors() -> None:
    with pytest.raises(ConfigError, match="one value per month"):
        did_estimate([1, 2], [1, 2, 3], [0, 1, 1])
    with pytest.raises(ConfigError, match="not negative"):
        did_estimate([1, -2, 3], [1, 2, 3], [0, 1, 1])
    with pytest.raises(ConfigError, match="before and after"):
        did_estimate([1, 2, 3], [1, 2, 3], [1, 1, 1])
    with pytest.raises(ConfigError, match="no ratio"):
        did_estimate([5, 0, 0], [10, 10, 10], [0, 1, 1])


def test_zones_are_disjoint_and_sized() -> None:
    z = _zones()
    assert z.n_treated == 3
    assert z.treated.intersection(z.buffer).area < 1e-3
    assert z.treated.intersection(z.comparison).area < 1e-3
    assert z.buffer.intersection(z.comparison).area < 1e-3
    ring = math.pi * ((RADIUS_M + 250) ** 2 - RADIUS_M**2) * 3
    assert z.buffer.area == pytest.approx(ring, rel=0.01)
    assert z.treated.area + z.buffer.area + z.comparison.area == pytest.approx(SIDE_M**2, rel=1e-4)
    # a comparison given as polygons loses its overlap with the zones
    x, y = ORIGIN
    given = gpd.GeoSeries([shapely.box(x, y, x + 10_000, y + 10_000)], crs=BNG)
    z2 = evaluation_zones(_treated(), buffer_m=250, comparison=given)
    assert z2.comparison.intersection(z2.treated.buffer(250)).area < 1e-3
    # WGS84 input is projected
    lon, lat = to_wgs84(np.array([x + 6000]), np.array([y + 7000]))
    wgs = gpd.GeoSeries([shapely.Point(lon[0], lat[0]).buffer(0.001)], crs="EPSG:4326")
    assert evaluation_zones(wgs, force_area=_force()).treated.area > 1000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"treated": gpd.GeoSeries([shapely.box(0, 0, 1, 1)])}, "no CRS"),
        ({"treated": gpd.GeoSeries([shapely.Point(1, 1)], crs=BNG)}, "no polygon"),
        ({"buffer_m": -5}, "buffer_m"),
        ({"force_area": None}, "comparison area or the force area"),
        ({"force_area": _treated()}, "empty once the treated zones"),
    ],
    ids=["no-crs", "points", "negative-buffer", "nothing-to-compare", "empty-comparison"],
)
def test_zone_errors(kwargs: dict, message: str) -> None:
    args = {"treated": _treated(), "buffer_m": 250, "force_area": _force(), **kwargs}
    with pytest.raises(ConfigError, match=message):
        evaluation_zones(args.pop("treated"), **args)


def test_zone_monthly_counts_counts_each_incident_once() -> None:
    df = generated_incidents(seed=2)
    counts = zone_monthly_counts(df, _zones())
    assert list(counts["month"]) == MONTHS
    assert int(counts[["treated", "buffer", "comparison"]].to_numpy().sum()) == len(df)


def test_types_and_treated_polygons_clipped_to_the_area() -> None:
    df = generated_incidents(seed=6)
    df.loc[df.index[::2], "category"] = "violence"
    x, y = ORIGIN
    area = gpd.GeoSeries([shapely.box(x, y, x + 10_000, y + 20_000)], crs=BNG)
    ev, zones = evaluate_incidents(
        df,
        since=SINCE,
        force_area=gpd.GeoSeries([_force()], crs=BNG),
        treated=_treated(),
        area="barrow",
        area_geometry=area,
        types=["DRUGS"],
    )
    assert zones.n_treated == 2  # the third zone lies outside the area
    assert ev.to_dict()["types"] == ["DRUGS"]
    assert ev.treated_before + ev.treated_after < len(df) / 2
    with pytest.raises(ConfigError, match="no incident of type"):
        evaluate_incidents(df, since=SINCE, force_area=_force(), treated=_treated(), types=["x"])


# ------------------------------------------------------------------ the command


def _write_generated_store_files(tmp_path: Path) -> tuple[Path, Path]:
    df = generated_incidents(seed=13, comparison_rate=300.0)
    lon, lat = to_wgs84(df["easting"].to_numpy(), df["northing"].to_numpy())
    f = tmp_path / "incidents.csv"
    pd.DataFrame(
        {
            "id": range(len(df)),
            "date": df["month"] + "-15",
            "type": "drug supply",
            "lat": np.round(lat, 6),
            "lon": np.round(lon, 6),
        }
    ).to_csv(f, index=False)
    treated = tmp_path / "treated.geojson"
    _treated().to_crs("EPSG:4326").to_file(treated, driver="GeoJSON")
    return f, treated


def test_cli_evaluate_json_contract(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Import generated incidents into a store, evaluate given polygons, read the JSON."""
    f, treated = _write_generated_store_files(tmp_path)
    d = str(tmp_path / "store")
    assert main(["--data-dir", d, "import", "incidents", str(f), "--json"]) == 0
    assert last_json(capsys.readouterr().out)["rejected"] == 0
    args = ["--treated", str(treated), "--since", "2024-01-01", "--json"]
    assert main(["--data-dir", d, "evaluate", *args]) == 0
    stdout = capsys.readouterr().out
    out = last_json(stdout)
    for key in (
        "treated_before",
        "treated_after",
        "comparison_before",
        "comparison_after",
        "effect_pct",
        "ci_low_pct",
        "ci_high_pct",
        "p_value",
        "naive_change_pct",
        "wdq",
    ):
        assert key in out, key
    assert out["ci_low_pct"] <= -40 <= out["ci_high_pct"]
    assert out["naive_change_pct"] > out["ci_high_pct"]
    assert out["comparison"] == "rest of the force area"
    assert "difference-in-differences" in stdout and "fell by" in stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--since", "2024-01-01"], 2, "one of the arguments --treated --hotspots is required"),
        (["--hotspots", "--since", "January"], 2, "not a date"),
        (["--hotspots", "2024-13", "--since", "2024-01-01"], 2, "not a month"),
        (["--treated", "nowhere.geojson", "--since", "2024-01-01"], 2, "no such file"),
        (["--hotspots", "2024-02", "--since", "2024-01-01"], 1, "months before the date"),
        (["--hotspots", "--since", "2024-01-01", "--area", "atlantis"], 1, "atlantis"),
        (["--hotspots", "--since", "2024-01-01"], 1, "no incidents"),
    ],
    ids=["no-treated", "bad-date", "bad-month", "missing-file", "late-hotspots", "area", "empty"],
)
def test_cli_evaluate_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, args, code, message
) -> None:
    argv = ["--data-dir", str(tmp_path / "store"), "evaluate", *args]
    if code == 2 and "no such file" not in message:  # argparse: usage lines and one error
        with pytest.raises(SystemExit) as exc:
            main(argv)
        rc = exc.value.code
    else:
        rc = main(argv)
    err = capsys.readouterr().err
    assert rc == code, err
    assert message in err and "Traceback" not in err
    lines = err.strip().splitlines()
    assert message in lines[-1] and (code == 2 or len(lines) == 1)


@pytest.mark.slow
def test_worked_example_on_the_real_months() -> None:
    """docs/evaluation.md's worked example: Barrow's 2018-10 hotspots, since 2019-01."""
    files = [str(p) for p in police_files()]
    r = cli(
        "evaluate",
        *("--hotspots", "2018-10", "--since", "2019-01-01", "--area", "barrow"),
        *("--json", "--police-uk", *files),
    )
    assert r.returncode == 0, r.stderr
    out = last_json(r.stdout)
    assert out["months_before"] == ["2018-11", "2018-12"]
    assert out["months_after"] == ["2019-01", "2019-02"]
    # the figures the docs quote
    assert (out["treated_before"], out["treated_after"]) == (453, 370)
    assert (out["comparison_before"], out["comparison_after"]) == (6547, 6047)
    assert out["effect_pct"] == pytest.approx(-11.6, abs=0.05)
    assert (out["ci_low_pct"], out["ci_high_pct"]) == pytest.approx((-23.3, 1.9), abs=0.05)
    assert out["naive_change_pct"] == pytest.approx(-18.3, abs=0.05)
    assert out["wdq"] == pytest.approx(-1.43, abs=0.005)
    json.dumps(out)
