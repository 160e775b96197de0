"""Typed settings with defaults, overridable per installation.

Resolution order for every setting: keyword argument > environment variable >
``<data_dir>/settings.toml`` > the defaults below. Nothing here holds per-user state.

A ``settings.toml`` may contain, for example::

    [severity]
    weapons = 4.0
    anti_social_behaviour = 0.25

    [map]
    tile_url = "https://tiles.example.police.uk/{z}/{x}/{y}.png"
    tile_attribution = "Map tiles: example"

    [plan]
    street_network = "/srv/clic-geo/cumbria-latest.osm.pbf"

    [privacy]
    suppression_threshold = 10
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

from clic_geo._errors import ConfigError
from clic_geo.schema import Category

__all__ = [
    "DEFAULT_SEVERITY",
    "REPO_ROOT",
    "Settings",
    "default_data_dir",
    "load_settings",
]

#: The checkout this package was loaded from (holds ``boundaries/`` and ``data/``).
REPO_ROOT = Path(__file__).resolve().parent.parent

#: Severity weight per incident category: how much one incident counts towards a
#: hotspot's weighted score. Threats to life and cuckooing weigh most: they are the
#: harms 1-CLIC exists to prevent.
DEFAULT_SEVERITY: Mapping[str, float] = MappingProxyType(
    {
        Category.THREAT_TO_LIFE: 5.0,
        Category.CUCKOOING_REPORT: 4.0,
        Category.DRUG_SUPPLY: 3.0,
        Category.WEAPONS: 3.0,
        Category.DRUGS: 2.0,
        Category.VIOLENCE: 2.0,
        Category.DRUG_POSSESSION: 1.0,
        Category.INTELLIGENCE_REPORT: 1.0,
        Category.ASB: 0.5,
        Category.OTHER: 0.25,
    }
)


def default_data_dir() -> Path:
    """The store's directory: ``$CLIC_DATA_DIR``, else ``~/.local/share/clic-geo``."""
    env = os.environ.get("CLIC_DATA_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "clic-geo"


@dataclass(frozen=True)
class Settings:
    """All tunable settings of an installation.

    Attributes
    ----------
    data_dir : Path
        Directory of the store (``store.sqlite``), rejected rows and exports.
    database_url : str
        SQLAlchemy URL; defaults to the SQLite file in ``data_dir``.
    areas_dir : Path
        Directory of operating-area files (``areas/*.geojson``) and the service area.
    severity : Mapping[str, float]
        Weight per incident category.
    earliest_date : date
        Dates before this are rejected as implausible.
    future_tolerance_days : int
        Dates more than this many days after today are rejected.
    tile_url, tile_attribution : str
        Base map tiles. Empty ``tile_url`` draws the stored (or shipped) base layer
        offline instead (``clic-geo basemap``).
    street_network : str
        A walking street network file (``.osm.pbf``, GraphML or a line file) the Plan
        page routes on; empty: straight lines routed round water.
    suppression_threshold : int
        Partner views show counts below this as "fewer than N".
    demo : bool
        Demo mode: seeds demo data and demo accounts.
    """

    data_dir: Path
    database_url: str
    areas_dir: Path
    severity: Mapping[str, float] = field(default_factory=lambda: DEFAULT_SEVERITY)
    earliest_date: date = date(2000, 1, 1)
    future_tolerance_days: int = 1
    tile_url: str = ""
    tile_attribution: str = ""
    street_network: str = ""
    suppression_threshold: int = 10
    demo: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    def severity_of(self, category: str) -> float:
        """Severity weight of ``category`` (0.25 for anything unknown)."""
        return float(self.severity.get(category, self.severity.get(Category.OTHER, 0.25)))

    def with_(self, **changes: Any) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read settings file {path}: {exc}") from exc


def _areas_dir(data_dir: Path) -> Path:
    env = os.environ.get("CLIC_AREAS_DIR")
    if env:
        return Path(env).expanduser()
    local = data_dir / "boundaries"
    if (local / "areas").is_dir():
        return local
    return REPO_ROOT / "boundaries"


def load_settings(data_dir: str | Path | None = None, **overrides: Any) -> Settings:
    """Build the settings of an installation.

    Parameters
    ----------
    data_dir : str or Path, optional
        The store's directory; default :func:`default_data_dir`.
    **overrides
        Any :class:`Settings` field, taking precedence over everything else.

    Raises
    ------
    ConfigError
        If ``settings.toml`` is unreadable or names an unknown category.
    """
    ddir = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    toml = _read_toml(ddir / "settings.toml")
    severity = dict(DEFAULT_SEVERITY)
    for key, value in (toml.get("severity") or {}).items():
        if key not in {c.value for c in Category}:
            raise ConfigError(
                f"settings.toml [severity]: unknown category {key!r}; "
                f"expected one of {', '.join(c.value for c in Category)}"
            )
        try:
            severity[key] = float(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"settings.toml [severity] {key}: not a number: {value!r}") from exc
    map_cfg = toml.get("map") or {}
    privacy = toml.get("privacy") or {}
    values: dict[str, Any] = {
        "data_dir": ddir,
        "database_url": os.environ.get("CLIC_DATABASE_URL")
        or f"sqlite:///{(ddir / 'store.sqlite').as_posix()}",
        "areas_dir": _areas_dir(ddir),
        "severity": MappingProxyType(severity),
        "tile_url": os.environ.get("CLIC_TILE_URL", map_cfg.get("tile_url", "")),
        "tile_attribution": os.environ.get(
            "CLIC_TILE_ATTRIBUTION", map_cfg.get("tile_attribution", "")
        ),
        "street_network": os.environ.get(
            "CLIC_STREET_NETWORK", (toml.get("plan") or {}).get("street_network", "")
        ),
        "suppression_threshold": int(privacy.get("suppression_threshold", 10)),
        "demo": os.environ.get("CLIC_DEMO", "") in {"1", "true", "yes"},
        "extra": toml,
    }
    values.update(overrides)
    if values["suppression_threshold"] < 1:
        raise ConfigError("suppression_threshold must be at least 1")
    return Settings(**values)
