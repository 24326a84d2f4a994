"""`make run-prod`'s supervisor (`python -m klinikita.supervisor -- CMD`), as a real process:
a command that dies is started again, what it left running goes with it, and Ctrl-C or
SIGTERM stops everything and exits 0; and `make run-prod` itself (the supervisor around
`python -m klinikita.serve`) answering again within seconds of a kill."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
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


# ----- `make run-prod` itself: a killed server answers again within seconds -------------------
RESTART_WITHIN = 10.0  # s from the kill until /ping answers again (1 s pause + a start of ~2 s)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _wait_for(url: str, timeout: float) -> float:
    """Seconds until `url` answers 200; fails after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if _answers(url):
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def test_make_run_prod_serves_again_within_seconds_after_a_kill(tmp_path: Path):
    """`make run-prod`'s steps on a fresh database and a free port: prestart, the frontend
    built once, then the supervisor around `python -m klinikita.serve`. Killing every server
    process (kill -9) brings pages and backend back within RESTART_WITHIN seconds, because a
    start builds nothing."""
    port = _free_port()
    data = tmp_path / "data"
    tools = PROJECT_ROOT / ".tools" / "node_modules" / ".bin"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("REFLEX_", "KLINIKITA_", "APP_HARNESS", "PYTEST_"))
    }
    env.update(
        PATH=f"{tools}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=str(PROJECT_ROOT),
        REFLEX_USE_SYSTEM_BUN="1",
        REFLEX_TELEMETRY_ENABLED="false",
        REFLEX_CHECK_LATEST_VERSION="false",
        REFLEX_WEB_WORKDIR=str(tmp_path / "web"),  # the project's own .web stays untouched
        REFLEX_DB_URL=f"sqlite:///{data / 'klinikita.db'}",
        KLINIKITA_SECRET_KEY_FILE=str(data / "secret.key"),
        KLINIKITA_SIMULATOR_DATA="none",
        KLINIKITA_RUN_WORKER="0",
        KLINIKITA_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    bin_dir = Path(sys.executable).parent
    run = dict(cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)
    subprocess.run([str(bin_dir / "python"), "-m", "klinikita", "prestart"], **run)
    subprocess.run(
        [str(bin_dir / "reflex"), "export", "--frontend-only", "--no-zip", "--env", "prod"],
        **{
            **run,
            "env": {**env, "REFLEX_FRONTEND_PORT": str(port), "REFLEX_BACKEND_PORT": str(port)},
        },
    )
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        supervisor = subprocess.Popen(
            [str(bin_dir / "python"), "-m", "klinikita.supervisor", "--"]
            + [str(bin_dir / "python"), "-m", "klinikita.serve", "--host", "127.0.0.1"]
            + ["--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    ping, login = f"http://127.0.0.1:{port}/ping", f"http://127.0.0.1:{port}/login/"
    try:
        _wait_for(ping, 120)
        assert httpx.get(login).status_code == 200  # the built pages, on the same port

        server = psutil.Process(supervisor.pid).children(recursive=True)
        assert server, "nothing runs under the supervisor"
        for process in server:
            process.kill()  # a crash: no clean shutdown
        psutil.wait_procs(server, timeout=10)
        killed = time.monotonic()
        assert not _answers(ping)

        _wait_for(ping, RESTART_WITHIN)
        took = time.monotonic() - killed
        assert took <= RESTART_WITHIN, log.read_text(errors="replace")[-3000:]
        assert httpx.get(login).status_code == 200
        restarted = psutil.Process(supervisor.pid).children(recursive=True)
        assert restarted and not {p.pid for p in restarted} & {p.pid for p in server}

        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(30) == 0
    finally:
        if supervisor.poll() is None:
            os.killpg(supervisor.pid, signal.SIGKILL)
        supervisor.wait()
