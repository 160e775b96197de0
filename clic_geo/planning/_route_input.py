"""Candidate stops checked and prepared for the route solver (times, windows, flags)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from clic_geo._errors import ConfigError, InputFileError
from clic_geo.ingest.parse import parse_bool
from clic_geo.planning.route_model import _CARRIED, STOP_COLUMNS, DayOptions, DroppedStop, _finite

__all__ = []


# --------------------------------------------------------------------------- input


@dataclass(frozen=True)
class _Stops:
    table: pd.DataFrame  # usable stops, positional index 0..n-1
    dropped: tuple[DroppedStop, ...]


def _text(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), "").astype(str).str.strip()


def _window(values: pd.Series, day: datetime) -> tuple[pd.Series, pd.Series]:
    """Parse window times (``HH:MM`` on the day, or a date-time); returns (when, bad)."""
    text = _text(values)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    bad = pd.Series(False, index=values.index)
    for i, t in text.items():
        if not t:
            continue
        try:
            if len(t) <= 5 and ":" in t:
                hh, mm = (int(x) for x in t.split(":"))
                out[i] = datetime.combine(day.date(), datetime.min.time()).replace(
                    hour=hh, minute=mm
                )
            else:
                out[i] = pd.Timestamp(t).to_pydatetime()
        except (ValueError, TypeError):
            bad[i] = True
    return out, bad


def _prepare(stops: pd.DataFrame, options: DayOptions) -> _Stops:
    """Check the stops table; unusable rows become :class:`DroppedStop`."""
    missing = [c for c in STOP_COLUMNS if c not in stops.columns]
    if missing:
        raise InputFileError(
            f"stops table lacks column(s) {', '.join(missing)}; expected "
            f"{', '.join(STOP_COLUMNS)} (found {', '.join(map(str, stops.columns))})"
        )
    df = stops.reset_index(drop=True).copy()
    df["_row"] = np.arange(len(df)) + 1
    df["id"] = _text(df["id"])
    for c in _CARRIED:
        df[c] = _text(df[c]) if c in df.columns else ""
    lat = pd.to_numeric(df["latitude"], errors="coerce")
    lon = pd.to_numeric(df["longitude"], errors="coerce")
    prio = pd.to_numeric(df["priority"], errors="coerce")
    mins = pd.to_numeric(df["visit_minutes"], errors="coerce")
    must_text = _text(df["must_visit"]).str.lower()
    must, must_ok = parse_bool(must_text)
    must = must | df["id"].isin(options.must_visit)
    w_start, bad_ws = (
        _window(df["window_start"], options.start_at)
        if ("window_start" in df)
        else (pd.Series(pd.NaT, index=df.index), pd.Series(False, index=df.index))
    )
    w_end, bad_we = (
        _window(df["window_end"], options.start_at)
        if ("window_end" in df)
        else (
            pd.Series(pd.NaT, index=df.index),
            pd.Series(False, index=df.index),
        )
    )
    df = df.assign(
        latitude=lat,
        longitude=lon,
        priority=prio.fillna(0.0),
        visit_minutes=mins,
        must_visit=must,
        window_start=w_start,
        window_end=w_end,
    )
    unknown_pins = sorted(set(options.must_visit) - set(df["id"]))
    if unknown_pins:
        raise ConfigError(f"pinned stop(s) not among the candidates: {', '.join(unknown_pins)}")
    dropped: list[DroppedStop] = []
    keep = np.ones(len(df), dtype=bool)
    first_row: dict[str, int] = {}
    bad_pins: list[str] = []
    for i, r in df.iterrows():
        sid = r["id"] or f"(row {r['_row']})"
        problems, code = [], "bad_value"
        if not r["id"]:
            problems.append("no id")
        if not (_finite(r["latitude"]) and _finite(r["longitude"])):
            problems, code = ["no coordinates"], "no_location"
        elif abs(r["latitude"]) > 90 or abs(r["longitude"]) > 180:
            problems, code = ["coordinates out of range"], "no_location"
        if code != "no_location":
            if not _finite(r["visit_minutes"]) or r["visit_minutes"] < 0:
                problems.append(
                    f"visit minutes not a number >= 0 ({stops.iloc[i]['visit_minutes']!r})"
                )
            if not _finite(r["priority"]) or r["priority"] < 0:
                problems.append("priority not a number >= 0")
            if not must_ok.iloc[i]:
                problems.append(f"must_visit not yes/no ({must_text.iloc[i]!r})")
            if bad_ws.iloc[i] or bad_we.iloc[i]:
                problems.append("time window not HH:MM or a date-time")
        if r["id"] and r["id"] in first_row:
            # the first copy keeps the stop; a pin on any copy pins it
            if r["must_visit"]:
                df.loc[first_row[r["id"]], "must_visit"] = True
            problems, code = (
                [f"duplicate of the stop on row {df.loc[first_row[r['id']], '_row']}"],
                "duplicate",
            )
        elif r["id"] in options.exclude:
            problems, code = ["excluded by the sergeant"], "excluded"
        if problems:
            keep[i] = False
            if r["must_visit"] and code not in ("duplicate", "excluded"):
                bad_pins.append(f"{sid}: {'; '.join(problems)}")
            dropped.append(
                DroppedStop(
                    sid,
                    code,
                    "; ".join(problems),
                    float(r["priority"]) if _finite(r["priority"]) else None,
                    int(r["_row"]),
                    r["kind"],
                    r["label"],
                )
            )
        elif r["id"]:
            first_row[r["id"]] = i
    if bad_pins:
        raise InputFileError("must-visit stop(s) cannot be routed: " + " | ".join(bad_pins))
    return _Stops(df[keep].reset_index(drop=True), tuple(dropped))
