"""Turn a raw table into canonical rows, each accepted or rejected with its reasons.

Validation is vectorised: each check produces a mask over the rows and a message;
a row is rejected when any check fails, and keeps every value it arrived with.
Missing *columns* that make the whole file unusable raise :class:`InputFileError`
(nothing is imported); problems with *values* reject single rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from clic_geo import geo
from clic_geo._errors import InputFileError
from clic_geo._parse import (
    normalise_token,
    parse_bool,
    parse_coordinate,
    parse_dates,
    parse_list,
    parse_number,
    strftime_distinct,
)
from clic_geo.areas import AreaSet, ServiceArea
from clic_geo.readers import REASON_COL, ROW_COL, RawTable
from clic_geo.schema import POLICE_UK_CATEGORY, Category, Col, Support
from clic_geo.vocab import (
    CATEGORY_ALIASES,
    HARDENING_ALIASES,
    HEADER_ALIASES,
    LINE_STATUS_ALIASES,
    OUTCOME_ALIASES,
    REFERRAL_ALIASES,
    STATUS_ALIASES,
    SUPPORT_ALIASES,
)

__all__ = [
    "KINDS",
    "Validated",
    "ValidationContext",
    "map_headers",
    "validate",
]

KINDS = ("incidents", "addresses", "visits", "lines")
KEY = "key"
ROW = "_row"

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
_HARDENING_COLUMNS = HARDENING_ALIASES  # a column per measure, e.g. "Spy hole" with a date
MAX_TEXT = 10_000


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


@dataclass
class Validated:
    """Outcome of validating one table.

    ``accepted`` holds canonical columns plus ``key`` (the stable identity used to
    spot duplicates) and ``_row`` (spreadsheet row). ``rejected`` holds the
    original values plus ``file_row`` and ``reason``.
    """

    kind: str
    accepted: pd.DataFrame
    rejected: pd.DataFrame
    mapping: dict[str, str]
    notes: list[str]
    #: The file's values for every well-formed row, indexed by spreadsheet row.
    original: pd.DataFrame = field(default_factory=pd.DataFrame)


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
        return frame[mapping[f]].astype(str).str.strip()
    return pd.Series("", index=frame.index, dtype=object)


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


def _fingerprint_rows(
    frame: pd.DataFrame, parts: Callable[[pd.DataFrame], Sequence[pd.Series]]
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_fingerprint` of ``parts(frame)`` for every row, and the row's group.

    ``parts`` turns a frame into the texts that identify a row; it is applied to one
    row per distinct combination of ``frame``'s values only (files repeat rows a
    lot), which gives the same texts because every part is computed value by value.
    Returns ``(fingerprint per row, group per row)``; rows share a group exactly
    when they share a fingerprint.
    """
    codes, first = _factorize_rows([frame[c] for c in frame.columns])
    fp_u = _fingerprint(list(parts(frame.iloc[first].reset_index(drop=True)))).to_numpy(
        dtype=object
    )
    group_u = pd.factorize(fp_u)[0]
    return fp_u[codes], group_u[codes]


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


def _resolve_locations(
    frame: pd.DataFrame,
    mapping: Mapping[str, str],
    problems: _Problems,
    ctx: ValidationContext,
    *,
    required: pd.Series | np.ndarray | bool = True,
) -> pd.DataFrame:
    """Latitude, longitude, easting, northing and area per row, with checks."""
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
        geo.parse_grid_refs(g_t)
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
    minx, miny, maxx, maxy = geo.BNG_BOUNDS
    en_range = en_rows & ~((e_all >= minx) & (e_all <= maxx) & (n_all >= miny) & (n_all <= maxy))
    swapped_en_range = (
        en_range & (n_all >= minx) & (n_all <= maxx) & (e_all >= miny) & (e_all <= maxy)
    )
    en_ok = en_rows & ~en_range
    if en_ok.any():
        lo, la = geo.to_wgs84(e_all[en_ok], n_all[en_ok])
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
            lo, la = geo.to_wgs84(n_all[o], e_all[o])
            swapped_en[o] = ctx.service_area.contains(lo, la)
    if swapped_en_range.any():
        o = np.flatnonzero(swapped_en_range)
        lo, la = geo.to_wgs84(n_all[o], e_all[o])
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
        e_out[good], n_out[good] = geo.to_bng(out_lon[good], out_lat[good])
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
    rejected = _reject_frame(raw, frame[bad], raw.rows[bad], problems.reasons()[bad])
    if len(raw.ragged):
        rejected = pd.concat([rejected, raw.ragged], ignore_index=True)
    acc = accepted[~bad].copy()
    acc[ROW] = raw.rows[~bad]
    original = frame.set_axis(raw.rows, axis=0)
    return Validated(
        kind, acc.reset_index(drop=True), rejected.reset_index(drop=True), mapping, notes, original
    )


# --------------------------------------------------------------------------- incidents


def _incidents(raw: RawTable, ctx: ValidationContext, *, source: str, police_uk: bool) -> Validated:
    frame = raw.frame
    mapping, rest = map_headers(list(frame.columns), "incidents")
    notes = list(raw.notes)
    missing = [f for f in ("date", "category") if f not in mapping]
    if not _location_columns(mapping):
        raise _no_location_error(raw.name, "incidents", frame.columns)
    if missing:
        want = {f: ", ".join(HEADER_ALIASES[f][:4]) for f in missing}
        raise InputFileError(
            f"{raw.name}: no {' or '.join(missing)} column (expected e.g. "
            + "; ".join(f"{k}: {v}" for k, v in want.items())
            + f"); found {', '.join(map(str, frame.columns))}"
        )
    published = {"crime id", "month", "crime type", "longitude", "latitude"}
    if police_uk and not published <= {normalise_token(str(c)) for c in frame.columns}:
        raise InputFileError(
            f"{raw.name}: not a data.police.uk street-level file (expected columns Crime ID, "
            "Month, Longitude, Latitude, Crime type)"
        )
    problems = _Problems(len(frame))
    when, precision = _datetime_column(
        frame, mapping, problems, ctx, required=True, month_only=police_uk
    )
    cat_text = _col(frame, mapping, "category")
    norm = _map_unique(cat_text, normalise_token)
    if police_uk:
        category = cat_text.str.lower().map(POLICE_UK_CATEGORY).fillna(Category.OTHER.value)
        category = category.where(cat_text.ne(""), None)
    else:
        category = norm.map(CATEGORY_ALIASES)
    problems.add(cat_text.eq(""), "no category")
    problems.add(
        cat_text.ne("") & category.isna(),
        lambda i: (
            "unknown category "
            + cat_text.iloc[i].map(repr)
            + " (expected e.g. drug supply, violence, "
            "weapons, threat to life, cuckooing, intelligence, anti-social behaviour, other)"
        ),
    )
    loc = _resolve_locations(frame, mapping, problems, ctx)
    text_cols = [mapping[f] for f in ("notes", "location") if f in mapping]
    _check_text(frame, problems, text_cols)

    src = _col(frame, mapping, "source") if "source" in mapping else None
    source_col = pd.Series(source, index=frame.index, dtype=object)
    if src is not None:
        source_col = _map_unique(
            src.where(src.ne(""), source), lambda s: normalise_token(s).replace(" ", "-")
        )
    sid = _col(frame, mapping, "id")
    attrs = None
    if rest:
        # one JSON text per distinct combination of the extra columns (files repeat them)
        sub = frame[rest].astype(str)
        if len(sub):
            codes, first = _factorize_rows([sub[c] for c in rest])
            uniq = sub.iloc[first].itertuples(index=False, name=None)
        else:
            codes, uniq = np.zeros(0, dtype=np.int64), iter(())
        texts = [
            json.dumps({k: v for k, v in zip(rest, vals, strict=True) if v}, ensure_ascii=False)
            for vals in uniq
        ]
        attrs = np.asarray(texts, dtype=object)[codes].tolist()
    month = strftime_distinct(when, "%Y-%m")
    acc = pd.DataFrame(
        {
            Col.SOURCE: source_col,
            "source_id": sid.where(sid.ne(""), None),
            Col.WHEN: when,
            Col.MONTH: month,
            Col.PRECISION: precision,
            Col.CATEGORY: category,
            Col.ORIGINAL_TYPE: cat_text,
            Col.LOCATION: _col(frame, mapping, "location"),
            Col.NOTES: _col(frame, mapping, "notes"),
            "attributes": attrs if attrs is not None else "{}",
        },
        index=frame.index,
    )
    acc = pd.concat([acc, loc], axis=1)
    fp, group = _fingerprint_rows(
        acc[
            [
                Col.WHEN,
                Col.CATEGORY,
                Col.ORIGINAL_TYPE,
                Col.EASTING,
                Col.NORTHING,
                Col.LOCATION,
                Col.NOTES,
            ]
        ],
        lambda f: [
            f[Col.WHEN].astype(str),
            f[Col.CATEGORY].astype(str),
            f[Col.ORIGINAL_TYPE].str.lower(),
            f[Col.EASTING].round(0).astype(str),
            f[Col.NORTHING].round(0).astype(str),
            f[Col.LOCATION],
            f[Col.NOTES],
        ],
    )
    # the n-th row with the same fingerprint (rows with an id count too)
    occurrence = pd.Series(group).groupby(group).cumcount().to_numpy() + 1
    has_id = sid.ne("").to_numpy()
    key = np.empty(len(acc), dtype=object)
    src_t = acc[Col.SOURCE]
    if has_id.any():
        key[has_id] = (src_t[has_id] + ":" + sid[has_id]).to_numpy(dtype=object)
    if not has_id.all():
        no_id = ~has_id
        key[no_id] = (
            src_t[no_id] + ":fp:" + fp[no_id] + ":" + occurrence[no_id].astype(str)
        ).to_numpy(dtype=object)
    acc[KEY] = key
    if rest:
        notes.append(f"columns kept as attributes: {', '.join(map(str, rest))}")
    return _finish("incidents", raw, problems, acc, mapping, notes)


# --------------------------------------------------------------------------- addresses


def _hardening(
    frame: pd.DataFrame,
    mapping: Mapping[str, str],
    rest: list[str],
    problems: _Problems,
    ctx: ValidationContext,
) -> tuple[pd.Series, list[str]]:
    """Hardening measures per row as tuples of (measure, date-or-None)."""
    n = len(frame)
    measures: list[list[tuple[str, str | None]]] = [[] for _ in range(n)]
    used: list[str] = []
    # one column per measure, holding a date or a yes
    for c in rest:
        code = HARDENING_ALIASES.get(normalise_token(str(c)))
        if code is None:
            continue
        used.append(c)
        text = frame[c].astype(str).str.strip()
        flag, flag_ok = parse_bool(text)
        parsed = parse_dates(text.where(~flag_ok, ""), earliest=ctx.earliest, latest=ctx.latest)
        bad = ~flag_ok & parsed.error.ne("")
        problems.add(bad, f"{c!r}: " + parsed.error)
        when = parsed.when.dt.strftime("%Y-%m-%d")
        for i in np.flatnonzero((flag | (~flag_ok & parsed.error.eq(""))).to_numpy()):
            measures[i].append((code, None if flag.iloc[i] else when.iloc[i]))
    # one list column: "spy hole 2024-01-05; cctv"
    if "hardening" in mapping:
        text = frame[mapping["hardening"]].astype(str)
        for i, s in enumerate(text):
            if not s.strip():
                continue
            for item in filter(str.strip, s.replace("|", ";").replace(",", ";").split(";")):
                words = item.strip().rstrip(")").replace("(", " ").replace(":", " ").split()
                day = None
                if words and any(ch.isdigit() for ch in words[-1]):
                    d = parse_dates(
                        pd.Series([words[-1]]), earliest=ctx.earliest, latest=ctx.latest
                    )
                    if d.error.iloc[0]:
                        problems.add(
                            np.arange(n) == i, f"hardening date not understood: {item.strip()!r}"
                        )
                        continue
                    day = d.when.iloc[0].strftime("%Y-%m-%d")
                    words = words[:-1]
                code = HARDENING_ALIASES.get(normalise_token(" ".join(words)))
                if code is None:
                    problems.add(
                        np.arange(n) == i,
                        f"unknown hardening measure {item.strip()!r} (expected spy hole, key "
                        "chain, CCTV, entry system, warning notice)",
                    )
                    continue
                measures[i].append((code, day))
    return pd.Series([tuple(m) for m in measures], index=frame.index, dtype=object), used


def _addresses(raw: RawTable, ctx: ValidationContext, *, source: str) -> Validated:
    frame = raw.frame
    mapping, rest = map_headers(list(frame.columns), "addresses")
    notes = list(raw.notes)
    if not _location_columns(mapping):
        raise _no_location_error(raw.name, "addresses", frame.columns)
    problems = _Problems(len(frame))
    sid = _col(frame, mapping, "id")
    # a row about an address already known (in the store, or placed by an earlier row
    # of this file) may leave the location blank: e.g. a later status change
    given = pd.Series(False, index=frame.index)
    for f in ("lat", "lon", "easting", "northing", "grid_ref"):
        given |= _col(frame, mapping, f).ne("")
    id_key = (source + ":" + sid).where(sid.ne(""), None)
    loc = _resolve_locations(frame, mapping, problems, ctx, required=False)
    problems.add(~given & sid.eq(""), "no location (no coordinates or grid reference)")
    status_t = _col(frame, mapping, "status")
    status = status_t.map(normalise_token).map(STATUS_ALIASES)
    problems.add(
        status_t.ne("") & status.isna(),
        "unknown cuckooing status "
        + status_t.map(repr)
        + " (expected suspected, confirmed, resolved or none)",
    )
    sd = _col(frame, mapping, "status_date")
    sd_parsed = parse_dates(sd, earliest=ctx.earliest, latest=ctx.latest)
    problems.add(sd.ne("") & sd_parsed.error.ne(""), "status date: " + sd_parsed.error)
    problems.add(
        status_t.ne("") & status.notna() & sd.eq(""),
        "a cuckooing status needs a status date (when it was set)",
    )

    def flag(f: str) -> pd.Series:
        if f not in mapping:
            return pd.Series(None, index=frame.index, dtype=object)
        t = _col(frame, mapping, f)
        value, ok = parse_bool(t)
        # a date in a flag column means "yes, since that date"
        d = parse_dates(t.where(~ok, ""), earliest=ctx.earliest, latest=ctx.latest)
        is_date = ~ok & d.error.eq("")
        problems.add(~ok & ~is_date, f"{mapping[f]!r}: expected yes/no, got " + t.map(repr))
        # blank means "not given": a later row about the same address changes nothing
        return (value | is_date).astype(object).where(t.ne(""), None)

    safe = flag("safe_alert")
    plan = flag("protection_plan")
    due_t = _col(frame, mapping, "next_visit_due")
    due = parse_dates(due_t, earliest=ctx.earliest, latest=ctx.now + timedelta(days=3660))
    problems.add(due_t.ne("") & due.error.ne(""), "next visit due: " + due.error)
    hard, used = _hardening(frame, mapping, rest, problems, ctx)
    rest = [c for c in rest if c not in used]
    _check_text(frame, problems, [mapping[f] for f in ("notes", "address") if f in mapping])
    # Last, once every other check has run: a row that gives no location must name an
    # address already placed, in the store or by an earlier *accepted* row of this file.
    placing = loc[Col.LAT].notna() & ~pd.Series(problems.bad, index=frame.index)
    placed_before = placing.groupby(id_key.fillna("").to_numpy()).cummax() & sid.ne("")
    known = id_key.isin(ctx.address_locations.keys()) | placed_before
    problems.add(
        ~given & ~known & sid.ne(""),
        "no location, and address id " + sid.map(repr) + " has none in the store or in an "
        "accepted earlier row of this file",
    )
    addr = _col(frame, mapping, "address")
    # without an id, an address is known by its text, or by its 10 m square if it has none
    square = (loc[Col.EASTING] // 10).astype(str) + "," + (loc[Col.NORTHING] // 10).astype(str)
    fp = _fingerprint([addr.map(normalise_token), square.where(addr.eq(""), "")])
    acc = pd.DataFrame(
        {
            KEY: np.where(sid.ne(""), source + ":" + sid, source + ":fp:" + fp),
            "source_id": sid.where(sid.ne(""), None),
            Col.ADDRESS: addr,
            Col.STATUS: status.where(status_t.ne(""), None),
            Col.STATUS_SINCE: sd_parsed.when.dt.date.where(sd.ne(""), None),
            Col.SAFE_ALERT: safe,
            Col.PROTECTION_PLAN: plan,
            Col.NEXT_VISIT_DUE: due.when.dt.date.where(due_t.ne(""), None),
            Col.HARDENING: hard,
            Col.NOTES: _col(frame, mapping, "notes"),
        },
        index=frame.index,
    )
    acc = pd.concat([acc, loc], axis=1)
    if rest:
        notes.append(f"columns not used: {', '.join(map(str, rest))}")
    return _finish("addresses", raw, problems, acc, mapping, notes)


# --------------------------------------------------------------------------- visits


def _visits(raw: RawTable, ctx: ValidationContext, *, source: str) -> Validated:
    frame = raw.frame
    mapping, rest = map_headers(list(frame.columns), "visits")
    notes = list(raw.notes)
    if not _location_columns(mapping) and "address_id" not in mapping:
        raise InputFileError(
            f"{raw.name}: no usable location columns for visits: expected an address id "
            "column, latitude+longitude, easting+northing or a grid reference; found "
            + ", ".join(map(str, frame.columns))
        )
    if "date" not in mapping:
        raise InputFileError(
            f"{raw.name}: no date column (expected e.g. date, visit date, visited); found "
            + ", ".join(map(str, frame.columns))
        )
    problems = _Problems(len(frame))
    when, precision = _datetime_column(frame, mapping, problems, ctx, required=True)
    aid = _col(frame, mapping, "address_id")
    # addresses are keyed "<source>:<id>" in the store; a visit names them by file id
    aid_key = (source + ":" + aid).where(aid.ne(""), None)
    known = aid_key.isin(ctx.address_locations.keys())
    given = pd.Series(False, index=frame.index)
    for f in ("lat", "lon", "easting", "northing", "grid_ref"):
        given |= _col(frame, mapping, f).ne("")
    loc = _resolve_locations(frame, mapping, problems, ctx, required=False)
    # place visits that name a known address but give no coordinates
    fill = (~given & known).to_numpy()
    if fill.any():
        pts = aid_key[fill].map(ctx.address_locations)
        la = np.array([p[0] for p in pts], dtype="float64")
        lo = np.array([p[1] for p in pts], dtype="float64")
        e, n = geo.to_bng(lo, la)
        loc.loc[fill, Col.LAT] = la
        loc.loc[fill, Col.LON] = lo
        loc.loc[fill, Col.EASTING] = np.round(e, 1)
        loc.loc[fill, Col.NORTHING] = np.round(n, 1)
        loc.loc[fill, Col.AREA] = ctx.areas.assign(lo, la)
    problems.add(
        ~given & aid.ne("") & ~known,
        "address id " + aid.map(repr) + " is not in the store and no location is given",
    )
    problems.add(~given & aid.eq(""), "no location (no address id, coordinates or grid reference)")
    out_t = _col(frame, mapping, "outcome")
    outcome = out_t.map(normalise_token).map(OUTCOME_ALIASES)
    problems.add(
        out_t.ne("") & outcome.isna(),
        "unknown outcome " + out_t.map(repr) + " (expected engaged, no answer, declined, "
        "intelligence, arrest, safeguarding, other)",
    )
    support, s_err = parse_list(_col(frame, mapping, "support"), SUPPORT_ALIASES)
    problems.add(s_err.ne(""), "support: " + s_err)
    referrals, r_err = parse_list(_col(frame, mapping, "referrals"), REFERRAL_ALIASES)
    problems.add(r_err.ne(""), "referrals: " + r_err)
    # a referral is part of the support package
    support = pd.Series(
        [
            (*s, Support.REFERRAL.value) if r and Support.REFERRAL.value not in s else s
            for s, r in zip(support, referrals, strict=True)
        ],
        index=frame.index,
        dtype=object,
    )
    _check_text(frame, problems, [mapping[f] for f in ("notes", "officers") if f in mapping])
    sid = _col(frame, mapping, "id")
    officers = _col(frame, mapping, "officers")
    fp = _fingerprint(
        [
            when.astype(str),
            aid,
            loc[Col.EASTING].round(0).astype(str),
            loc[Col.NORTHING].round(0).astype(str),
            officers,
            out_t,
        ]
    )
    occurrence = fp.groupby(fp).cumcount() + 1
    acc = pd.DataFrame(
        {
            KEY: np.where(
                sid.ne(""), source + ":" + sid, source + ":fp:" + fp + ":" + occurrence.astype(str)
            ),
            "source_id": sid.where(sid.ne(""), None),
            "visited_at": when,
            Col.PRECISION: precision,
            Col.ADDRESS_ID: aid_key,
            Col.OFFICERS: officers,
            Col.OUTCOME: outcome.where(out_t.ne(""), None),
            Col.SUPPORT: support,
            Col.REFERRALS: referrals,
            Col.NOTES: _col(frame, mapping, "notes"),
        },
        index=frame.index,
    )
    acc = pd.concat([acc, loc], axis=1)
    if rest:
        notes.append(f"columns not used: {', '.join(map(str, rest))}")
    return _finish("visits", raw, problems, acc, mapping, notes)


# --------------------------------------------------------------------------- county lines


def _lines(raw: RawTable, ctx: ValidationContext, *, source: str) -> Validated:
    frame = raw.frame
    mapping, _rest = map_headers(list(frame.columns), "lines")
    notes = list(raw.notes)
    missing = [f for f in ("status", "status_date") if f not in mapping]
    if "id" not in mapping and "name" not in mapping:
        missing.insert(0, "line id or name")
    if missing:
        raise InputFileError(
            f"{raw.name}: county lines need columns for {', '.join(missing)}; found "
            + ", ".join(map(str, frame.columns))
        )
    problems = _Problems(len(frame))
    sid = _col(frame, mapping, "id")
    name = _col(frame, mapping, "name")
    problems.add(sid.eq("") & name.eq(""), "no line id or name")
    st_t = _col(frame, mapping, "status")
    status = st_t.map(normalise_token).map(LINE_STATUS_ALIASES)
    problems.add(
        status.isna(), "unknown line status " + st_t.map(repr) + " (expected active or disrupted)"
    )
    d_t = _col(frame, mapping, "status_date")
    d = parse_dates(d_t, earliest=ctx.earliest, latest=ctx.latest)
    problems.add(d.error.ne(""), "status date: " + d.error.replace("missing", "no date"))
    area_t = _col(frame, mapping, "area")
    lookup = {normalise_token(a.id): a.id for a in ctx.areas}
    lookup |= {normalise_token(a.name): a.id for a in ctx.areas}
    area = area_t.map(normalise_token).map(lookup)
    problems.add(
        area_t.ne("") & area.isna(),
        "unknown area " + area_t.map(repr) + f" (areas: {', '.join(ctx.areas.names().values())})",
    )
    line_key = np.where(
        sid.ne(""), source + ":" + sid, source + ":name:" + name.map(normalise_token)
    )
    acc = pd.DataFrame(
        {
            "line_id": line_key,
            "source_id": sid.where(sid.ne(""), None),
            Col.LINE_NAME: name.where(name.ne(""), sid),
            Col.AREA: area,
            Col.LINE_STATUS: status,
            "since": d.when.dt.date,
            Col.NOTES: _col(frame, mapping, "notes"),
        },
        index=frame.index,
    )
    acc[KEY] = (
        acc["line_id"] + "@" + acc["since"].astype(str) + ":" + acc[Col.LINE_STATUS].astype(str)
    )
    return _finish("lines", raw, problems, acc, mapping, notes)


_VALIDATORS: Mapping[str, Callable[..., Validated]] = {
    "addresses": _addresses,
    "visits": _visits,
    "lines": _lines,
}


def validate(
    raw: RawTable,
    kind: str,
    ctx: ValidationContext,
    *,
    source: str = "local",
    police_uk: bool = False,
) -> Validated:
    """Validate a raw table as ``kind`` (incidents, addresses, visits or lines).

    Raises
    ------
    InputFileError
        If the file lacks columns without which no row could be used.
    """
    if kind == "incidents":
        return _incidents(raw, ctx, source=source, police_uk=police_uk)
    if kind not in _VALIDATORS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    return _VALIDATORS[kind](raw, ctx, source=source)
