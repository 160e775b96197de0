"""Trends honours its chosen period and marks a part month as such (issue 10, section 5)."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pyarrow as pa
import pytest

from clic_geo.reporting.figures import period_months
from tests.test_app import app_env, demo_store, run  # noqa: F401 - fixtures


def test_period_months_marks_part_months() -> None:
    pm = period_months(date(2026, 9, 7), date(2026, 11, 21))
    assert pm["month"].tolist() == ["2026-09", "2026-10", "2026-11"]
    assert pm["part"].tolist() == [True, False, True]
    assert pm["label"].tolist()[2] == "2026-11 (1-21)"
    whole = period_months(date(2026, 1, 1), date(2026, 2, 28))
    assert not whole["part"].any() and whole["label"].tolist() == ["2026-01", "2026-02"]
    assert period_months(date(2026, 3, 5), date(2026, 3, 9))["label"].tolist() == ["2026-03 (5-9)"]


def _chart_frame(el) -> pd.DataFrame:
    data = el.proto.datasets[0].data.data
    return pa.ipc.open_stream(io.BytesIO(data)).read_all().to_pandas()


@pytest.mark.usefixtures("app_env")
def test_trends_chart_shows_the_chosen_months_only() -> None:
    at = run("app_pages/trends_page.py")
    at.date_input(key="trends_period").set_value((date(2026, 9, 7), date(2026, 11, 21))).run()
    assert not at.exception, [e.value for e in at.exception]
    bars = _chart_frame(at.get("vega_lite_chart")[0])
    assert sorted(bars["month"].unique()) == ["2026-09", "2026-10", "2026-11"]
    part = bars.groupby("month")["part"].first()
    assert part.to_dict() == {"2026-09": True, "2026-10": False, "2026-11": True}
    assert any("part months" in c.value for c in at.caption)
