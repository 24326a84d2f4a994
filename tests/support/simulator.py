"""Start the SATUSEHAT simulator with uvicorn on a free loopback port, in a background thread.

    from tests.support.simulator import start_simulator

    with start_simulator() as running:
        httpx.post(running.token_url + "?grant_type=client_credentials", data={...})
        running.simulator.faults.fail_next("http_503")

Reusable by any test package (unit, integration, e2e); no pytest dependency.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from klinikita.integrations.satusehat.simulator import Simulator
from klinikita.integrations.satusehat.simulator.paths import (
    AUTH_PREFIX,
    AUTH_TOKEN_PATH,
    CONSENT_PREFIX,
    CONTROL_PREFIX,
    FHIR_PREFIX,
)
from klinikita.integrations.satusehat.simulator.server import install_drop_log_filter


@dataclass
class RunningSimulator:
    simulator: Simulator
    origin: str  # e.g. http://127.0.0.1:54321
    prefix: str = ""  # mount prefix, e.g. /satusehat-sim
    _server: uvicorn.Server | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return self.origin + self.prefix

    @property
    def auth_url(self) -> str:
        return self.base_url + AUTH_PREFIX

    @property
    def token_url(self) -> str:
        return self.base_url + AUTH_TOKEN_PATH

    @property
    def fhir_url(self) -> str:
        return self.base_url + FHIR_PREFIX

    @property
    def consent_url(self) -> str:
        return self.base_url + CONSENT_PREFIX

    @property
    def control_url(self) -> str:
        return self.base_url + CONTROL_PREFIX

    def stop(self, timeout: float = 5.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self._server = self._thread = None

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()


def start_simulator(
    simulator: Simulator | None = None,
    *,
    mount_prefix: str = "",
    host: str = "127.0.0.1",
    data_file: str | Path | None = None,
    startup_timeout: float = 10.0,
) -> RunningSimulator:
    """Serve `simulator` (a fresh one by default); `mount_prefix` mounts it inside a parent
    Starlette app, as the product does, to exercise `root_path` handling."""
    sim = simulator or Simulator(data_file=data_file)
    app = sim.create_app()
    if mount_prefix:
        app = Starlette(routes=[Mount(mount_prefix, app=app)])
    origin, server, thread = serve_app(app, host=host, startup_timeout=startup_timeout)
    return RunningSimulator(sim, origin, mount_prefix, server, thread)


def serve_app(
    app: Any, *, host: str = "127.0.0.1", startup_timeout: float = 10.0
) -> tuple[str, uvicorn.Server, threading.Thread]:
    """Serve the ASGI `app` with uvicorn on a free port of `host`, in a background thread:
    (its origin, the server, the thread); stop it with `server.should_exit = True`."""
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on sockets that declare it,
    # and without it every small response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]

    install_drop_log_filter()
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"satusehat-sim-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    return f"http://{host}:{port}", server, thread
