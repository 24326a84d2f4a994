"""Local data (the SQLite database, the key file) readable by the app's own user only."""

from __future__ import annotations

import os
from pathlib import Path


def private_folder(path: Path) -> None:
    """`path` exists afterwards; when made here it is the owner's only (0700)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def private_file(path: Path) -> None:
    """`path` exists afterwards; when made here it is empty and the owner's only (0600)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)
