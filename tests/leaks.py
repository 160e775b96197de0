"""Find record-level values of a store in anything a user receives (a page, a file, a proto).

Used by the meeting-pack, page-payload and browser leak tests. The secrets are read
from the store itself (so a new column of free text is covered once it is listed in
:data:`TEXT_COLUMNS`):

- every incident, address and visit location as ``lat, lon`` (and ``lon, lat``)
  printed at 4, 5 and 6 decimals and in full, and as British National Grid
  ``easting, northing`` (whole metres, one decimal, in full). Numbers are matched in
  pairs of neighbouring numbers, never alone: one latitude printed to 4 decimals
  matches thousands of unrelated numbers, a pair does not;
- every address, note, location description, officer, county-line name and record id
  of at least :data:`MIN_TEXT` characters, as written and as HTML-escaped.

:func:`seed_marked` imports rows whose every text field holds a unique marker and
whose coordinates carry seven decimals, so a leak of any one of them is certain to
be seen, whatever the demo data happens to hold.
"""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from clic_geo.access.privacy import CELL_M
from clic_geo.ingest.importer import import_file
from clic_geo.settings import Settings
from clic_geo.store import Store

MIN_TEXT = 8

#: Free text per record kind: ``(store method, columns)``.
TEXT_COLUMNS = (
    ("addresses", ("address", "notes", "id", "source_id")),
    ("visits", ("notes", "officers", "id", "address_id", "source_id")),
    ("incidents", ("location", "notes", "id", "source_id")),
    ("county_lines", ("name", "notes", "line_id", "source_id")),
)
POINT_KINDS = ("incidents", "addresses", "visits")

_NUM = re.compile(r"-?\d+(?:\.\d+)?")

#: A marker in every text field of the rows :func:`seed_marked` imports.
MARK = "QZXLEAK"
#: Points this close (metres, both axes) to a 250 m grid corner are not searched for.
CORNER_TOLERANCE_M = 10.0


def _strip(s: str) -> str:
    return s.rstrip("0").rstrip(".") if "." in s else s


@dataclass
class Secrets:
    """What must never reach a partner."""

    texts: set[str] = field(default_factory=set)
    pairs: set[tuple[str, str]] = field(default_factory=set)

    def add_point(self, a: float, b: float, decimals: Iterable[int]) -> None:
        forms = {(repr(float(a)), repr(float(b)))}
        for d in decimals:
            forms.add((f"{a:.{d}f}", f"{b:.{d}f}"))
        for x, y in forms:
            self.pairs.add((_strip(x), _strip(y)))
            self.pairs.add((_strip(y), _strip(x)))


def _on_an_outline_vertex(frame: pd.DataFrame) -> np.ndarray:
    """Points within :data:`CORNER_TOLERANCE_M` of a vertex of an operating area's
    outline: the outlines are public (every partner map draws them, their vertices at
    3 decimals), so such a point printed at 4 decimals cannot be told from the outline
    and is not searched for (the demo has a few addresses on an outline's corner)."""
    from scipy.spatial import cKDTree

    from clic_geo.geo.areas import load_areas
    from clic_geo.geo.crs import to_bng
    from clic_geo.settings import load_settings

    xy = [
        c
        for a in load_areas(load_settings().areas_dir)
        for g in getattr(a.geometry, "geoms", [a.geometry])
        for ring in [g.exterior, *g.interiors]
        for c in ring.coords
    ]
    if not xy or not len(frame):
        return np.zeros(len(frame), dtype=bool)
    e, n = to_bng([c[0] for c in xy], [c[1] for c in xy])
    d, _ = cKDTree(np.column_stack([e, n])).query(
        np.column_stack([frame["easting"].to_numpy(float), frame["northing"].to_numpy(float)])
    )
    return d <= CORNER_TOLERANCE_M


def store_secrets(store: Store) -> Secrets:
    """Every record-level value of the store that a partner must not receive."""
    sec = Secrets()
    for kind, cols in TEXT_COLUMNS:
        frame = getattr(store, kind)()
        for c in cols:
            if c not in frame:
                continue
            for v in frame[c].dropna().astype(str).unique():
                if len(v) >= MIN_TEXT:
                    sec.texts.add(v)
    for kind in POINT_KINDS:
        frame = getattr(store, kind)()
        # A point within a few metres of a corner of the partners' public 250 m grid
        # prints (at 5 decimals, ~1 m) like a pair of that grid's corner coordinates,
        # which the partner map draws: such points cannot be told from the grid and
        # are not searched for (the demo snaps to a 70 m street lattice, which comes
        # within metres of a grid corner every 1,750 m).
        near = CORNER_TOLERANCE_M / CELL_M
        on_grid = (np.abs(frame["easting"].to_numpy(float) / CELL_M % 1 - 0.5) > 0.5 - near) & (
            np.abs(frame["northing"].to_numpy(float) / CELL_M % 1 - 0.5) > 0.5 - near
        )
        frame = frame[~on_grid & ~_on_an_outline_vertex(frame)]
        for lat, lon in zip(frame["latitude"], frame["longitude"], strict=True):
            if pd.notna(lat) and pd.notna(lon):
                sec.add_point(lat, lon, (4, 5, 6))
        for e, n in zip(frame["easting"], frame["northing"], strict=True):
            if pd.notna(e) and pd.notna(n):
                sec.add_point(e, n, (0, 1))
    return sec


@dataclass(frozen=True)
class Finding:
    kind: str  # "text" or "point"
    value: str

    def __str__(self) -> str:  # never print a whole address in a test report
        return f"{self.kind}:{self.value[:24]}"


def scan(blob: str, secrets: Secrets, *, limit: int = 20) -> list[Finding]:
    """Record-level values found in ``blob`` (at most ``limit``)."""
    out: list[Finding] = []
    # texts: look each position's first MIN_TEXT characters up among the secrets'
    # (as written, HTML-escaped, JSON-escaped); linear in the blob, not in the secrets
    heads: dict[str, list[tuple[str, str]]] = {}
    for t in secrets.texts:
        for form in {t, html.escape(t), json.dumps(t)[1:-1]}:
            heads.setdefault(form[:MIN_TEXT], []).append((form, t))
    found: set[str] = set()
    for i in range(len(blob) - MIN_TEXT + 1):
        cands = heads.get(blob[i : i + MIN_TEXT])
        if cands:
            for form, t in cands:
                if t not in found and blob.startswith(form, i):
                    found.add(t)
                    out.append(Finding("text", t))
                    if len(out) >= limit:
                        return out
    nums = [_strip(m.group()) for m in _NUM.finditer(blob)]
    for i in range(len(nums) - 1):
        for j in (i + 1, i + 2):
            if j < len(nums) and (nums[i], nums[j]) in secrets.pairs:
                out.append(Finding("point", f"{nums[i]},{nums[j]}"))
                if len(out) >= limit:
                    return out
    return out


# ------------------------------------------------------------------ marked rows


def marked_rows(tag: str = MARK) -> dict[str, str]:
    """CSV text per kind; every text field holds ``tag`` and a field name."""
    return {
        "addresses": (
            "id,address,latitude,longitude,status,status date,notes\n"
            f"{tag}A1,{tag} address 1 Marker Row,54.1171234,-3.2271234,suspected,2026-09-03,"
            f"{tag} address note\n"
            f"{tag}A2,{tag} address 2 Marker Row,54.1181234,-3.2261234,confirmed,2026-09-04,"
            f"{tag} address note two\n"
        ),
        "incidents": (
            "id,date,type,lat,lon,location,notes\n"
            + "".join(
                f"{tag}I{i},2026-09-{10 + i:02d},drug supply,54.11{i}2345,-3.22{i}3456,"
                f"{tag} location {i},{tag} incident note {i}\n"
                for i in range(1, 6)
            )
        ),
        "visits": (
            "visit id,date,address id,latitude,longitude,officers,outcome,notes\n"
            f"{tag}V1,2026-09-05 11:00,{tag}A1,,,{tag} officer PC Marker,engaged,"
            f"{tag} visit note one\n"
            f"{tag}V2,2026-09-06 11:00,,54.1161234,-3.2241234,{tag} officer PC Other,"
            f"no answer,{tag} visit note two\n"
        ),
        "lines": (
            "line id,line name,area,status,date,notes\n"
            f"{tag}L1,{tag} line name,barrow,active,2026-08-01,{tag} line note\n"
        ),
    }


def seed_marked(
    settings: Settings, store: Store, directory: Path, *, rows: dict[str, str] | None = None
) -> None:
    """Import :func:`marked_rows` (or ``rows``) into the store; every row must be accepted."""
    rows = rows or marked_rows()
    for kind in ("addresses", "incidents", "visits", "lines"):
        if kind not in rows:
            continue
        f = directory / f"marked-{kind}.csv"
        f.write_text(rows[kind], encoding="utf-8")
        r = import_file(f, kind, settings=settings, store=store, source="local")
        assert r.rejected == 0, (kind, store.rejects(r.import_id)["reason"].tolist())


# ------------------------------------------------------------------ library results


def result_text(obj: object) -> str:
    """Every value of a result object, as text: dataclass fields, frames as CSV.

    For scanning what a library function hands a partner before any page draws it
    (e.g. :class:`clic_geo.access.partner_evaluation.PartnerEvaluation`).
    """
    import dataclasses

    parts: list[str] = []
    stack = [obj]
    while stack:
        x = stack.pop()
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            stack.extend(getattr(x, f.name) for f in dataclasses.fields(x))
        elif isinstance(x, pd.DataFrame):
            parts.append(x.to_csv(index=False))
            num = x.select_dtypes("number")
            cols = list(num.columns)
            for a in cols:  # neighbouring numbers in every column order, as for Arrow
                for b in cols:
                    if a != b:
                        parts.append(
                            "\n".join(f"{u!r} {w!r}" for u, w in zip(num[a], num[b], strict=True))
                        )
        elif isinstance(x, dict):
            stack.extend(x.values())
            parts.extend(str(k) for k in x)
        elif isinstance(x, list | tuple | set | frozenset):
            stack.extend(x)
        else:
            parts.append(repr(x))
    return "\n".join(parts)


# ------------------------------------------------------------------ Streamlit protos


def _arrow_text(data: bytes) -> str | None:
    try:
        import pyarrow as pa

        table = pa.ipc.open_stream(io.BytesIO(data)).read_all()
    except Exception:
        return None
    df = table.to_pandas()
    lines = [df.to_csv(index=False)]
    # neighbouring numbers per row in every column order, so a lat and a lon held in
    # non-adjacent columns still form a pair for the scanner
    num = df.select_dtypes("number")
    if num.shape[1] >= 2 and len(num) <= 50_000:
        cols = list(num.columns)
        for a in cols:
            for b in cols:
                if a != b:
                    lines.append(
                        "\n".join(f"{x!r} {y!r}" for x, y in zip(num[a], num[b], strict=True))
                    )
    return "\n".join(lines)


def proto_strings(msg) -> list[str]:
    """Every string and byte payload in a protobuf message, recursively (Arrow decoded)."""
    out: list[str] = []
    stack = [msg]
    while stack:
        m = stack.pop()
        for fd, value in m.ListFields():
            values = list(value) if fd.is_repeated else [value]
            for v in values:
                if hasattr(v, "ListFields"):
                    stack.append(v)
                elif isinstance(v, bytes):
                    text = _arrow_text(v)
                    out.append(text if text is not None else v.decode("utf-8", "replace"))
                elif isinstance(v, str):
                    out.append(v)
                elif isinstance(v, int | float):
                    out.append(repr(v))
    return out


def apptest_payload(at) -> str:
    """The whole element tree of an AppTest run, as text (main, sidebar, every element)."""
    parts: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            parts.extend(proto_strings(proto))
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                walk(child)

    walk(at._tree)
    return "\n".join(parts)
