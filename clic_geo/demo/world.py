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
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from clic_geo.demo.people import _addresses, _visits
from clic_geo.demo.scenario import (
    _NOTES,
    DEFAULT_SEED,
    DemoData,
    PlantedHotspot,
    _centre,
    _choice,
    _months,
    _rate,
    _Streets,
    _sub_rng,
    _times_in_month,
    load_scenario,
)
from clic_geo.geo import crs
from clic_geo.geo.areas import AreaSet, load_areas
from clic_geo.schema import CATEGORY_LABELS, Category
from clic_geo.settings import REPO_ROOT

__all__ = ["generate", "write_demo"]


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
            area,
            float(sc.get("snap_spacing_m", 70)),
            rng,
            sc["street_names"],
            sc["place_types"],
            block_m=sc.get("street_block_m"),
        )
        streets[area_id] = st
        area_hot = [h for h in hotspots if h.area == area_id]
        w = _snap_points(seed, sc, acfg, area_id, st, area_hot)
        start = area.partnership_start
        start_idx = None
        if start is not None:
            sp = pd.Period(start.strftime("%Y-%m"), freq="M")
            # months from the window's start; negative if it began before the window
            start_idx = int((sp - pd.Period(months[0], freq="M")).n)
        onoff = {h.id: _sub_rng(seed, "onoff", h.id).random(n_months) < 0.45 for h in area_hot}
        rng = _sub_rng(seed, "incidents", area_id)
        for t, month in enumerate(months):
            # background: everyday crime, and county-lines crime away from the hotspots
            for rate_key, mix_key in (
                ("background_per_month", "background_categories"),
                ("county_lines_per_month", "county_lines_categories"),
            ):
                # a record often comes with others on the same point in the same month
                # (one arrest, several offences): batches of Geometric(1 / mean) records
                batch = float(sc.get("batch_mean", {}).get(mix_key, 1.0))
                ne = rng.poisson(acfg.get(rate_key, 0) / batch)
                reps = rng.geometric(1.0 / batch, ne) if batch > 1 else np.ones(ne, int)
                idx = np.repeat(rng.choice(len(st.e), size=ne, p=w), reps)
                cats = np.repeat(_choice(rng, sc[mix_key], ne), reps) if ne else []
                nb = len(idx)
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
                snapped = st.near(e0, n0, h.radius_m / 2, rng, k)
                # a hotspot may name its own mix (the drug markets the partnership targets)
                cats = _choice(rng, sc[h.params.get("mix", "hotspot_categories")], k)
                for i, c, when in zip(
                    snapped, cats, _times_in_month(rng, month, k, evening=True), strict=True
                ):
                    inc_rows.append(
                        {"i": int(i), "area": area_id, "category": c, "when": when, "hotspot": h.id}
                    )
                counts[j] = k
                lo, la = crs.to_wgs84([e0], [n0])
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


def _snap_points(
    seed: int,
    sc: Mapping[str, Any],
    acfg: Mapping[str, Any],
    area_id: str,
    st: _Streets,
    area_hot: list[PlantedHotspot],
) -> np.ndarray:
    """Keep the area's snap points and return the chance of each to get an incident.

    data.police.uk uses a fixed list of snap points, dense in the towns, and a few of
    them (shops, car parks, a busy street's centre) collect far more crime than the rest,
    month after month. So ``snap_points`` street points are kept, more where people
    are (the town centres and the planted hotspots), each attracting incidents in
    proportion to the town density times a Gamma(``point_weight_shape``) weight fixed
    for the whole run (docs/demo.md gives the measured figures this is calibrated on).
    """
    centres = acfg["centres"]
    ce, cn = crs.to_bng([c["lon"] for c in centres], [c["lat"] for c in centres])

    def density(e: np.ndarray, n: np.ndarray) -> np.ndarray:
        d = np.full(len(e), float(sc.get("rural_floor", 0.15)))
        for x, y, c in zip(ce, cn, centres, strict=True):
            d += np.exp(-((e - x) ** 2 + (n - y) ** 2) / (2 * c["sigma_m"] ** 2))
        return d

    rng = _sub_rng(seed, "snap points", area_id)
    where = density(st.e, st.n)
    for h in area_hot:
        he, hn = crs.to_bng([h.lon], [h.lat])
        where += 3.0 * np.exp(-((st.e - he[0]) ** 2 + (st.n - hn[0]) ** 2) / (2 * h.radius_m**2))
    where *= st.on_street
    n_keep = min(int(acfg.get("snap_points", len(st.e))), int(st.on_street.sum()))
    keep = np.zeros(len(st.e), dtype=bool)
    keep[rng.choice(len(st.e), size=n_keep, replace=False, p=where / where.sum())] = True
    st.keep(keep, rng.gamma(float(sc.get("point_weight_shape", 1.0)), 1.0, len(keep)))
    w = density(st.e, st.n) * st.weight
    return w / w.sum()


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
