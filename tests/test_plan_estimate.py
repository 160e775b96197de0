"""The Plan page says which walking estimate it used: a street network when one is
configured, else straight lines routed round water (Streamlit AppTest, demo store)."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely

from clic_geo.geo import basemap as bm
from tests import test_app
from tests.test_plan_page import plan_page

demo_store = test_app.demo_store
app_env = test_app.app_env

pytestmark = pytest.mark.slow  # two plans on the demo store (tens of seconds each)


def _captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def test_without_a_network_the_route_goes_round_water_and_says_so(app_env) -> None:
    at = plan_page()
    at.button(key="plan_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    route = at.session_state["clic_plan"].route
    assert route.distance_method.startswith("straight line x 1.3, round water")
    text = _captions(at)
    assert "No street network is loaded" in text and "round water" in text


def test_a_configured_street_network_is_used_and_named(
    app_env, tmp_path: Path, monkeypatch
) -> None:
    roads = bm.read_builtin().query("kind == 'roads'")
    roads = roads.clip(shapely.box(-3.30, 54.07, -3.15, 54.18))
    net = tmp_path / "barrow-roads.geojson"
    roads.to_file(net, driver="GeoJSON")
    monkeypatch.setenv("CLIC_STREET_NETWORK", str(net))
    at = plan_page()
    at.button(key="plan_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    route = at.session_state["clic_plan"].route
    assert route.distance_method.startswith("walking network (barrow-roads.geojson")
    assert "Walks measured on the street network" in _captions(at)
    assert "street network" in _captions(at)
