"""Bidirectional control characters cannot disguise text (issue 14 #5).

``abc<U+202E>gnp.exe`` shows as "abcexe.png": every control of the list is removed
wherever text from the data is shown (HTML, tooltips, markdown, tables) or exported (CSV).
"""

from __future__ import annotations

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app_pages.common import SESSION_KEY, md
from clic_geo.export import (
    BIDI_CONTROLS,
    escape,
    neutralise_formula,
    safe_csv_frame,
    safe_display_frame,
    write_safe_csv,
)
from clic_geo.reporting import maps
from clic_geo.settings import REPO_ROOT
from tests import store_shapes

CONTROLS = [
    *(chr(c) for c in range(0x202A, 0x202F)),
    *(chr(c) for c in range(0x2066, 0x206A)),
    "\u200e",
    "\u200f",
    "\u061c",
]


def test_the_list_is_the_issues_list() -> None:
    assert set(CONTROLS) == BIDI_CONTROLS


@pytest.mark.parametrize("ch", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_every_output_drops_the_control(ch: str, tmp_path) -> None:
    text = f"abc{ch}gnp.exe"
    assert escape(text) == "abcgnp.exe"
    assert neutralise_formula(text) == "abcgnp.exe"
    assert neutralise_formula(f"{ch}=HYPERLINK(1)") == "'=HYPERLINK(1)"  # no hiding a formula
    assert md(text) == "abcgnp\\.exe"
    df = pd.DataFrame({f"col{ch}": [text, 3]})
    assert safe_csv_frame(df).iloc[0, 0] == "abcgnp.exe"
    assert safe_display_frame(df).columns.tolist() == ["col"]
    out = write_safe_csv(df, tmp_path / "x.csv").read_text(encoding="utf-8-sig")
    assert ch not in out and "abcgnp.exe" in out


def test_map_tooltips_drop_the_controls() -> None:
    pts = pd.DataFrame(
        {"latitude": [54.115], "longitude": [-3.227], "location": ["On or near abc\u202egnp.exe"]}
    )
    m = maps.offline_map(center=(54.1, -3.2), zoom=12)
    maps.add_points(m, maps.aggregate_points(pts, label="location"), name="x", colour="#000")
    page = m.get_root().render()
    assert "abcgnp.exe" in page and "\u202e" not in page


def test_the_map_page_sends_no_control(tmp_path, monkeypatch) -> None:
    """A police.uk-style location label with an override, end to end: imported, then
    sent in the map and the hotspot table of the officer's Map page."""
    rows = "".join(
        f"R{i},2026-08-{1 + i:02d},drug supply,54.1150,-3.2270,abc\u202egnp.exe Street\n"
        for i in range(12)
    )
    parts = [("incidents", "id,date,type,latitude,longitude,location\n" + rows)]
    d = store_shapes.build(tmp_path / "store", "empty", parts=parts)
    monkeypatch.setenv("CLIC_DATA_DIR", str(d))
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120).run()
    at.session_state[SESSION_KEY] = store_shapes.sign_in(d, "officer")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    sent = str([el.proto for el in at.main]) + str([df.value for df in at.dataframe])
    assert "gnp.exe Street" in sent
    assert "\u202e" not in sent and "\\u202e" not in sent.lower()
    st.cache_resource.clear()
    st.cache_data.clear()
