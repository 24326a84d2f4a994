"""The SATUSEHAT worker as its own process, as production runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable

from klinikita.settings import PROJECT_ROOT


def start_worker_process(url: str, sim_url: str, *extra: str) -> subprocess.Popen:
    """`python -m klinikita worker` on the database `url`, sending to the simulator."""
    env = {**os.environ, "REFLEX_DB_URL": url}
    # Output goes nowhere: an unread pipe would fill up and stall the worker.
    return subprocess.Popen(
        [sys.executable, "-m", "klinikita", "worker", "--simulator-url", sim_url, *extra],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(
    predicate: Callable[[], bool],
    timeout: float,
    what: str,
    describe: Callable[[], object] | None = None,
) -> None:
    """Poll `predicate` until it holds; fail naming `what` (and `describe()`) after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}: {describe() if describe else ''}")
