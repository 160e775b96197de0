"""Helpers shared by the command modules."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from clic_geo.settings import Settings, load_settings
from clic_geo.store import Store


def settings_of(args: argparse.Namespace) -> Settings:
    """Settings for the data directory the arguments name."""
    return load_settings(getattr(args, "data_dir", None))


def open_store(args: argparse.Namespace) -> tuple[Settings, Store]:
    """Settings and an open store."""
    s = settings_of(args)
    return s, Store.open(s)


def print_json(obj: Any) -> None:
    """Print one JSON object on one line (the last line of machine-readable output)."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def progress(i: int, n: int, label: str) -> None:
    """A one-line progress indicator on stderr."""
    width = 24
    done = int(width * i / max(n, 1))
    sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {i}/{n} {label[:40]:<40}")
    if i >= n:
        sys.stderr.write("\n")
    sys.stderr.flush()
