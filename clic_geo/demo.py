"""Deterministic demo data with planted ground truth.

The demo world (``data/demo/scenario.json``) places hotspots in real neighbourhoods
of the four operating areas, each with a lifecycle: persistent, intensifying,
diminishing, fading once the partnership starts, emerging, historical, sporadic,
oscillating or moving. The generator turns it into import files (incidents,
addresses of concern with status histories, visits that follow the hotspots a month
later, county lines going from active to disrupted), snapping incidents to a lattice
of street points as data.police.uk does, and keeps the truth it planted so tests
can check that the hotspot engine finds it.

Everything is fictional: no real person, address or event. Same seed and same end
month give the same data, byte for byte.
"""

from __future__ import annotations

import json
import logging
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

from clic_geo import geo
from clic_geo.areas import Area, AreaSet, load_areas
from clic_geo.schema import CATEGORY_LABELS, Category
from clic_geo.settings import REPO_ROOT

__all__ = [
    "DEFAULT_SEED",
    "DemoData",
    "PlantedHotspot",
    "generate",
    "last_complete_month",
    "load_scenario",
    "write_demo",
]

log = logging.getLogger(__name__)

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
_OUTCOMES = (
    ("engaged", 0.55),
    ("no_answer", 0.25),
    ("declined", 0.08),
    ("intelligence", 0.07),
    ("arrest", 0.02),
    ("safeguarding", 0.03),
)
_SUPPORT_TEXT = {
    "calling_card": "Calling card",
    "harm_reduction_kit": "Harm reduction kit",
    "safe_alert": "SAFE alert",
    "protection_plan": "Protection plan",
}
_REFERRAL_TEXT = (
    "Food bank",
    "Mental health",
    "Substance misuse",
    "Adult social care",
    "Heating grant",
    "Housing",
)


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
    ) -> None:
        poly = shapely.transform(
            area.geometry, lambda xy: np.column_stack(geo.to_bng(xy[:, 0], xy[:, 1]))
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
        bx = ix.ravel()[inside] // 3
        by = iy.ravel()[inside] // 2
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
        self.tree = cKDTree(np.column_stack([self.e, self.n]))
        self.lon, self.lat = geo.to_wgs84(self.e, self.n)

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
    e0, n0 = geo.to_bng([h.lon], [h.lat])
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


def generate(
    seed: int = DEFAULT_SEED,
    *,
    today: date | None = None,
    end_month: str | None = None,
    scenario: Mapping[str, Any] | None = None,
    areas: AreaSet | None = None,
) -> DemoData:
    """Generate the demo world.

    Parameters
    ----------
    seed : int
        Random seed; the same seed, ``today`` and scenario give identical data.
    today : date, optional
        The day the data is "as of" (default: today). Protection-plan visits fall
        due around it.
    end_month : str, optional
        Last month of incidents (default: ``today``'s month, which is then partial:
        nothing is generated on or after ``today``, so "yesterday" has incidents and
        visits, as a live store would).
    scenario : mapping, optional
        Default :func:`load_scenario`.
    areas : AreaSet, optional
        Default: the repository's ``boundaries/``.
    """
    today = today or date.today()
    end_month = end_month or today.strftime("%Y-%m")
    cutoff = datetime.combine(today, datetime.min.time())
    sc = dict(scenario or load_scenario())
    areas = areas or load_areas(REPO_ROOT / "boundaries")
    n_months = int(sc.get("months", 36))
    months = _months(end_month, n_months)
    hotspots = tuple(
        PlantedHotspot(
            id=h["id"],
            area=h["area"],
            label=h["label"],
            lat=h["lat"],
            lon=h["lon"],
            radius_m=float(h["radius_m"]),
            rate=float(h["rate"]),
            lifecycle=h["lifecycle"],
            params={
                k: v
                for k, v in h.items()
                if k not in {"id", "area", "label", "lat", "lon", "radius_m", "rate", "lifecycle"}
            },
        )
        for h in sc["hotspots"]
    )
    for h in hotspots:
        if h.area not in areas:
            raise ValueError(f"planted hotspot {h.id} is in unknown area {h.area!r}")
        if not areas.get(h.area).geometry.contains(shapely.Point(h.lon, h.lat)):
            raise ValueError(f"planted hotspot {h.id} ({h.lat}, {h.lon}) is outside {h.area}")

    inc_rows: list[dict[str, Any]] = []
    truth_rows: list[dict[str, Any]] = []
    streets: dict[str, _Streets] = {}
    # per area, per month: planted counts (for visits to follow)
    monthly_hot: dict[tuple[str, int], np.ndarray] = {}
    for area_id, acfg in sc["areas"].items():
        area = areas.get(area_id)
        rng = _sub_rng(seed, "streets", area_id)
        st = _Streets(
            area, float(sc.get("snap_spacing_m", 70)), rng, sc["street_names"], sc["place_types"]
        )
        streets[area_id] = st
        centres = acfg["centres"]
        ce, cn = geo.to_bng([c["lon"] for c in centres], [c["lat"] for c in centres])
        w = np.full(len(st.e), 0.15)
        for x, y, c in zip(ce, cn, centres, strict=True):
            w += np.exp(-((st.e - x) ** 2 + (st.n - y) ** 2) / (2 * c["sigma_m"] ** 2))
        w /= w.sum()
        start = area.partnership_start
        start_idx = None
        if start is not None:
            sp = pd.Period(start.strftime("%Y-%m"), freq="M")
            # months from the window's start; negative if it began before the window
            start_idx = int((sp - pd.Period(months[0], freq="M")).n)
        area_hot = [h for h in hotspots if h.area == area_id]
        onoff = {h.id: _sub_rng(seed, "onoff", h.id).random(n_months) < 0.45 for h in area_hot}
        rng = _sub_rng(seed, "incidents", area_id)
        for t, month in enumerate(months):
            # background
            nb = rng.poisson(acfg["background_per_month"])
            idx = rng.choice(len(st.e), size=nb, p=w)
            cats = _choice(rng, sc["background_categories"], nb)
            for i, c, when in zip(
                idx, cats, _times_in_month(rng, month, nb, evening=True), strict=True
            ):
                inc_rows.append(
                    {"i": int(i), "area": area_id, "category": c, "when": when, "hotspot": ""}
                )
            # planted hotspots
            counts = np.zeros(len(area_hot))
            for j, h in enumerate(area_hot):
                lam = _rate(h, t, n_months, start_idx, onoff[h.id])
                k = int(rng.poisson(lam)) if lam > 0 else 0
                e0, n0 = _centre(h, t)
                sd = h.radius_m / 2
                pe = rng.normal(e0, sd, k)
                pn = rng.normal(n0, sd, k)
                snapped = st.snap(pe, pn) if k else np.array([], dtype=int)
                cats = _choice(rng, sc["hotspot_categories"], k)
                for i, c, when in zip(
                    snapped, cats, _times_in_month(rng, month, k, evening=True), strict=True
                ):
                    inc_rows.append(
                        {"i": int(i), "area": area_id, "category": c, "when": when, "hotspot": h.id}
                    )
                counts[j] = k
                lo, la = geo.to_wgs84([e0], [n0])
                truth_rows.append(
                    {
                        "hotspot_id": h.id,
                        "area": area_id,
                        "label": h.label,
                        "lifecycle": h.lifecycle,
                        "month": month,
                        "easting": round(e0, 1),
                        "northing": round(n0, 1),
                        "latitude": round(float(la[0]), 6),
                        "longitude": round(float(lo[0]), 6),
                        "radius_m": h.radius_m,
                        "rate": round(lam, 3),
                        "count": k,
                    }
                )
            monthly_hot[(area_id, t)] = counts
            # threats to life fall once the partnership starts
            base = float(acfg.get("threats_to_life_per_month_before_start", 0))
            if base:
                lam = (
                    base
                    if start_idx is None or t < start_idx
                    else base * max(0.15, float(np.exp(-(t - start_idx) / 9.0)))
                )
                k = int(rng.poisson(lam))
                if k and area_hot:
                    rates = np.array(
                        [max(_rate(h, t, n_months, start_idx, onoff[h.id]), 0.5) for h in area_hot]
                    )
                    pick = rng.choice(len(area_hot), size=k, p=rates / rates.sum())
                    for j, when in zip(
                        pick, _times_in_month(rng, month, k, evening=True), strict=True
                    ):
                        e0, n0 = _centre(area_hot[j], t)
                        i = int(st.snap(rng.normal(e0, 60, 1), rng.normal(n0, 60, 1))[0])
                        inc_rows.append(
                            {
                                "i": i,
                                "area": area_id,
                                "category": Category.THREAT_TO_LIFE.value,
                                "when": when,
                                "hotspot": area_hot[j].id,
                            }
                        )
    # nothing on or after today; the truth counts what was kept
    inc_rows = [r for r in inc_rows if r["when"] < cutoff]
    kept: dict[tuple[str, str], int] = {}
    for r in inc_rows:
        if r["hotspot"]:
            key = (r["hotspot"], r["when"].strftime("%Y-%m"))
            kept[key] = kept.get(key, 0) + 1
    for row in truth_rows:
        row["count"] = kept.get((row["hotspot_id"], row["month"]), 0)
    incidents = _incident_table(inc_rows, streets, seed)
    addresses, addr_state = _addresses(seed, sc, areas, streets, hotspots, months, today)
    visits = _visits(seed, sc, areas, hotspots, months, monthly_hot, addr_state, today)
    lines = pd.DataFrame(
        [
            {
                "line id": f"DEMO-CL-{cl['id']}",
                "line name": cl["name"],
                "area": areas.get(cl["area"]).name,
                "status": st_,
                "date": d,
            }
            for cl in sc["county_lines"]
            for d, st_ in cl["history"]
        ]
    )
    truth = pd.DataFrame(truth_rows)
    return DemoData(
        seed, today, tuple(months), incidents, addresses, visits, lines, truth, hotspots
    )


def _incident_table(
    rows: list[dict[str, Any]], streets: Mapping[str, _Streets], seed: int
) -> pd.DataFrame:
    rows = sorted(rows, key=lambda r: (r["when"], r["area"], r["i"]))
    rng = _sub_rng(seed, "notes")
    out = []
    for k, r in enumerate(rows, 1):
        st = streets[r["area"]]
        i = r["i"]
        notes = _NOTES[r["category"]]
        out.append(
            {
                "id": f"DEMO-INC-{k:06d}",
                "date": r["when"].strftime("%Y-%m-%d %H:%M"),
                "type": CATEGORY_LABELS[r["category"]],
                "latitude": round(float(st.lat[i]), 6),
                "longitude": round(float(st.lon[i]), 6),
                "location": st.labels[i],
                "notes": notes[int(rng.integers(len(notes)))],
                "source": "demo",
                "planted_hotspot": r["hotspot"],
            }
        )
    return pd.DataFrame(out)


def _town(area_cfg: Mapping[str, Any], e: float, n: float) -> str:
    best, town = np.inf, ""
    for c in area_cfg["centres"]:
        ce, cn = geo.to_bng([c["lon"]], [c["lat"]])
        d = (ce[0] - e) ** 2 + (cn[0] - n) ** 2
        if d < best:
            best, town = d, c["town"]
    return town


def _addresses(
    seed: int,
    sc: Mapping[str, Any],
    areas: AreaSet,
    streets: Mapping[str, _Streets],
    hotspots: tuple[PlantedHotspot, ...],
    months: list[str],
    today: date,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    state: list[dict[str, Any]] = []
    first_day = pd.Period(months[0], freq="M").to_timestamp().date()
    last_day = min(
        pd.Period(months[-1], freq="M").to_timestamp(how="end").date(),
        today - timedelta(days=1),
    )
    k = 0
    for area_id, acfg in sc["areas"].items():
        rng = _sub_rng(seed, "addresses", area_id)
        st = streets[area_id]
        area = areas.get(area_id)
        start = max(first_day, area.partnership_start or first_day)
        hot = [h for h in hotspots if h.area == area_id]
        rates = np.array([h.rate for h in hot])
        for _ in range(int(acfg["addresses"])):
            k += 1
            if hot and rng.random() < 0.65:
                h = hot[int(rng.choice(len(hot), p=rates / rates.sum()))]
                e0, n0 = _centre(h, len(months) - 1)
                i = int(
                    st.snap(rng.normal(e0, h.radius_m / 2, 1), rng.normal(n0, h.radius_m / 2, 1))[0]
                )
            else:
                i = int(rng.integers(len(st.e)))
            ang = rng.uniform(0, 2 * np.pi)
            dist = rng.uniform(6, 22)
            e = st.e[i] + dist * np.cos(ang)
            n = st.n[i] + dist * np.sin(ang)
            lo, la = geo.to_wgs84([e], [n])
            lat, lon = round(float(la[0]), 6), round(float(lo[0]), 6)
            if not area.geometry.contains(shapely.Point(lon, lat)):
                lat, lon = round(float(st.lat[i]), 6), round(float(st.lon[i]), 6)
            number = int(rng.integers(1, 120))
            flat = f"Flat {int(rng.integers(1, 12))}, " if rng.random() < 0.5 else ""
            text = f"{flat}{number} {st.street[i]}, {_town(acfg, e, n)}"
            span = max((last_day - start).days, 30)
            d0 = start + timedelta(days=int(rng.integers(0, span)))
            path = rng.choice(
                ["confirmed_resolved", "confirmed", "suspected", "suspected_confirmed", "none"],
                p=[0.25, 0.2, 0.25, 0.1, 0.2],
            )
            history: list[tuple[date, str]] = []
            if path == "confirmed_resolved":
                history = [
                    (d0, "confirmed"),
                    (d0 + timedelta(days=int(rng.integers(30, 240))), "resolved"),
                ]
            elif path == "confirmed":
                history = [(d0, "confirmed")]
            elif path == "suspected":
                history = [(d0, "suspected")]
            elif path == "suspected_confirmed":
                history = [
                    (d0, "suspected"),
                    (d0 + timedelta(days=int(rng.integers(7, 90))), "confirmed"),
                ]
            history = [(d, s) for d, s in history if d <= last_day]
            cuckooed = any(s == "confirmed" for _, s in history)
            safe = cuckooed or rng.random() < 0.35
            plan = (path != "confirmed_resolved" and rng.random() < 0.5) or (
                path == "none" and rng.random() < 0.5
            )
            due = today + timedelta(days=int(rng.integers(-10, 22))) if plan else None
            hardening = []
            if cuckooed and rng.random() < 0.55:
                conf = next(d for d, s in history if s == "confirmed")
                for m in rng.choice(
                    ["Spy hole", "Key chain", "CCTV", "Entry system", "Warning notice"],
                    size=int(rng.integers(1, 4)),
                    replace=False,
                ):
                    fitted = conf + timedelta(days=int(rng.integers(3, 60)))
                    if fitted <= last_day:
                        hardening.append(f"{m} {fitted.isoformat()}")
            aid = f"DEMO-ADR-{k:04d}"
            first = {
                "id": aid,
                "address": text,
                "latitude": lat,
                "longitude": lon,
                "status": history[0][1] if history else "none",
                "status date": (history[0][0] if history else d0).isoformat(),
                "safe alert": "yes" if safe else "no",
                "protection plan": "yes" if plan else "no",
                "next visit due": due.isoformat() if due else "",
                "hardening": "; ".join(hardening),
                "notes": "Demo address of concern",
            }
            rows.append(first)
            for d, s in history[1:]:
                rows.append({"id": aid, "status": s, "status date": d.isoformat()})
            state.append(
                {
                    "id": aid,
                    "area": area_id,
                    "lat": lat,
                    "lon": lon,
                    "e": e,
                    "n": n,
                    "history": history,
                    "plan": plan,
                    "start": d0,
                }
            )
    cols = [
        "id",
        "address",
        "latitude",
        "longitude",
        "status",
        "status date",
        "safe alert",
        "protection plan",
        "next visit due",
        "hardening",
        "notes",
    ]
    df = pd.DataFrame(rows, columns=cols)
    return df.astype(object).where(df.notna(), ""), state


def _visits(
    seed: int,
    sc: Mapping[str, Any],
    areas: AreaSet,
    hotspots: tuple[PlantedHotspot, ...],
    months: list[str],
    monthly_hot: Mapping[tuple[str, int], np.ndarray],
    addr_state: list[dict[str, Any]],
    today: date,
) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    k = 0
    for area_id, acfg in sc["areas"].items():
        rng = _sub_rng(seed, "visits", area_id)
        area = areas.get(area_id)
        hot = [h for h in hotspots if h.area == area_id]
        officers = [f"PC {n} + TWC worker" for n in rng.integers(1000, 9999, 4)]
        addrs = [a for a in addr_state if a["area"] == area_id]
        for t, month in enumerate(months):
            mstart = pd.Period(month, freq="M").to_timestamp().date()
            if area.partnership_start and mstart < area.partnership_start.replace(day=1):
                continue
            ramp = 1.0
            if area.partnership_start:
                since = (
                    pd.Period(month, freq="M")
                    - pd.Period(area.partnership_start.strftime("%Y-%m"), freq="M")
                ).n
                ramp = min(1.0, 0.4 + 0.3 * since)
            nv = int(rng.poisson(acfg["visits_per_month"] * ramp))
            # the team follows last month's hotspots (a one-month lag)
            prev = monthly_hot.get((area_id, t - 1), np.zeros(len(hot)))
            mend = pd.Period(month, freq="M").to_timestamp(how="end").date()
            live = [a for a in addrs if a["start"] <= mend]
            for when in _times_in_month(rng, month, nv, evening=False):
                if when.date() >= today:
                    continue
                k += 1
                row: dict[str, Any] = {
                    "visit id": f"DEMO-VIS-{k:06d}",
                    "date": when.strftime("%Y-%m-%d %H:%M"),
                    "officers": officers[int(rng.integers(len(officers)))],
                }
                if live and (rng.random() < 0.7 or prev.sum() == 0):
                    wts = np.array(
                        [
                            1.0
                            + 2.0 * any(s == "confirmed" for _, s in a["history"])
                            + 1.0 * a["plan"]
                            for a in live
                        ]
                    )
                    a = live[int(rng.choice(len(live), p=wts / wts.sum()))]
                    row["address id"] = a["id"]
                    if rng.random() < 0.2:
                        row["latitude"], row["longitude"] = a["lat"], a["lon"]
                else:
                    j = int(rng.choice(len(hot), p=(prev + 0.2) / (prev + 0.2).sum()))
                    e0, n0 = _centre(hot[j], max(t - 1, 0))
                    lo, la = geo.to_wgs84([rng.normal(e0, 40)], [rng.normal(n0, 40)])
                    if not area.geometry.contains(shapely.Point(lo[0], la[0])):
                        lo, la = geo.to_wgs84([e0], [n0])
                    row["latitude"], row["longitude"] = (
                        round(float(la[0]), 6),
                        round(float(lo[0]), 6),
                    )
                    row["notes"] = f"Hotspot walk-through: {hot[j].label}"
                outcome = rng.choice([o for o, _ in _OUTCOMES], p=[p for _, p in _OUTCOMES])
                row["outcome"] = outcome
                support: list[str] = []
                referrals: list[str] = []
                if outcome in ("engaged", "intelligence", "safeguarding"):
                    if rng.random() < 0.7:
                        support.append(_SUPPORT_TEXT["calling_card"])
                    if rng.random() < 0.3:
                        support.append(_SUPPORT_TEXT["harm_reduction_kit"])
                    if rng.random() < 0.08:
                        support.append(_SUPPORT_TEXT["safe_alert"])
                    if rng.random() < 0.05:
                        support.append(_SUPPORT_TEXT["protection_plan"])
                    if rng.random() < 0.35:
                        referrals = list(
                            rng.choice(_REFERRAL_TEXT, size=int(rng.integers(1, 3)), replace=False)
                        )
                elif outcome == "no_answer" and rng.random() < 0.6:
                    support.append(_SUPPORT_TEXT["calling_card"])
                row["support"] = "; ".join(support)
                row["referrals"] = "; ".join(referrals)
                rows.append(row)
    cols = [
        "visit id",
        "date",
        "address id",
        "latitude",
        "longitude",
        "officers",
        "outcome",
        "support",
        "referrals",
        "notes",
    ]
    df = pd.DataFrame(rows, columns=cols)
    return df.astype(object).where(df.notna(), "")


def write_demo(data: DemoData, folder: str | Path) -> dict[str, Path]:
    """Write the demo tables as CSV import files plus ``ground_truth.csv``."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "lines": out / "county_lines.csv",
        "addresses": out / "addresses.csv",
        "incidents": out / "incidents.csv",
        "visits": out / "visits.csv",
        "truth": out / "ground_truth.csv",
    }
    data.lines.to_csv(paths["lines"], index=False)
    data.addresses.to_csv(paths["addresses"], index=False)
    data.incidents.to_csv(paths["incidents"], index=False)
    data.visits.to_csv(paths["visits"], index=False)
    data.truth.to_csv(paths["truth"], index=False)
    (out / "about.json").write_text(
        json.dumps(
            {
                "seed": data.seed,
                "today": data.today.isoformat(),
                "months": [data.months[0], data.months[-1]],
                "rows": {
                    k: len(getattr(data, k)) for k in ("incidents", "addresses", "visits", "lines")
                },
                "note": "Fictional demo data made by clic_geo.demo; not real people or places.",
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    return paths
