"""Read a CSV, XLSX or Parquet file into a table of strings, losing nothing.

The reader's only job is to turn bytes into rows of text with the spreadsheet row
number each came from. Interpretation (dates, places, categories) happens in
:mod:`clic_geo.ingest.validate`. Rows whose shape is wrong (more fields than the header)
are kept aside with a reason, never dropped.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd

from clic_geo._errors import InputFileError
from clic_geo.schema import OUTCOME_COL, REASON_COL, ROW_COL

__all__ = ["OUTCOME_COL", "REASON_COL", "ROW_COL", "RawTable", "read_table"]

#: Columns the importer adds to rejected rows. A file's own column of the same name
#: is read as "<name> (in file)" so nothing collides.
_RESERVED = {ROW_COL, REASON_COL, OUTCOME_COL, "_extra"}

_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls
_PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True)
class RawTable:
    """A file read as text.

    Attributes
    ----------
    frame : pandas.DataFrame
        One column per header (original names, made unique), all values ``str``.
        Fully blank rows are not included.
    rows : numpy.ndarray
        Spreadsheet row number of each frame row (the header is row 1).
    ragged : pandas.DataFrame
        Rows with more non-empty fields than the header: their values (extra
        fields in ``_extra``), ``row`` and ``reason``.
    blank_rows : int
        Rows with no value at all (not counted as records).
    encoding, delimiter, sheet : str
        How the file was read.
    sha256 : str
        Digest of the file's bytes.
    """

    frame: pd.DataFrame
    rows: np.ndarray
    ragged: pd.DataFrame
    blank_rows: int
    encoding: str
    delimiter: str
    sheet: str
    sha256: str
    name: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n_read(self) -> int:
        """Records read: well-formed plus ragged rows."""
        return len(self.frame) + len(self.ragged)


def _unique_headers(headers: list[str]) -> tuple[list[str], list[str]]:
    out, seen, notes = [], {}, []
    for i, h in enumerate(headers):
        h = (h or "").strip().lstrip("\ufeff")
        if not h:
            h = f"column_{i + 1}"
        if h in _RESERVED:
            notes.append(f"header {h!r} is read as {h + ' (in file)'!r}")
            h = f"{h} (in file)"
        if h in seen:
            seen[h] += 1
            new = f"{h}_{seen[h]}"
            notes.append(f"header {h!r} appears more than once; the copy is read as {new!r}")
            h = new
        else:
            seen[h] = 1
        out.append(h)
    return out, notes


def _decode(data: bytes, name: str) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" export
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise InputFileError(f"{name}: damaged UTF-16 text ({exc.reason})") from exc
    head = data[:65536]
    # many NULs: binary (an image, an archive) unless it is UTF-8 text whose header
    # line is clean, i.e. a table with stray NULs in some values (kept, and noted)
    nul_heavy = head.count(b"\x00") > max(2, len(head) // 100)
    header = next((ln for ln in head.splitlines() if ln.strip()), b"")
    if nul_heavy and b"\x00" in header:
        raise InputFileError(f"{name}: not a text table (binary content)")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        if nul_heavy:
            raise InputFileError(f"{name}: not a text table (binary content)") from None
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _sniff_delimiter(text: str) -> str:
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    counts = {}
    for d in (",", ";", "\t", "|"):
        in_quotes, n = False, 0
        for ch in first:
            if ch == '"':
                in_quotes = not in_quotes
            elif ch == d and not in_quotes:
                n += 1
        counts[d] = n
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _finish(
    records: list[list[str]], name: str
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, int, list[str]]:
    """Split a list of records (first = header) into good, ragged and blank rows."""
    if not records:
        raise InputFileError(f"{name}: the file is empty")
    header_idx = next((i for i, r in enumerate(records) if any(c.strip() for c in r)), None)
    if header_idx is None:
        raise InputFileError(f"{name}: the file has no header row (it is blank)")
    headers, notes = _unique_headers(records[header_idx])
    width = len(headers)
    good: list[list[str]] = []
    good_rows: list[int] = []
    ragged: list[dict[str, object]] = []
    blank = 0
    for i in range(header_idx + 1, len(records)):
        rec = records[i]
        rownum = i + 1
        if not any(c.strip() for c in rec):
            blank += 1
            continue
        if len(rec) > width:
            extra = rec[width:]
            if any(c.strip() for c in extra):
                d: dict[str, object] = dict(zip(headers, rec[:width], strict=True))
                d["_extra"] = " | ".join(extra)
                d[ROW_COL] = rownum
                d[REASON_COL] = (
                    f"row has {len(rec)} fields but the header has {width} "
                    "(an unquoted delimiter inside a value?)"
                )
                ragged.append(d)
                continue
            rec = rec[:width]
        elif len(rec) < width:
            rec = rec + [""] * (width - len(rec))
        good.append(rec)
        good_rows.append(rownum)
    frame = pd.DataFrame(good, columns=headers, dtype=object)
    if frame.empty:
        frame = pd.DataFrame({h: pd.Series([], dtype=object) for h in headers})
    ragged_df = pd.DataFrame(ragged)
    return frame, np.asarray(good_rows, dtype="int64"), ragged_df, blank, notes


def _read_csv_text(
    text: str, name: str
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame, int, str, list[str]]:
    delim = _sniff_delimiter(text)
    # Fast path: a well-formed file parses with pandas' C reader. Blank lines are
    # kept as rows so that index + 2 is the spreadsheet row number.
    try:
        df = pd.read_csv(
            io.StringIO(text),
            sep=delim,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
            on_bad_lines="error",
            header=None,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        df = None
    if df is not None and len(df) and not df.iloc[0].astype(str).str.strip().eq("").all():
        df = df.fillna("").astype(str)
        headers, notes = _unique_headers(list(df.iloc[0]))
        body = df.iloc[1:]
        body.columns = headers
        rows = np.arange(2, len(df) + 1, dtype="int64")
        blank_mask = body.apply(lambda c: c.str.strip().eq("")).all(axis=1).to_numpy()
        body = body[~blank_mask].reset_index(drop=True).astype(object)
        return body, rows[~blank_mask], pd.DataFrame(), int(blank_mask.sum()), delim, notes
    # Slow path: row by row, so a malformed row is kept with its reason.
    records = list(csv.reader(io.StringIO(text), delimiter=delim))
    frame, rows, ragged, blank, notes = _finish(records, name)
    return frame, rows, ragged, blank, delim, notes


_STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' own "str" dtype


def _read_csv_arrow(
    data: bytes,
) -> tuple[pd.DataFrame, np.ndarray, int, str, list[str]] | None:
    """pyarrow's CSV reader for the common case: UTF-8, no quotes, every row full.

    Returns None (the caller then reads the file as before) unless the file is valid
    UTF-8 with no quote character and no NUL, its first line is a header, and every
    row has exactly the header's number of fields: then splitting on the delimiter
    is all there is to it, and the answer is the same as the general reader's (the
    same rows, numbers, blank rows and headers), in a fraction of the time and
    memory (columns stay Arrow text, pandas' ``str`` dtype).
    """
    if b'"' in data or b"\x00" in data or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    import pyarrow as pa

    bom = data.startswith(b"\xef\xbb\xbf")
    return _arrow_csv(pa.BufferReader(pa.py_buffer(data)), data[:65539], bom=bom)


def _arrow_csv(
    source: object, head_bytes: bytes, *, bom: bool
) -> tuple[pd.DataFrame, np.ndarray, int, str, list[str]] | None:
    """:func:`_read_csv_arrow` on a file (a path or an Arrow buffer) already known to
    hold no quote and no NUL; ``head_bytes`` are its first bytes (BOM included)."""
    head = (head_bytes[3:] if bom else head_bytes)[:65536].decode("utf-8", errors="ignore")
    lines = head.splitlines()
    if not lines or not lines[0].strip() or len(lines) < 2:
        return None  # blank first line, or one line only: the general reader decides
    delim = _sniff_delimiter(head)
    width = _split_count(lines[0], delim)
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    try:
        table = pacsv.read_csv(
            source,
            read_options=pacsv.ReadOptions(autogenerate_column_names=True),
            parse_options=pacsv.ParseOptions(
                delimiter=delim,
                quote_char=False,
                double_quote=False,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{i}": pa.large_string() for i in range(width)},
                strings_can_be_null=False,
                null_values=[],
                check_utf8=True,
            ),
        )
    except ValueError:  # pyarrow.ArrowInvalid: a ragged row, bad UTF-8: the general reader
        return None
    if table.num_columns != width or table.num_rows < 1:
        return None
    first = [str(v) for v in table.slice(0, 1).to_pylist()[0].values()]
    if bom and first:
        first[0] = first[0].removeprefix("\ufeff")
    headers, notes = _unique_headers(first)
    body_t = table.slice(1)
    del table

    # a row is blank when every field is: test the columns one by one, each only on
    # the rows still blank so far (after a column or two, almost none are)
    n_body = body_t.num_rows
    cand = np.arange(n_body)
    for col in body_t.columns:
        if not len(cand):
            break
        vals = col.take(pa.array(cand)) if len(cand) < n_body else col
        # blank = only white space (the same characters str.strip() removes)
        empty = pc.or_(pc.equal(pc.utf8_length(vals), 0), pc.utf8_is_space(vals))
        empty = empty.to_numpy(zero_copy_only=False)
        cand = cand[np.asarray(empty, dtype=bool)]
    rows = np.arange(2, n_body + 2, dtype="int64")
    if len(cand):
        keep = np.ones(n_body, dtype=bool)
        keep[cand] = False
        body_t = body_t.filter(pa.array(keep))
        rows = rows[keep]
    frame = body_t.to_pandas(types_mapper={pa.large_string(): _STR}.get)
    frame.columns = headers
    return frame, rows, len(cand), delim, notes


def _read_parquet(p: Path) -> tuple[pd.DataFrame, np.ndarray, int, tuple[str, ...]]:
    """A Parquet file as text, numbered as if it were a CSV with a header row.

    Every column is read as text (numbers as they print, missing values as ""), so
    validation sees what it would see in the same table saved as CSV.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(p)
    except (OSError, ValueError) as exc:  # pyarrow.ArrowInvalid is a ValueError
        raise InputFileError(f"{p.name}: not a readable Parquet file ({exc})") from exc
    headers, notes = _unique_headers([str(c) for c in table.column_names])
    cols = []
    for col in table.columns:
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            try:
                col = pc.cast(col, pa.large_string())
            except (pa.ArrowNotImplementedError, pa.ArrowInvalid) as exc:
                raise InputFileError(
                    f"{p.name}: column of type {col.type} cannot be read as text"
                ) from exc
        cols.append(pc.fill_null(pc.cast(col, pa.large_string()), ""))
    body = pa.table(cols, names=[f"f{i}" for i in range(len(cols))])
    n = body.num_rows
    cand = np.arange(n)
    for col in body.columns:
        if not len(cand):
            break
        vals = col.take(pa.array(cand)) if len(cand) < n else col
        empty = pc.or_(pc.equal(pc.utf8_length(vals), 0), pc.utf8_is_space(vals))
        cand = cand[np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)]
    rows = np.arange(2, n + 2, dtype="int64")
    if len(cand):
        keep = np.ones(n, dtype=bool)
        keep[cand] = False
        body = body.filter(pa.array(keep))
        rows = rows[keep]
    frame = body.to_pandas(types_mapper={pa.large_string(): _STR}.get)
    frame.columns = headers
    if len(frame.columns) < 2:
        raise InputFileError(f"{p.name}: not a table: found a single column")
    return frame, rows, len(cand), tuple(notes)


def _scan_file(p: Path) -> tuple[bytes, bool, bool]:
    """One pass over a file in blocks: its first bytes, whether it has any non-blank
    byte and whether it holds a quote or NUL (the fast reader's limits)."""
    head = b""
    content = False
    special = False
    with p.open("rb") as f:
        while block := f.read(1 << 22):
            if len(head) < 65539:
                head += block[: 65539 - len(head)]
            content = content or bool(block.strip())
            special = special or b'"' in block or b"\x00" in block
    return head, content, special


def _sha256_file(p: Path) -> str:
    h = hashlib.sha256()
    with p.open("rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def _split_count(line: str, delim: str) -> int:
    """Fields in a line with no quotes."""
    return line.count(delim) + 1


def _cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        if v.time() == time(0, 0):
            return v.date().isoformat()
        return v.isoformat(sep=" ", timespec="seconds")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, time):
        return v.isoformat(timespec="minutes")
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)


def _read_xlsx(data: bytes, name: str, sheet: str | None) -> tuple[list[list[str]], str]:
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - openpyxl is a dependency
        raise InputFileError("reading XLSX files needs openpyxl") from exc
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputFileError(f"{name}: not a readable XLSX workbook ({exc})") from exc
    try:
        if sheet is not None:
            if sheet not in wb.sheetnames:
                raise InputFileError(
                    f"{name}: no sheet {sheet!r}; sheets are {', '.join(wb.sheetnames)}"
                )
            ws = wb[sheet]
        else:
            ws = next(
                (w for w in wb.worksheets if w.max_row and w.max_row > 0 and w.max_column),
                wb.worksheets[0],
            )
        records = [[_cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
        return records, ws.title
    finally:
        wb.close()


def read_table(path: str | Path, *, sheet: str | None = None) -> RawTable:
    """Read a CSV (UTF-8, UTF-8 with BOM, cp1252; comma, semicolon or tab), XLSX or Parquet file.

    Parameters
    ----------
    path : str or Path
        The file. Its content decides the format, not its extension.
    sheet : str, optional
        XLSX sheet name; default the first sheet with data.

    Returns
    -------
    RawTable

    Raises
    ------
    InputFileError
        If the file is missing, empty, binary, a legacy ``.xls`` or has no header.
    """
    p = Path(path)
    # the file's digest is computed beside the parsing (both release the GIL)
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(_sha256_file, p)
        raw = _read_table(p, sheet)
        try:
            sha = digest.result()
        except OSError as exc:
            raise InputFileError(f"cannot read {p}: {exc.strerror or exc}") from exc
    return replace(raw, sha256=sha)


def _read_table(p: Path, sheet: str | None) -> RawTable:
    """:func:`read_table` but for the file's digest (left empty)."""
    name = p.name
    digest = ""
    try:
        head, content, special = _scan_file(p)
    except FileNotFoundError:
        raise InputFileError(f"file not found: {p}") from None
    except OSError as exc:
        raise InputFileError(f"cannot read {p}: {exc.strerror or exc}") from exc
    if not content:
        raise InputFileError(f"{name}: the file is empty")
    if head.startswith(_PARQUET_MAGIC):
        frame, rows, blank, notes = _read_parquet(p)
        return RawTable(frame, rows, pd.DataFrame(), blank, "parquet", "", "", digest, name, notes)
    if head.startswith(_OLE_MAGIC):
        raise InputFileError(
            f"{name}: legacy Excel .xls files are not supported; save it as .xlsx or CSV"
        )
    if not special and not head.startswith((_XLSX_MAGIC, b"\xff\xfe", b"\xfe\xff")):
        # the common case, read by pyarrow straight from the file: the file's bytes are
        # never held in memory beside the table
        fast = _arrow_csv(str(p), head, bom=head.startswith(b"\xef\xbb\xbf"))
        if fast is not None:
            frame, rows, blank, delim, notes = fast
            if len(frame.columns) >= 2:
                return RawTable(
                    frame,
                    rows,
                    pd.DataFrame(),
                    blank,
                    "utf-8",
                    delim,
                    "",
                    digest,
                    name,
                    tuple(notes),
                )
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputFileError(f"cannot read {p}: {exc.strerror or exc}") from exc
    if data.startswith(_XLSX_MAGIC):
        records, title = _read_xlsx(data, name, sheet)
        frame, rows, ragged, blank, notes = _finish(records, name)
        return RawTable(frame, rows, ragged, blank, "xlsx", "", title, digest, name, tuple(notes))
    text, encoding = _decode(data, name)
    del data
    nul = text.count("\x00")
    if nul:
        text = text.replace("\x00", "\ufffd")
    frame, rows, ragged, blank, delim, notes = _read_csv_text(text, name)
    if nul:
        notes.append(f"{nul} NUL character(s) in the file were replaced by \ufffd")
    if len(frame.columns) < 2:
        raise InputFileError(
            f"{name}: not a table: found a single column ({frame.columns[0]!r}); "
            "expected comma- or semicolon-separated columns with a header row"
        )
    return RawTable(frame, rows, ragged, blank, encoding, delim, "", digest, name, tuple(notes))
