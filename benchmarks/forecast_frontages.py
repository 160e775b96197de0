"""Issue 11: the forecast's units split into their frontages or not, held out, real months.

    .venv/bin/python benchmarks/forecast_frontages.py "Anti-social behaviour" \
        --indicators "Violence and sexual offences" "Public order" --weights 0.1 0.3

The forecast (``expected.forecast_units``) scores DBSCAN clusters drawn as their points'
25 m discs, each cut where another point is nearer (``cluster.disjoint_discs``: units
never overlap); with ``ForecastSettings.frontages`` (shipped) each cluster is split
first into the groups of its points joined by steps of at most ``--reaches`` (shipped
12.5 m: in effect one unit per snap point). Every candidate (indicator weight x each
step or whole clusters, patrol 0.005 km²) is backtested on the real months with the
same history as the street-point counts; ``forecast.held_out`` chooses among them on
the other period (best mean hit rate at 0.25 and 1 km²) and scores the choice on
months it was not chosen on. Prints the hit rate per month, the means, the mean PEI,
W/T/L against both street counts at each budget (``--budgets``), and what was chosen
(docs/hotspots.md quotes the output).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clic_geo.hotspots.backtest import backtest, reference_methods
from clic_geo.hotspots.expected import ForecastSettings, model_method
from clic_geo.hotspots.forecast import held_out
from clic_geo.ingest.police_uk import load_police_uk
from clic_geo.settings import REPO_ROOT

SHARED = REPO_ROOT.parent / "shared" / "data"
STREET = ("street points, 3 months", "street points, decayed")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("crime_type")
    p.add_argument("--indicators", nargs="+", required=True)
    p.add_argument("--weights", nargs="+", type=float, default=[0.1, 0.3])
    p.add_argument(
        "--reaches", nargs="+", type=float, default=[50.0, 25.0, 12.5], help="frontage steps, m"
    )
    p.add_argument(
        "--budgets", nargs="+", type=float, default=[0.25, 1.0], help="km², chosen on 0.25 and 1"
    )
    p.add_argument("--real", type=Path, default=SHARED / "police_uk_cumbria" / "street")
    a = p.parse_args(argv)
    lad = SHARED / "boundaries_cumbria" / "lad_2013_cumbria_districts.geojson"
    study = shapely.union_all(gpd.read_file(lad).to_crs(27700).geometry.make_valid().to_numpy())
    files = sorted(a.real.glob("*.csv"))
    inc = load_police_uk(files, types=[a.crime_type])
    ind = load_police_uk(files, types=a.indicators)
    refs = reference_methods()
    cands = {
        f"w{w} {f'frontages {r:g} m' if r else 'clusters'}": model_method(
            ind,
            ForecastSettings(
                indicator_weight=w, patrol_km2=0.005, frontages=bool(r), frontage_reach_m=r or None
            ),
        )
        for w in a.weights
        for r in (0.0, *a.reaches)
    }
    t0 = time.perf_counter()
    res = backtest(
        inc,
        methods={**cands, **{s: refs[s] for s in STREET}},
        budgets_km2=tuple(sorted({0.25, 1.0, *a.budgets})),
        study_area=study,
    )
    res = pd.concat([res, held_out(res, list(cands))])
    tab = res.pivot_table(index="test_month", columns=["budget_km2", "method"], values="hit_rate")
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 40)
    print(f"{a.crime_type}: {len(inc):,} crimes, backtest {time.perf_counter() - t0:.0f} s")
    print((100 * tab).round(1).to_string())
    print((100 * tab.mean()).round(2).to_string())
    pei = res.groupby(["budget_km2", "method"])["pei"].mean().unstack("budget_km2")
    print("mean PEI\n" + pei.loc[["held out", *STREET]].round(3).to_string())
    for b in sorted({0.25, 1.0, *a.budgets}):
        ours = tab[(b, "held out")]
        best = max(STREET, key=lambda s: tab[(b, s)].mean())
        for name in STREET:
            ref = tab[(b, name)]
            print(
                f"{b:g} km²: held out / {name}{' (the better)' if name == best else ''} "
                f"x{ours.mean() / ref.mean():.2f}, "
                f"W/T/L {(ours > ref).sum()}-{(ours == ref).sum()}-{(ours < ref).sum()}"
            )
    chosen = res[res["method"] == "held out"].groupby("test_month")["chosen"].first()
    print(chosen.to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
