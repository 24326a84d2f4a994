"""Keep a server running: start a command again whenever it ends, until asked to stop.

    python -m klinikita.supervisor -- reflex run --env prod

`make run-prod` runs the app this way, for machines without systemd (deploy/ has the units
for those with it). A command that ends (a crash, a killed backend, an exit code of 0 alike)
is started again after a pause that doubles, from 1 s up to 30 s, while it keeps dying
quickly; one that ran a minute or more is restarted after 1 s. Ctrl-C or SIGTERM passes the
signal on to the command and everything it started, waits for them to end (then kills what
is left) and exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

FIRST_PAUSE = 1.0
LONGEST_PAUSE = 30.0
HEALTHY_AFTER = 60.0  # seconds of running after which a crash counts as a first one
STOP_GRACE = 20.0  # seconds the command gets to end after the signal, then it is killed


def _say(message: str) -> None:
    print(f"[supervisor] {message}", file=sys.stderr, flush=True)


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    # The command runs in a process group of its own: this reaches what it started too
    # (Reflex's server workers), also after the command itself has gone.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _end_group(proc: subprocess.Popen, sig: int, grace: float) -> None:
    """Send `sig` to the command's group, wait up to `grace` seconds, then kill the group."""
    _signal_group(proc, sig)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if proc.poll() is not None and not _group_alive(proc.pid):
            return
        time.sleep(0.1)
    _signal_group(proc, signal.SIGKILL)
    proc.wait()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def supervise(
    command: Sequence[str],
    *,
    first_pause: float = FIRST_PAUSE,
    longest_pause: float = LONGEST_PAUSE,
    healthy_after: float = HEALTHY_AFTER,
    grace: float = STOP_GRACE,
) -> int:
    """Run `command` again each time it ends, until SIGINT or SIGTERM; returns 0 then."""
    stop = threading.Event()
    stop_signal = [signal.SIGTERM]

    def ask_to_stop(signum: int, _frame: object) -> None:
        stop_signal[0] = signum
        stop.set()

    previous = {s: signal.signal(s, ask_to_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    pause = first_pause
    try:
        while not stop.is_set():
            started = time.monotonic()
            proc = subprocess.Popen(list(command), start_new_session=True)
            _say(f"started {command[0]} (pid {proc.pid})")
            while proc.poll() is None and not stop.is_set():
                stop.wait(0.2)
            if stop.is_set():
                _say("stopping")
                _end_group(proc, stop_signal[0], grace)
                break
            # What the command left behind (workers holding the port) goes with it.
            _end_group(proc, signal.SIGTERM, grace)
            ran = time.monotonic() - started
            pause = first_pause if ran >= healthy_after else pause
            _say(f"{command[0]} ended with code {proc.returncode}; restarting in {pause:g} s")
            stop.wait(pause)
            pause = min(pause * 2, longest_pause)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m klinikita.supervisor",
        description="Run a command, start it again whenever it ends, stop on Ctrl-C/SIGTERM.",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the command and its args")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    return supervise(command)


if __name__ == "__main__":
    sys.exit(main())
