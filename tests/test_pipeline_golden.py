"""Golden case: the whole hotspot pipeline gives exactly the answers it gave before.

The pipeline (read -> validate -> layer -> cluster -> polygons -> statistics) is
optimised for speed; this test pins its output on a fixed, seeded synthetic file so
an optimisation cannot silently change a result. The expected values below were
computed with the code before any of the speed work (commit 7ac4465) and stored as
digests of canonical text (floats to 9 significant digits, geometries normalised, to
6 decimals), plus a few explicit figures that make a failure easy to read.

Two files are checked: one with no quotes at all (the reader's fast path) and one
with a quoted delimiter and a row with too many fields (the row-by-row path).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from clic_geo.geo.areas import ServiceArea, load_areas
from clic_geo.hotspots.engine import HotspotFinder
from clic_geo.hotspots.layers import build_layer
from clic_geo.ingest.checks import ValidationContext
from clic_geo.ingest.readers import read_table
from clic_geo.ingest.validate import validate
from clic_geo.settings import REPO_ROOT

HEADER = [
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
]
TYPES = [
    "Drugs",
    "Violence and sexual offences",
    "Anti-social behaviour",
    "Burglary",
    "Possession of weapons",
]
# (lon, lat, spread in degrees, share): two towns inside operating areas (Carlisle,
# Barrow), one in the service area but in no operating area, one far away
TOWNS = [
    (-2.962, 54.912, 0.006, 0.45),
    (-3.248, 54.142, 0.005, 0.25),
    (-2.752, 54.663, 0.008, 0.2),
    (-1.55, 53.8, 0.02, 0.1),
]


def _rows(seed: int = 7, n: int = 3000) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    share = np.array([t[3] for t in TOWNS])
    # street points per town; incidents snap onto them (many exact duplicates)
    snaps = []
    for lon, lat, sd, s in TOWNS:
        k = max(20, int(s * n / 12))
        snaps.append(np.column_stack([rng.normal(lon, sd, k), rng.normal(lat, sd / 1.6, k)]))
    town = rng.choice(len(TOWNS), n, p=share)
    rows = []
    for i in range(n):
        pts = snaps[town[i]]
        j = min(int(rng.pareto(1.2) * 3), len(pts) - 1)  # a few very busy points
        lon, lat = pts[j]
        month = f"2024-{int(rng.integers(1, 13)):02d}"
        cid = "" if rng.random() < 0.3 else f"{rng.integers(0, 2**63):016x}{i:08d}"
        rows.append(
            [
                cid,
                month,
                "Cumbria Constabulary",
                "Cumbria Constabulary",
                f"{lon:.6f}",
                f"{lat:.6f}",
                "On or near Some Street",
                "E01019000",
                "Carlisle 001A",
                TYPES[int(rng.integers(0, len(TYPES)))],
                "Under investigation",
                "",
            ]
        )
    # exact duplicate records (no id: the fingerprint's occurrence number tells them apart)
    for _k in range(25):
        r = list(rows[int(rng.integers(0, n))])
        r[0] = ""
        rows.append(r)
    good = rows[5]
    bad = {
        "bad month": {1: "2024-13"},
        "no month": {1: ""},
        "future": {1: "2031-02"},
        "no location": {4: "", 5: ""},
        "zero": {4: "0", 5: "0"},
        "swapped": {4: good[5], 5: good[4]},
        "lost sign": {4: good[4].lstrip("-")},
        "outside": {4: "2.35", 5: "48.85"},
        "not a number": {4: "abc", 5: "54.9"},
        "no type": {9: ""},
    }
    for k, change in enumerate(bad.values()):
        for j in range(3):
            r = list(good)
            r[0] = f"bad{k}-{j}"
            for col, v in change.items():
                r[col] = v
            rows.insert(int(rng.integers(0, len(rows))), r)
    blank = [""] * len(HEADER)
    for _ in range(4):
        rows.insert(int(rng.integers(0, len(rows))), blank)
    return rows


def _write(path: Path, quoted: bool) -> Path:
    rows = _rows()
    lines = [",".join(HEADER)]
    for r in rows:
        lines.append(",".join(r))
    if quoted:
        # a quoted delimiter inside a value, and a row with too many fields
        lines[10] = lines[10].replace("On or near Some Street", '"On or near Some Street, Town"')
        lines[20] = lines[20] + ",surplus,fields"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _context() -> ValidationContext:
    return ValidationContext(
        service_area=ServiceArea("England (test)", shapely.box(-6.5, 49.8, 2.0, 56.0)),
        areas=load_areas(REPO_ROOT / "boundaries"),
        now=datetime(2025, 1, 15),
    )


def _cell(v: object) -> str:
    if isinstance(v, shapely.Geometry):
        return shapely.to_wkt(shapely.normalize(v), rounding_precision=6)
    if isinstance(v, float | np.floating):
        return "nan" if np.isnan(v) else f"{float(v):.9g}"
    if v is None or v is pd.NaT or (not isinstance(v, str) and pd.isna(v)):
        return "<NA>"
    return str(v)


def _digest(df: pd.DataFrame) -> str:
    """Digest of a frame's columns and values (row order kept)."""
    h = hashlib.sha256("|".join(map(str, df.columns)).encode())
    for col in df.columns:
        h.update(("\x1e" + col + "\x1f").encode())
        h.update("\x1f".join(_cell(v) for v in df[col].tolist()).encode())
    return h.hexdigest()[:16]


def _run(path: Path) -> dict[str, object]:
    raw = read_table(path)
    v = validate(raw, "incidents", _context(), source="police-uk", police_uk=True)
    layer = build_layer("incidents", incidents=v.accepted)
    fixed = HotspotFinder(eps_m=150, min_samples=8, n_simulations=19, random_state=3)
    hs = fixed.fit(layer).hotspots_
    knee = HotspotFinder(
        min_samples=6, n_simulations=0, include_isolated=True, half_life_months=3
    ).fit(layer)
    return {
        "n_read": raw.n_read,
        "blank": raw.blank_rows,
        "accepted": len(v.accepted),
        "rejected": len(v.rejected),
        "accepted_digest": _digest(v.accepted.drop(columns=["occurred_at"]).astype(str)),
        "when_digest": _digest(v.accepted[["occurred_at"]].astype(str)),
        "rejected_digest": _digest(v.rejected.astype(str)),
        "layer_digest": _digest(layer),
        "n_hotspots": len(hs),
        "top": (hs["hotspot_id"].iloc[0], int(hs["n_incidents"].iloc[0])),
        "hotspots_digest": _digest(hs),
        "labels_digest": _digest(pd.DataFrame({"l": fixed.labels_})),
        "eps": {k: round(p.eps_m, 6) for k, p in knee.params_.items()},
        "n_knee": len(knee.hotspots_),
        "knee_digest": _digest(knee.hotspots_),
        "knee_labels_digest": _digest(pd.DataFrame({"l": knee.labels_})),
    }


EXPECTED: dict[bool, dict[str, object]] = {
    False: {
        "n_read": 3055,
        "blank": 4,
        "accepted": 3025,
        "rejected": 30,
        "accepted_digest": "93b4c382f2bea2c7",
        "when_digest": "6e0017c49124dfab",
        "rejected_digest": "0f0dc0b90fb15323",
        "layer_digest": "1ed63302b450f30d",
        "n_hotspots": 45,
        "top": ("HS0001", 430),
        "hotspots_digest": "85a8d36ea48d53e4",
        "labels_digest": "0ed603f9d67106d6",
        "eps": {"barrow": 400.0, "carlisle": 130.747275, "other": 146.15916},
        "n_knee": 97,
        "knee_digest": "1eba5cd090cadb68",
        "knee_labels_digest": "e48c095e14f05bfc",
    },
    True: {
        "n_read": 3055,
        "blank": 4,
        "accepted": 3024,
        "rejected": 31,
        "accepted_digest": "41c71c13414b3ad5",
        "when_digest": "0d8772b98a3c6dbb",
        "rejected_digest": "f5e7cba365781336",
        "layer_digest": "2ed17fc3f78c0941",
        "n_hotspots": 45,
        "top": ("HS0001", 430),
        "hotspots_digest": "342128e80aaf3b28",
        "labels_digest": "e982b1818912ef76",
        "eps": {"barrow": 400.0, "carlisle": 130.747275, "other": 146.15916},
        "n_knee": 97,
        "knee_digest": "28c7407d23bd4f35",
        "knee_labels_digest": "eee3bc4bcbac8158",
    },
}


@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "quoted"])
def test_pipeline_output_unchanged(tmp_path: Path, quoted: bool) -> None:
    got = _run(_write(tmp_path / "incidents.csv", quoted))
    assert got == EXPECTED[quoted]


def test_problems_keep_every_message_in_order_and_build_per_row_texts_lazily() -> None:
    from clic_geo.ingest.checks import _Problems

    p = _Problems(4)
    p.add(np.array([True, False, True, False]), "first")
    asked = []
    p.add(
        pd.Series([False, False, True, True]),
        lambda i: asked.append(i.tolist()) or [f"row {k}" for k in i],
    )
    p.add(np.zeros(4, dtype=bool), lambda i: pytest.fail("not called for no rows"))
    p.add(np.array([False, True, False, False]), pd.Series(["a", "b", "c", "d"]))
    assert asked == [[2, 3]]
    assert p.bad.tolist() == [True, True, True, True]
    assert p.reasons().tolist() == ["first", "b", "first; row 2", "row 3"]


def test_factorize_rows_numbers_combinations_in_order_of_appearance() -> None:
    from clic_geo.ingest.checks import _factorize_rows

    a = pd.Series(["x", "y", "x", None, "x", None])
    b = np.array([1.0, 1.0, 1.0, np.nan, 2.0, np.nan])
    codes, first = _factorize_rows([a, b])
    assert codes.tolist() == [0, 1, 0, 2, 3, 2]
    assert first.tolist() == [0, 1, 3, 4]
