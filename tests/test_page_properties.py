"""Property: whatever subset of tables a store holds, and whatever area and period are
chosen, no page shows a traceback or an error (issue 9 §1).

Hypothesis draws the tables imported (from the small authored files of
tests/store_shapes.py: addresses with or without a status history, visits, county
lines, incidents of May, of August or both), an area, a period inside the data (often
inside the gap between the months) and a planning day. Bounded examples: each runs
five pages in AppTest.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import streamlit as st
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from streamlit.testing.v1 import AppTest

from app_pages.common import SESSION_KEY
from clic_geo.settings import REPO_ROOT, load_settings
from clic_geo.store import Store
from tests import store_shapes as shapes

APP = str(REPO_ROOT / "app.py")
MAY = "".join(x + "\n" for x in shapes.INCIDENTS.splitlines()[1:] if ",2026-05-" in x)
AUG = "".join(x + "\n" for x in shapes.INCIDENTS.splitlines()[1:] if ",2026-08-" in x)
HEADER = shapes.INCIDENTS.splitlines()[0] + "\n"
POOL = {
    "addresses (no status)": ("addresses", shapes.ADDRESSES_NO_STATUS),
    "addresses": ("addresses", shapes.ADDRESSES),
    "visits": ("visits", shapes.VISITS_BY_PLACE),
    "lines": ("lines", shapes.LINES),
    "incidents May": ("incidents", HEADER + MAY),
    "incidents August": ("incidents", HEADER + AUG),
}
_built: dict[frozenset[str], Path] = {}


def _store(root: Path, chosen: frozenset[str]) -> Path:
    if chosen not in _built:
        parts = [POOL[k] for k in POOL if k in chosen]  # a fixed order: addresses first
        _built[chosen] = shapes.build(root / f"s{len(_built)}", "empty", parts=parts)
    return _built[chosen]


def _span(d: Path) -> tuple[date, date] | None:
    store = Store.open(load_settings(d))
    try:
        return store.date_span()
    finally:
        store.close()


def _clean(at: AppTest, where: str) -> None:
    assert not at.exception, (where, [e.value for e in at.exception])
    assert not at.error, (where, [e.value for e in at.error])


@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    chosen=hs.frozensets(hs.sampled_from(list(POOL))),
    area=hs.sampled_from(["barrow", "carlisle", "kendal"]),
    first=hs.floats(0, 1),
    length=hs.floats(0, 1),
    day_offset=hs.integers(-200, 60),
)
def test_no_page_fails_on_any_subset_of_tables(
    tmp_path_factory, monkeypatch, chosen, area, first, length, day_offset
) -> None:
    d = _store(tmp_path_factory.getbasetemp() / "property-stores", chosen)
    monkeypatch.setenv("CLIC_DATA_DIR", str(d))
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=300).run()
    at.session_state[SESSION_KEY] = shapes.sign_in(d, "officer")
    at.run()
    span = _span(d)
    period = None
    if span is not None:
        days = (span[1] - span[0]).days
        start = span[0] + timedelta(days=round(first * days))
        end = min(span[1], start + timedelta(days=round(length * days)))
        period = (start, end)
    for page, area_key, period_key in (
        ("map_page", "map_area", "map_period"),
        ("trends_page", "trends_area", "trends_period"),
    ):
        at.switch_page(f"app_pages/{page}.py").run()
        at.selectbox(key=area_key).select(area).run()
        if period is not None:
            at.date_input(key=period_key).set_value(period).run()
        _clean(at, (page, chosen, area, period))
    at.switch_page("app_pages/plan_page.py").run()
    at.selectbox(key="plan_area").select(area).run()
    at.date_input(key="plan_day").set_value(date(2026, 8, 15) + timedelta(days=day_offset)).run()
    _clean(at, ("plan", chosen, area, day_offset))
    at.switch_page("app_pages/data_page.py").run()
    _clean(at, ("data", chosen))
    partner = AppTest.from_file(APP, default_timeout=300).run()
    partner.session_state[SESSION_KEY] = shapes.sign_in(d, "partner")
    partner.run()
    if area in ("barrow", "kendal"):  # the partner's agreement covers these two
        partner.selectbox(key="partner_area").select(area).run()
    _clean(partner, ("partner", chosen, area))
    st.cache_resource.clear()
