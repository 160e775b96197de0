"""``clic-geo refresh``: compute and store the hotspot maps and trust backtests pages read.

``clic-geo import`` runs it after an import (unless ``--no-refresh``); run it nightly
too (a new month makes one more month complete for the trust backtest).
"""

from __future__ import annotations

import argparse
import sys

from clic_geo._errors import ClicGeoError
from clic_geo.cli._common import open_store, print_json, progress
from clic_geo.geo.areas import load_areas
from clic_geo.reporting.derived_service import RefreshReport, refresh
from clic_geo.settings import Settings
from clic_geo.store import Store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "refresh",
        help="compute the hotspot maps and trust backtests the pages show (after data change)",
    )
    p.add_argument(
        "--area",
        action="append",
        metavar="AREA",
        help="only this area (repeatable; 'all' for all Cumbria); default: every area and all",
    )
    p.add_argument("--force", action="store_true", help="recompute even what did not change")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    p.set_defaults(func=_run)


def run_refresh(
    settings: Settings,
    store: Store,
    *,
    area_ids: list[str | None] | None = None,
    force: bool = False,
) -> RefreshReport:
    """Refresh with a progress line on a terminal (used after ``clic-geo import`` too)."""
    areas = load_areas(settings.areas_dir)
    return refresh(
        store,
        areas,
        area_ids=area_ids,
        force=force,
        progress=progress if sys.stderr.isatty() else None,
    )


def _run(args: argparse.Namespace) -> int:
    settings, store = open_store(args)
    try:
        area_ids: list[str | None] | None = None
        if args.area:
            known = load_areas(settings.areas_dir).ids
            area_ids = []
            for a in args.area:
                if a.lower() in ("all", "*"):
                    area_ids.append(None)
                elif a in known:
                    area_ids.append(a)
                else:
                    raise ClicGeoError(f"unknown area {a!r}; known: all, {', '.join(known)}")
        report = run_refresh(settings, store, area_ids=area_ids, force=args.force)
    finally:
        store.close()
    print(summary(report))
    if args.json:
        print_json(report.to_dict())
    return 0


def summary(report: RefreshReport) -> str:
    """One line: what the refresh computed and kept."""
    return (
        f"refreshed for data version {report.data_version}: {len(report.computed)} computed, "
        f"{report.kept} unchanged, {report.dropped} out of date removed, "
        f"{report.seconds:.1f} s"
    )
