"""Import files into the store: read -> validate -> write, one transaction per file."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from clic_geo.geo.areas import AreaSet, ServiceArea, load_areas, load_service_area
from clic_geo.ingest.checks import KINDS, ValidationContext
from clic_geo.ingest.readers import read_table
from clic_geo.ingest.validate import validate
from clic_geo.settings import Settings, load_settings
from clic_geo.store import ImportReport, Store

__all__ = ["KINDS", "ImportReport", "import_file", "import_police_uk", "validation_context"]

log = logging.getLogger(__name__)

POLICE_UK_SOURCE = "police-uk"


def validation_context(
    settings: Settings,
    *,
    areas: AreaSet | None = None,
    service_area: ServiceArea | None = None,
    store: Store | None = None,
    now: datetime | None = None,
) -> ValidationContext:
    """Everything validation needs, from the installation's settings."""
    return ValidationContext(
        service_area=service_area or load_service_area(settings.areas_dir),
        areas=areas or load_areas(settings.areas_dir),
        earliest=settings.earliest_date,
        now=now or datetime.now(),
        future_tolerance=timedelta(days=settings.future_tolerance_days),
        address_locations=store.address_locations() if store is not None else {},
    )


def import_file(
    path: str | Path,
    kind: str,
    *,
    settings: Settings | None = None,
    store: Store | None = None,
    source: str = "local",
    police_uk: bool = False,
    actor: str = "cli",
    sheet: str | None = None,
    context: ValidationContext | None = None,
    before_commit: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import one CSV or XLSX file of ``kind`` (incidents, addresses, visits or lines).

    Every row read is accepted, rejected with its reason, or counted as a duplicate;
    rejected and duplicate rows are kept in the store and in a CSV file under
    ``<data_dir>/rejects/``. The file is written in one transaction.

    Parameters
    ----------
    path : str or Path
    kind : str
    settings : Settings, optional
        Default :func:`~clic_geo.settings.load_settings`.
    store : Store, optional
        Default: the store the settings name.
    source : str
        Namespace of the file's ids (two systems may both number from 1).
    police_uk : bool
        The file is a data.police.uk street-level CSV (month-only dates).
    actor : str
        Who imports (recorded in the import log).

    Returns
    -------
    ImportReport

    Raises
    ------
    InputFileError
        When the file cannot be read as a table or lacks essential columns.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    settings = settings or load_settings()
    own_store = store is None
    store = store or Store.open(settings)
    try:
        raw = read_table(path, sheet=sheet)
        needs_addresses = kind in ("visits", "addresses")
        ctx = context or validation_context(settings, store=store if needs_addresses else None)
        if needs_addresses and context is not None:
            # the store's addresses as they are now, inside this import's view of time
            ctx = dataclasses.replace(ctx, address_locations=store.address_locations())
        v = validate(raw, kind, ctx, source=source, police_uk=police_uk)
        return store.apply_import(
            v,
            file_name=raw.name,
            file_sha256=raw.sha256,
            source=source,
            actor=actor,
            blank_rows=raw.blank_rows,
            encoding=raw.encoding,
            before_commit=before_commit,
        )
    finally:
        if own_store:
            store.close()


def import_police_uk(
    paths: Sequence[str | Path],
    *,
    settings: Settings | None = None,
    store: Store | None = None,
    actor: str = "cli",
    progress: Callable[[int, int, str], None] | None = None,
) -> list[ImportReport]:
    """Import data.police.uk street-level CSV files (one transaction each)."""
    settings = settings or load_settings()
    own_store = store is None
    store = store or Store.open(settings)
    try:
        ctx = validation_context(settings)
        reports = []
        for i, p in enumerate(paths, 1):
            if progress:
                progress(i, len(paths), Path(p).name)
            reports.append(
                import_file(
                    p,
                    "incidents",
                    settings=settings,
                    store=store,
                    source=POLICE_UK_SOURCE,
                    police_uk=True,
                    actor=actor,
                    context=ctx,
                )
            )
        return reports
    finally:
        if own_store:
            store.close()
