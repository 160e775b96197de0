"""Text is made safe where it is shown or exported."""

from __future__ import annotations

import pandas as pd
import pytest

from clic_geo.export import escape, neutralise_formula, safe_csv_frame, write_safe_csv


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-3.25", "-3.25"),
        ("+44", "+44"),
        ("a=b", "a=b"),
        (-3.25, -3.25),
        (None, None),
    ],
)
def test_neutralise(value, expected) -> None:
    assert neutralise_formula(value) == expected


def test_escape() -> None:
    assert (
        escape("<script>alert('x')</script>") == "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"
    )
    assert escape(None) == "" and escape(float("nan")) == "" and escape(3) == "3"


def test_safe_csv(tmp_path) -> None:
    df = pd.DataFrame({"=h": ["=x", "ok"], "n": [-1.5, 2.0]})
    out = safe_csv_frame(df)
    assert list(out.columns) == ["'=h", "n"] and out["'=h"].tolist() == ["'=x", "ok"]
    assert df["=h"].tolist() == ["=x", "ok"]  # the input is not changed
    p = write_safe_csv(df, tmp_path / "x.csv")
    assert p.read_bytes().startswith(b"\xef\xbb\xbf")
