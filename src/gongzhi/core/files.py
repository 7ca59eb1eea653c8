"""Private modes for everything Gongzhi keeps on disk (issue #10).

The database, uploaded scans, backups and development keys hold personal data: nobody but the
service's own user may read them, whatever the process umask is (a default umask of 022 made
every one of them world-readable). Directories are 0700, files 0600. Standard library only, so
``settings.py`` can use it before Django is set up.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) and make it 0700 — also when it already existed."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    os.chmod(path, PRIVATE_DIR_MODE)
    return path


def private_file(path: Path, *, create: bool = False) -> Path:
    """Make ``path`` 0600; with ``create``, create it empty first (never truncating).

    Creating the file before SQLite opens it fixes its mode: SQLite gives the -wal and -shm
    files the database file's mode, and an empty file is a valid empty database.
    """
    if create:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE))
    if path.exists():
        os.chmod(path, PRIVATE_FILE_MODE)
    return path


def secure_var_dir(var_dir: Path, database: Path | None = None) -> None:
    """``var/`` 0700 and, for the embedded mode, the SQLite file (and its -wal/-shm) 0600."""
    private_dir(var_dir)
    if database is not None:
        private_dir(database.parent)
        private_file(database, create=True)
        for suffix in ("-wal", "-shm", "-journal"):
            private_file(database.with_name(database.name + suffix))
