"""``clic-geo demo``: fill the store with the demo world."""

from __future__ import annotations

import argparse

from clic_geo.cli._common import open_store, print_json
from clic_geo.demo.scenario import DEFAULT_SEED
from clic_geo.demo.seeding import seed_demo


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="fill the store with fictional demo data (if it is empty)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument(
        "--force",
        action="store_true",
        help="seed even if the store already holds data (duplicates are skipped)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    settings, store = open_store(args)
    try:
        reports = seed_demo(settings, store, seed=args.seed, force=args.force)
    finally:
        store.close()
    if not reports:
        print("the store already holds data; nothing seeded (use --force to add the demo anyway)")
    for r in reports:
        print(
            f"{r.kind}: read {r.read}, accepted {r.accepted}, rejected {r.rejected}, "
            f"duplicates {r.duplicates}"
        )
    if args.json:
        print_json({"seeded": bool(reports), "reports": [r.to_dict() for r in reports]})
    return 0
