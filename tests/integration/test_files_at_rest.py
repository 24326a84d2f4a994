"""A fresh start (`python -m klinikita prestart`, as `make run` and `make run-prod` begin)
leaves the data folder and every file in it readable by the app's own user only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from klinikita.integrations.satusehat.simulator import Simulator
from klinikita.settings import PROJECT_ROOT

pytestmark = pytest.mark.processes


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_start_makes_the_data_folder_0700_and_its_files_0600(tmp_path: Path):
    data = tmp_path / "fresh" / "data"
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "REFLEX_DB_URL": f"sqlite:///{data / 'klinikita.db'}",
        "KLINIKITA_SECRET_KEY_FILE": str(data / "secret.key"),
    }
    env.pop("KLINIKITA_SECRET_KEY", None)
    # The usual umask, which leaves new files readable by everyone unless the app says so.
    subprocess.run(
        [sys.executable, "-m", "klinikita", "prestart", "--demo"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
        preexec_fn=lambda: os.umask(0o022),
    )
    assert _mode(data) == 0o700
    files = sorted(p.name for p in data.iterdir())
    # The demo's SATUSEHAT secrets were encrypted: the key file was made on this start.
    assert {"klinikita.db", "secret.key"} <= set(files)
    for name in files:
        assert _mode(data / name) == 0o600, name


def test_the_simulators_data_file_is_the_owners_only(tmp_path: Path):
    folder = tmp_path / "sim"
    old = os.umask(0o022)
    try:
        Simulator(data_file=folder / "satusehat-simulator.db").close()
    finally:
        os.umask(old)
    assert _mode(folder) == 0o700
    assert _mode(folder / "satusehat-simulator.db") == 0o600


def test_a_start_takes_other_users_permissions_off_an_older_installs_files(tmp_path: Path):
    data = tmp_path / "old"
    data.mkdir()
    database, key = data / "klinikita.db", data / "secret.key"
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "REFLEX_DB_URL": f"sqlite:///{database}",
        "KLINIKITA_SECRET_KEY_FILE": str(key),
    }
    env.pop("KLINIKITA_SECRET_KEY", None)
    start = [sys.executable, "-m", "klinikita", "prestart", "--demo"]
    subprocess.run(start, cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)
    wal = data / "klinikita.db-wal"
    wal.touch()
    for path in (database, key, wal):
        path.chmod(0o644)  # as an install made before the app restricted them
    subprocess.run(start, cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)
    for path in (database, key):
        assert _mode(path) == 0o600, path.name
    # SQLite removes the write-ahead log when its last connection closes cleanly.
    assert not wal.exists() or _mode(wal) == 0o600
