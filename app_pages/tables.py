"""Tables a person can read: human column names, no "None", columns that fit the page.

:func:`show` is ``st.dataframe`` with the column names in words (and a tooltip saying
what each holds), empty cells instead of None/NaN/NaT, yes/no instead of True/False,
dates without seconds, and each column given a width that fits its content, so the
last column is not cut ("Addres") on a laptop; on a phone the table scrolls inside
its frame and every header keeps its tooltip.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from clic_geo.export import safe_display_frame


def readable(df: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """Only the columns in ``names``, renamed, every value as display text."""
    cols = [c for c in names if c in df.columns]
    out = pd.DataFrame(index=df.index)
    for c in cols:
        s = df[c]
        if pd.api.types.is_bool_dtype(s):
            text = s.map({True: "yes", False: "no"})
        elif pd.api.types.is_datetime64_any_dtype(s):
            text = s.dt.strftime("%d %b %Y %H:%M")
        else:
            text = s.map(_cell)
        out[names[c]] = text.fillna("").astype(str).replace({"None": "", "nan": "", "NaT": ""})
    return out.reset_index(drop=True)


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NaT or v is pd.NA:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list | tuple | set):
        return ", ".join(_cell(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_cell(x)}" for k, x in v.items() if _cell(x) != "")
    return str(v)


def _width(col: pd.Series, header: str) -> int:
    """Pixels for the longest of the header and the first 200 values (at most 320:
    longer text is cut with its whole value in the cell's tooltip)."""
    longest = max([len(header), *(len(x) for x in col.head(200))]) if len(col) else len(header)
    return int(min(320, max(56, 7.4 * longest + 26)))


def show(
    df: pd.DataFrame,
    names: Mapping[str, str],
    *,
    help: Mapping[str, str] | None = None,
    budget_px: int = 880,
    **kwargs: Any,
) -> None:
    """``st.dataframe`` of :func:`readable` with widths and header tooltips."""
    out = readable(df, names)
    tips = dict(help or {})
    widths = {h: _width(out[h], h) for h in out.columns}
    # within the page at 1366 px: the widest columns give way first (cut text shows
    # in full when its cell is clicked)
    while sum(widths.values()) > budget_px and max(widths.values()) > 90:
        widest = max(widths, key=lambda h: widths[h])
        widths[widest] -= 10
    config = {
        h: st.column_config.TextColumn(
            h, width=widths[h], help=tips.get(c, h + " (click a cell to read it all)")
        )
        for c, h in names.items()
        if h in out.columns
    }
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    st.dataframe(safe_display_frame(out), column_config=config, **kwargs)
