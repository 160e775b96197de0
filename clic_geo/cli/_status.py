"""``clic-geo status`` and ``clic-geo rejects``: what the store holds."""

from __future__ import annotations

import argparse
import json

import pandas as pd

from clic_geo.cli._common import open_store, print_json
from clic_geo.export import write_safe_csv


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="what the store holds, and the import log")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_status)
    r = sub.add_parser("rejects", help="list or export rejected and duplicate rows")
    r.add_argument("--import-id", type=int, help="only this import")
    r.add_argument("--out", help="write them to this CSV file (safe to open in Excel)")
    r.set_defaults(func=_rejects)


def _status(args: argparse.Namespace) -> int:
    settings, store = open_store(args)
    try:
        counts = store.counts()
        imports = store.imports()
    finally:
        store.close()
    print(f"store: {settings.database_url}")
    for k in ("incidents", "addresses", "visits", "county_lines", "imports", "rejects"):
        print(f"  {k:<14}{counts[k]:>9}")
    if len(imports):
        print("recent imports:")
        for r in imports.head(10).itertuples():
            print(
                f"  #{r.id:<5} {r.imported_at:%Y-%m-%d %H:%M} {r.kind:<10} {r.file_name[:40]:<40} "
                f"read {r.read}, accepted {r.accepted}, rejected {r.rejected}, "
                f"duplicates {r.duplicates}"
            )
    if args.json:
        print_json({"counts": counts, "imports": len(imports)})
    return 0


def _rejects(args: argparse.Namespace) -> int:
    _, store = open_store(args)
    try:
        df = store.rejects(args.import_id)
    finally:
        store.close()
    if df.empty:
        print("no rejected or duplicate rows")
        return 0
    raw = pd.DataFrame([json.loads(x) for x in df["raw"]])
    out = pd.concat(
        [df[["import_id", "row", "outcome", "reason"]].reset_index(drop=True), raw], axis=1
    )
    if args.out:
        print(f"wrote {len(out)} rows to {write_safe_csv(out, args.out)}")
    else:
        for r in out.head(50).itertuples():
            print(f"import #{r.import_id} row {r.row}: {r.outcome}: {r.reason}")
        if len(out) > 50:
            print(f"... {len(out) - 50} more (use --out FILE)")
    return 0
