"""``clic-geo meeting-pack``: one self-contained HTML page for a partnership meeting."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from clic_geo._errors import ConfigError
from clic_geo.cli._common import open_store, print_json
from clic_geo.cli._hotspots import _month
from clic_geo.files import write_private


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "meeting-pack",
        help="write a meeting pack: one HTML file with charts and a map that works offline",
        description="Write the meeting pack of one area and a run of months: incidents per "
        "month, hotspots by trend, the partnership's figures, a before/after comparison and "
        "a map, all in one HTML file with no script and nothing loaded from elsewhere. With "
        "--organisation, the pack holds exactly that partner's view (counts only, inside "
        "its information sharing agreement, small numbers suppressed).",
    )
    p.add_argument("--area", required=True, help="operating area id, e.g. barrow")
    p.add_argument("--from", dest="first", required=True, type=_month, metavar="YYYY-MM")
    p.add_argument("--to", dest="last", required=True, type=_month, metavar="YYYY-MM")
    p.add_argument(
        "--since", type=_day, metavar="YYYY-MM-DD", help="compare before and after this date"
    )
    p.add_argument("--organisation", help="a partner organisation id: build its view")
    p.add_argument("--out", required=True, help="the HTML file to write")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from clic_geo.reporting.pack_service import build_meeting_pack

    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"--out {out.name!r}: the meeting pack is HTML; name it *.html")
    settings, store = open_store(args)
    try:
        page = build_meeting_pack(
            store,
            "cli",
            settings=settings,
            area=args.area,
            start=args.first,
            end=args.last,
            since=args.since,
            organisation=args.organisation,
        )
    finally:
        store.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    write_private(out, page)  # officer figures: owner-only (0600)
    view = f"partner view of {args.organisation}" if args.organisation else "officer view"
    print(f"meeting pack ({view}) for {args.area}, {args.first}..{args.last}: {out}")
    if args.json:
        print_json(
            {
                "out": str(out),
                "bytes": len(page.encode("utf-8")),
                "area": args.area,
                "organisation": args.organisation,
            }
        )
    return 0
