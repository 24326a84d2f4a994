"""Local data (the SQLite database, the key file) readable by the app's own user only."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("klinikita")


def private_folder(path: Path) -> None:
    """`path` exists afterwards; when made here it is the owner's only (0700)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def private_file(path: Path) -> None:
    """`path` exists afterwards and is the owner's only (0600): made so when it is new, its
    group and other permissions taken away (with a warning) when an older install left them."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        restrict(path)
        return
    os.close(fd)


def restrict(path: Path) -> None:
    """Take group and other permissions away from an existing file (its owner keeps theirs)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        path.chmod(mode & 0o700)
        log.warning("%s was readable by other users; it is now the owner's only.", path)
