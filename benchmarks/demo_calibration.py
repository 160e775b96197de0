"""The demo world's statistics beside the real data.police.uk months (docs/demo.md).

    .venv/bin/python benchmarks/demo_calibration.py [--real ../shared/data/police_uk_cumbria/street]
        [--today 2026-11-22] [--seed 20220201]

Prints, per operating area and for all of them, the point statistics of both (the
real months' 7 testable months, the demo's last 12 complete ones), the monthly
counts per category, and the dashboard's trust backtest on each with its pooled edge.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clic_geo.demo.calibration import compare_table, demo_incidents, measure_side, real_incidents
from clic_geo.demo.scenario import DEFAULT_SEED
from clic_geo.geo.areas import load_areas
from clic_geo.settings import REPO_ROOT

REAL = REPO_ROOT.parent / "shared" / "data" / "police_uk_cumbria" / "street"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--real", type=Path, default=REAL)
    p.add_argument("--today", type=date.fromisoformat, default=date(2026, 11, 22))
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = p.parse_args(argv)
    if not args.real.is_dir():
        print(f"no data.police.uk folder at {args.real}", file=sys.stderr)
        return 1
    areas = list(load_areas(REPO_ROOT / "boundaries").ids)
    t0 = time.perf_counter()
    real = measure_side(real_incidents(args.real), areas)
    t1 = time.perf_counter()
    demo = measure_side(demo_incidents(seed=args.seed, today=args.today), areas)
    t2 = time.perf_counter()
    print(compare_table(real, demo, areas))
    print(f"\n(measured in {t1 - t0:.0f} s real, {t2 - t1:.0f} s demo)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
