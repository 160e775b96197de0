"""Opening the store again in a process never loses that process's later writes.

SQLite's locks are POSIX locks, held per process: closing *any* descriptor of the
database file drops all of them (https://www.sqlite.org/howtocorrupt.html, 2.2). The
store's check of a file's header once read it with ``open()``; the web server opens a
second store for its download gate on the first sign-out, which dropped the locks of
the dashboard's own connections. A command-line process closing the store afterwards
then took the WAL away, and the dashboard's next writes (sign-ins, visits) went into a
deleted file: found by the browser test of a password change ending a session.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from clic_geo.store import Store
from clic_geo.store import tables as T  # noqa: N812

WRITE_AND_CLOSE = """
import sys
import sqlalchemy as sa
from clic_geo.store import Store
from clic_geo.store import tables as T
store = Store(sys.argv[1], sys.argv[2])
with store.engine.begin() as conn:
    conn.execute(sa.insert(T.meta).values(key=sys.argv[3], value="1"))
store.close()
"""

READ_KEYS = """
import sys
import sqlite3
con = sqlite3.connect(sys.argv[1])
print(",".join(sorted(k for (k,) in con.execute("SELECT key FROM meta WHERE key LIKE 'w%'"))))
"""


def _other_process(code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _write(store: Store, key: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.insert(T.meta).values(key=key, value="1"))


def test_a_second_open_in_the_process_keeps_its_writes_safe(tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite"
    url = f"sqlite:///{db}"
    dashboard = Store(url, tmp_path)
    try:
        _write(dashboard, "w1-dashboard")
        gate = Store(url, tmp_path)  # the server's download gate opens its own store
        gate.close()
        # a command (an import, a password change) opens, writes and closes the store
        _other_process(WRITE_AND_CLOSE, url, str(tmp_path), "w2-command")
        _write(dashboard, "w3-dashboard")  # e.g. the next sign-in
        # seen by every other process while the dashboard runs (not only once it stops)
        seen = _other_process(READ_KEYS, str(db))
        assert seen == "w1-dashboard,w2-command,w3-dashboard"
    finally:
        dashboard.close()
