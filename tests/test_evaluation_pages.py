"""The evaluation on the pages: the Trends page (officers) and the partner page.

The partner page's whole payload is scanned for record-level values by
``tests/test_leaks.py``; here, what each audience is shown and that partners get only
the published figures.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.leaks import apptest_payload
from tests.test_app import app_env, demo_store, run  # noqa: F401 - fixtures


def _texts(at) -> str:
    parts = [x.value for x in at.success] + [x.value for x in at.info]
    parts += [x.value for x in at.markdown] + [x.value for x in at.caption]
    parts += [f"{m.label}: {m.value}" for m in at.metric]
    return "\n".join(str(p) for p in parts)


@pytest.mark.usefixtures("app_env")
def test_trends_page_evaluates_the_areas_hotspots() -> None:
    at = run("app_pages/trends_page.py")
    at.selectbox(key="trends_area").select("west_cumbria").run()
    assert not at.exception, [e.value for e in at.exception]
    text = _texts(at)
    # West Cumbria's partnership began in 2025-09: the demo's hotspots quietened after it
    assert at.date_input(key="trends_split_west_cumbria").value == date(2025, 9, 1)
    assert "Crime in the treated zones fell by" in text
    labels = [m.label for m in at.metric]
    assert "Change against the comparison" in labels
    assert "Naive before/after (for contrast)" in labels
    assert any(lab.startswith("Displacement quotient") for lab in labels)
    assert "How to read this" in text
    # the chart: both places, the date marked (its Vega-Lite spec is in the payload)
    payload = apptest_payload(at)
    assert "Treated zones" in payload and "Comparison area" in payload
    assert "from 01 Sep 2025" in payload
    # the whole force: asks for an area instead
    at.selectbox(key="trends_area").select("__all__").run()
    assert not at.exception
    assert "Choose one area" in _texts(at)


@pytest.mark.usefixtures("app_env")
def test_officers_share_an_evaluation_date_with_partners() -> None:
    at = run("app_pages/trends_page.py")
    at.selectbox(key="trends_area").select("barrow").run()
    at.date_input(key="trends_split_barrow").set_value(date(2026, 3, 1)).run()
    assert at.button(key="trends_eval_share").label == "Share this date with partners"
    at.button(key="trends_eval_share").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.button(key="trends_eval_share").label == "Stop sharing this date"
    assert "01 Mar 2026" in _texts(at)
    partner = run(as_user="demo-housing")
    options = partner.selectbox(key="partner_eval_since_barrow").options
    assert options[0] == "01 Mar 2026"


@pytest.mark.usefixtures("app_env")
def test_trends_page_says_when_the_data_cannot_tell() -> None:
    at = run("app_pages/trends_page.py")
    at.selectbox(key="trends_area").select("carlisle").run()
    at.date_input(key="trends_split_carlisle").set_value(date(2024, 1, 1)).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "The data cannot tell" in _texts(at) or "No evaluation" in _texts(at)


def _share(area: str, since: date) -> None:
    from clic_geo.access.partner_evaluation import share_evaluation_date
    from clic_geo.settings import load_settings
    from clic_geo.store import Store

    settings = load_settings()
    store = Store.open(settings)
    share_evaluation_date(store, "cli", settings=settings, area=area, since=since)
    store.close()


@pytest.mark.usefixtures("app_env")
def test_partner_page_shows_the_published_evaluation() -> None:
    _share("carlisle", date(2025, 9, 1))
    at = run(as_user="demo-nhs")
    assert at.title[0].value == "Partnership figures"
    at.selectbox(key="partner_area").select("carlisle").run()
    dates = at.selectbox(key="partner_eval_since_carlisle")
    assert dates.options == ["01 Sep 2025", "01 Jan 2024"]  # shared, and the start
    dates.select(date(2025, 9, 1)).run()
    assert not at.exception, [e.value for e in at.exception]
    text = _texts(at)
    assert "Did it work?" in "\n".join(h.value for h in at.subheader)
    assert "95 % interval" in text and "the comparison area" in text
    assert "as an index only" in text
    # partners' p-values stop at two decimals and percentages are whole
    assert re.search(r"p (=|<) 0\.\d\d\b", text) and not re.search(r"0\.\d{3}", text)
    options = at.selectbox(key="partner_eval_layer").options
    assert options == ["Drug incidents (supply, possession)"]  # its only incident figure


@pytest.mark.usefixtures("app_env")
def test_partner_chart_says_when_no_treated_month_can_be_drawn(monkeypatch) -> None:
    """Every treated month withheld or below the threshold: the chart has only the
    comparison line, and the page says why instead of leaving a line missing."""
    import dataclasses

    import numpy as np

    from app_pages import evaluation_section

    original = evaluation_section.partner_evaluation

    def all_withheld(*args, **kwargs):
        pub = original(*args, **kwargs)
        months = pub.months.assign(treated_index=np.nan)
        return dataclasses.replace(pub, months=months)

    monkeypatch.setattr(evaluation_section, "partner_evaluation", all_withheld)
    _share("carlisle", date(2025, 9, 2))  # a date of its own: the page caches by date
    at = run(as_user="demo-nhs")
    at.selectbox(key="partner_area").select("carlisle").run()
    at.selectbox(key="partner_eval_since_carlisle").select(date(2025, 9, 2)).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "chart shows the comparison area only" in _texts(at)


@pytest.mark.usefixtures("app_env")
def test_partner_without_an_incident_figure_gets_no_evaluation(monkeypatch) -> None:
    from clic_geo.access.isa import get_isa_scope, set_isa_scope
    from clic_geo.settings import load_settings
    from clic_geo.store import Store

    at = run(as_user="demo-nhs")  # the first run creates the demo accounts and scopes
    settings = load_settings()
    store = Store.open(settings)
    old = get_isa_scope(store, "demo-nhs")
    set_isa_scope(
        store,
        "demo-nhs",
        areas=old.areas,
        layers=["visits", "referrals"],
        reference=old.reference,
        actor="cli",
        known_areas=["barrow", "kendal", "carlisle", "west_cumbria"],
        data_from=old.data_from,
    )
    store.close()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "the agreement covers no incident figure" in _texts(at)
