"""One visual grammar: the layers and the legend are drawn from the same constants."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

from clic_geo.reporting import map_style as style
from clic_geo.reporting import maps
from clic_geo.reporting.map_style import Swatch


def _map():
    return maps.offline_map(center=(54.12, -3.22), zoom=14)


def test_heat_legend_is_the_heat_gradient() -> None:
    m = _map()
    pts = pd.DataFrame(
        {"latitude": [54.12, 54.121], "longitude": [-3.22, -3.221], "weight": [1, 2]}
    )
    maps.add_heat(m, pts)
    maps.add_legend(m, [Swatch("heat", "Heat")])
    html = maps.rendered_html(m)
    for colour in style.HEAT_GRADIENT.values():
        # in the layer's options and in the legend's swatch
        assert html.count(colour) >= 2, colour
    assert "#ff8c00" not in html  # the old orange swatch


def test_tags_stops_and_clusters_differ_in_shape_and_colour() -> None:
    tag, stop = style.badge_html("#4"), style.stop_html(4)
    cluster = style.cluster_css()
    assert "border-radius:9px" in tag and "border-radius:3px" in stop
    assert "border-radius:50%" in cluster
    colours = {style.BADGE["text"], style.STOP["fill"], style.CLUSTER["fill"]}
    assert len(colours) == 3
    assert style.PALETTE["visit"] != style.PALETTE["route"]
    # the legend draws the same pictures
    assert style.badge_html("#1") in style.swatch_html(Swatch("badge", "rank"))
    assert style.stop_html(1) in style.swatch_html(Swatch("stop", "stop"))


def test_map_tags_are_the_legend_tags_and_the_legend_folds() -> None:
    m = _map()
    hs = gpd.GeoDataFrame(
        {"rank_label": ["#1", "#2"], "rank": [1, 2]},
        geometry=[box(-3.23, 54.11, -3.22, 54.12), box(-3.21, 54.12, -3.20, 54.13)],
        crs=4326,
    )
    maps.add_labels(m, hs, "rank_label", rank_field="rank")
    maps.add_route(m, [{"lat": 54.12, "lon": -3.22, "number": 0}, {"lat": 54.121, "lon": -3.21}])
    maps.add_legend(m, [Swatch("badge", "Hotspot rank"), ("#123456", "A fill")])
    html = maps.rendered_html(m)
    assert 'data-rank=\\"1\\"' in html or 'data-rank="1"' in html
    assert "clic-legend" in html and "<details" in html
    assert "clientWidth >= 480" in html  # folded on a phone
    assert "clic-badge" in html and "clic-stop-mark" in html
    assert style.DECLUTTER_JS.strip()[:40] in html
