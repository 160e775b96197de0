"""Small CI versions of the load test (``benchmarks/bench_load.py``): sessions sign in
at once, change area and plan while an import runs, with 0 errors.

The full size (20 officers + 5 partners, 100,000 or 500,000 rows, SQLite and PostGIS)
is the benchmark; its figures are in docs/deployment.md.
"""

from __future__ import annotations

import pytest

from benchmarks import bench_load
from clic_geo.settings import REPO_ROOT

ARTIFACTS = REPO_ROOT / "test-artifacts"

pytestmark = pytest.mark.slow


def _assert_clean(res: dict) -> None:
    assert res["errors"] == [], res["errors"][:5]
    imp = res["import"]
    assert imp["returncode"] == 0 and imp["report"]["accepted"] == res["import_rows"]
    assert imp["overlapped"], "the import ran while the sessions worked"


def test_officers_and_a_partner_while_an_import_runs_websocket() -> None:
    res = bench_load.main(
        ["--officers", "2", "--partners", "1", "--import-rows", "15000", "--timeout", "300"]
    )
    _assert_clean(res)
    acts = res["actions"]
    assert acts["sign-in → map"]["n"] == 2 and acts["plan the route"]["n"] == 2
    assert acts["change area → map"]["n"] == 2 and acts["partner change area"]["n"] == 1


@pytest.mark.browser
def test_browser_sessions_while_an_import_runs() -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    args = "--client browser --officers 1 --partners 1 --import-rows 15000 --timeout 300"
    res = bench_load.main([*args.split(), "--screenshots", str(ARTIFACTS)])
    _assert_clean(res)
    acts = res["actions"]
    assert acts["sign-in → map drawn"]["n"] == 1 and acts["plan the route → map drawn"]["n"] == 1
    assert acts["partner sign-in → figures"]["n"] == 1
