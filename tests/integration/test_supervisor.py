"""`make run-prod`'s supervisor (`python -m klinikita.supervisor -- CMD`), as a real process:
a command that dies is started again, what it left running goes with it, and Ctrl-C or
SIGTERM stops everything and exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from klinikita.settings import PROJECT_ROOT

pytestmark = pytest.mark.processes

# The supervised command: starts a helper process of its own (as Reflex starts its server
# workers), notes both pids, then waits.
COMMAND = """
import subprocess, sys, time
helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
with open(sys.argv[1], "a") as f:
    f.write(f"{__import__('os').getpid()} {helper.pid}\\n")
time.sleep(600)
"""


def _started(record: Path, count: int, timeout: float = 20) -> list[tuple[int, int]]:
    """The (command, helper) pids of the first `count` starts, once there are that many."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = record.read_text().splitlines() if record.exists() else []
        if len(lines) >= count:
            return [tuple(int(p) for p in line.split()) for line in lines]
        time.sleep(0.05)
    raise AssertionError(f"{count} starts expected, saw {record.read_text()!r}")


def _gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT])
def test_a_dead_command_is_restarted_and_a_stop_ends_everything(tmp_path: Path, stop_with):
    record = tmp_path / "starts"
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "klinikita.supervisor", "--"]
        + [sys.executable, "-c", COMMAND, str(record)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        [(first, first_helper)] = _started(record, 1)
        os.kill(first, signal.SIGKILL)  # the server crashes
        _, (second, second_helper) = _started(record, 2)
        assert second != first
        # What the dead command left running (its workers would hold the port) is ended.
        assert _gone(first_helper)
        assert psutil.pid_exists(second) and psutil.pid_exists(second_helper)

        supervisor.send_signal(stop_with)
        assert supervisor.wait(30) == 0
        assert _gone(second) and _gone(second_helper)
        assert len(record.read_text().splitlines()) == 2  # not started again after the stop
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
        supervisor.wait()
    log = supervisor.stderr.read()
    assert "ended with code -9; restarting in 1 s" in log
    assert "stopping" in log


def test_without_a_command_it_refuses_to_start():
    result = subprocess.run(
        [sys.executable, "-m", "klinikita.supervisor"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "give the command" in result.stderr
