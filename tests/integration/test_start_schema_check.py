"""The start prints no schema warning: Reflex's own check at `reflex run`/`export` finds
nothing to report on a database migrated by `python -m klinikita migrate`.

Reflex compares the database with rx.Model's registry (empty here: the models are plain
SQLModel) whenever it is given a db_url, and then reports every table as a change.
rxconfig.py gives it none, even when REFLEX_DB_URL (the app's own database setting) is set.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from klinikita.settings import PROJECT_ROOT

pytestmark = pytest.mark.processes

# What `reflex run` does before it compiles (reflex/utils/prerequisites.py), with the
# config loaded from rxconfig.py the way the reflex command loads it.
CHECK = """
from reflex.config import get_config
from reflex.utils import prerequisites
print("db_url:", get_config().db_url)
prerequisites.check_schema_up_to_date()
print("checked")
"""


def _run(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "REFLEX_DB_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_reflex_start_check_reports_no_schema_change(tmp_path):
    url = f"sqlite:///{tmp_path / 'start.db'}"
    migrated = _run(url, "-m", "klinikita", "migrate")
    assert migrated.returncode == 0, migrated.stderr
    checked = _run(url, "-c", CHECK)
    out = checked.stdout + checked.stderr
    assert checked.returncode == 0, out
    assert "checked" in out
    assert "db_url: None" in out  # Reflex is not handed the database, env or not
    assert "schema" not in out.lower()
    assert "makemigrations" not in out
