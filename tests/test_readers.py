"""Reading files: encodings, delimiters, XLSX, malformed rows kept, whole-file errors."""

from __future__ import annotations

import io

import openpyxl
import pytest

from clic_geo._errors import InputFileError
from clic_geo.ingest.readers import read_table
from clic_geo.schema import REASON_COL, ROW_COL

CSV = "id,date,type,lat,lon,notes\n1,2024-03-05,drugs,54.11,-3.22,Café near the square\n"


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b"")],
    ids=["utf8", "utf8-bom", "cp1252"],
)
def test_encodings(write, encoding: str, prefix: bytes) -> None:
    p = write("f.csv", prefix + CSV.encode(encoding))
    t = read_table(p)
    assert list(t.frame.columns) == ["id", "date", "type", "lat", "lon", "notes"]
    assert t.frame.loc[0, "notes"] == "Café near the square"
    assert t.encoding == encoding
    assert t.rows.tolist() == [2]


@pytest.mark.parametrize("delim", [";", "\t", "|"], ids=["semicolon", "tab", "pipe"])
def test_delimiters(write, delim: str) -> None:
    p = write("f.csv", CSV.replace(",", delim))
    t = read_table(p)
    assert t.delimiter == delim
    assert t.frame.loc[0, "lat"] == "54.11"


def test_ragged_row_is_kept_with_reason_and_blank_rows_skipped(write) -> None:
    text = (
        "id,date,notes\n"
        "1,2024-01-01,fine\n"
        "\n"
        "2,2024-01-02,an unquoted, comma\n"
        ",,\n"
        "3,2024-01-03,trailing empty field,\n"
    )
    t = read_table(write("f.csv", text))
    assert t.frame["id"].tolist() == ["1", "3"]
    assert t.rows.tolist() == [2, 6]
    assert len(t.ragged) == 1
    r = t.ragged.iloc[0]
    assert r[ROW_COL] == 4
    assert "4 fields but the header has 3" in r[REASON_COL]
    assert r["_extra"] == " comma"
    assert t.blank_rows == 2
    assert t.n_read == 3


def test_multiline_quoted_value_counts_as_one_spreadsheet_row(write) -> None:
    t = read_table(write("f.csv", 'id,notes\n1,"two\nlines"\n2,x\n'))
    assert t.frame["notes"].tolist() == ["two\nlines", "x"]
    assert t.rows.tolist() == [2, 3]


def test_duplicate_and_reserved_headers_are_renamed(write) -> None:
    t = read_table(write("f.csv", "id,id,reason,\n1,2,3,4\n"))
    assert list(t.frame.columns) == ["id", "id_2", "reason (in file)", "column_4"]
    assert any("more than once" in n for n in t.notes)


def test_xlsx_with_dates_and_numbers(tmp_path) -> None:
    import datetime as dt

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Ref", "Date", "Type", "Latitude", "Longitude"])
    ws.append(["A1", dt.datetime(2024, 3, 5, 14, 30), "Drugs", 54.11, -3.22])
    ws.append(["A2", dt.date(2024, 3, 6), "Drugs", 54.12, -3.23])
    ws.append([7, 45356, "ASB", 54.13, -3.24])
    p = tmp_path / "book.xlsx"
    wb.save(p)
    t = read_table(p)
    assert t.encoding == "xlsx"
    assert t.frame["Date"].tolist() == ["2024-03-05 14:30:00", "2024-03-06", "45356"]
    assert t.frame["Ref"].tolist() == ["A1", "A2", "7"]
    assert t.rows.tolist() == [2, 3, 4]


def test_xlsx_named_sheet_and_missing_sheet(tmp_path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Cover"
    wb.active.append(["just a title"])
    ws = wb.create_sheet("Data")
    ws.append(["id", "date"])
    ws.append(["1", "2024-01-01"])
    p = tmp_path / "b.xlsx"
    wb.save(p)
    assert read_table(p, sheet="Data").frame["id"].tolist() == ["1"]
    with pytest.raises(InputFileError, match="no sheet 'Nope'; sheets are Cover, Data"):
        read_table(p, sheet="Nope")


def test_content_decides_format_not_extension(tmp_path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["id", "date"])
    wb.active.append(["1", "2024-01-01"])
    buf = io.BytesIO()
    wb.save(buf)
    p = tmp_path / "really-xlsx.csv"
    p.write_bytes(buf.getvalue())
    assert read_table(p).encoding == "xlsx"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"  \n\n", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x00\x00IHDR\x00\x00", "not a text table"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "legacy Excel .xls"),
        (b"just one column\nvalue\n", "not a table: found a single column"),
        (b"PK\x03\x04garbage", "not a readable XLSX"),
    ],
    ids=["empty", "blank", "binary", "xls", "single-column", "broken-xlsx"],
)
def test_unreadable_files(write, content: bytes, message: str) -> None:
    with pytest.raises(InputFileError, match=message):
        read_table(write("f.csv", content))


def test_missing_file() -> None:
    with pytest.raises(InputFileError, match="file not found"):
        read_table("/nonexistent/file.csv")


def test_header_only_reads_zero_rows(write) -> None:
    t = read_table(write("f.csv", "id,date,lat,lon\n"))
    assert t.n_read == 0
    assert list(t.frame.columns) == ["id", "date", "lat", "lon"]


def test_utf16_and_stray_nul(write) -> None:
    t = read_table(write("u.csv", CSV.replace(",", "\t").encode("utf-16")))
    assert t.encoding == "utf-16" and t.frame.loc[0, "notes"] == "Café near the square"
    t = read_table(write("n.csv", CSV.replace("Café", "Caf\x00")))
    assert t.frame.loc[0, "notes"] == "Caf\ufffd near the square"
    assert any("NUL" in n for n in t.notes)


FAST_CASES = {
    "plain": b"id,date,lat\n1,2024-01-05,54.1\n2,2024-02-01,54.2\n",
    "crlf": b"id,date,lat\r\n1,2024-01-05,54.1\r\n2,,\r\n",
    "bom": b"\xef\xbb\xbfid;date;lat\n1;2024-01-05;54,1\n",
    "blank rows": b"id,date,lat\n1,a,b\n,,\n   , ,\n\n2,c,d\n\n",
    "trailing delimiter": b"id,date,lat,\n1,a,b,\n2,c,d,\n",
    "duplicate headers": b"id,id,file_row, \n1,2,3,4\n",
    "spaces kept": b"id,date,lat\n 1 ,  a,b  \n",
    "unicode": "id,notes,x\n1,Café – ≥ 3 \u00a0,z\n".encode(),
    "tab": b"id\tdate\tlat\n1\t2\t3\n",
}


@pytest.mark.parametrize("content", FAST_CASES.values(), ids=FAST_CASES.keys())
def test_arrow_fast_path_reads_exactly_what_the_general_reader_reads(content: bytes) -> None:
    from clic_geo.ingest.readers import _read_csv_arrow, _read_csv_text

    fast = _read_csv_arrow(content)
    assert fast is not None  # these files take the fast path
    frame, rows, blank, delim, notes = fast
    g_frame, g_rows, g_ragged, g_blank, g_delim, g_notes = _read_csv_text(
        content.decode("utf-8-sig"), "f.csv"
    )
    assert list(frame.columns) == list(g_frame.columns)
    assert frame.astype(object).to_numpy().tolist() == g_frame.to_numpy().tolist()
    assert rows.tolist() == g_rows.tolist()
    assert (blank, delim, notes) == (g_blank, g_delim, g_notes)
    assert g_ragged.empty


@pytest.mark.parametrize(
    "content",
    [
        b'id,notes\n1,"a, b"\n',  # quotes
        b"id,notes\n1,a,b\n",  # more fields than the header
        b"id,notes,x\n1,a\n",  # fewer fields
        b"id,notes\n1,caf\xe9\n",  # not UTF-8
        b"\nid,notes\n1,a\n",  # blank first line
        b"id,notes\n",  # header only
    ],
    ids=["quotes", "ragged", "short row", "cp1252", "blank first line", "header only"],
)
def test_arrow_fast_path_declines_what_it_cannot_read_the_same(content: bytes) -> None:
    from clic_geo.ingest.readers import _read_csv_arrow

    assert _read_csv_arrow(content) is None


def test_read_table_accounts_rows_the_same_on_either_path(write) -> None:
    plain = b"id,type,lat\n1,a,54.1\n,,\n2,b,54.2\n"
    quoted = b'id,type,lat\n1,"a",54.1\n,,\n2,b,54.2\n'
    a, b = read_table(write("a.csv", plain)), read_table(write("b.csv", quoted))
    assert a.frame.astype(object).to_numpy().tolist() == b.frame.to_numpy().tolist()
    assert (a.rows.tolist(), a.blank_rows, a.n_read) == (b.rows.tolist(), b.blank_rows, b.n_read)
    assert (a.encoding, a.delimiter) == (b.encoding, b.delimiter)


@pytest.mark.parametrize("content", FAST_CASES.values(), ids=FAST_CASES.keys())
def test_read_table_from_a_file_reads_what_the_general_reader_reads(write, content) -> None:
    # read_table hands clean files to pyarrow by path (the bytes are never all in memory)
    from clic_geo.ingest.readers import _read_csv_text

    t = read_table(write("f.csv", content))
    g_frame, g_rows, _, g_blank, g_delim, _ = _read_csv_text(content.decode("utf-8-sig"), "f")
    assert list(t.frame.columns) == list(g_frame.columns)
    assert t.frame.astype(object).to_numpy().tolist() == g_frame.to_numpy().tolist()
    assert (t.rows.tolist(), t.blank_rows, t.delimiter) == (g_rows.tolist(), g_blank, g_delim)
    assert t.sha256 == __import__("hashlib").sha256(content).hexdigest()


def test_stray_nuls_in_values_are_kept_and_noted_not_called_binary(write) -> None:
    rows = "".join(f"{i},2024-03-05,drugs,54.1,-3.2,\x00\x00\n" for i in range(3))
    t = read_table(write("f.csv", ("id,date,type,lat,lon,notes\n" + rows).encode()))
    assert len(t.frame) == 3
    assert t.frame["notes"].tolist() == ["\ufffd\ufffd"] * 3
    assert any("NUL" in n for n in t.notes)


def test_parquet_is_read_as_the_same_table_saved_as_csv(tmp_path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "Crime ID": ["a1", None, "  "],
            "Month": ["2024-01", "2024-02", " "],
            "Longitude": [-3.227, -3.2281, None],
            "Count": pa.array([3, None, None], pa.int64()),
        }
    )
    pq.write_table(table, tmp_path / "f.parquet")
    t = read_table(tmp_path / "f.parquet")
    assert t.encoding == "parquet"
    assert list(t.frame.columns) == ["Crime ID", "Month", "Longitude", "Count"]
    # every value as text, missing as "", the all-blank last row counted as blank
    assert t.frame.astype(object).to_numpy().tolist() == [
        ["a1", "2024-01", "-3.227", "3"],
        ["", "2024-02", "-3.2281", ""],
    ]
    assert (t.rows.tolist(), t.blank_rows, t.n_read) == ([2, 3], 1, 2)


def test_damaged_parquet_is_a_clear_error(write) -> None:
    with pytest.raises(InputFileError, match="not a readable Parquet file"):
        read_table(write("f.parquet", b"PAR1 not really"))
