"""Base map layers: any vector file in, the shipped Cumbria layer, what a map is sent."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from clic_geo._errors import ConfigError, InputFileError
from clic_geo.cli import main
from clic_geo.geo import basemap as bm
from clic_geo.geo import crs as geo
from clic_geo.reporting.base_layer import BASE_STYLE, add_base_layer, base_payload, road_labels
from clic_geo.reporting.maps import offline_map, rendered_html

BARROW = (-3.2715, 54.092, -3.17, 54.164)
E0, N0 = 320_000.0, 469_000.0


def _bng_line(*xy: tuple[float, float]) -> shapely.LineString:
    return shapely.LineString([(E0 + x, N0 + y) for x, y in xy])


def write_os_roads(path: Path) -> Path:
    """Roads as OS Open Roads names them, in British National Grid."""
    gdf = gpd.GeoDataFrame(
        {
            "class": ["A Road", "B Road", "Unclassified", "Motorway"],
            "name1": ["Abbey Road", "Park Drive", None, ""],
            "roadNumber": ["A590", "B5000", None, "M6"],
        },
        geometry=[
            _bng_line((0, 0), (500, 0)),
            _bng_line((0, 0), (0, 500)),
            _bng_line((0, 500), (500, 500)),
            _bng_line((500, 0), (500, 500)),
        ],
        crs=geo.BNG,
    )
    gdf.to_file(path, driver="GPKG")
    return path


OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
{nodes}
<way id="10" version="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/>
<tag k="name" v="Duke Street"/></way>
<way id="11" version="1"><nd ref="3"/><nd ref="4"/><nd ref="5"/><nd ref="6"/><nd ref="3"/>
<tag k="natural" v="water"/><tag k="name" v="Cavendish Dock"/></way>
<node id="7" lat="{plat}" lon="{plon}" version="1"><tag k="place" v="town"/>
<tag k="name" v="Barrow-in-Furness"/></node>
</osm>
"""


def write_osm(path: Path) -> Path:
    pts = {1: (0, 0), 2: (300, 0), 3: (0, 100), 4: (200, 100), 5: (200, 300), 6: (0, 300)}
    lon, lat = geo.to_wgs84(
        np.array([E0 + x for x, _ in pts.values()]), np.array([N0 + y for _, y in pts.values()])
    )
    nodes = "\n".join(
        f'<node id="{k}" lat="{b:.8f}" lon="{a:.8f}" version="1"/>'
        for k, a, b in zip(pts, lon, lat, strict=True)
    )
    path.write_text(OSM.format(nodes=nodes, plat=lat[0], plon=lon[0]), encoding="utf-8")
    return path


def test_os_open_roads_in_british_national_grid(tmp_path: Path) -> None:
    gdf = bm.read_layer(write_os_roads(tmp_path / "roads.gpkg"), simplify=0)
    assert gdf.crs.to_epsg() == 4326
    assert list(gdf.columns) == bm.COLUMNS
    assert set(gdf["kind"]) == {"roads"}
    by_ref = dict(zip(gdf["ref"], gdf["cls"], strict=True))
    assert by_ref == {"A590": "primary", "B5000": "secondary", "": "minor", "M6": "motorway"}
    abbey = gdf[gdf["name"] == "Abbey Road"].geometry.iloc[0]
    e, n = geo.to_bng(*np.asarray(abbey.coords).T)
    assert e == pytest.approx([E0, E0 + 500], abs=0.01)
    assert n == pytest.approx([N0, N0], abs=0.01)


def test_openstreetmap_extract_gives_roads_water_and_places(tmp_path: Path) -> None:
    gdf = bm.read_layer(write_osm(tmp_path / "town.osm"), simplify=0)
    kinds = dict(list(gdf.groupby("kind")))
    assert set(kinds) == {"roads", "water", "places"}
    assert kinds["roads"]["name"].tolist() == ["Duke Street"]
    assert kinds["roads"]["cls"].tolist() == ["minor"]
    assert kinds["water"]["cls"].tolist() == ["lake"]
    area = kinds["water"].to_crs(geo.BNG).area.iloc[0]
    assert area == pytest.approx(200 * 200, rel=0.01)
    assert kinds["places"][["cls", "name"]].values.tolist() == [["town", "Barrow-in-Furness"]]
    only = bm.read_layer(tmp_path / "town.osm", "water")
    assert set(only["kind"]) == {"water"}


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("none.geojson", None, "not found"),
        ("bad.geojson", "{not json", "cannot read"),
        ("empty.geojson", '{"type":"FeatureCollection","features":[]}', "no features"),
    ],
)
def test_bad_files_say_why(tmp_path: Path, name: str, content: str | None, match: str) -> None:
    p = tmp_path / name
    if content is not None:
        p.write_text(content)
    with pytest.raises(InputFileError, match=match):
        bm.read_layer(p)


def test_a_file_without_crs_or_of_unknown_kind_is_refused(tmp_path: Path) -> None:
    shp = tmp_path / "noprj.shp"
    gpd.GeoDataFrame(geometry=[_bng_line((0, 0), (10, 10))], crs=geo.BNG).to_file(shp)
    shp.with_suffix(".prj").unlink()
    with pytest.raises(InputFileError, match="no coordinate reference system"):
        bm.read_layer(shp)
    p = tmp_path / "bng.geojson"  # British National Grid metres, no "crs" member
    p.write_text(gpd.GeoSeries([_bng_line((0, 0), (10, 10))]).to_json())
    with pytest.raises(InputFileError, match="longitude/latitude but they are not"):
        bm.read_layer(p)
    with pytest.raises(InputFileError, match="unknown base layer kind"):
        bm.read_layer(write_os_roads(tmp_path / "r.gpkg"), "railways")


def test_stored_layers_replace_the_shipped_one_of_their_kind(store, tmp_path: Path) -> None:
    shipped, credit = store.base_features()
    assert credit == bm.BUILTIN_ATTRIBUTION
    assert {"roads", "water"} <= set(shipped["kind"])
    with pytest.raises(InputFileError):
        store.import_base_layer(tmp_path / "missing.gpkg", actor="t")
    assert store.base_layers() == []  # nothing stored from a bad file
    [row] = store.import_base_layer(
        write_os_roads(tmp_path / "roads.gpkg"), actor="analyst", attribution="Contains OS data"
    )
    assert row["kind"] == "roads" and row["features"] == 4 and row["actor"] == "analyst"
    assert row["source_crs"].endswith("27700") and len(row["file_sha256"]) == 64
    mixed, credit = store.base_features()
    assert sorted(mixed[mixed["kind"] == "roads"]["ref"]) == ["", "A590", "B5000", "M6"]
    assert (mixed["kind"] == "water").sum() == (shipped["kind"] == "water").sum()
    assert credit == f"{bm.BUILTIN_ATTRIBUTION}; Contains OS data"
    store.remove_base_layer(row["id"])
    again, _ = store.base_features()
    assert (again["kind"] == "roads").sum() == (shipped["kind"] == "roads").sum()
    with pytest.raises(ConfigError, match="no base layer"):
        store.remove_base_layer(row["id"])


def test_command_line_import_list_remove(tmp_path: Path, capsys) -> None:
    d = str(tmp_path / "store")
    src = write_osm(tmp_path / "town.osm")
    assert main(["--data-dir", d, "basemap", "import", str(src), "--json"]) == 0
    out = capsys.readouterr().out
    stored = json.loads(out.strip().splitlines()[-1])["stored"]
    assert sorted(r["kind"] for r in stored) == ["places", "roads", "water"]
    assert {r["attribution"] for r in stored} == {bm.BUILTIN_ATTRIBUTION}
    assert main(["--data-dir", d, "basemap", "list"]) == 0
    listed = capsys.readouterr().out
    assert "town.osm" in listed and "shipped" not in listed  # roads and water both stored
    assert main(["--data-dir", d, "basemap", "remove", str(stored[0]["id"])]) == 0
    assert main(["--data-dir", d, "basemap", "remove", "999"]) == 1
    assert "no base layer with id 999" in capsys.readouterr().err
    assert main(["--data-dir", d, "basemap", "import", str(tmp_path / "nope.gpkg")]) == 2


def test_the_shipped_layer_is_small_and_has_roads_rivers_lakes_and_sea() -> None:
    assert bm.BUILTIN.stat().st_size < 1_000_000
    assert (bm.BUILTIN.parent / "PROVENANCE.md").is_file()
    gdf = bm.read_builtin()
    counts = gdf.groupby("cls").size()
    assert {"trunk", "primary", "river", "lake", "sea"} <= set(counts.index)
    assert set(gdf["cls"]) <= set(BASE_STYLE)
    # the Walney Channel is sea: Barrow's centre and Walney are land either side of it
    sea = gdf[gdf["cls"] == "sea"].union_all()
    town, walney = shapely.Point(-3.2268, 54.114), shapely.Point(-3.255, 54.106)
    assert not sea.contains(town) and not sea.contains(walney)
    assert shapely.LineString([town, walney]).intersects(sea)


def test_a_map_is_sent_only_its_view_and_credits_openstreetmap() -> None:
    gdf = bm.read_builtin()
    sizes = {}
    for label, bounds, zoom in [
        ("county", (-3.6, 54.05, -2.0, 55.15), 9),
        ("town", BARROW, 13),
        ("street", (-3.24, 54.105, -3.21, 54.125), 16),
    ]:
        m = offline_map(
            center=((bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2), zoom=zoom
        )
        sizes[label] = add_base_layer(
            m, gdf, bounds=bounds, zoom=zoom, attribution="© OpenStreetMap contributors"
        )
        html = rendered_html(m)
        assert "clicBase" in html and "OpenStreetMap contributors" in html
    assert sizes["county"] < 400_000
    assert sizes["street"] < sizes["town"] < 100_000
    fc, _, _ = base_payload(gdf, BARROW, 13)
    classes = {f["properties"]["c"] for f in fc["features"]}
    assert {"sea", "primary", "tertiary"} <= classes
    # the county view leaves out the streets a county map cannot show
    county, _, _ = base_payload(gdf, (-3.6, 54.05, -2.0, 55.15), 9)
    assert {"tertiary", "minor"}.isdisjoint(f["properties"]["c"] for f in county["features"])


def test_a_views_payload_is_kept_but_not_carried_into_other_frames() -> None:
    """The payload of a view is computed once per layer object; it must not ride in
    ``gdf.attrs``, which pandas deep-copies into every frame derived from the layer
    (that made a town view take 3 s of copying after the county view was kept)."""
    gdf = bm.read_builtin()
    first = base_payload(gdf, BARROW, 13)
    assert base_payload(gdf, BARROW, 13) is first
    assert gdf.attrs == {} and gdf[gdf["kind"] == "roads"].attrs == {}
    assert base_payload(gdf.copy(), BARROW, 13) is not first  # another layer object


def test_road_names_follow_the_roads_and_are_escaped() -> None:
    labels = road_labels(bm.for_view(bm.read_builtin(), BARROW, 16))
    names = {t for *_, t in labels}
    assert "Abbey Road" in names and any(t.startswith("Walney Road") for t in names)
    assert all(-90 <= a <= 90 for _, _, a, _ in labels)
    hostile = gpd.GeoDataFrame(
        {
            "kind": ["roads"],
            "cls": ["minor"],
            "name": ["<img src=x onerror=alert(1)>"],
            "ref": [""],
        },
        geometry=[shapely.LineString([(-3.23, 54.11), (-3.22, 54.11)])],
        crs=geo.WGS84,
    )
    [(_, _, angle, text)] = road_labels(hostile)
    assert angle == 0 and "<img" not in text and "&lt;img" in text


def test_the_meeting_pack_map_draws_the_base_map_under_the_shapes() -> None:
    from clic_geo.geo.areas import load_areas
    from clic_geo.reporting.svg import _map_svg
    from clic_geo.settings import REPO_ROOT

    area = load_areas(REPO_ROOT / "boundaries").get("barrow")
    square = shapely.box(-3.23, 54.11, -3.22, 54.12)
    svg = _map_svg(
        area,
        [(square, "#440154", "a square", "#1")],
        title="t",
        base=(bm.read_builtin(), "<b>© OpenStreetMap contributors</b>"),
    )
    plain = _map_svg(area, [(square, "#440154", "a square", "#1")], title="t")
    assert BASE_STYLE["sea"]["fill"] in svg and BASE_STYLE["primary"]["color"] in svg
    assert BASE_STYLE["sea"]["fill"] not in plain
    # under the data: every base path comes before the data's shape
    assert svg.index(BASE_STYLE["primary"]["color"]) < svg.index("#440154")
    assert "Base map: &lt;b&gt;© OpenStreetMap contributors&lt;/b&gt;" in svg
    assert len(svg) < 150_000


def test_an_osm_pbf_extract_reads_like_the_xml(tmp_path: Path) -> None:
    import osmium

    src = write_osm(tmp_path / "town.osm")
    pbf = tmp_path / "town.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as w:
        for obj in osmium.FileProcessor(str(src)):
            (w.add_node if obj.is_node() else w.add_way)(obj)
    gdf = bm.read_layer(pbf, simplify=0)
    assert sorted(gdf["kind"]) == ["places", "roads", "water"]
    assert set(gdf["name"]) == {"Duke Street", "Cavendish Dock", "Barrow-in-Furness"}


def test_road_segments_for_a_route_sheet() -> None:
    seg = bm.road_segments(bm.read_builtin(), (-3.26, 54.10, -3.20, 54.13))
    assert seg.ndim == 2 and seg.shape[1] == 4 and len(seg) > 100
    e, n = geo.to_bng(np.array([-3.26, -3.20]), np.array([54.10, 54.13]))
    mid_e, mid_n = (seg[:, 0] + seg[:, 2]) / 2, (seg[:, 1] + seg[:, 3]) / 2
    near = (mid_e > e[0] - 3000) & (mid_e < e[1] + 3000) & (mid_n > n[0] - 3000)
    assert near.all() and (mid_n < n[1] + 3000).all()
    assert bm.road_segments(bm.read_builtin().iloc[:0], (0, 0, 1, 1)).shape == (0, 4)
