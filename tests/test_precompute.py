"""Hotspot maps and trust tests are computed when data change, stored, and read by pages.

Counts, not timings: every hotspot clustering logs one debug line
(``clic_geo.hotspots.engine``); a page opened after a refresh must log none. The speed
itself is measured by ``benchmarks/bench_map_page.py`` in a real browser.
"""

from __future__ import annotations

import logging
import threading
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
import shapely
import streamlit as st

from clic_geo.cli import main as cli
from clic_geo.geo.areas import load_areas
from clic_geo.hotspots.current import current_hotspots
from clic_geo.ingest.importer import import_file
from clic_geo.reporting import derived_service as derived
from clic_geo.settings import load_settings
from clic_geo.store import Store
from tests.test_app import app_env, demo_store, run  # noqa: F401 - fixtures

RUN_LINE = "hotspot clustering run"
BACKGROUND = "clic-refresh"


def page_runs(caplog) -> int:
    """Clusterings run by a page (not by the background refresh thread)."""
    return sum(RUN_LINE in r.getMessage() and r.threadName != BACKGROUND for r in caplog.records)


def background_runs(caplog) -> int:
    return sum(RUN_LINE in r.getMessage() and r.threadName == BACKGROUND for r in caplog.records)


def incidents_csv(tmp_path: Path, n: int = 6, *, day: str = "2026-10-14") -> Path:
    """A few drug-supply incidents in central Barrow (a new day's records)."""
    rows = [
        f"X{n}-{i},{day} 21:{i:02d},drug supply,{54.1110 + i * 1e-4:.4f},-3.2270,Dalton Road"
        for i in range(n)
    ]
    f = tmp_path / f"new-{n}.csv"
    f.write_text("id,date,type,latitude,longitude,location\n" + "\n".join(rows) + "\n")
    return f


def wait_refreshed(store: Store, timeout_s: float = 600.0) -> None:
    """Wait for the app's background refresh (the app runs in this process)."""
    from app_pages.common import resources

    assert resources().refresher.wait(timeout_s), "the background refresh did not finish"
    assert resources().refresher.failed is None
    assert not derived.needs_refresh(store)


def test_pages_open_without_clustering_after_a_refresh(app_env, caplog) -> None:  # noqa: F811
    caplog.set_level(logging.DEBUG, logger="clic_geo.hotspots.engine")
    st.cache_data.clear()
    at = run()
    assert not at.exception
    assert page_runs(caplog) == 0, "the map page clustered on open"
    # the trust verdict is there at once, no button to press
    assert not any("Not tested yet" in x.value for x in at.caption)
    assert not [b for b in at.button if b.key == "map_trust_go"]
    assert not any("Updating" in x.value for x in at.caption)
    # the same for the other stored period (12 months) and an area
    at.selectbox(key="map_area").select("barrow").run()
    assert not at.exception
    assert page_runs(caplog) == 0, "an area change clustered"
    at.switch_page("app_pages/data_page.py").run()
    assert not at.exception
    assert page_runs(caplog) == 0, "the Data page ran a backtest"
    table = at.dataframe[-2].value if len(at.dataframe) > 1 else None
    assert table is not None and "In words" in table.columns
    assert not table["In words"].str.contains("Being computed").any()
    # Trends of all Cumbria (one area's "did it work?" evaluation is computed when asked,
    # with a spinner: it depends on a date the user picks)
    at.switch_page("app_pages/map_page.py").run()
    at.selectbox(key="map_area").select("__all__").run()
    at.switch_page("app_pages/trends_page.py").run()
    assert not at.exception
    assert page_runs(caplog) == 0
    assert background_runs(caplog) == 0, "nothing was out of date"


def test_a_period_not_stored_is_computed_once_then_stored(app_env, caplog) -> None:  # noqa: F811
    caplog.set_level(logging.DEBUG, logger="clic_geo.hotspots.engine")
    st.cache_data.clear()
    at = run()
    store = Store.open(load_settings())
    _first, end = store.date_span()
    n_before = len(store.result_stamps())
    start = (pd.Timestamp(end) - pd.DateOffset(months=5)).date()
    at.date_input(key="map_period").set_value((start, end)).run()
    assert not at.exception
    assert page_runs(caplog) >= 1, "a period nobody asked for before is computed on the page"
    assert len(store.result_stamps()) == n_before + 1, "and stored for the next person"
    st.cache_data.clear()  # another server process: reads it from the store
    n = page_runs(caplog)
    at.date_input(key="map_period").set_value((start, end)).run()
    assert not at.exception
    assert page_runs(caplog) == n
    store.close()


def test_an_import_makes_results_stale_and_the_refresh_updates_them(
    app_env,  # noqa: F811
    tmp_path: Path,
    caplog,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG, logger="clic_geo.hotspots.engine")
    # the background refresh waits for the test's go, so the page meets the stale map
    go, real_refresh = threading.Event(), derived.refresh

    def gated(*args, **kwargs):
        assert go.wait(600)
        return real_refresh(*args, **kwargs)

    monkeypatch.setattr(derived, "refresh", gated)
    st.cache_data.clear()
    settings = load_settings()
    store = Store.open(settings)
    first, last = store.date_span()
    period = derived.default_period(first, last, 3)
    cats = derived.DEFAULT_CATEGORIES
    before = derived.load_hotspots(store, "barrow", *period, cats)
    assert before is not None and not before.stale
    n_barrow = int(before.value.hotspots["n_incidents"].sum())
    # an import the pages did not hear about (e.g. another process without a refresh)
    import_file(
        incidents_csv(tmp_path, 6, day=f"{last:%Y-%m-%d}"),
        "incidents",
        settings=settings,
        store=store,
    )
    stale = derived.load_hotspots(store, "barrow", *period, cats)
    assert stale is not None and stale.stale
    # the page shows the stored map with a note, and starts the refresh
    at = run()
    at.selectbox(key="map_area").select("barrow").run()
    assert not at.exception
    assert any("Updating" in x.value for x in at.caption)
    assert page_runs(caplog) == 0, "the page clustered instead of showing the stored map"
    go.set()
    wait_refreshed(store)
    assert background_runs(caplog) >= 1
    fresh = derived.load_hotspots(store, "barrow", *period, cats)
    assert fresh is not None and not fresh.stale
    assert int(fresh.value.hotspots["n_incidents"].sum()) > n_barrow
    at.selectbox(key="map_area").select("kendal").run()
    at.selectbox(key="map_area").select("barrow").run()
    assert not any("Updating" in x.value for x in at.caption)
    assert page_runs(caplog) == 0
    store.close()


def test_a_write_that_leaves_incidents_alone_only_restamps(app_env) -> None:  # noqa: F811
    settings = load_settings()
    store = Store.open(settings)
    n = len(store.result_stamps())
    a = store.addresses().iloc[0]
    # a recorded visit, as the Plan page records it
    store.record_visit(
        visited_at=datetime(2026, 11, 20, 10), outcome="no reply", address_id=a["id"]
    )
    assert derived.needs_refresh(store)
    r = derived.refresh(store, load_areas(settings.areas_dir))
    assert r.computed == [], "no incident changed: nothing to recompute"
    assert r.kept == n and r.dropped == 0
    assert not derived.needs_refresh(store)
    store.close()


def test_clic_geo_import_refreshes_and_refresh_recomputes_what_changed(
    tmp_path: Path, capsys
) -> None:
    d = tmp_path / "store"
    f = incidents_csv(tmp_path, 8, day="2026-09-03")
    assert cli(["--data-dir", str(d), "import", "incidents", str(f)]) == 0
    assert "refreshed for data version" in capsys.readouterr().err
    store = Store.open(load_settings(d))
    assert not derived.needs_refresh(store)
    stamps = store.result_stamps()
    assert stamps and {s[2] for s in stamps} == {store.data_version()}
    g = incidents_csv(tmp_path, 5, day="2026-09-20")
    assert cli(["--data-dir", str(d), "import", "incidents", "--no-refresh", str(g)]) == 0
    assert derived.needs_refresh(store)
    assert cli(["--data-dir", str(d), "refresh", "--area", "barrow", "--json"]) == 0
    out = capsys.readouterr().out
    # 17 days of data: the 3- and 12-month periods are one; its map and the trust test
    assert '"computed": 2' in out and '"dropped": 0' in out
    assert derived.needs_refresh(store), "the other areas are still to do"
    assert cli(["--data-dir", str(d), "refresh"]) == 0
    assert not derived.needs_refresh(store)
    assert cli(["--data-dir", str(d), "refresh", "--area", "nowhere"]) == 1
    assert "unknown area" in capsys.readouterr().err
    store.close()


def test_a_stored_map_is_the_map_computed(app_env) -> None:  # noqa: F811
    settings = load_settings()
    store = Store.open(settings)
    areas = load_areas(settings.areas_dir)
    first, last = store.date_span()
    start, end = derived.default_period(first, last, 12)
    inc = pd.DataFrame(store.incidents(area="kendal").drop(columns="geometry"))
    inc = inc[inc["category"].isin(derived.DEFAULT_CATEGORIES)]
    cur = current_hotspots(inc, start=start, end=end, area_km2={a.id: a.area_km2 for a in areas})
    got = derived.load_hotspots(store, "kendal", start, end, derived.DEFAULT_CATEGORIES)
    assert got is not None and not got.stale
    hs = got.value.hotspots
    assert len(hs) == len(cur.hotspots) > 0
    cols = [c for c in cur.hotspots.columns if c != "geometry"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(hs[cols]).astype(object).where(hs[cols].notna(), None),
        pd.DataFrame(cur.hotspots[cols]).astype(object).where(cur.hotspots[cols].notna(), None),
        check_dtype=False,
    )
    gap = shapely.hausdorff_distance(hs.geometry.to_numpy(), cur.hotspots.geometry.to_numpy())
    assert (gap < 1e-5).all()  # 6 decimals of a degree: about 0.1 m
    pd.testing.assert_frame_equal(got.value.history, cur.history, check_names=False)
    store.close()


@pytest.mark.slow
def test_stale_trust_month_is_recomputed(app_env) -> None:  # noqa: F811
    settings = load_settings()
    store = Store.open(settings)
    areas = load_areas(settings.areas_dir)
    later = date.today().replace(day=1) + pd.DateOffset(months=1)
    month = later.strftime("%Y-%m")
    got = derived.load_trust(store, None, derived.DEFAULT_CATEGORIES, month)
    assert got is not None and got.stale, "a new month makes one more month complete"
    r = derived.refresh(store, areas, area_ids=[None], today=later.date())
    assert len(r.computed) == 1
    got = derived.load_trust(store, None, derived.DEFAULT_CATEGORIES, month)
    assert got is not None and not got.stale
    store.close()


@pytest.mark.slow
def test_stored_results_on_postgis(pg_url: str, tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "pg", database_url=pg_url)
    store = Store.open(settings)
    areas = load_areas(settings.areas_dir)
    import_file(
        incidents_csv(tmp_path, 12, day="2026-09-03"), "incidents", settings=settings, store=store
    )
    r = derived.refresh(store, areas)
    assert len(r.computed) == 2 * (1 + len(areas.ids))  # one period (17 days), the trust test
    first, last = store.date_span()
    period = derived.default_period(first, last, 3)
    got = derived.load_hotspots(store, "barrow", *period, derived.DEFAULT_CATEGORIES)
    assert got is not None and not got.stale and len(got.value.hotspots) >= 1
    import_file(
        incidents_csv(tmp_path, 4, day="2026-09-03"), "incidents", settings=settings, store=store
    )
    assert derived.load_hotspots(store, "barrow", *period, derived.DEFAULT_CATEGORIES).stale
    assert derived.needs_refresh(store)
    derived.refresh(store, areas)
    assert not derived.needs_refresh(store)
    store.close()
