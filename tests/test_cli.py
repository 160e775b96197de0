"""The command-line contract other tools rely on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clic_geo.cli import main

PY = sys.executable


def cli(
    *args: str, data_dir: Path | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    e = dict(os.environ)
    e.pop("CLIC_DATA_DIR", None)
    if env:
        e.update(env)
    cmd = [PY, "-m", "clic_geo"] + (["--data-dir", str(data_dir)] if data_dir else []) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=120)


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("kind", ["incidents", "addresses", "visits"])
def test_import_json_contract(tmp_path: Path, kind: str) -> None:
    rows = {
        "incidents": ("id,date,type,lat,lon", "1,2024-03-05,drugs,{}", "2,2024-03-05,drugs,0,0"),
        "addresses": ("id,address,lat,lon", "1,1 Row,{}", "2,2 Row,0,0"),
        "visits": (
            "id,date,lat,lon,outcome",
            "1,2024-03-05,{},engaged",
            "2,2024-03-05,0,0,engaged",
        ),
    }[kind]
    good = rows[1].format("54.115,-3.227")
    files = {kind: "\n".join([rows[0], good, rows[2], good]) + "\n"}
    f = tmp_path / f"{kind}.csv"
    f.write_text(files[kind])
    r = cli("import", kind, str(f), "--json", data_dir=tmp_path / "store")
    assert r.returncode == 0, r.stderr
    out = last_json(r.stdout)
    assert out["read"] == out["accepted"] + out["rejected"] + out["duplicates"] == 3
    assert (out["accepted"], out["rejected"], out["duplicates"]) == (1, 1, 1)
    assert Path(out["rejects_path"]).exists()
    assert Path(out["rejects_path"]).is_relative_to(tmp_path / "store")


def test_data_dir_from_environment(tmp_path: Path) -> None:
    f = tmp_path / "i.csv"
    f.write_text("id,date,type,lat,lon\n1,2024-03-05,drugs,54.115,-3.227\n")
    r = cli("import", "incidents", str(f), "--json", env={"CLIC_DATA_DIR": str(tmp_path / "env")})
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "env" / "store.sqlite").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"\x00\x01\x02binary" + b"\x00" * 40, "not a text table"),
        (b"name\nfoo\n", "not a table"),
        (b"id,date,type,colour\n1,2024-01-01,drugs,red\n", "no usable location columns"),
    ],
    ids=["empty", "binary", "one-column", "no-location"],
)
def test_unreadable_file_one_line_error_no_traceback(
    tmp_path: Path, content: bytes, message: str
) -> None:
    f = tmp_path / "bad.csv"
    f.write_bytes(content)
    r = cli("import", "incidents", str(f), "--json", data_dir=tmp_path / "store")
    assert r.returncode != 0
    assert message in r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert len(r.stderr.strip().splitlines()) == 1


def test_missing_file_and_bad_usage(tmp_path: Path) -> None:
    r = cli("import", "incidents", str(tmp_path / "nope.csv"), data_dir=tmp_path)
    assert r.returncode == 2 and "file not found" in r.stderr and "Traceback" not in r.stderr
    r = cli("import", "spaceships", "x.csv", data_dir=tmp_path)
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_police_uk_json(tmp_path: Path) -> None:
    f = tmp_path / "2024-01-cumbria-street.csv"
    f.write_text(
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
        "Crime type,Last outcome category,Context\n"
        "a1,2024-01,C,C,-3.227,54.115,On or near X,E01,B 001A,Drugs,,\n"
        "a2,2024-01,C,C,,,No location,,,Drugs,,\n"
    )
    r = cli("import", "police-uk", str(f), "--json", data_dir=tmp_path / "s")
    assert r.returncode == 0, r.stderr
    out = last_json(r.stdout)
    assert (out["read"], out["accepted"], out["rejected"]) == (2, 1, 1)


def test_status_demo_and_areas_in_process(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    d = str(tmp_path / "s")
    assert main(["--data-dir", d, "areas", "list", "--json"]) == 0
    rows = last_json(capsys.readouterr().out)
    assert [r["id"] for r in rows] == ["barrow", "kendal", "carlisle", "west_cumbria"]
    assert main(["--data-dir", d, "status", "--json"]) == 0
    assert last_json(capsys.readouterr().out)["counts"]["incidents"] == 0


def test_internal_errors_do_not_print_tracebacks(tmp_path: Path, monkeypatch, capsys) -> None:
    import clic_geo.cli._status as status

    def boom(args):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(status, "_status", boom)
    from clic_geo.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["--data-dir", str(tmp_path), "status"])
    args.func = boom
    monkeypatch.setattr("clic_geo.cli.build_parser", lambda: _Fixed(parser, args))
    assert main(["status"]) == 70
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: disk on fire" in err and "Traceback" not in err


class _Fixed:
    def __init__(self, parser, args):
        self.parser, self.args = parser, args

    def parse_args(self, argv):
        return self.args
