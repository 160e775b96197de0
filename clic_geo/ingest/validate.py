"""Turn a raw table into canonical rows, each accepted or rejected with its reasons.

Validation is vectorised: each check produces a mask over the rows and a message;
a row is rejected when any check fails, and keeps every value it arrived with.
Missing *columns* that make the whole file unusable raise :class:`InputFileError`
(nothing is imported); problems with *values* reject single rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from clic_geo._errors import InputFileError
from clic_geo.geo import crs
from clic_geo.ingest.checks import (
    KINDS,
    ValidationContext,
    _check_text,
    _col,
    _datetime_column,
    _factorize_rows,
    _fingerprint,
    _fingerprint_groups,
    _finish,
    _location_columns,
    _map_unique,
    _no_location_error,
    _Problems,
    _resolve_locations,
    map_headers,
)
from clic_geo.ingest.parse import parse_bool, parse_dates, parse_list, strftime_distinct
from clic_geo.ingest.readers import _STR, RawTable
from clic_geo.schema import (
    KEY,
    POLICE_UK_CATEGORY,
    Category,
    Col,
    Support,
)
from clic_geo.store.rows import Validated
from clic_geo.vocab import (
    CATEGORY_ALIASES,
    HARDENING_ALIASES,
    HEADER_ALIASES,
    LINE_STATUS_ALIASES,
    OUTCOME_ALIASES,
    REFERRAL_ALIASES,
    STATUS_ALIASES,
    SUPPORT_ALIASES,
    normalise_token,
)

__all__ = ["validate"]
_HARDENING_COLUMNS = HARDENING_ALIASES  # a column per measure, e.g. "Spy hole" with a date


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
    # categories per distinct text (a file has a handful)
    cat_codes, cat_u = pd.factorize(cat_text, use_na_sentinel=False)
    cat_u = pd.Series(cat_u, dtype=cat_text.dtype)
    if police_uk:
        known = cat_u.str.lower().map(POLICE_UK_CATEGORY).fillna(Category.OTHER.value)
        cat_values = known.where(cat_u.ne(""), None)
    else:
        cat_values = cat_u.map(normalise_token).map(CATEGORY_ALIASES)
    category = _take_text(cat_values, cat_codes, frame.index)
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
    attrs: object = "{}"
    if rest:
        # one JSON text per distinct combination of the extra columns (files repeat them),
        # shared by the rows that repeat it
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
        attrs = pd.Series(np.asarray(texts, dtype=object)[codes], index=frame.index, dtype=object)
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
            "attributes": attrs,
        },
        index=frame.index,
    )
    acc = pd.concat([acc, loc], axis=1)
    acc[KEY] = _incident_keys(acc, sid, source, by_source=src is not None)
    if rest:
        notes.append(f"columns kept as attributes: {', '.join(map(str, rest))}")
    return _finish("incidents", raw, problems, acc, mapping, notes)


def _take_text(values: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """``values`` (one per code, missing as None/NaN) for every row, as Arrow text."""
    arr = pa.array(values.astype(object).where(values.notna(), None).tolist(), pa.large_string())
    return pd.Series(arr.take(pa.array(codes)), index=index, dtype=_STR)


def _incident_keys(acc: pd.DataFrame, sid: pd.Series, source: str, *, by_source: bool) -> pd.Series:
    """``<source>:<id>``, or for a row with no id ``<source>:fp:<fingerprint>:<n>``.

    ``n`` numbers the rows with the same fingerprint (rows with an id count too), so
    identical records in one file stay distinct and a re-import finds them again.
    """
    src = pd.Series(acc[Col.SOURCE], dtype=_STR) if by_source else source
    keys = pa.chunked_array(pa.array((src + ":") + sid))
    no_id = np.flatnonzero(sid.eq("").to_numpy())
    if len(no_id):
        group, fingerprints = _fingerprint_groups(
            [
                (acc[Col.WHEN], lambda s: s.astype(str)),
                (acc[Col.CATEGORY], lambda s: s.astype(str)),
                (acc[Col.ORIGINAL_TYPE], lambda s: s.str.lower()),
                (acc[Col.EASTING], lambda s: s.round(0).astype(str)),
                (acc[Col.NORTHING], lambda s: s.round(0).astype(str)),
                (acc[Col.LOCATION], lambda s: s),
                (acc[Col.NOTES], lambda s: s),
            ]
        )
        # the n-th row with the same fingerprint (rows with an id count too)
        occurrence = pd.Series(group).groupby(group).cumcount().to_numpy() + 1
        s_no = src if isinstance(src, str) else src.iloc[no_id].to_numpy(dtype=object)
        fp_keys = pa.array(
            (s_no + ":fp:" + fingerprints(no_id) + ":" + occurrence[no_id].astype(str)).tolist(),
            keys.type,
        )
        pick = np.arange(len(acc))
        pick[no_id] = len(acc) + np.arange(len(no_id))
        keys = pa.chunked_array([*keys.chunks, fp_keys]).take(pa.array(pick))
    return pd.Series(keys, index=acc.index, dtype=_STR)


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
        e, n = crs.to_bng(lo, la)
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
