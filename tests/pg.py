"""A throwaway PostgreSQL + PostGIS cluster for the tests (one per test session).

``initdb`` + ``pg_ctl`` into a temporary folder (as the ``postgres`` user when the tests
run as root), listening on 127.0.0.1 and a free port; every test gets its own new
database in it. ``scripts/setup.sh --test`` installs Debian's PostgreSQL and PostGIS
if the machine has none. Starting the cluster takes ~2 s.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    hits = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return hits[-1] if hits else None


@contextlib.contextmanager
def cluster() -> Iterator[str]:
    """Start a throwaway cluster; yields the URL of its ``postgres`` database.

    Raises
    ------
    FileNotFoundError
        If PostgreSQL's server programs are not installed.
    """
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not (initdb and pg_ctl):
        raise FileNotFoundError(
            "PostgreSQL server binaries not installed (scripts/setup.sh --test installs them)"
        )
    # not under pytest's temporary folder, nor in a /tmp closed to others (as on some
    # machines): the postgres user must be able to enter it
    bases = [tempfile.gettempdir(), "/var/tmp", "/dev/shm"]
    base = next((b for b in bases if os.path.isdir(b) and os.stat(b).st_mode & 0o001), None)
    root = Path(tempfile.mkdtemp(prefix="clic-pg-", dir=base))
    (root / "sock").mkdir()
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(root, "postgres")
        shutil.chown(root / "sock", "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(
        [*run_as, initdb, "-D", str(root / "data"), "-A", "trust", "-U", "clic"],
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {root / 'sock'} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [
            *run_as,
            pg_ctl,
            "-D",
            str(root / "data"),
            "-o",
            opts,
            "-w",
            "-l",
            str(root / "log"),
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://clic@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*run_as, pg_ctl, "-D", str(root / "data"), "-m", "fast", "stop"], capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[str]:
    """URL of the cluster's ``postgres`` database (the cluster stops after the session)."""
    try:
        with cluster() as url:
            yield url
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


def new_database(cluster_url: str) -> str:
    """A new empty database in the cluster; returns its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(cluster_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return cluster_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def pg_url(pg_cluster: str) -> str:
    """URL of a new, empty database for one test."""
    return new_database(pg_cluster)
