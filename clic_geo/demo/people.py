"""The demo world's addresses of concern and visits, drawn round its planted hotspots."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import shapely

from clic_geo.demo.scenario import PlantedHotspot, _centre, _Streets, _sub_rng, _times_in_month
from clic_geo.geo import crs
from clic_geo.geo.areas import AreaSet

__all__ = []
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


def _town(area_cfg: Mapping[str, Any], e: float, n: float) -> str:
    best, town = np.inf, ""
    for c in area_cfg["centres"]:
        ce, cn = crs.to_bng([c["lon"]], [c["lat"]])
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
            lo, la = crs.to_wgs84([e], [n])
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
                    lo, la = crs.to_wgs84([rng.normal(e0, 40)], [rng.normal(n0, 40)])
                    if not area.geometry.contains(shapely.Point(lo[0], la[0])):
                        lo, la = crs.to_wgs84([e0], [n0])
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
