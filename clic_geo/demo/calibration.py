"""The demo world beside the real data.police.uk months: the figures of ``docs/demo.md``.

Both sides go through the ordinary reader and validator (as an import takes them),
then :mod:`clic_geo.hotspots.calibration` measures them the same way.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from clic_geo.demo.scenario import DEFAULT_SEED, last_complete_month
from clic_geo.demo.world import generate
from clic_geo.hotspots import calibration as cal
from clic_geo.hotspots.forecast import TrustSummary
from clic_geo.ingest.importer import validation_context
from clic_geo.ingest.police_uk import load_police_uk
from clic_geo.ingest.readers import read_table
from clic_geo.ingest.validate import validate
from clic_geo.settings import Settings, load_settings

__all__ = ["Side", "compare_table", "demo_incidents", "measure_side", "real_incidents"]

#: Statistics shown side by side (``measure`` keys) and how to print them.
SHOWN = {
    "per_month": ("incidents a month", "{:.0f}"),
    "repeat_point": ("on a point used in the 3 months before", "{:.0%}"),
    "repeat_cell": ("in a 100 m square used in the 3 months before", "{:.0%}"),
    "per_point": ("incidents per point (a month)", "{:.2f}"),
    "repeated_points": ("points with 2+ incidents (a month)", "{:.0%}"),
    "points_6": ("points with 6+ incidents (a month)", "{:.1%}"),
    "max_point": ("most on one point (a month)", "{:.1f}"),
    "spacing_m": ("median distance to the next point used (m)", "{:.0f}"),
    "top_cells": ("share in the month's own busiest 1 km²", "{:.0%}"),
}


def real_incidents(folder: str | Path, settings: Settings | None = None) -> pd.DataFrame:
    """Every data.police.uk street file in ``folder`` as validated incidents."""
    files = sorted(Path(folder).glob("*-street.csv"))
    gdf = load_police_uk(files, settings=settings)
    return pd.DataFrame(gdf.drop(columns="geometry"))


def demo_incidents(
    *, seed: int = DEFAULT_SEED, today: date | None = None, settings: Settings | None = None
) -> pd.DataFrame:
    """The demo world's incidents as an import validates them (complete months only)."""
    data = generate(seed, today=today)
    ctx = validation_context(settings or load_settings())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "incidents.csv"
        data.incidents.to_csv(path, index=False)
        df = validate(read_table(path), "incidents", ctx, source="demo").accepted
    return df[df["month"] <= last_complete_month(data.today)].reset_index(drop=True)


@dataclass(frozen=True)
class Side:
    """One side's measurements."""

    profile: pd.DataFrame
    counts: pd.DataFrame
    trust: dict[str, TrustSummary]
    edge: cal.Edge


def measure_side(
    incidents: pd.DataFrame, areas: Sequence[str], *, max_windows: int | None = 12
) -> Side:
    """Everything the comparison shows, for one side (the trust panel's last 12 months).

    Only incidents in the operating ``areas`` count (``all`` is them together), as the
    demo world has nothing elsewhere.
    """
    incidents = incidents[incidents["area_id"].isin(areas)]
    prof = cal.profile(incidents, areas, max_windows=max_windows)
    trust = cal.trust_by_area(incidents, areas)
    return Side(prof, cal.monthly_counts(incidents, areas), trust, cal.edge(trust))


def compare_table(real: Side, demo: Side, areas: Sequence[str]) -> str:
    """The side-by-side figures as Markdown tables (real | demo)."""
    lines = []
    for g in cal.CATEGORY_GROUPS:
        lines += [
            f"**{g}**",
            "",
            "| statistic | "
            + " | ".join(f"{a} real / demo" for a in [cal.ALL_AREAS, *areas])
            + " |",
            "|---|" + "---|" * (len(areas) + 1),
        ]
        for k, (label, fmt) in SHOWN.items():
            cells = []
            for a in [cal.ALL_AREAS, *areas]:
                r = _stat(real.profile, a, g, k)
                d = _stat(demo.profile, a, g, k)
                cells.append(f"{fmt.format(r)} / {fmt.format(d)}")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
    cats = sorted(set(real.counts.columns) | set(demo.counts.columns))
    lines += [
        "**incidents a month, by published category (real / demo)**",
        "",
        "| area | " + " | ".join(cats) + " |",
        "|---|" + "---|" * len(cats),
    ]
    for a in [cal.ALL_AREAS, *areas]:
        cells = [
            f"{real.counts.get(c, pd.Series()).get(a, 0.0):.0f} / "
            f"{demo.counts.get(c, pd.Series()).get(a, 0.0):.0f}"
            for c in cats
        ]
        lines.append(f"| {a} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "**trust backtest, county-lines categories, hit rate in the best 1 km² "
        "(median ours vs grid count; months won-lost)**",
        "",
        "| area | real | demo |",
        "|---|---|---|",
    ]
    for a in [cal.ALL_AREAS, *areas]:
        lines.append(f"| {a} | {_trust_cell(real.trust[a])} | {_trust_cell(demo.trust[a])} |")
    lines += [
        "",
        "| pooled over areas | real | demo |",
        "|---|---|---|",
        f"| edge | {_edge_cell(real.edge)} | {_edge_cell(demo.edge)} |",
    ]
    return "\n".join(lines)


def _stat(profile: pd.DataFrame, area: str, group: str, key: str) -> float:
    row = profile[(profile["area"] == area) & (profile["group"] == group)]
    return float(row[key].iloc[0])


def _trust_cell(t: TrustSummary) -> str:
    if not t.months_tested:
        return "not tested"
    word = t.verdict.split(":")[0]
    return f"{t.ours_median:.0%} vs {t.grid_median:.0%}, {t.months_won}-{t.months_lost} ({word})"


def _edge_cell(e: cal.Edge) -> str:
    return (
        f"{e.direction}: {e.won} won, {e.lost} lost of {e.months} area-months, "
        f"mean {e.mean_diff:+.1%} (sign test p = {e.p_value:.2f})"
    )
