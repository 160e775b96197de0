"""Seed a store with the demo world through the ordinary import path."""

from __future__ import annotations

import logging
from datetime import date

from clic_geo.demo.scenario import DEFAULT_SEED
from clic_geo.demo.world import generate, write_demo
from clic_geo.ingest.importer import import_file, validation_context
from clic_geo.settings import Settings
from clic_geo.store import ImportReport, Store

__all__ = ["DEMO_SOURCE", "seed_demo"]

log = logging.getLogger(__name__)

DEMO_SOURCE = "demo"


def seed_demo(
    settings: Settings,
    store: Store,
    *,
    seed: int = DEFAULT_SEED,
    today: date | None = None,
    force: bool = False,
) -> list[ImportReport]:
    """Generate the demo world, write it as CSV files and import them.

    Does nothing (returns ``[]``) if the store already holds data, unless ``force``.
    The files land in ``<data_dir>/demo/`` so a new user can see what an import
    file looks like.
    """
    if not force and not store.is_empty():
        return []
    data = generate(seed, today=today)
    paths = write_demo(data, settings.data_dir / "demo")
    reports = []
    ctx = validation_context(settings)
    for kind in ("lines", "addresses", "incidents", "visits"):
        reports.append(
            import_file(
                paths[kind],
                kind,
                settings=settings,
                store=store,
                source=DEMO_SOURCE,
                actor="demo",
                context=ctx,
            )
        )
    store.set_meta("demo_seed", str(seed))
    store.set_meta("demo_today", data.today.isoformat())
    log.info("demo data seeded: %s", ", ".join(f"{r.kind} {r.accepted}" for r in reports))
    return reports
