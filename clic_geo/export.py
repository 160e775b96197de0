"""Making text safe where it leaves the store: HTML pages and spreadsheet files.

Text is stored exactly as it arrived. It is made safe at the point of output:
HTML-escaped wherever it is rendered, and neutralised against spreadsheet formula
injection (a cell starting with ``= + - @``, tab or carriage return is prefixed
with an apostrophe) wherever it is exported as CSV. In both, and in text shown on the
dashboard, the invisible bidirectional controls are removed (:func:`strip_bidi`), so that
``abc<U+202E>gnp.exe`` cannot show as "abcexe.png".
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pandas as pd

from clic_geo.files import PRIVATE_DIR, open_private

__all__ = [
    "BIDI_CONTROLS",
    "escape",
    "neutralise_formula",
    "safe_csv_frame",
    "safe_display_frame",
    "strip_bidi",
    "write_safe_csv",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Invisible characters that reorder the text around them: embeddings and overrides
#: (U+202A-U+202E), isolates (U+2066-U+2069), the left-to-right, right-to-left and
#: Arabic letter marks (U+200E, U+200F, U+061C).
BIDI_CONTROLS = frozenset(
    [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)]
)
_BIDI = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")


def strip_bidi(value: Any) -> Any:
    """Text without bidirectional control characters (anything else is returned as is).

    Examples
    --------
    >>> strip_bidi("abc\u202egnp.exe")
    'abcgnp.exe'
    >>> strip_bidi(3)
    3
    """
    return _BIDI.sub("", value) if isinstance(value, str) else value


def safe_display_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` for showing in a table: bidi controls removed from text cells and
    headers (Streamlit shows text cells as text, never as HTML)."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(strip_bidi)
    out.columns = [strip_bidi(c) for c in out.columns]
    return out


def escape(value: Any) -> str:
    """HTML-escape any value for display (``None`` becomes an empty string).

    Examples
    --------
    >>> escape('<img src=x onerror=alert(1)>')
    '&lt;img src=x onerror=alert(1)&gt;'
    """
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return html.escape(strip_bidi(str(value)), quote=True)


def neutralise_formula(value: Any) -> Any:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe.

    Numbers are left alone (a negative number is not a formula).

    Examples
    --------
    >>> neutralise_formula("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise_formula(-3.2)
    -3.2
    >>> neutralise_formula("-3.2")
    '-3.2'
    """
    if not isinstance(value, str):
        return value
    value = strip_bidi(value)
    if not value.startswith(_FORMULA_START):
        return value
    if value[0] in "+-":
        try:
            float(value)
            return value
        except ValueError:
            pass
    return "'" + value


def safe_csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every text cell (and header) neutralised."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(neutralise_formula)
    out.columns = [neutralise_formula(str(c)) for c in out.columns]
    return out


def write_safe_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` as a UTF-8 CSV (with BOM, so Excel reads it) safe to open in Excel,
    readable by its owner only (``0600``; a folder it creates is ``0700``)."""
    p = Path(path)
    p.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    with open_private(p, "w", encoding="utf-8-sig", newline="") as fh:
        safe_csv_frame(df).to_csv(fh, index=False)
    return p
