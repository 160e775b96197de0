"""Operating areas are data: loading, validation, assignment, building from ONS files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from clic_geo._errors import ConfigError, InputFileError, NotFoundError
from clic_geo.cli import main
from clic_geo.geo.areas import (
    build_area_from_boundaries,
    build_service_area_from_boundaries,
    load_areas,
    load_service_area,
    write_area,
)
from clic_geo.settings import REPO_ROOT, load_settings
from tests.conftest import BOUNDARIES

REPO_AREAS = REPO_ROOT / "boundaries"


def test_the_four_areas() -> None:
    areas = load_areas(REPO_AREAS)
    assert areas.ids == ["barrow", "kendal", "carlisle", "west_cumbria"]
    assert areas.names()["west_cumbria"] == "West Cumbria"
    sa = load_service_area(REPO_AREAS)
    for a in areas:
        assert sa.geometry.contains(a.geometry)
        assert 5 < a.area_km2 < 60
        assert a.partnership_start is not None
    gdf = areas.to_gdf()
    assert gdf.crs.to_epsg() == 4326 and len(gdf) == 4


@pytest.mark.parametrize(
    ("lat", "lon", "area"),
    [
        (54.1115, -3.2280, "barrow"),  # Barrow town centre
        (54.1100, -3.2550, "barrow"),  # Walney
        (54.3280, -2.7460, "kendal"),
        (54.8920, -2.9340, "carlisle"),
        (54.6420, -3.5480, "west_cumbria"),  # Workington
        (54.5480, -3.5870, "west_cumbria"),  # Whitehaven
        (54.6640, -2.7520, None),  # Penrith: Cumbria, but no operating area
        (np.nan, np.nan, None),
    ],
)
def test_assign(lat: float, lon: float, area: str | None) -> None:
    assert load_areas(REPO_AREAS).assign(np.array([lon]), np.array([lat]))[0] == area


def test_get_unknown_area_lists_the_known_ones() -> None:
    with pytest.raises(NotFoundError, match="no operating area 'penrith'; areas are: barrow"):
        load_areas(REPO_AREAS).get("penrith")


def _copy_areas(tmp_path: Path) -> Path:
    d = tmp_path / "b"
    shutil.copytree(REPO_AREAS, d)
    return d


def test_adding_a_fifth_area_is_adding_a_file(tmp_path: Path, monkeypatch) -> None:
    d = _copy_areas(tmp_path)
    penrith = {
        "type": "Feature",
        "properties": {
            "id": "penrith",
            "name": "Penrith",
            "order": 5,
            "base_point": {"name": "Penrith police station", "lat": 54.664, "lon": -2.752},
            "partnership_start": "2027-01-01",
        },
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[-2.78, 54.65], [-2.73, 54.65], [-2.73, 54.68], [-2.78, 54.68], [-2.78, 54.65]]
            ],
        },
    }
    (d / "areas" / "penrith.geojson").write_text(json.dumps(penrith))
    areas = load_areas(d)
    assert areas.ids[-1] == "penrith"
    assert areas.assign(np.array([-2.752]), np.array([54.664]))[0] == "penrith"
    assert areas.get("penrith").view_zoom >= 12  # a view fitted to the outline
    # the installation picks it up with no code change
    monkeypatch.setenv("CLIC_AREAS_DIR", str(d))
    assert "penrith" in load_areas(load_settings(tmp_path / "s").areas_dir)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f["properties"].pop("name"), "missing 'name'"),
        (lambda f: f["properties"].update(base_point={"lat": "x"}), "numeric 'lat' and 'lon'"),
        (lambda f: f["properties"]["base_point"].update(lat=54.9, lon=-2.9), "outside the area"),
        (
            lambda f: f.update(geometry={"type": "Point", "coordinates": [-3.2, 54.1]}),
            "Polygon or MultiPolygon",
        ),
        (
            lambda f: f.update(
                geometry={
                    "type": "Polygon",
                    "coordinates": [
                        [[319000, 468000], [320000, 468000], [320000, 469000], [319000, 468000]]
                    ],
                }
            ),
            "not in WGS84",
        ),
        (lambda f: f["properties"].update(partnership_start="spring"), "not YYYY-MM-DD"),
    ],
    ids=["name", "base-point", "base-far", "point", "bng", "start-date"],
)
def test_invalid_area_files(tmp_path: Path, change, message: str) -> None:
    d = _copy_areas(tmp_path)
    f = d / "areas" / "kendal.geojson"
    feat = json.loads(f.read_text())
    change(feat)
    f.write_text(json.dumps(feat))
    with pytest.raises(ConfigError, match=message):
        load_areas(d)


def test_duplicate_ids_and_empty_directory(tmp_path: Path) -> None:
    d = _copy_areas(tmp_path)
    shutil.copy(d / "areas" / "kendal.geojson", d / "areas" / "kendal2.geojson")
    with pytest.raises(ConfigError, match="area id 'kendal' is used by 2 files"):
        load_areas(d)
    (tmp_path / "empty" / "areas").mkdir(parents=True)
    with pytest.raises(ConfigError, match="no operating areas found"):
        load_areas(tmp_path / "empty")


def _lad() -> Path:
    f = BOUNDARIES / "lad_2013_cumbria_districts.geojson"
    if not f.exists():
        pytest.skip("ONS boundaries not available")
    return f


def test_build_area_from_ons_districts_keeps_base_point(tmp_path: Path) -> None:
    existing = load_areas(REPO_AREAS).get("barrow")
    feat = build_area_from_boundaries(_lad(), ["E07000027"], area_id="barrow", existing=existing)
    assert feat["properties"]["base_point"]["name"] == existing.base_point.name
    assert feat["properties"]["partnership_start"] == "2022-02-01"
    d = _copy_areas(tmp_path)
    write_area(feat, d / "areas" / "barrow.geojson")
    official = load_areas(d).get("barrow")
    assert 75 < official.area_km2 < 85  # Barrow-in-Furness district ~78 km²
    assert official.geometry.contains(existing.geometry.centroid)


def test_build_from_wards_by_code_field(tmp_path: Path) -> None:
    wards = BOUNDARIES / "wards_dec2019_cumbria.geojson"
    if not wards.exists():
        pytest.skip("ONS boundaries not available")
    import geopandas as gpd

    w = gpd.read_file(wards)
    codes = w.loc[w["LAD19NM"] == "Carlisle", "WD19CD"].head(3).tolist()
    feat = build_area_from_boundaries(wards, codes, area_id="x", name="X", field="WD19CD")
    assert feat["properties"]["name"] == "X"
    with pytest.raises(ConfigError, match="codes not found in field 'WD19CD': E05999999"):
        build_area_from_boundaries(wards, [*codes, "E05999999"], area_id="x", field="WD19CD")
    with pytest.raises(ConfigError, match="appear in any field"):
        build_area_from_boundaries(wards, ["Z99"], area_id="x")


def test_build_service_area_and_cli(tmp_path: Path, capsys) -> None:
    feat = build_service_area_from_boundaries(
        _lad(), [f"E070000{n}" for n in range(26, 32)], simplify_m=1500, buffer_m=1500
    )
    assert feat["properties"]["name"] == "Cumbria"
    d = _copy_areas(tmp_path)
    out = tmp_path / "svc"
    assert (
        main(
            [
                "--data-dir",
                str(tmp_path / "s"),
                "areas",
                "service-area",
                "--from",
                str(_lad()),
                "--codes",
                "E07000026,E07000027,E07000028,E07000029,E07000030,E07000031",
                "--simplify-m",
                "1500",
                "--buffer-m",
                "1500",
                "--out-dir",
                str(out),
            ]
        )
        == 0
    )
    assert load_service_area(out).geometry.area > 0.5
    assert (
        main(
            [
                "--data-dir",
                str(tmp_path / "s"),
                "areas",
                "build",
                "--from",
                str(_lad()),
                "--codes",
                "E07000031",
                "--id",
                "kendal",
                "--out-dir",
                str(d),
            ]
        )
        == 0
    )
    assert load_areas(d).get("kendal").area_km2 > 1500  # all of South Lakeland now


def test_unreadable_boundary_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="boundary file not found"):
        build_area_from_boundaries(tmp_path / "nope.gpkg", ["E1"], area_id="x")


def test_reassign_after_areas_change(settings, store, ctx, write, tmp_path: Path) -> None:
    from clic_geo.ingest.importer import import_file

    p = write(
        "i.csv",
        "id,date,type,lat,lon\n1,2024-03-05,drugs,54.664,-2.752\n"
        "2,2024-03-05,drugs,54.115,-3.227\n",
    )
    import_file(p, "incidents", settings=settings, store=store, context=ctx)
    before = store.incidents()["area_id"]
    assert before.isna().tolist() == [True, False] and before.iloc[1] == "barrow"
    d = _copy_areas(tmp_path)
    (d / "areas" / "barrow.geojson").unlink()
    changed = store.reassign_areas(load_areas(d).assign)
    assert changed["incidents"] == 1
    assert store.incidents()["area_id"].isna().all()
