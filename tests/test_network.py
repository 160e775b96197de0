"""Walking networks read offline: OSM XML, PBF, GraphML, line files; real main roads."""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import osmnx as ox
import pytest
import shapely

from clic_geo._errors import ConfigError, InputFileError
from clic_geo.geo import crs as geo
from clic_geo.geo.areas import load_areas
from clic_geo.geo.network import StraightLine, load_network
from clic_geo.settings import REPO_ROOT

MAIN_ROADS = REPO_ROOT.parent / "shared" / "data" / "osm_cumbria" / "osm_main_roads_cumbria.geojson"

# A 3 x 2 block of streets, 200 m squares, near Barrow; the middle rung is a motorway
# (not walkable), so A -> B must go round: 200 + 200 + 200 = 600 m, not 200 m.
E0, N0 = 320_000.0, 469_000.0
NODES = {1: (0, 0), 2: (200, 0), 3: (400, 0), 4: (0, 200), 5: (200, 200), 6: (400, 200)}
WAYS = [
    (10, [1, 2, 3], "residential"),
    (11, [4, 5, 6], "footway"),
    (12, [1, 4], "residential"),
    (13, [2, 5], "motorway"),
    (14, [3, 6], "service"),
]


def _lonlat(k: int) -> tuple[float, float]:
    dx, dy = NODES[k]
    lon, lat = geo.to_wgs84([E0 + dx], [N0 + dy])
    return float(lon[0]), float(lat[0])


def write_osm(path: Path) -> Path:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for k in NODES:
        lon, lat = _lonlat(k)
        lines.append(f'<node id="{k}" lat="{lat:.8f}" lon="{lon:.8f}" version="1"/>')
    for wid, nds, hw in WAYS:
        refs = "".join(f'<nd ref="{n}"/>' for n in nds)
        lines.append(f'<way id="{wid}" version="1">{refs}<tag k="highway" v="{hw}"/></way>')
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def points(*keys: int, offset_m: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    e = np.array([E0 + NODES[k][0] for k in keys], dtype=float)
    n = np.array([N0 + NODES[k][1] + offset_m for k in keys], dtype=float)
    return e, n


def check_block(net) -> None:
    m, notes = net.matrix_m(*points(2, 5, 1))
    assert m[0, 1] == pytest.approx(600, abs=1.0)  # round the motorway
    assert m[0, 2] == pytest.approx(200, abs=1.0)
    assert m[0, 1] == pytest.approx(m[1, 0])
    assert notes == ()


def test_osm_xml(tmp_path):
    check_block(load_network(write_osm(tmp_path / "block.osm")))


def test_osm_pbf(tmp_path):
    src = write_osm(tmp_path / "block.osm")
    pbf = tmp_path / "block.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as w:
        for obj in osmium.FileProcessor(str(src)):
            (w.add_node if obj.is_node() else w.add_way)(obj)
    check_block(load_network(pbf))


def test_graphml(tmp_path):
    g = nx.MultiDiGraph(crs="epsg:4326")
    for k in NODES:
        lon, lat = _lonlat(k)
        g.add_node(k, x=lon, y=lat)
    for _, nds, hw in WAYS:
        for a, b in itertools.pairwise(nds):
            length = float(np.hypot(*np.subtract(NODES[a], NODES[b])))
            g.add_edge(a, b, highway=hw, length=length)
    path = tmp_path / "block.graphml"
    ox.save_graphml(g, path)
    check_block(load_network(path))


def test_line_file(tmp_path):
    rows = []
    for _, nds, hw in WAYS:
        rows.append({"highway": hw, "geometry": shapely.LineString([_lonlat(k) for k in nds])})
    path = tmp_path / "streets.geojson"
    gpd.GeoDataFrame(rows, crs=geo.WGS84).to_file(path)
    check_block(load_network(path))


def test_far_points_fall_back_to_the_straight_line(tmp_path):
    net = load_network(write_osm(tmp_path / "block.osm"), max_snap_m=300)
    e, n = points(1, 2, offset_m=0)
    e = np.r_[e, E0 + 200]
    n = np.r_[n, N0 + 2_000]  # 1.8 km north of the block
    m, notes = net.matrix_m(e, n)
    straight, _ = StraightLine(1.3).matrix_m(e, n)
    assert m[0, 2] == pytest.approx(straight[0, 2])
    assert notes
    assert "1 point(s) more than 300 m" in notes[0]


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("missing.osm", None, "not found"),
        ("empty.osm", '<osm version="0.6"></osm>', "no walkable ways"),
        ("bad.geojson", "not json", "cannot read line file"),
    ],
    ids=["missing", "no-ways", "unreadable"],
)
def test_bad_network_files(tmp_path, name, content, match):
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(InputFileError, match=match):
        load_network(path)


def test_detour_factor_range():
    with pytest.raises(ConfigError, match=r"between 1\.0 and 3\.0"):
        StraightLine(0.9)


@pytest.mark.slow
@pytest.mark.skipif(not MAIN_ROADS.exists(), reason="shared OSM main roads not present")
def test_real_main_roads_of_barrow():
    """On Barrow's OSM main roads, walking distances are longer than the crow flies."""
    barrow = load_areas(REPO_ROOT / "boundaries").get("barrow")
    minx, miny, maxx, maxy = barrow.geometry.bounds
    net = load_network(MAIN_ROADS, bbox=(minx, miny, maxx, maxy), max_snap_m=5_000)
    assert net.n_nodes > 100
    rng = np.random.default_rng(0)
    pick = rng.choice(net._snap_nodes, 60, replace=False)
    e, n = net.node_e[pick], net.node_n[pick]
    m, _ = net.matrix_m(e, n)
    straight, _ = StraightLine(1.0).matrix_m(e, n)
    far = straight > 500
    ratio = m[far] / straight[far]
    assert (ratio >= 1 - 1e-9).all()
    assert 1.05 < np.median(ratio) < 2.0
