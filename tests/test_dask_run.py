"""The national run on Dask: partitions, halo, islands, and the same map as one process.

``clic-geo hotspots --engine dask`` must give exactly what the single-process command
gives (same hotspots, ranks, scores, trends, p-values, outlines): checked on the real
Cumbria months split into grid squares, and on a small generated national-like set
split by its force areas, both with clusters that cross a partition border.
"""

from __future__ import annotations

import glob
import json
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from clic_geo._errors import ConfigError
from clic_geo.geo.areas import load_areas, load_service_area
from clic_geo.geo.crs import BNG
from clic_geo.hotspots.engine import area_hotspot_params
from clic_geo.hotspots.partition import Partitions, halo, islands, merge_islands, owners
from clic_geo.settings import REPO_ROOT, load_settings
from tests.conftest import police_files

pytest.importorskip("dask.distributed")

from clic_geo.hotspots.dask_run import LoadSpec, dask_hotspots, local_client


@pytest.fixture
def cumbria() -> list[Path]:
    """Four real months (2024-01..04) of data.police.uk street crime in Cumbria."""
    return [f for f in police_files() if f.name.startswith("2024-0")][:4]


def assert_same_map(one: gpd.GeoDataFrame, two: gpd.GeoDataFrame) -> None:
    """Same columns, dtypes, values and (bit for bit) outlines, in the same order."""
    assert list(one.columns) == list(two.columns)
    assert one.dtypes.astype(str).tolist() == two.dtypes.astype(str).tolist()
    for c in one.columns:
        if c == "geometry":
            same = [a.equals_exact(b, 0) for a, b in zip(one.geometry, two.geometry, strict=True)]
            assert all(same), f"{same.count(False)} outlines differ"
        else:
            assert one[c].astype(str).tolist() == two[c].astype(str).tolist(), c


def single_process(paths, settings, types=None, **params) -> gpd.GeoDataFrame:
    """What ``clic-geo hotspots --police-uk ...`` computes in one process."""
    from clic_geo.hotspots.forecast import recommended_map
    from clic_geo.ingest.police_uk import load_police_uk

    study = _study(settings)
    df = load_police_uk(paths, types=types, settings=settings)
    df = df[shapely.contains_xy(study, df["easting"].to_numpy(), df["northing"].to_numpy())]
    ap = area_hotspot_params(load_areas(settings.areas_dir))
    return recommended_map(df, area_params=ap, **params)


def _study(settings) -> shapely.Geometry:
    sa = load_service_area(settings.areas_dir).geometry
    return gpd.GeoSeries([sa], crs="EPSG:4326").to_crs(BNG).iloc[0]


@pytest.fixture(scope="module")
def client():
    c = local_client(2, processes=False)
    yield c
    cluster = c.cluster
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def national(tmp_path_factory) -> Path:
    sys.path.insert(0, str(REPO_ROOT))
    from benchmarks.national_data import generate

    out = tmp_path_factory.mktemp("national")
    generate(out, rows=6_000, months=4, seed=3, forces=8)
    return out


# --------------------------------------------------------------------------- partitions


def test_grid_partitions_number_squares_and_give_every_point_a_home() -> None:
    p = Partitions.grid((300_000, 450_000, 349_000, 499_000), 25)
    assert p.ids == ("E300N450", "E325N450", "E300N475", "E325N475")
    home = p.home(
        np.array([301_000.0, 330_000, 330_000, 900_000]), np.array([451e3, 451e3, 480e3, 451e3])
    )
    # the last point lies in no square: it belongs to the nearest
    assert home.tolist() == [0, 1, 3, 1]
    with pytest.raises(ConfigError, match="positive size"):
        Partitions.grid((0, 0, 1, 1), 0)


def test_partitions_from_any_polygon_layer_in_any_crs() -> None:
    squares = [shapely.box(-3.3, 54.0, -3.0, 54.3), shapely.box(-3.0, 54.0, -2.7, 54.3)]
    gdf = gpd.GeoDataFrame(
        {"PFA23CD": ["E1", "E2"], "PFA23NM": ["West", "East"]}, geometry=squares, crs="EPSG:4326"
    )
    p = Partitions.from_layer(gdf)
    assert p.ids == ("West", "East")
    assert Partitions.from_layer(gdf, id_field="PFA23CD").ids == ("E1", "E2")
    assert p.polygons[0].bounds[0] > 1000  # in metres (EPSG:27700)
    with pytest.raises(ConfigError, match="no column 'force'"):
        Partitions.from_layer(gdf, id_field="force")
    with pytest.raises(ConfigError, match="no CRS"):
        Partitions.from_layer(gdf.set_crs(None, allow_override=True))


def test_an_island_across_a_border_is_one_island_owned_once() -> None:
    # a street of points 60 m apart crossing the border at x = 0, and a far point
    x = np.arange(-600.0, 300.0, 60.0)
    xy = np.vstack([np.column_stack([x, np.zeros_like(x)]), [[5_000.0, 0.0]]])
    home = (xy[:, 0] >= 0).astype(np.int64)
    runs = []
    for part in (0, 1):
        own, near = halo(xy, home, part, 100.0)
        assert set(own) == set(np.flatnonzero(home == part))
        seen = np.concatenate([own, near])
        runs.append((seen, islands(xy[seen], 100.0)))
    # each side's halo reaches one step over the border, not further
    assert sorted(runs[0][0][len(np.flatnonzero(home == 0)) :].tolist()) == [10]
    island = merge_islands(len(xy), runs)
    assert len(set(island[:-1])) == 1 and island[-1] != island[0]
    own = owners(island, home)
    assert own[island[0]] == 0  # most of the street is west of the border
    assert own[island[-1]] == 1


# --------------------------------------------------------------------------- same map


def test_dask_map_equals_one_process_on_generated_forces(client, national: Path) -> None:
    settings = load_settings(national / "store", areas_dir=national / "boundaries")
    paths = sorted(glob.glob(str(national / "data" / "*.parquet")))
    one = single_process(paths, settings, n_simulations=19, eps_m=150.0)
    parts = Partitions.from_layer(national / "forces.geojson")
    two, run = dask_hotspots(
        paths,
        LoadSpec(settings=settings, study=_study(settings)),
        client=client,
        partitions=parts,
        n_simulations=19,
        eps_m=150.0,
        area_params=area_hotspot_params(load_areas(settings.areas_dir)),
    )
    assert run.partitions == 8 and run.partitions_used > 5
    assert run.cross_border_islands > 0  # the border machinery was needed
    assert run.read == run.accepted + run.rejected  # every row accounted for
    assert len(one) > 50
    assert_same_map(one, two)


@pytest.mark.slow
def test_dask_map_equals_one_process_on_real_cumbria_months(client, cumbria, tmp_path) -> None:
    settings = load_settings(tmp_path / "store")
    types = ["Drugs"]
    one = single_process(cumbria, settings, types=types)
    two, run = dask_hotspots(
        cumbria,
        LoadSpec(settings=settings, types=tuple(types), study=_study(settings)),
        client=client,
        partitions=Partitions.grid(_study(settings).bounds, 20),
        area_params=area_hotspot_params(load_areas(settings.areas_dir)),
    )
    assert run.cross_border_islands > 0 and run.partitions_used > 3
    assert (run.files, run.read, run.rejected) == (4, 12771, 65)
    assert_same_map(one, two)


def test_the_dask_engine_refuses_what_it_cannot_split(client, cumbria, tmp_path) -> None:
    settings = load_settings(tmp_path / "store")
    spec = LoadSpec(settings=settings, types=("Robbery",), study=_study(settings))
    with pytest.raises(ConfigError, match="runs DBSCAN"):
        dask_hotspots(cumbria[:1], spec, client=client, method="hdbscan", eps_m=150)
    with pytest.raises(ConfigError, match="no rows of type"):
        dask_hotspots(cumbria[:1], LoadSpec(settings=settings, types=("Piracy",)), client=client)


@pytest.mark.slow
def test_cli_dask_engine_writes_the_single_process_map(
    national: Path, tmp_path, monkeypatch, capsys
) -> None:
    from clic_geo.cli import main

    monkeypatch.setenv("CLIC_AREAS_DIR", str(national / "boundaries"))
    paths = sorted(glob.glob(str(national / "data" / "*.parquet")))
    base = ["--data-dir", str(tmp_path / "s"), "hotspots", "--police-uk", *paths]
    base += ["--eps-m", "150", "--simulations", "9", "--json"]
    runs = {}
    for engine in ("single", "dask"):
        out = tmp_path / f"{engine}.geojson"
        extra = ["--engine", "dask", "--workers", "1"]
        extra += ["--partitions", str(national / "forces.geojson")]
        assert main([*base, "--out", str(out), *(extra if engine == "dask" else [])]) == 0
        last = capsys.readouterr().out.strip().splitlines()[-1]
        runs[engine] = (json.loads(last), gpd.read_file(out))
    info = runs["dask"][0]["dask"]
    assert len(info["worker_peak_mb"]) == 1
    assert all(v > 50 for v in info["worker_peak_mb"].values())
    assert runs["single"][0]["hotspots"] == runs["dask"][0]["hotspots"] > 20
    a, b = runs["single"][1], runs["dask"][1]
    # the one difference: the single process also names each outline (`place`: the
    # commonest location label inside; the Dask run does not hold the rows to do so)
    assert "place" not in b and a.pop("place").str.len().gt(0).any()
    pd.testing.assert_frame_equal(
        pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry"))
    )
    assert a.geometry.geom_equals_exact(b.geometry, 0).all()


def test_cli_dask_engine_needs_files(tmp_path, capsys) -> None:
    from clic_geo.cli import main

    out = str(tmp_path / "x.geojson")
    args = ["--data-dir", str(tmp_path / "s"), "hotspots", "--from-store", "--out", out]
    assert main([*args, "--engine", "dask"]) == 1
    assert "--engine dask reads files" in capsys.readouterr().err
