"""Files only the app's own user may read: directories 0700, files 0600.

The data directory holds the database, the photos, the outbox and the secret key; every one of them is
created (or tightened, when it already exists) through these helpers.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Mode of every directory the app creates under its data directory.
PRIVATE_DIR_MODE = 0o700

#: Mode of every file the app creates under its data directory.
PRIVATE_FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create *path* (and missing parents) and make it mode 0700; an existing directory is tightened."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    if path.stat().st_mode & 0o777 != PRIVATE_DIR_MODE:
        os.chmod(path, PRIVATE_DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create *path* empty if it is missing, and make it mode 0600 (its parent directory 0700)."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE)
    os.close(fd)
    if path.stat().st_mode & 0o777 != PRIVATE_FILE_MODE:
        os.chmod(path, PRIVATE_FILE_MODE)
    return path


def write_new_private(path: Path, data: bytes, *, sync: bool = False) -> Path:
    """Write *data* to a new file *path* created with mode 0600 (``FileExistsError`` if it exists)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        if sync:
            fh.flush()
            os.fsync(fh.fileno())
    return path


def sqlite_path(url: str) -> Path | None:
    """The database file of a ``sqlite:///`` URL (None for other databases and in-memory SQLite).

    Examples
    --------
    >>> sqlite_path("sqlite:///data/needlecare.db")
    PosixPath('data/needlecare.db')
    >>> sqlite_path("sqlite://") is None, sqlite_path("postgresql+psycopg://h/db") is None
    (True, True)
    """
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)
