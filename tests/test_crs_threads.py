"""The BNG transformer is never shared between threads.

PROJ transformers taken from a TransformerGroup are not thread-safe; the dashboard
projects points in its session threads and in its background refresh at the same
time, and one shared transformer crashed the interpreter (segmentation fault in CI).
"""

from __future__ import annotations

import threading

import numpy as np

from clic_geo.geo import crs


def test_each_thread_projects_with_its_own_transformer() -> None:
    rng = np.random.default_rng(7)
    lon = rng.uniform(-3.6, -2.5, 20_000)
    lat = rng.uniform(54.0, 55.0, 20_000)
    want_e, want_n = crs.to_bng(lon, lat)
    seen: list[int] = []
    results: list[bool] = []
    start = threading.Barrier(4)

    def work() -> None:
        start.wait()
        seen.append(id(crs._bng_transformer()))
        ok = True
        for _ in range(10):
            e, n = crs.to_bng(lon, lat)
            back_lon, back_lat = crs.to_wgs84(e, n)
            ok &= bool(np.array_equal(e, want_e) and np.array_equal(n, want_n))
            ok &= bool(
                np.allclose(back_lon, lon, atol=1e-7) and np.allclose(back_lat, lat, atol=1e-7)
            )
        results.append(ok)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 4
    assert len(set(seen)) == 4  # one transformer per thread
    assert id(crs._bng_transformer()) not in seen
