"""Files on disk readable by their owner only: the store, rejected rows, exports, uploads.

The store holds personal data, so every file clic-geo writes in its data directory is
created ``0600`` in ``0700`` folders, whatever the process's umask; a store found
looser (made by an older version, or copied in) is tightened when it is opened, with a
log line. Uploads from the dashboard live only while they are imported.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = [
    "PRIVATE_DIR",
    "PRIVATE_FILE",
    "PRIVATE_FOLDERS",
    "open_private",
    "private_dir",
    "private_upload",
    "tighten_data_dir",
    "write_private",
]

log = logging.getLogger(__name__)

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
#: Folders of the data directory that hold records or files made from them.
PRIVATE_FOLDERS = ("rejects", "uploads", "exports")
#: The SQLite store and the journals SQLite keeps beside it.
STORE_FILES = (
    "store.sqlite",
    "store.sqlite-wal",
    "store.sqlite-shm",
    "store.sqlite-journal",
    "store.sqlite.import-lock",
)


def _loose(path: Path) -> bool:
    """True if anyone but the owner may read, write or enter ``path``."""
    return bool(stat.S_IMODE(path.stat().st_mode) & 0o077)


def _tighten(path: Path, mode: int) -> bool:
    if path.is_symlink() or not path.exists() or not _loose(path):
        return False
    if path.is_dir() and path.stat().st_mode & stat.S_ISVTX:
        return False  # a shared folder such as /tmp: never a store's own
    os.chmod(path, mode)
    return True


def private_dir(path: str | Path) -> Path:
    """Create ``path`` (and missing parents) ``0700``; tighten it if it exists looser."""
    p = Path(path)
    p.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    if _tighten(p, PRIVATE_DIR):
        log.warning("folder %s was readable by others: now owner-only (0700)", p)
    return p


def open_private(path: str | Path, mode: str = "w", **kwargs: Any) -> IO[Any]:
    """Open ``path`` for writing (``"w"`` or ``"wb"``), created ``0600`` (an existing file
    is made ``0600`` too); ``kwargs`` as for :func:`open` (encoding, newline)."""
    if mode not in ("w", "wb"):
        raise ValueError(f"open_private writes only ('w' or 'wb'), not {mode!r}")
    fd = os.open(Path(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
        return os.fdopen(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise


def write_private(path: str | Path, data: bytes | str, *, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` created ``0600`` (an existing file is made ``0600`` too)."""
    raw = data.encode(encoding) if isinstance(data, str) else data
    with open_private(path, "wb") as fh:
        fh.write(raw)
    return Path(path)


def tighten_data_dir(data_dir: str | Path, *, root: bool = True) -> list[Path]:
    """Make the data directory (with ``root``), the store's files and the private
    folders owner-only.

    Returns what was tightened (each is logged). Symbolic links are left alone, and so
    is a folder with the sticky bit (a shared folder such as ``/tmp``, never a store's).
    """
    d = Path(data_dir)
    if not d.is_dir():
        return []
    done: list[Path] = []
    if root and _tighten(d, PRIVATE_DIR):
        done.append(d)
    for name in STORE_FILES:
        if _tighten(d / name, PRIVATE_FILE):
            done.append(d / name)
    for name in PRIVATE_FOLDERS:
        folder = d / name
        if not folder.is_dir() or folder.is_symlink():
            continue
        if _tighten(folder, PRIVATE_DIR):
            done.append(folder)
        for f in folder.iterdir():
            if f.is_file() and _tighten(f, PRIVATE_FILE):
                done.append(f)
    for p in done:
        log.warning("%s was readable by others: now owner-only", p)
    return done


@contextlib.contextmanager
def private_upload(folder: str | Path, name: str, data: bytes) -> Iterator[Path]:
    """An uploaded file written ``0600`` in a ``0700`` folder for as long as it is being
    imported, then deleted (whether the import succeeded or not)."""
    path = private_dir(folder) / name
    write_private(path, data)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)
