"""What an import hands the store and what the store reports back.

:class:`Validated` is validation's output and the input of
:meth:`~clic_geo.store.Store.apply_import`; :class:`ImportReport` says what the import
did. Plus how a frame's values become plain Python values for the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ImportReport", "Validated"]


@dataclass
class Validated:
    """Outcome of validating one table (what :meth:`ImportWrites.apply_import` takes).

    ``accepted`` holds canonical columns plus ``key`` (the stable identity used to
    spot duplicates) and ``_row`` (spreadsheet row). ``rejected`` holds the
    original values plus ``file_row`` and ``reason``.
    """

    kind: str
    accepted: pd.DataFrame
    rejected: pd.DataFrame
    mapping: dict[str, str]
    notes: list[str]
    #: The file's values for every well-formed row, indexed by spreadsheet row.
    original: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True)
class ImportReport:
    """What an import did. ``read == accepted + rejected + duplicates`` always."""

    kind: str
    file: str
    import_id: int | None
    read: int
    accepted: int
    rejected: int
    duplicates: int
    updated: int
    blank_rows: int
    rejects_path: str | None
    reasons: dict[str, int]
    mapping: dict[str, str]
    notes: list[str]
    encoding: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (the command line prints this)."""
        return {
            "kind": self.kind,
            "file": self.file,
            "import_id": self.import_id,
            "read": self.read,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "updated": self.updated,
            "blank_rows": self.blank_rows,
            "rejects_path": self.rejects_path,
            "reasons": self.reasons,
            "columns": self.mapping,
            "notes": self.notes,
            "encoding": self.encoding,
        }


def _reason_key(reason: str) -> str:
    """Group reasons without their row-specific values ("unknown category 'x'" -> ...)."""
    out = []
    for part in reason.split("; "):
        cut = min(
            (i for i in (part.find("'"), part.find(":"), part.find('"')) if i > 0),
            default=len(part),
        )
        out.append(part[:cut].strip())
    return "; ".join(dict.fromkeys(out))


def _none(v: Any) -> Any:
    """A plain Python value for the database; every kind of missing becomes None."""
    if v is None:
        return None
    if isinstance(v, list | tuple | dict | set):
        return v
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, np.generic):
        return v.item()
    return v


def _records(df: pd.DataFrame, columns: Iterable[str]) -> list[dict[str, Any]]:
    cols = list(columns)
    return [
        {c: _none(v) for c, v in zip(cols, row, strict=True)}
        for row in df[cols].itertuples(index=False, name=None)
    ]
