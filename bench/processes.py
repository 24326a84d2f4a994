"""What the benchmarks share: free ports, waiting for a server, the simulator as its own
process with latency added, percentiles."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer")


def start_simulator(latency_ms: int) -> tuple[subprocess.Popen, str]:
    """The SATUSEHAT simulator in its own process, `latency_ms` added to every FHIR call."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "klinikita", "simulator", "--port", str(port)]
        + ["--data-file", "none"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/_sim/health")
    httpx.post(
        f"{base}/_sim/faults",
        json={"kind": "latency", "latency_ms": latency_ms, "path": "/fhir-r4/v1*"},
    ).raise_for_status()
    return proc, base


SERVERS = ("granian", "uvicorn")


def start_backend(
    log: Path | None = None, *, server: str = "uvicorn", workers: int = 1, **env: str
) -> tuple[subprocess.Popen, str]:
    """The app's backend (no frontend) on a free port, served by `server` (granian is what
    `reflex run` uses here, as gunicorn is not installed) with `workers` processes (more than
    one needs Redis), with `env` added to this process's environment; its output goes to
    `log` (or nowhere)."""
    import os

    port = free_port()
    tools = ROOT / ".tools" / "node_modules" / ".bin"
    full_env = dict(
        os.environ,
        PATH=f"{tools}{os.pathsep}{os.environ['PATH']}",
        REFLEX_USE_SYSTEM_BUN="1",
        **env,
    )
    output = log.open("w") if log is not None else subprocess.DEVNULL
    if server == "granian":
        command = ["granian", "--interface", "asgi", "--factory", "klinikita.klinikita:app"]
    else:
        command = ["uvicorn", "--factory", "klinikita.klinikita:app"]
    proc = subprocess.Popen(
        [sys.executable, "-m", *command, "--port", str(port), "--log-level", "warning"]
        + ["--workers", str(workers)],
        cwd=ROOT,
        env=full_env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/ping")
    return proc, base


def add_db_option(parser) -> None:  # noqa: ANN001
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="postgresql: a fresh database on the local server, dropped afterwards "
        "($KLINIKITA_TEST_PG or postgres@127.0.0.1); or set REFLEX_DB_URL yourself",
    )


def rerun_if_postgresql(args, script: str) -> None:  # noqa: ANN001
    """With `--db postgresql` (and no PostgreSQL URL given), run `script` again on a fresh
    database and exit with its status."""
    import os

    if args.db == "postgresql" and not os.environ.get("REFLEX_DB_URL", "").startswith("postgres"):
        argv = [a for a in sys.argv[1:] if a not in ("--db", "postgresql", "--db=postgresql")]
        raise SystemExit(rerun_on_postgresql(script, argv))


def rerun_on_postgresql(script: str, argv: list[str]) -> int:
    """Run the benchmark again as a child process on a fresh PostgreSQL database (created
    here, dropped afterwards): the app reads its database URL once, at start."""
    import os

    from tests.pg import temporary_pg_database

    with temporary_pg_database("klinikita_bench") as url:
        env = dict(os.environ, REFLEX_DB_URL=url)
        return subprocess.call([sys.executable, script, *argv], cwd=ROOT, env=env)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100), nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def verdict(met: bool) -> str:
    """What a figure says about its target."""
    return "PASS" if met else "FAIL"
