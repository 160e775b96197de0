"""The demo scenario: planted hotspots, their rates over time, and streets to put points on.

Everything here is deterministic for a seed: each draw uses its own generator derived
from the seed and the draw's keys, so changing one part of the world leaves the rest
as it was.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from clic_geo.geo import crs
from clic_geo.geo.areas import Area
from clic_geo.schema import Category
from clic_geo.settings import REPO_ROOT

__all__ = ["DEFAULT_SEED", "DemoData", "PlantedHotspot", "last_complete_month", "load_scenario"]

DEFAULT_SEED = 20220201  # 1-CLIC began in February 2022
SCENARIO_PATH = REPO_ROOT / "data" / "demo" / "scenario.json"

_NOTES: Mapping[str, tuple[str, ...]] = {
    Category.DRUG_SUPPLY: (
        "Report of drug dealing from a car",
        "Suspected street dealing near the shops",
        "Concern about visitors to a flat at all hours",
        "Deal line message reported by a resident",
        "Runner seen handing over wraps",
    ),
    Category.DRUG_POSSESSION: (
        "Possession of a controlled drug found on search",
        "Cannabis possession",
        "Class A wraps found on search",
    ),
    Category.VIOLENCE: (
        "Assault outside licensed premises",
        "Fight in the street",
        "Assault believed linked to a drug debt",
        "Robbery of a mobile phone",
    ),
    Category.WEAPONS: (
        "Knife found during a search",
        "Report of a man carrying a blade",
        "Bladed article recovered",
    ),
    Category.THREAT_TO_LIFE: ("Threat to life warning issued", "Threats linked to a drug debt"),
    Category.CUCKOOING_REPORT: (
        "Neighbour reports a vulnerable resident's flat taken over",
        "Young people from out of the area staying at an address",
    ),
    Category.INTELLIGENCE_REPORT: (
        "Intelligence: new deal line advertised",
        "Intelligence: out-of-area runners seen",
        "Intelligence: address used to store drugs",
    ),
    Category.ASB: (
        "Youths causing a nuisance",
        "Noise and rowdy behaviour",
        "Drug paraphernalia found in a stairwell",
    ),
    Category.OTHER: (
        "Criminal damage to a car",
        "Shoplifting",
        "Theft from a shed",
        "Public order offence",
    ),
}


@dataclass(frozen=True)
class PlantedHotspot:
    """A hotspot the generator planted."""

    id: str
    area: str
    label: str
    lat: float
    lon: float
    radius_m: float
    rate: float
    lifecycle: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class DemoData:
    """Generated demo data: import-ready tables and the planted truth.

    ``truth`` has one row per planted hotspot and month: ``hotspot_id, area, label,
    lifecycle, month, easting, northing, latitude, longitude, radius_m, rate, count``.
    """

    seed: int
    today: date
    months: tuple[str, ...]
    incidents: pd.DataFrame
    addresses: pd.DataFrame
    visits: pd.DataFrame
    lines: pd.DataFrame
    truth: pd.DataFrame
    hotspots: tuple[PlantedHotspot, ...]


def load_scenario(path: str | Path | None = None) -> dict[str, Any]:
    """Read the demo scenario (default ``data/demo/scenario.json``)."""
    return json.loads(Path(path or SCENARIO_PATH).read_text(encoding="utf-8"))


def last_complete_month(today: date) -> str:
    """``YYYY-MM`` of the month before ``today``'s."""
    first = today.replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


def _months(end_month: str, n: int) -> list[str]:
    end = pd.Period(end_month, freq="M")
    return [str(end - (n - 1 - i)) for i in range(n)]


def _sub_rng(seed: int, *keys: object) -> np.random.Generator:
    salt = zlib.crc32("|".join(map(str, keys)).encode())
    return np.random.default_rng([seed, salt])


class _Streets:
    """A lattice of street points inside an area: where incidents are snapped."""

    def __init__(
        self,
        area: Area,
        spacing: float,
        rng: np.random.Generator,
        names: list[str],
        places: list[str],
        *,
        block_m: float | None = None,
    ) -> None:
        poly = shapely.transform(
            area.geometry, lambda xy: np.column_stack(crs.to_bng(xy[:, 0], xy[:, 1]))
        )
        minx, miny, maxx, maxy = poly.bounds
        xs = np.arange(minx, maxx, spacing)
        ys = np.arange(miny, maxy, spacing)
        gx, gy = np.meshgrid(xs, ys)
        ix, iy = np.meshgrid(np.arange(len(xs)), np.arange(len(ys)))
        jx = gx.ravel() + rng.uniform(-0.3, 0.3, gx.size) * spacing
        jy = gy.ravel() + rng.uniform(-0.3, 0.3, gy.size) * spacing
        inside = shapely.contains_xy(poly, jx, jy)
        self.e = jx[inside]
        self.n = jy[inside]
        # the points on a street: every lattice line a block apart
        every = max(round(block_m / spacing), 1) if block_m else 1
        self.on_street = ((ix.ravel() % every == 0) | (iy.ravel() % every == 0))[inside]
        # street names run along blocks of about 210 m by 140 m
        bx = (ix.ravel()[inside] * spacing // 210).astype(int)
        by = (iy.ravel()[inside] * spacing // 140).astype(int)
        street = [names[(a * 7 + b * 13) % len(names)] for a, b in zip(bx, by, strict=True)]
        place = rng.random(len(self.e)) < 0.04
        self.labels = np.array(
            [
                f"On or near {places[i % len(places)]}" if p else f"On or near {s}"
                for i, (s, p) in enumerate(zip(street, place, strict=True))
            ],
            dtype=object,
        )
        self.street = np.array(street, dtype=object)
        self.weight = np.ones(len(self.e))
        self._index()

    def _index(self) -> None:
        self.tree = cKDTree(np.column_stack([self.e, self.n]))
        self.lon, self.lat = crs.to_wgs84(self.e, self.n)

    def keep(self, mask: np.ndarray, weight: np.ndarray) -> None:
        """Keep only the points in ``mask`` (data.police.uk's snap points: a small share
        of all street points), each with how strongly it attracts incidents."""
        self.e, self.n = self.e[mask], self.n[mask]
        self.labels, self.street = self.labels[mask], self.street[mask]
        self.on_street = self.on_street[mask]
        self.weight = np.asarray(weight, dtype="float64")[mask]
        self._index()

    def near(self, e: float, n: float, sd: float, rng: np.random.Generator, k: int) -> np.ndarray:
        """``k`` snap points drawn round (e, n): a Gaussian of ``sd`` metres times each
        point's weight (the busy points of a hotspot are busy month after month)."""
        if k == 0:
            return np.array([], dtype=int)
        cand = np.array(self.tree.query_ball_point([e, n], 3 * sd), dtype=int)
        if len(cand) == 0:
            return self.snap(rng.normal(e, sd, k), rng.normal(n, sd, k))
        d2 = (self.e[cand] - e) ** 2 + (self.n[cand] - n) ** 2
        p = self.weight[cand] * np.exp(-d2 / (2 * sd**2))
        return cand[rng.choice(len(cand), size=k, p=p / p.sum())]

    def snap(self, e: np.ndarray, n: np.ndarray) -> np.ndarray:
        _, idx = self.tree.query(np.column_stack([e, n]))
        return idx


def _rate(
    h: PlantedHotspot, t: int, months: int, start_idx: int | None, onoff: np.ndarray
) -> float:
    r, life, p = h.rate, h.lifecycle, h.params
    frac = t / max(months - 1, 1)
    if life == "persistent":
        return r
    if life == "intensifying":
        return r * (0.2 + 0.8 * frac)
    if life == "diminishing":
        return r * (1.0 - 0.75 * frac)
    if life == "fading_after_start":
        if start_idx is None or t < start_idx:
            return r
        return r * max(0.12, float(np.exp(-(t - start_idx) / 6.0)))
    if life == "emerging":
        k = int(p.get("emerging_months", 5))
        first = months - k
        return 0.0 if t < first else r * (t - first + 1) / k
    if life == "historical":
        until = months - int(p.get("active_until_from_end", 12))
        return r if t < until else 0.0
    if life == "sporadic":
        return r if onoff[t] else 0.0
    if life == "oscillating":
        period = int(p.get("period_months", 3))
        return r if (t // period) % 2 == 0 else r * 0.15
    if life == "moving":
        return r
    raise ValueError(f"unknown lifecycle {life!r} for {h.id}")


def _centre(h: PlantedHotspot, t: int) -> tuple[float, float]:
    e0, n0 = crs.to_bng([h.lon], [h.lat])
    e, n = float(e0[0]), float(n0[0])
    if h.lifecycle == "moving":
        dx, dy = h.params.get("drift_m", (0, 0))
        t0 = int(h.params.get("drift_from", 0))
        k = int(h.params.get("drift_months", 6))
        steps = min(max(t - t0, 0), k)
        e += dx * steps
        n += dy * steps
    return e, n


def _choice(rng: np.random.Generator, mix: Mapping[str, float], size: int) -> np.ndarray:
    keys = list(mix)
    p = np.array([mix[k] for k in keys], dtype="float64")
    return rng.choice(np.array(keys, dtype=object), size=size, p=p / p.sum())


def _times_in_month(
    rng: np.random.Generator, month: str, size: int, *, evening: bool
) -> list[datetime]:
    first = pd.Period(month, freq="M")
    days = rng.integers(0, first.days_in_month, size)
    if evening:
        hours = np.clip(np.round(rng.normal(19, 4, size)), 0, 23).astype(int) % 24
    else:
        hours = rng.integers(10, 16, size)
    minutes = rng.integers(0, 60, size)
    start = first.to_timestamp().to_pydatetime()
    return [
        start + timedelta(days=int(d), hours=int(h), minutes=int(m))
        for d, h, m in zip(days, hours, minutes, strict=True)
    ]
