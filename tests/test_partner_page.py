"""The partner page: audited exports only on a download, its chart and its readable grid."""

from __future__ import annotations

import io
import json
import re

import pyarrow as pa
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager

from clic_geo.access.audit import Action
from clic_geo.access.audit_log import read_audit
from clic_geo.access.auth import AuthPolicy, login
from clic_geo.access.privacy import partner_grid
from clic_geo.settings import load_settings
from clic_geo.store import Store
from tests.leaks import apptest_payload
from tests.test_app import PASSWORDS, app_env, demo_store, run  # noqa: F401 - fixtures


def _policy() -> AuthPolicy:
    return AuthPolicy.from_settings(load_settings())


def _exports() -> int:
    store = Store.open(load_settings())
    try:
        return len(read_audit(store, "cli", action=Action.EXPORT))
    finally:
        store.close()


@pytest.fixture
def deferred(monkeypatch: pytest.MonkeyPatch) -> dict:
    """The callables handed to deferred download buttons, by file name."""
    seen: dict = {}
    original = MediaFileManager.add_deferred

    def spy(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        seen[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name=file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    return seen


@pytest.mark.usefixtures("app_env")
@pytest.mark.parametrize("user", ["demo-housing", "demo-officer"])
def test_export_is_audited_only_when_downloaded(user: str, deferred: dict) -> None:
    page = "app_pages/partner_page.py" if user == "demo-officer" else None
    at = run(page, as_user=user)
    assert not at.exception, [e.value for e in at.exception]
    for _ in range(3):  # reruns, no click
        at.run()
    assert _exports() == 0, "an export was audited with no download"
    (name,) = [n for n in deferred if n and n.endswith("-figures.csv")]
    data = deferred[name]()  # what the browser gets when the button is clicked
    assert data.decode("utf-8-sig").splitlines()[0].startswith("area_id")
    assert _exports() == 1


@pytest.mark.usefixtures("app_env")
def test_grid_draws_numbered_squares_and_one_hatch() -> None:
    at = run(None, as_user="demo-housing")
    assert not at.exception, [e.value for e in at.exception]
    settings = load_settings()
    store = Store.open(settings)
    try:
        session = login(store, "demo-housing", PASSWORDS["demo-housing"], policy=_policy())
        # a figure and quarter with squares to show (the calibrated demo is quiet: its
        # drug incidents are suppressed in every Barrow square)
        from clic_geo.access.isa import LAYER_LABELS

        by_label = {v: k for k, v in LAYER_LABELS.items()}
        layers = [by_label.get(o, o) for o in at.selectbox(key="partner_layer").options]
        quarters = at.selectbox(key="partner_quarter").options
        found = None
        for layer in layers:
            for quarter in reversed(quarters):
                cells = partner_grid(
                    store, session, layer, quarter, settings=settings, areas=["barrow"]
                ).cells
                shown = int((cells["status"] == "shown").sum())
                if shown:
                    found = (layer, quarter)
                    break
            if found:
                break
    finally:
        store.close()
    assert found, "no figure of the demo has a square to show in Barrow"
    layer, quarter = found
    at.selectbox(key="partner_area").select("barrow").run()
    at.selectbox(key="partner_layer").select(layer).run()
    assert 0 < shown < len(cells) // 4  # a few numbered squares among many hidden ones
    at.selectbox(key="partner_quarter").select(quarter).run()
    assert not at.exception, [e.value for e in at.exception]
    payload = apptest_payload(at)
    # one feature per numbered square (with its grid reference), the rest one hatch
    assert len(re.findall(r'cell_id\\*":', payload)) == shown
    assert payload.count("url(#clic-hatch)") >= 1
    assert "rarely add up exactly to its total" in payload or "may not add up" in payload


@pytest.mark.usefixtures("app_env")
def test_partner_page_leads_with_a_quarterly_chart_with_gaps() -> None:
    at = run(None, as_user="demo-housing")
    at.selectbox(key="partner_area").select("kendal").run()
    at.selectbox(key="partner_layer").select("cuckooing_reports").run()
    assert not at.exception, [e.value for e in at.exception]
    chart = at.get("vega_lite_chart")[0]  # the first chart on the page
    spec = json.loads(chart.proto.spec)
    line = spec["layer"][0]
    assert line["mark"]["type"] == "line"
    assert line["encoding"]["detail"]["field"] == "run"  # one path per run of shown quarters
    frames = [
        pa.ipc.open_stream(io.BytesIO(d.data.data)).read_all().to_pandas()
        for d in chart.proto.datasets
    ]
    q = next(f for f in frames if "hidden" in f and "run" not in f)  # every quarter: gap ticks
    path = next(f for f in frames if "run" in f.columns)  # what the line is drawn through
    assert q["period"].str.match(r"^\d{4}-Q[1-4]$").all()
    hidden = q[q["label"].str.startswith(("fewer than", "withheld"))]
    assert len(hidden), "the demo's Kendal cuckooing reports have suppressed quarters"
    assert hidden["value"].isna().all() and (hidden["hidden"] == 0).all()
    assert q.loc[~q.index.isin(hidden.index), "value"].notna().all()
    # the line never passes through a hidden quarter: not drawn at 0, not joined across
    assert path["value"].notna().all() and not path["period"].isin(hidden["period"]).any()
    order = q["period"].tolist()
    for p in hidden["period"]:
        i = order.index(p)
        if (
            0 < i < len(order) - 1
            and order[i - 1] in set(path["period"])
            and order[i + 1] in set(path["period"])
        ):
            runs = path.set_index("period")["run"]
            assert runs[order[i - 1]] != runs[order[i + 1]]
    assert any("is a gap" in c.value or "are a gap" in c.value for c in at.caption)
