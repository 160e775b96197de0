"""Parsers for single values (dates, numbers, coordinates, flags, lists).

Each parser works on the *unique* values of a column and maps the results back,
so a million-row file with a few thousand distinct dates parses in milliseconds.
Failures come back as messages, never exceptions: a bad value is a row problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from clic_geo.vocab import normalise_token

__all__ = [
    "ParsedDates",
    "parse_bool",
    "parse_coordinate",
    "parse_dates",
    "parse_list",
    "parse_number",
]

LONDON = ZoneInfo("Europe/London")
_EXCEL_EPOCH = datetime(1899, 12, 30)

_ISO = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_SLASH_MONTH = re.compile(r"^(\d{1,2})/(\d{4})$")
_UK = re.compile(
    r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?:[ T,]+(\d{1,2})[:.](\d{2})(?::(\d{2}))?)?$"
)
_SERIAL = re.compile(r"^\d{4,5}(?:\.\d+)?$")
_TEXT_FORMATS_DAY = (
    "%d %B %Y",
    "%d %b %Y",
    "%d %B %Y %H:%M",
    "%d %b %Y %H:%M",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%d %b %y",
    "%A %d %B %Y",
    "%a %d %b %Y",
)
_TEXT_FORMATS_MONTH = ("%B %Y", "%b %Y", "%b-%y", "%b-%Y", "%B-%Y")

EXPECTED_DATES = "YYYY-MM-DD, DD/MM/YYYY, YYYY-MM or an Excel date number"


class ParsedDates:
    """Result of :func:`parse_dates`: timestamps, precision and error messages."""

    def __init__(self, when: pd.Series, precision: pd.Series, error: pd.Series) -> None:
        self.when = when  # datetime64[ns], NaT where missing/invalid
        self.precision = precision  # "month" | "day" | "minute" | ""
        self.error = error  # "" where fine


def _year2(yy: int) -> int:
    return 2000 + yy if yy <= (date.today().year % 100) + 1 else 1900 + yy


def _mk(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime | None:
    try:
        return datetime(y, m, d, hh, mm, ss)
    except ValueError:
        return None


def _parse_date_one(text: str) -> tuple[datetime | None, str, str]:
    """Parse one date string; returns (value, precision, error)."""
    s = text.strip()
    if not s:
        return None, "", "missing"
    m = _ISO.match(s)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        hh = int(m.group(4) or 0)
        mi = int(m.group(5) or 0)
        ss = int(m.group(6) or 0)
        value = _mk(y, mo, d, hh, mi, ss)
        if value is None:
            return None, "", f"not a valid date: {s!r}"
        tz = m.group(7)
        if tz:
            if tz == "Z":
                off = timedelta(0)
            else:
                sign = 1 if tz[0] == "+" else -1
                digits = tz[1:].replace(":", "")
                off = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            aware = value.replace(tzinfo=ZoneInfo("UTC")) - off
            value = aware.astimezone(LONDON).replace(tzinfo=None)
        return value, ("minute" if m.group(4) else "day"), ""
    m = _ISO_MONTH.match(s) or _SLASH_MONTH.match(s)
    if m:
        if m.re is _ISO_MONTH:
            y, mo = int(m.group(1)), int(m.group(2))
        else:
            mo, y = int(m.group(1)), int(m.group(2))
        value = _mk(y, mo, 1)
        if value is None:
            return None, "", f"not a valid month: {s!r}"
        return value, "month", ""
    m = _UK.match(s)
    if m:
        d, mo, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if len(m.group(3)) == 2:
            y = _year2(y)
        hh, mi, ss = int(m.group(4) or 0), int(m.group(5) or 0), int(m.group(6) or 0)
        value = _mk(y, mo, d, hh, mi, ss)
        if value is None:
            if mo > 12 and d <= 12 and _mk(y, d, mo) is not None:
                return (
                    None,
                    "",
                    (
                        f"not a UK day-first date: {s!r} looks month-first (US); "
                        f"write it as {mo:02d}/{d:02d}/{y}"
                    ),
                )
            return None, "", f"not a valid date: {s!r}"
        return value, ("minute" if m.group(4) else "day"), ""
    if _SERIAL.match(s):
        serial = float(s)
        if not 20_000 <= serial <= 80_000:
            return None, "", f"not a date: {s!r} (as an Excel date number it is out of range)"
        value = _EXCEL_EPOCH + timedelta(days=serial)
        value = value.replace(microsecond=0)
        precise = not float(serial).is_integer()
        return value, ("minute" if precise else "day"), ""
    for fmt in _TEXT_FORMATS_DAY:
        try:
            value = datetime.strptime(s, fmt)
        except ValueError:
            continue
        return value, ("minute" if "%H" in fmt else "day"), ""
    for fmt in _TEXT_FORMATS_MONTH:
        try:
            value = datetime.strptime(s, fmt)
        except ValueError:
            continue
        return value, "month", ""
    return None, "", f"not a date: {s!r} (expected {EXPECTED_DATES})"


def _map_unique(values: pd.Series, fn: Callable[[str], tuple]) -> dict[str, tuple]:
    return {u: fn(u) for u in pd.unique(values)}


def parse_dates(
    values: pd.Series,
    *,
    earliest: date | None = None,
    latest: datetime | None = None,
    month_only: bool = False,
) -> ParsedDates:
    """Parse a column of date text.

    Accepts ISO dates and datetimes (with an optional UTC offset, converted to UK
    local time), ``YYYY-MM`` months, UK day-first dates (``05/03/2024``,
    ``5.3.24 14:30``), Excel serial numbers and written dates (``5 March 2024``).
    A US month-first date that cannot be day-first is reported as such.

    Parameters
    ----------
    values : pandas.Series of str
    earliest, latest : optional
        Values outside ``[earliest, latest]`` are errors.
    month_only : bool
        Keep only the month (published data): precision is ``"month"``.

    Examples
    --------
    >>> p = parse_dates(pd.Series(["2024-03-05", "05/03/2024 14:30", "2024-03", "45356", "x"]))
    >>> [str(t)[:16] for t in p.when]
    ['2024-03-05 00:00', '2024-03-05 14:30', '2024-03-01 00:00', '2024-03-05 00:00', 'NaT']
    >>> list(p.precision)
    ['day', 'minute', 'month', 'day', '']
    """
    text = values.astype(str)
    # every step works on the distinct texts (a file has a few hundred dates at most)
    codes, uniques = pd.factorize(text, sort=False, use_na_sentinel=False)
    parsed = [_parse_date_one(u if isinstance(u, str) else "") for u in uniques]
    u_when = np.array(
        [np.datetime64(v) if v is not None else np.datetime64("NaT") for v, _, _ in parsed],
        dtype="datetime64[ns]",
    )
    u_prec = np.array([p for _, p, _ in parsed], dtype=object)
    u_err = np.array([e for _, _, e in parsed], dtype=object)
    if month_only:
        ok = ~np.isnat(u_when)
        u_when[ok] = u_when[ok].astype("datetime64[M]").astype("datetime64[ns]")
        u_prec = np.where(ok, "month", u_prec).astype(object)
    if earliest is not None:
        early = u_when < np.datetime64(pd.Timestamp(earliest))
        u_err = np.where(early, f"date is before {earliest.isoformat()}: implausible", u_err)
    if latest is not None:
        late = u_when > np.datetime64(pd.Timestamp(latest))
        u_err = np.where(
            late, "date is in the future (after " + latest.strftime("%Y-%m-%d") + ")", u_err
        )
    u_err = u_err.astype(object)
    bad = u_err != ""
    u_when[bad] = np.datetime64("NaT")
    u_prec[bad] = ""
    when_s = pd.Series(u_when[codes], index=values.index)
    prec_s = pd.Series(u_prec[codes], index=values.index, dtype=object)
    err_s = pd.Series(u_err[codes], index=values.index, dtype=object)
    return ParsedDates(when_s, prec_s, err_s)


# --------------------------------------------------------------------------- numbers

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_DMS = re.compile(
    r"""^\s*([NSEW])?\s*(\d{1,3}(?:\.\d+)?)\s*[°d:\s]\s*(?:(\d{1,2}(?:\.\d+)?)\s*['m:\s]?\s*)?"""
    r"""(?:(\d{1,2}(?:\.\d+)?)\s*(?:"|''|s)?\s*)?([NSEW])?\s*$""",
    re.IGNORECASE,
)
_HEMI = re.compile(r"^\s*([NSEW])?\s*([+-]?\d+(?:[.,]\d+)?)\s*°?\s*([NSEW])?\s*$", re.IGNORECASE)


def _number_one(s: str, *, thousands: bool) -> float:
    s = s.strip().replace("\u2212", "-")
    if not s:
        return np.nan
    if thousands and _THOUSANDS.match(s):
        s = s.replace(",", "")
    elif _DECIMAL_COMMA.match(s):
        s = s.replace(",", ".")
    try:
        return float(s)
    except ValueError:
        return np.nan


def parse_number(values: pd.Series, *, thousands: bool = False) -> pd.Series:
    """Parse numbers written with a decimal point or a decimal comma (``54,12``).

    With ``thousands=True``, ``319,684`` is read as 319684 (eastings); otherwise as
    319.684. Unparseable text gives NaN.
    """
    return _per_distinct(values, lambda text: _numbers(text, thousands=thousands))


def _per_distinct(values: pd.Series, parse: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``parse(values.astype(str))`` computed once per distinct text (files repeat them).

    ``parse`` must work value by value (no value's result depending on another's).
    """
    text = values.astype(str)
    codes, uniq = pd.factorize(text, use_na_sentinel=False)
    if len(uniq) * 2 > len(text):  # mostly distinct: not worth the detour
        return parse(text)
    parsed = parse(pd.Series(uniq, dtype=text.dtype)).to_numpy(dtype="float64")
    return pd.Series(parsed[codes], index=values.index, dtype="float64")


def _numbers(text: pd.Series, *, thousands: bool) -> pd.Series:
    fast = pd.to_numeric(text.str.strip(), errors="coerce")
    todo = fast.isna() & text.str.strip().ne("")
    if todo.any():
        sub = text[todo]
        m = _map_unique(sub, lambda u: (_number_one(u, thousands=thousands),))
        fast.loc[todo] = sub.map(lambda u: m[u][0]).astype("float64")
    return fast.astype("float64")


def _coordinate_one(s: str, positive: str) -> float:
    """Degrees from '54.11', '54.11N', '3.22 W', '54°06'41"N'."""
    s = s.strip().replace("\u2212", "-").replace("’", "'").replace("”", '"')
    if not s:
        return np.nan
    m = _HEMI.match(s)
    if m:
        value = float(m.group(2).replace(",", "."))
        hemi = (m.group(1) or m.group(3) or "").upper()
    else:
        m = _DMS.match(s)
        if not m:
            return np.nan
        deg = float(m.group(2))
        minutes = float(m.group(3) or 0)
        seconds = float(m.group(4) or 0)
        if minutes >= 60 or seconds >= 60:
            return np.nan
        value = deg + minutes / 60 + seconds / 3600
        hemi = (m.group(1) or m.group(5) or "").upper()
    if hemi:
        if hemi not in positive and hemi not in {"N", "S", "E", "W"} - set(positive):
            return np.nan
        negative = {"N": "S", "E": "W"}[positive[0]]
        if hemi == negative:
            value = -abs(value)
        elif hemi == positive[0]:
            value = abs(value)
        else:  # a latitude given with E/W or the reverse
            return np.nan
    return value


def parse_coordinate(values: pd.Series, *, axis: str) -> pd.Series:
    """Parse latitude (``axis="lat"``) or longitude (``axis="lon"``) text to degrees.

    Accepts decimals (point or comma), hemisphere letters and degrees-minutes-seconds.
    """
    positive = "N" if axis == "lat" else "E"
    return _per_distinct(values, lambda text: _coordinates(text, positive))


def _coordinates(text: pd.Series, positive: str) -> pd.Series:
    fast = pd.to_numeric(text.str.strip(), errors="coerce")
    todo = fast.isna() & text.str.strip().ne("")
    if todo.any():
        sub = text[todo]
        m = {u: _coordinate_one(u, positive) for u in pd.unique(sub)}
        fast.loc[todo] = sub.map(m).astype("float64")
    return fast.astype("float64")


# --------------------------------------------------------------------------- flags, lists

_TRUE = {"y", "yes", "true", "t", "1", "x", "✓", "✔", "on", "active", "in place", "applied"}
_FALSE = {"n", "no", "false", "f", "0", "", "off", "none", "-", "not applied", "removed"}


def strftime_distinct(when: pd.Series, fmt: str) -> pd.Series:
    """``when.dt.strftime(fmt)``, formatting each distinct time once (files repeat them).

    >>> strftime_distinct(pd.Series(pd.to_datetime(["2024-01-05", None, "2024-01-05"])), "%Y-%m")
    ... # doctest: +NORMALIZE_WHITESPACE
    0    2024-01
    1        NaN
    2    2024-01
    dtype: str
    """
    codes, uniq = pd.factorize(when, use_na_sentinel=False)
    text = pd.Series(uniq).dt.strftime(fmt)
    return pd.Series(text.array.take(codes), index=when.index, name=when.name)


def parse_bool(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse yes/no flags. Returns ``(value, ok)``; blank is ``False``."""
    norm = values.astype(str).str.strip().str.lower()
    true = norm.isin(_TRUE)
    false = norm.isin(_FALSE)
    return true, (true | false)


_LIST_SPLIT = re.compile(r"[;,|\n]+")


def parse_list(values: pd.Series, aliases: Mapping[str, str]) -> tuple[pd.Series, pd.Series]:
    """Parse delimited lists of vocabulary terms (``"calling card; harm reduction kit"``).

    Returns ``(codes, error)``: a tuple of codes per row and an error message
    (``""`` where every item was recognised).
    """
    text = values.astype(str)

    def one(s: str) -> tuple[tuple[str, ...], str]:
        items = [t for t in (_LIST_SPLIT.split(s) if s.strip() else []) if t.strip()]
        codes, unknown = [], []
        for it in items:
            code = aliases.get(normalise_token(it))
            if code is None:
                unknown.append(it.strip())
            elif code not in codes:
                codes.append(code)
        err = f"unknown value(s): {', '.join(repr(u) for u in unknown)}" if unknown else ""
        return tuple(codes), err

    m = {u: one(u) for u in pd.unique(text)}
    return text.map(lambda u: m[u][0]), text.map(lambda u: m[u][1])
