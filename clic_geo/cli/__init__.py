"""The ``clic-geo`` command line.

Each command group lives in its own module with a ``register(subparsers)`` function.
Errors print one line to stderr and exit non-zero; no traceback reaches the user
unless ``--debug`` is given.

May import: every other package (foundation, geo, store, ingest, access, hotspots,
planning, reporting, demo); the command line is the top, beside the dashboard.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from clic_geo import __version__
from clic_geo._errors import ClicGeoError, InputFileError
from clic_geo.cli import (
    _areas,
    _basemap,
    _demo,
    _evaluate,
    _hotspots,
    _import,
    _pack,
    _plan,
    _refresh,
    _serve,
    _status,
    _users,
)

__all__ = ["build_parser", "main"]

#: Command modules, in the order ``--help`` lists them.
COMMANDS = (
    _import,
    _demo,
    _areas,
    _basemap,
    _status,
    _refresh,
    _hotspots,
    _evaluate,
    _plan,
    _pack,
    _users,
    _serve,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command registered."""
    p = argparse.ArgumentParser(
        prog="clic-geo",
        description="Hotspot mapping and visit planning for 1-CLIC "
        "(County Lines Informed Cumbria).",
    )
    p.add_argument("--version", action="version", version=f"clic-geo {__version__}")
    p.add_argument(
        "--data-dir",
        help="the store's directory (default: $CLIC_DATA_DIR, else ~/.local/share/clic-geo)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    p.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for mod in COMMANDS:
        mod.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.captureWarnings(True)
    try:
        return int(args.func(args) or 0)
    except InputFileError as exc:
        print(f"clic-geo: error: {exc}", file=sys.stderr)
        return 2
    except ClicGeoError as exc:
        print(f"clic-geo: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("clic-geo: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"clic-geo: internal error: {exc.__class__.__name__}: {exc} "
            "(run with --debug for details)",
            file=sys.stderr,
        )
        return 70


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
