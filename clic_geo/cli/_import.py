"""``clic-geo import``: load files into the store."""

from __future__ import annotations

import argparse
import sys

from clic_geo.cli._common import open_store, print_json
from clic_geo.cli._refresh import run_refresh, summary
from clic_geo.ingest.importer import import_file, import_police_uk
from clic_geo.settings import Settings
from clic_geo.store import ImportReport, Store

_KINDS = {
    "incidents": "incidents (drugs, violence, weapons, threats to life, cuckooing, ASB...)",
    "addresses": "addresses of concern (cuckooing status, SAFE alert, protection plan, hardening)",
    "visits": "vulnerability visits (outcome, support given, referrals)",
    "lines": "county lines and their status over time (active / disrupted)",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import CSV or XLSX files into the store")
    kinds = p.add_subparsers(dest="kind", metavar="KIND")
    kinds.required = True
    for kind, desc in _KINDS.items():
        k = kinds.add_parser(kind, help=f"import {desc}")
        k.add_argument("file", help="CSV (UTF-8 or Excel's cp1252; comma or semicolon) or XLSX")
        k.add_argument(
            "--source",
            default="local",
            help="name of the system the file came from; ids are unique within it (default: local)",
        )
        k.add_argument("--sheet", help="XLSX sheet name (default: the first with data)")
        k.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
        _no_refresh(k)
        k.set_defaults(func=_run_one)
    k = kinds.add_parser("police-uk", help="import data.police.uk street-level crime CSV files")
    k.add_argument("files", nargs="+", metavar="FILE")
    k.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    _no_refresh(k)
    k.set_defaults(func=_run_police)


def _no_refresh(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-refresh",
        action="store_true",
        help="do not recompute the stored hotspot maps afterwards (run clic-geo refresh later)",
    )


def _refresh_after(args: argparse.Namespace, settings: Settings, store: Store) -> None:
    """Recompute what the pages read (the import is committed whatever happens here)."""
    if args.no_refresh:
        return
    report = run_refresh(settings, store)
    print(summary(report), file=sys.stderr)


def _human(r: ImportReport) -> str:
    lines = [
        f"{r.file}: read {r.read} rows: {r.accepted} accepted"
        + (f" ({r.updated} updated existing records)" if r.updated else "")
        + f", {r.rejected} rejected, {r.duplicates} duplicates"
        + (f" ({r.blank_rows} blank rows skipped)" if r.blank_rows else "")
    ]
    for reason, n in sorted(r.reasons.items(), key=lambda kv: -kv[1]):
        lines.append(f"  rejected {n:>6}: {reason}")
    if r.rejects_path:
        lines.append(f"  rejected and duplicate rows, with reasons: {r.rejects_path}")
    for note in r.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines)


def _run_one(args: argparse.Namespace) -> int:
    settings, store = open_store(args)
    try:
        report = import_file(
            args.file,
            args.kind,
            settings=settings,
            store=store,
            source=args.source,
            sheet=args.sheet,
            actor="cli",
        )
        print(_human(report))
        _refresh_after(args, settings, store)
    finally:
        store.close()
    if args.json:
        print_json(report.to_dict())
    return 0


def _run_police(args: argparse.Namespace) -> int:
    settings, store = open_store(args)
    show = sys.stderr.isatty()
    try:
        from clic_geo.cli._common import progress

        reports = import_police_uk(
            args.files,
            settings=settings,
            store=store,
            actor="cli",
            progress=progress if show else None,
        )
        for r in reports:
            print(_human(r))
        _refresh_after(args, settings, store)
    finally:
        store.close()
    total = {
        k: sum(getattr(r, k) for r in reports)
        for k in ("read", "accepted", "rejected", "duplicates")
    }
    print(
        f"total: read {total['read']}, accepted {total['accepted']}, rejected "
        f"{total['rejected']}, duplicates {total['duplicates']}"
    )
    if args.json:
        print_json(
            {
                **total,
                "kind": "police-uk",
                "rejects_path": [r.rejects_path for r in reports if r.rejects_path],
                "files": [r.to_dict() for r in reports],
            }
        )
    return 0
