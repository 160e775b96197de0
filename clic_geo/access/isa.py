"""Information-sharing agreement (ISA) scopes: what each partner organisation may see.

A scope is data in the store, edited by an admin (``clic-geo isa``), one per
organisation::

    {"organisation_id": "housing-south",
     "reference": "ISA-2024-07 South Housing",      # the signed agreement
     "areas": ["barrow", "kendal"],                  # operating area ids
     "layers": ["incidents_drugs", "visits", "referrals"],
     "data_from": "2023-01-01",                      # or null: no lower limit
     "data_to": null}                                # or a date: nothing after it

Partners see only aggregates (:mod:`clic_geo.access.privacy`) of the listed layers, in the
listed areas, for whole months inside the date range. An organisation without a
scope sees nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa

from clic_geo._errors import ConfigError, NotFoundError
from clic_geo.access.audit import Action, record, utcnow
from clic_geo.schema import Category
from clic_geo.store.auth_tables import isa_scopes, organisations

if TYPE_CHECKING:
    from clic_geo.access.identity import Session
    from clic_geo.store import Store

__all__ = [
    "LAYER_CATEGORIES",
    "LAYER_LABELS",
    "POINT_LAYERS",
    "IsaScope",
    "Layer",
    "delete_isa_scope",
    "full_scope",
    "get_isa_scope",
    "list_isa_scopes",
    "set_isa_scope",
]

log = logging.getLogger(__name__)


class Layer(StrEnum):
    """What a partner can be shown counts of."""

    INCIDENTS_DRUGS = "incidents_drugs"
    INCIDENTS_VIOLENCE = "incidents_violence"
    INCIDENTS_ASB = "incidents_asb"
    CUCKOOING_REPORTS = "cuckooing_reports"
    THREATS_TO_LIFE = "threats_to_life"
    VISITS = "visits"
    SUPPORT_PACKAGES = "support_packages"
    REFERRALS = "referrals"
    TARGET_HARDENING = "target_hardening"
    ACTIVE_COUNTY_LINES = "active_county_lines"


LAYER_LABELS: dict[str, str] = {
    Layer.INCIDENTS_DRUGS: "Drug incidents (supply, possession)",
    Layer.INCIDENTS_VIOLENCE: "Violence and weapons incidents",
    Layer.INCIDENTS_ASB: "Anti-social behaviour",
    Layer.CUCKOOING_REPORTS: "Cuckooing reports",
    Layer.THREATS_TO_LIFE: "Threats to life",
    Layer.VISITS: "Vulnerability visits",
    Layer.SUPPORT_PACKAGES: "Visits with a support package",
    Layer.REFERRALS: "Referrals to partners",
    Layer.TARGET_HARDENING: "Target-hardening measures fitted",
    Layer.ACTIVE_COUNTY_LINES: "Active county lines (at month end)",
}

#: Incident categories counted by each incident layer (groups never overlap).
LAYER_CATEGORIES: dict[str, tuple[str, ...]] = {
    Layer.INCIDENTS_DRUGS: (Category.DRUG_SUPPLY, Category.DRUG_POSSESSION, Category.DRUGS),
    Layer.INCIDENTS_VIOLENCE: (Category.VIOLENCE, Category.WEAPONS),
    Layer.INCIDENTS_ASB: (Category.ASB,),
    Layer.CUCKOOING_REPORTS: (Category.CUCKOOING_REPORT,),
    Layer.THREATS_TO_LIFE: (Category.THREAT_TO_LIFE,),
}

#: Layers counted from located records, so they can be shown on a grid.
POINT_LAYERS = tuple(x for x in Layer if x != Layer.ACTIVE_COUNTY_LINES)


@dataclass(frozen=True)
class IsaScope:
    """One organisation's scope (see the module docstring for the format)."""

    organisation_id: str | None
    reference: str
    areas: tuple[str, ...]
    layers: tuple[Layer, ...]
    data_from: date | None = None
    data_to: date | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form documented above."""
        return {
            "organisation_id": self.organisation_id,
            "reference": self.reference,
            "areas": list(self.areas),
            "layers": [str(x) for x in self.layers],
            "data_from": self.data_from.isoformat() if self.data_from else None,
            "data_to": self.data_to.isoformat() if self.data_to else None,
        }


def full_scope(areas: Iterable[str]) -> IsaScope:
    """Everything: the view of an officer or admin (no organisation's limits)."""
    return IsaScope(None, "1-CLIC team (no ISA limits)", tuple(areas), tuple(Layer))


def _layers(layers: Iterable[str]) -> tuple[Layer, ...]:
    out = []
    for x in layers:
        try:
            out.append(Layer(str(x).strip()))
        except ValueError:
            raise ConfigError(
                f"unknown layer {x!r}; expected one of {', '.join(str(v) for v in Layer)}"
            ) from None
    return tuple(dict.fromkeys(out))


def _scope_from_row(row: Any) -> IsaScope:
    return IsaScope(
        organisation_id=row.organisation_id,
        reference=row.reference,
        areas=tuple(json.loads(row.areas)),
        layers=_layers(json.loads(row.layers)),
        data_from=row.data_from,
        data_to=row.data_to,
    )


def set_isa_scope(
    store: Store,
    organisation_id: str,
    *,
    areas: Iterable[str],
    layers: Iterable[str],
    reference: str,
    actor: Session | Literal["cli"],
    known_areas: Iterable[str],
    data_from: date | None = None,
    data_to: date | None = None,
    now: datetime | None = None,
) -> IsaScope:
    """Create or replace an organisation's ISA scope (admins, or the command line).

    Parameters
    ----------
    known_areas : iterable of str
        The installation's area ids (``load_areas(settings.areas_dir).ids``); every
        area of the scope must be one of them.

    Raises
    ------
    ConfigError
        Unknown organisation, area or layer; empty lists; ``data_from`` after ``data_to``.
    PermissionDeniedError
        If ``actor`` is a session of anyone but an admin.
    """
    from clic_geo.access.accounts import _actor_user

    who = _actor_user(store, actor, Action.ISA_ADMIN, now)
    area_list = tuple(dict.fromkeys(str(a).strip() for a in areas if str(a).strip()))
    layer_list = _layers(layers)
    known = set(known_areas)
    problems = []
    unknown = [a for a in area_list if a not in known]
    if unknown:
        problems.append(f"unknown areas {unknown} (known: {sorted(known)})")
    if not area_list:
        problems.append("no areas")
    if not layer_list:
        problems.append("no layers")
    if not reference.strip():
        problems.append("no agreement reference")
    if data_from and data_to and data_from > data_to:
        problems.append(f"data_from {data_from} is after data_to {data_to}")
    with store.engine.begin() as conn:
        if not conn.execute(
            sa.select(organisations.c.id).where(organisations.c.id == organisation_id)
        ).first():
            problems.append(f"unknown organisation {organisation_id!r}")
        if problems:
            raise ConfigError("ISA scope not saved: " + "; ".join(problems))
        conn.execute(sa.delete(isa_scopes).where(isa_scopes.c.organisation_id == organisation_id))
        conn.execute(
            sa.insert(isa_scopes).values(
                organisation_id=organisation_id,
                reference=reference.strip(),
                areas=json.dumps(list(area_list)),
                layers=json.dumps([str(x) for x in layer_list]),
                data_from=data_from,
                data_to=data_to,
                updated_at=now or utcnow(),
                updated_by=who if isinstance(who, str) else who.username,
            )
        )
    record(
        store,
        Action.ISA_ADMIN,
        actor=who,
        subject=organisation_id,
        detail={
            "change": "scope_set",
            "areas": list(area_list),
            "layers": [str(x) for x in layer_list],
            "from": data_from,
            "to": data_to,
        },
        now=now,
    )
    log.info("ISA scope set: %d areas, %d layers", len(area_list), len(layer_list))
    return IsaScope(organisation_id, reference.strip(), area_list, layer_list, data_from, data_to)


def get_isa_scope(store: Store, organisation_id: str) -> IsaScope | None:
    """The organisation's scope, or ``None`` if it has none (it then sees nothing)."""
    with store.engine.connect() as conn:
        row = conn.execute(
            sa.select(isa_scopes).where(isa_scopes.c.organisation_id == organisation_id)
        ).first()
    return _scope_from_row(row) if row else None


def list_isa_scopes(store: Store) -> list[IsaScope]:
    """Every scope, by organisation id."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(isa_scopes).order_by(isa_scopes.c.organisation_id)).all()
    return [_scope_from_row(r) for r in rows]


def delete_isa_scope(
    store: Store,
    organisation_id: str,
    *,
    actor: Session | Literal["cli"],
    now: datetime | None = None,
) -> None:
    """Remove an organisation's scope: its partners then see nothing."""
    from clic_geo.access.accounts import _actor_user

    who = _actor_user(store, actor, Action.ISA_ADMIN, now)
    with store.engine.begin() as conn:
        res = conn.execute(
            sa.delete(isa_scopes).where(isa_scopes.c.organisation_id == organisation_id)
        )
    if not res.rowcount:
        raise NotFoundError(f"organisation {organisation_id!r} has no ISA scope")
    record(
        store,
        Action.ISA_ADMIN,
        actor=who,
        subject=organisation_id,
        detail={"change": "scope_removed"},
        now=now,
    )
