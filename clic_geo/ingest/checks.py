"""The building blocks of validation, shared by every kind of record.

Header matching (:func:`map_headers`), the installation facts validation needs
(:class:`ValidationContext`), problems collected per row, locations resolved from
whatever columns a file has, stable fingerprints for files without ids, and the
split of a table into accepted and rejected rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from clic_geo._errors import InputFileError
from clic_geo.geo import crs
from clic_geo.geo.areas import AreaSet, ServiceArea
from clic_geo.ingest.parse import parse_coordinate, parse_dates, parse_number
from clic_geo.ingest.readers import RawTable
from clic_geo.schema import (
    MAX_TEXT,
    REASON_COL,
    ROW,
    ROW_COL,
    Col,
)
from clic_geo.store.rows import Validated
from clic_geo.vocab import HEADER_ALIASES, normalise_token

__all__ = ["KINDS", "ValidationContext", "map_headers"]

KINDS = ("incidents", "addresses", "visits", "lines")

#: Fields per kind, in matching order (a more specific field before a general one).
_FIELDS: Mapping[str, Sequence[str]] = {
    "incidents": (
        "id",
        "date",
        "time",
        "category",
        "lat",
        "lon",
        "easting",
        "northing",
        "grid_ref",
        "location",
        "notes",
        "source",
    ),
    "addresses": (
        "id",
        "address",
        "lat",
        "lon",
        "easting",
        "northing",
        "grid_ref",
        "status",
        "status_date",
        "safe_alert",
        "protection_plan",
        "next_visit_due",
        "hardening",
        "notes",
    ),
    "visits": (
        "address_id",
        "id",
        "date",
        "time",
        "lat",
        "lon",
        "easting",
        "northing",
        "grid_ref",
        "officers",
        "outcome",
        "support",
        "referrals",
        "notes",
    ),
    "lines": ("id", "name", "area", "status", "status_date", "notes"),
}
_EXTRA_ALIASES: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "addresses": {"status_date": ("date",), "address": ("location", "address text")},
    "lines": {"status_date": ("date", "month")},
}


@dataclass(frozen=True)
class ValidationContext:
    """What validation needs to know about the installation."""

    service_area: ServiceArea
    areas: AreaSet
    earliest: date = date(2000, 1, 1)
    now: datetime = field(default_factory=datetime.now)
    future_tolerance: timedelta = timedelta(days=1)
    #: For visits: address id -> (lat, lon), to place visits given only an address id.
    address_locations: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def latest(self) -> datetime:
        return self.now + self.future_tolerance


class _Problems:
    """Accumulates row-level problems."""

    def __init__(self, n: int) -> None:
        self._n = n
        self._bad = np.zeros(n, dtype=bool)
        # (rows, message for all of them or one message per row), in the order added
        self._entries: list[tuple[np.ndarray, str | np.ndarray]] = []

    def add(
        self,
        mask: pd.Series | np.ndarray,
        message: str | pd.Series | np.ndarray | Callable[[np.ndarray], object],
    ) -> None:
        """Record ``message`` for the rows in ``mask``.

        ``message`` is one text, one text per row of the table, or a function of the
        row positions that returns their texts (so per-row texts are only built for
        the rows that have the problem).
        """
        m = np.asarray(mask, dtype=bool)
        if not m.any():
            return
        idx = np.flatnonzero(m)
        if callable(message):
            texts = np.asarray(message(idx), dtype=object)
            msg: str | np.ndarray = np.array([str(v) for v in texts], dtype=object)
        elif isinstance(message, str):
            msg = message
        else:
            values = np.asarray(message, dtype=object)
            msg = np.array([str(values[i]) for i in idx], dtype=object)
        self._entries.append((idx, msg))
        self._bad[idx] = True

    def merge(self, sub: _Problems, codes: np.ndarray) -> None:
        """Add the problems of ``sub``, found on distinct rows, to every row they stand for.

        ``codes[i]`` is the row of ``sub`` that row ``i`` of this table repeats; each
        row gets the same messages, in the same order, as if it had been checked itself.
        """
        m = sub._n
        for idx, msg in sub._entries:
            hit = np.zeros(m, dtype=bool)
            hit[idx] = True
            rows = np.flatnonzero(hit[codes])
            if isinstance(msg, str):
                self._entries.append((rows, msg))
            else:
                pos = np.zeros(m, dtype=np.int64)
                pos[idx] = np.arange(len(idx))
                self._entries.append((rows, msg[pos[codes[rows]]]))
            self._bad[rows] = True

    @property
    def bad(self) -> np.ndarray:
        return self._bad.copy()

    def reasons(self) -> np.ndarray:
        """ "; "-joined messages of every row, in the order added ("" for good rows)."""
        per_row: dict[int, list[str]] = {}
        for idx, msg in self._entries:
            if isinstance(msg, str):
                for i in idx.tolist():
                    per_row.setdefault(i, []).append(msg)
            else:
                for i, t in zip(idx.tolist(), msg.tolist(), strict=True):
                    per_row.setdefault(i, []).append(t)
        out = np.full(self._n, "", dtype=object)
        for i, msgs in per_row.items():
            out[i] = "; ".join(msgs)
        return out


def _factorize_rows(columns: Sequence[pd.Series | np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the distinct combinations of several columns, in order of appearance.

    Returns ``(codes, first)``: ``codes[i]`` numbers row ``i``'s combination (0 for
    the first seen, ...) and ``first[k]`` is the first row with combination ``k``.
    Missing values count as a value of their own. Each column is factorised once and
    the codes are combined as integers, so no row is turned into a tuple.
    """
    n = len(columns[0])
    key = np.zeros(n, dtype=np.int64)
    size = 1
    for col in columns:
        c, u = pd.factorize(col, use_na_sentinel=False)
        k = max(len(u), 1)
        if size * k >= 2**62:  # renumber before the product could overflow
            key, uk = pd.factorize(key)
            size = max(len(uk), 1)
        key = key * k + c
        size *= k
    codes, uniq = pd.factorize(key)
    first = np.full(len(uniq), n, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(n))
    return codes.astype(np.int64), first


def map_headers(columns: Sequence[str], kind: str) -> tuple[dict[str, str], list[str]]:
    """Match a file's headers to the fields of ``kind`` (case-insensitive aliases).

    Returns ``(mapping field -> column, unused columns)``.

    Examples
    --------
    >>> m, rest = map_headers(["Ref", "Occurred", "Crime type", "Lat", "Lng", "Misc"], "incidents")
    >>> m["id"], m["date"], m["category"], m["lat"], m["lon"], rest
    ('Ref', 'Occurred', 'Crime type', 'Lat', 'Lng', ['Misc'])
    """
    if kind not in _FIELDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    norm = {c: normalise_token(str(c)) for c in columns}
    used: set[str] = set()
    mapping: dict[str, str] = {}
    extra = _EXTRA_ALIASES.get(kind, {})
    for f in _FIELDS[kind]:
        aliases = set(HEADER_ALIASES[f]) | set(extra.get(f, ()))
        for c in columns:
            if c not in used and norm[c] in aliases:
                mapping[f] = c
                used.add(c)
                break
    rest = [c for c in columns if c not in used]
    return mapping, rest


def _col(frame: pd.DataFrame, mapping: Mapping[str, str], f: str) -> pd.Series:
    if f in mapping:
        return _stripped(frame[mapping[f]].astype(str))
    return pd.Series("", index=frame.index, dtype=object)


def _stripped(s: pd.Series) -> pd.Series:
    """``s.str.strip()``; for Arrow text with no white space at either end of any
    value, ``s`` itself (most columns: no copy of a million values)."""
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow" and len(s):
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(s)
        ends = pc.or_(
            pc.utf8_is_space(pc.utf8_slice_codeunits(arr, 0, 1)),
            pc.utf8_is_space(pc.utf8_slice_codeunits(arr, -1)),
        )
        if not pc.any(ends).as_py():
            return s
    return s.str.strip()


def _text(s: pd.Series | np.ndarray) -> pd.Series:
    """Text of every value, missing ones as "" (pandas 3 keeps NaN through astype(str))."""
    return pd.Series(s).astype(object).fillna("").astype(str)


def _map_unique(values: pd.Series, fn: Callable[[str], str]) -> pd.Series:
    """``values.map(fn)`` computed once per distinct value (files repeat values a lot)."""
    uniq = pd.unique(values)
    return values.map(dict(zip(uniq, map(fn, uniq), strict=True)))


def _fingerprint(parts: Sequence[pd.Series]) -> pd.Series:
    joined = _text(parts[0])
    for p in parts[1:]:
        joined = joined + "\x1f" + _text(p).to_numpy()
    uniq = {
        u: hashlib.sha1(u.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]
        for u in pd.unique(joined)
    }
    return joined.map(uniq)


def _fingerprint_groups(
    parts: Sequence[tuple[pd.Series, Callable[[pd.Series], pd.Series]]],
) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """Rows that share a :func:`_fingerprint`, without fingerprinting every row.

    ``parts`` pairs each column with the function that turns it into the text the
    fingerprint hashes (applied value by value). Returns ``(group, fingerprints)``:
    rows share a group number exactly when they share a fingerprint, and
    ``fingerprints(rows)`` gives the fingerprint texts of those rows only. Each
    column's text is made once per distinct value and numbered, and the numbers are
    combined (:func:`_factorize_rows`), so no row's text is built unless asked for.
    """
    texts, tcodes = [], []
    for col, fn in parts:
        c, u = pd.factorize(col, use_na_sentinel=False)
        t = _text(fn(pd.Series(u, dtype=col.dtype))).to_numpy(dtype=object)
        tc, tu = pd.factorize(t)
        texts.append(np.asarray(tu, dtype=object))
        tcodes.append(tc[c])
    if any("\x1f" in v for tu in texts for v in tu):  # a separator inside a value
        joined = _fingerprint([pd.Series(tu[tc]) for tu, tc in zip(texts, tcodes, strict=True)])
        group = pd.factorize(joined.to_numpy(dtype=object))[0]
        return group, lambda rows: joined.to_numpy(dtype=object)[rows]
    group, _ = _factorize_rows(tcodes)

    def fingerprints(rows: np.ndarray) -> np.ndarray:
        g, _ = pd.factorize(group[rows])
        lead = rows[np.unique(g, return_index=True)[1]]
        fp = _fingerprint([pd.Series(tu[tc[lead]]) for tu, tc in zip(texts, tcodes, strict=True)])
        return fp.to_numpy(dtype=object)[g]

    return group, fingerprints


def _location_columns(mapping: Mapping[str, str]) -> bool:
    return (
        {"lat", "lon"} <= mapping.keys()
        or {"easting", "northing"} <= mapping.keys()
        or ("grid_ref" in mapping)
    )


def _no_location_error(name: str, kind: str, columns: Sequence[str]) -> InputFileError:
    return InputFileError(
        f"{name}: no usable location columns for {kind}: expected latitude+longitude, "
        f"easting+northing or a grid reference column; found {', '.join(map(str, columns))}"
    )


_LOCATION_FIELDS = ("lat", "lon", "easting", "northing", "grid_ref")


def _resolve_locations(
    frame: pd.DataFrame,
    mapping: Mapping[str, str],
    problems: _Problems,
    ctx: ValidationContext,
    *,
    required: pd.Series | np.ndarray | bool = True,
) -> pd.DataFrame:
    """Latitude, longitude, easting, northing and area per row, with checks.

    Files repeat locations (data.police.uk snaps crimes onto a few points), so each
    distinct combination of the location columns is parsed, checked, projected and
    placed once, and the answers and problems are copied to the rows that repeat it.
    """
    n = len(frame)
    keys = [frame[mapping[f]] for f in _LOCATION_FIELDS if f in mapping]
    req = np.asarray(required, dtype=bool)
    if req.ndim:
        keys.append(pd.Series(req))
    if keys and n:
        codes, first = _factorize_rows(keys)
    else:
        codes, first = np.zeros(n, dtype=np.int64), np.zeros(min(n, 1), dtype=np.int64)
    cols = [mapping[f] for f in _LOCATION_FIELDS if f in mapping]
    sub = frame[cols].iloc[first].reset_index(drop=True)
    found = _Problems(len(sub))
    loc = _resolve_distinct(sub, mapping, found, ctx, required=req[first] if req.ndim else req)
    problems.merge(found, codes)
    return pd.DataFrame(
        {c: loc[c].to_numpy()[codes] for c in loc.columns},
        index=frame.index,
    )


def _resolve_distinct(
    frame: pd.DataFrame,
    mapping: Mapping[str, str],
    problems: _Problems,
    ctx: ValidationContext,
    *,
    required: pd.Series | np.ndarray | bool = True,
) -> pd.DataFrame:
    """:func:`_resolve_locations` of rows that are all different."""
    n = len(frame)
    idx = frame.index
    lat_t, lon_t = _col(frame, mapping, "lat"), _col(frame, mapping, "lon")
    e_t, n_t = _col(frame, mapping, "easting"), _col(frame, mapping, "northing")
    g_t = _col(frame, mapping, "grid_ref")
    lat = parse_coordinate(lat_t, axis="lat")
    lon = parse_coordinate(lon_t, axis="lon")
    east = parse_number(e_t, thousands=True)
    north = parse_number(n_t, thousands=True)
    g_e, g_n = (
        crs.parse_grid_refs(g_t)
        if "grid_ref" in mapping
        else (np.full(n, np.nan), np.full(n, np.nan))
    )
    given_ll = lat_t.ne("") | lon_t.ne("")
    given_en = e_t.ne("") | n_t.ne("")
    given_g = g_t.ne("")
    has_ll = lat.notna() & lon.notna()
    has_en = east.notna() & north.notna()
    has_g = pd.Series(np.isfinite(g_e), index=idx)

    # text that is present but not a number
    problems.add(
        given_ll & ~has_ll & ~has_en & ~has_g,
        lambda i: (
            "latitude/longitude not understood: "
            + lat_t.iloc[i].map(repr)
            + ", "
            + lon_t.iloc[i].map(repr)
        ),
    )
    problems.add(
        given_en & ~has_en & ~has_ll & ~has_g,
        lambda i: (
            "easting/northing not understood: "
            + e_t.iloc[i].map(repr)
            + ", "
            + n_t.iloc[i].map(repr)
        ),
    )
    problems.add(
        given_g & ~has_g & ~has_ll & ~has_en,
        lambda i: "not an OS grid reference: " + g_t.iloc[i].map(repr),
    )

    out_lat = np.full(n, np.nan)
    out_lon = np.full(n, np.nan)
    use_ll = has_ll.to_numpy()
    out_lat[use_ll] = lat.to_numpy()[use_ll]
    out_lon[use_ll] = lon.to_numpy()[use_ll]

    # range and zero checks on lat/lon
    zero = use_ll & (out_lat == 0) & (out_lon == 0)
    problems.add(zero, "location is 0, 0 (a missing location written as zero)")
    out_range = use_ll & ~zero & ((np.abs(out_lat) > 90) | (np.abs(out_lon) > 180))
    problems.add(out_range, "latitude/longitude out of range")
    ll_ok = use_ll & ~zero & ~out_range

    # eastings/northings (or grid refs) where no lat/lon
    use_en = has_en.to_numpy() & ~use_ll
    use_g = has_g.to_numpy() & ~use_ll & ~use_en
    e_all = np.where(use_en, east.to_numpy(), np.where(use_g, g_e, np.nan))
    n_all = np.where(use_en, north.to_numpy(), np.where(use_g, g_n, np.nan))
    en_rows = use_en | use_g
    minx, miny, maxx, maxy = crs.BNG_BOUNDS
    en_range = en_rows & ~((e_all >= minx) & (e_all <= maxx) & (n_all >= miny) & (n_all <= maxy))
    swapped_en_range = (
        en_range & (n_all >= minx) & (n_all <= maxx) & (e_all >= miny) & (e_all <= maxy)
    )
    en_ok = en_rows & ~en_range
    if en_ok.any():
        lo, la = crs.to_wgs84(e_all[en_ok], n_all[en_ok])
        out_lon[en_ok] = lo
        out_lat[en_ok] = la

    located = ll_ok | en_ok
    inside = np.zeros(n, dtype=bool)
    if located.any():
        inside[located] = ctx.service_area.contains(out_lon[located], out_lat[located])
    outside = located & ~inside
    sa = ctx.service_area.name
    # explain points outside the service area: swapped axes, lost minus sign, or truly outside
    swapped_ll = np.zeros(n, dtype=bool)
    lost_sign = np.zeros(n, dtype=bool)
    swapped_en = swapped_en_range.copy()
    if outside.any():
        o = np.flatnonzero(outside & ll_ok)
        if len(o):
            swapped_ll[o] = ctx.service_area.contains(out_lat[o], out_lon[o])
            rest = o[~swapped_ll[o]]
            lost_sign[rest] = (out_lon[rest] > 0) & ctx.service_area.contains(
                -out_lon[rest], out_lat[rest]
            )
        o = np.flatnonzero(outside & en_ok)
        if len(o):
            lo, la = crs.to_wgs84(n_all[o], e_all[o])
            swapped_en[o] = ctx.service_area.contains(lo, la)
    if swapped_en_range.any():
        o = np.flatnonzero(swapped_en_range)
        lo, la = crs.to_wgs84(n_all[o], e_all[o])
        swapped_en[o] = ctx.service_area.contains(lo, la)
    problems.add(swapped_ll, "latitude and longitude look swapped (the point would be in the sea)")
    problems.add(
        lost_sign,
        "longitude is east of Greenwich: it looks like its minus sign is missing",
    )
    problems.add(swapped_en, "easting and northing look swapped")
    problems.add(
        en_range & ~swapped_en,
        "easting/northing outside the British National Grid",
    )
    problems.add(
        outside & ~swapped_ll & ~lost_sign & ~swapped_en,
        f"outside the service area ({sa})",
    )
    req = np.broadcast_to(np.asarray(required, dtype=bool), (n,))
    nothing = ~(given_ll | given_en | given_g).to_numpy()
    problems.add(req & nothing, "no location (no coordinates or grid reference)")

    good = located & inside
    out_lat[~good] = np.nan
    out_lon[~good] = np.nan
    e_out = np.full(n, np.nan)
    n_out = np.full(n, np.nan)
    if good.any():
        e_out[good], n_out[good] = crs.to_bng(out_lon[good], out_lat[good])
    area = np.full(n, None, dtype=object)
    if good.any():
        area[good] = ctx.areas.assign(out_lon[good], out_lat[good])
    return pd.DataFrame(
        {
            Col.LAT: np.round(out_lat, 6),
            Col.LON: np.round(out_lon, 6),
            Col.EASTING: np.round(e_out, 1),
            Col.NORTHING: np.round(n_out, 1),
            Col.AREA: area,
        },
        index=idx,
    )


def _check_text(frame: pd.DataFrame, problems: _Problems, columns: Sequence[str]) -> None:
    for c in columns:
        too_long = frame[c].astype(str).str.len() > MAX_TEXT
        problems.add(too_long, f"{c!r} is longer than {MAX_TEXT:,} characters")


def _datetime_column(
    frame: pd.DataFrame,
    mapping: Mapping[str, str],
    problems: _Problems,
    ctx: ValidationContext,
    *,
    required: bool,
    month_only: bool = False,
) -> tuple[pd.Series, pd.Series]:
    text = _col(frame, mapping, "date")
    if "time" in mapping:
        t = _col(frame, mapping, "time")
        text = text.where(t.eq("") | text.eq(""), text + " " + t)
    parsed = parse_dates(text, earliest=ctx.earliest, latest=ctx.latest, month_only=month_only)
    missing = parsed.error.eq("missing")
    if required:
        problems.add(missing, "no date")
    problems.add(~missing & parsed.error.ne(""), parsed.error)
    return parsed.when, parsed.precision


def _reject_frame(
    raw: RawTable, frame: pd.DataFrame, rows: np.ndarray, reasons: np.ndarray
) -> pd.DataFrame:
    out = frame.copy()
    out.insert(0, ROW_COL, rows)
    out[REASON_COL] = reasons
    return out


def _finish(
    kind: str,
    raw: RawTable,
    problems: _Problems,
    accepted: pd.DataFrame,
    mapping: dict[str, str],
    notes: list[str],
) -> Validated:
    bad = problems.bad
    frame = raw.frame
    bad_at = np.flatnonzero(bad)
    rejected = _reject_frame(raw, frame.iloc[bad_at], raw.rows[bad_at], problems.reasons()[bad_at])
    if len(raw.ragged):
        rejected = pd.concat([rejected, raw.ragged], ignore_index=True)
    acc = accepted[~bad] if bad.any() else accepted.copy(deep=False)
    acc[ROW] = raw.rows[~bad]
    original = frame.set_axis(raw.rows, axis=0)
    return Validated(
        kind, acc.reset_index(drop=True), rejected.reset_index(drop=True), mapping, notes, original
    )
