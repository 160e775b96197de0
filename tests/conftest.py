"""Shared fixtures: an empty store in a temporary directory, files to import, real data paths."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from clic_geo.ingest.checks import ValidationContext
from clic_geo.ingest.importer import validation_context
from clic_geo.settings import REPO_ROOT, Settings, load_settings
from clic_geo.store import Store
from tests.pg import pg_cluster, pg_url  # noqa: F401 - fixtures for the PostGIS tests

SHARED = (REPO_ROOT.parent / "shared").resolve()
SHARED_DATA = SHARED / "data"
POLICE_UK = SHARED_DATA / "police_uk_cumbria" / "street"
BOUNDARIES = SHARED_DATA / "boundaries_cumbria"

#: The day the tests pretend it is (demo data and "future date" checks depend on it).
TODAY = date(2026, 11, 22)


def police_files() -> list[Path]:
    """The real data.police.uk months, or skip the test if they are not here."""
    files = sorted(POLICE_UK.glob("*-cumbria-street.csv"))
    if not files:
        pytest.skip(f"real data not available at {POLICE_UK}")
    return files


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (
        "CLIC_DATA_DIR",
        "CLIC_AREAS_DIR",
        "CLIC_DATABASE_URL",
        "CLIC_DEMO",
        "CLIC_TILE_URL",
        "CLIC_STREET_NETWORK",
    ):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(tmp_path / "store")


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = Store.open(settings)
    yield s
    s.close()


@pytest.fixture
def ctx(settings: Settings) -> ValidationContext:
    return validation_context(settings, now=datetime(2026, 11, 22, 12, 0))


@pytest.fixture
def write(tmp_path: Path):
    """Write text (or bytes) to a file in tmp_path and return its path."""

    def _write(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        p = tmp_path / name
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_bytes(content.encode(encoding))
        return p

    return _write


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # browser tests need Debian's chromium (scripts/setup.sh --test installs it)
    if not os.path.exists("/usr/bin/chromium"):
        skip = pytest.mark.skip(reason="needs /usr/bin/chromium (run scripts/setup.sh --test)")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)
