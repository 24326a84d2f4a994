"""The production server as `make run-prod` starts it (the supervisor around `reflex run --env
prod`, pages and backend on one port), over real HTTP and in real Chromium: security headers,
CORS and the websocket only for KLINIKITA_PUBLIC_URL, HSTS only for an https public URL, no
simulator control endpoints, pages that refuse to be framed, and a killed server that comes
back."""

from __future__ import annotations

import base64
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import psutil
import pytest
from playwright.sync_api import Page, expect

from klinikita.settings import PROJECT_ROOT
from tests.e2e.conftest import DESK
from tests.e2e.test_shell import login

pytestmark = [pytest.mark.e2e, pytest.mark.processes]

BIN = Path(sys.executable).parent
START_TIMEOUT = 300  # s: prestart, compile and the production build on a busy 2-core machine
FOREIGN = "https://evil.example"
HTTPS_PUBLIC = "https://rme.klinik.test"


@dataclass
class Server:
    url: str
    supervisor: subprocess.Popen
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(data: Path, public_url: str) -> dict[str, str]:
    """A production environment: nothing of the test session's own settings (harness flags,
    demo or simulator control switches) leaks in."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("REFLEX_", "KLINIKITA_", "APP_HARNESS", "PYTEST_"))
    }
    tools = PROJECT_ROOT / ".tools" / "node_modules" / ".bin"
    env.update(
        PATH=f"{tools}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=str(PROJECT_ROOT),
        REFLEX_USE_SYSTEM_BUN="1",
        REFLEX_TELEMETRY_ENABLED="false",
        REFLEX_CHECK_LATEST_VERSION="false",
        # Its own frontend build folder: the browser tests' dev server keeps the project's.
        REFLEX_WEB_WORKDIR=str(data.parent / "web"),
        REFLEX_DB_URL=f"sqlite:///{data / 'klinikita.db'}",
        KLINIKITA_SECRET_KEY_FILE=str(data / "secret.key"),
        KLINIKITA_SIMULATOR_DATA="none",
        KLINIKITA_BCRYPT_ROUNDS="4",
        KLINIKITA_RUN_WORKER="0",
        KLINIKITA_PUBLIC_URL=public_url,
    )
    return env


def _wait_until_up(server: Server, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.supervisor.poll() is not None:
            pytest.fail(f"the supervisor ended:\n{server.log_tail()}")
        try:
            if httpx.get(f"{server.url}/ping", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(1)
    pytest.fail(f"{server.url} did not answer in {timeout} s:\n{server.log_tail()}")


def _stop(server: Server) -> None:
    server.supervisor.send_signal(signal.SIGTERM)
    try:
        assert server.supervisor.wait(60) == 0
    finally:
        if server.supervisor.poll() is None:
            os.killpg(server.supervisor.pid, signal.SIGKILL)


@contextmanager
def _running_server(tmp: Path, public_url: str, *, backend_only: bool = False):
    """Migrate and seed a fresh database, then `make run-prod`'s command line, on a free
    port; stopped with SIGTERM (as systemd or Ctrl-C stops it) at the end."""
    port = _free_port()
    data = tmp / "data"
    env = _server_env(data, public_url.replace("{port}", str(port)))
    subprocess.run(
        [str(BIN / "python"), "-m", "klinikita", "prestart", "--demo"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    command = [str(BIN / "reflex"), "run", "--env", "prod", "--backend-port", str(port)]
    command += ["--backend-only"] if backend_only else ["--frontend-port", str(port)]
    log = tmp / "server.log"
    with log.open("wb") as out:
        supervisor = subprocess.Popen(
            [str(BIN / "python"), "-m", "klinikita.supervisor", "--", *command],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", supervisor, log)
    try:
        _wait_until_up(server)
        yield server
    finally:
        _stop(server)


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app at its public URL http://127.0.0.1:<port>, pages and backend on that port."""
    with _running_server(tmp_path_factory.mktemp("prod"), "http://127.0.0.1:{port}") as server:
        yield server


@pytest.fixture(scope="module")
def https_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The backend alone (as behind a TLS proxy), its public URL an https one."""
    tmp = tmp_path_factory.mktemp("https")
    with _running_server(tmp, HTTPS_PUBLIC, backend_only=True) as server:
        yield server


# ----- headers --------------------------------------------------------------------------------
def _assert_security_headers(response: httpx.Response) -> None:
    csp = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'self'" in csp
    assert "connect-src 'self'" in csp
    assert response.headers.get("x-frame-options") == "DENY"
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert response.headers.get("referrer-policy") == "no-referrer"


def test_pages_and_backend_carry_the_security_headers(prod: Server):
    page = httpx.get(f"{prod.url}/login", follow_redirects=True)
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    _assert_security_headers(page)
    _assert_security_headers(httpx.get(f"{prod.url}/ping"))
    # Served over plain http: no HSTS (a browser would ignore it, and it must not be sent).
    assert "strict-transport-security" not in page.headers


def test_hsts_only_when_the_public_url_is_https(https_backend: Server):
    response = httpx.get(f"{https_backend.url}/ping")
    _assert_security_headers(response)
    assert response.headers["strict-transport-security"] == "max-age=31536000"


# ----- who may call the backend ---------------------------------------------------------------
def _cors(url: str, origin: str) -> httpx.Response:
    return httpx.get(f"{url}/ping", headers={"Origin": origin})


def test_cors_answers_only_the_public_origin(prod: Server, https_backend: Server):
    allowed = _cors(prod.url, prod.url)
    assert allowed.headers["access-control-allow-origin"] == prod.url
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "access-control-allow-origin" not in _cors(prod.url, FOREIGN).headers
    preflight = httpx.options(
        f"{prod.url}/ping",
        headers={"Origin": FOREIGN, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers

    # The https deployment: its public origin only, not the plain-http one.
    ok = _cors(https_backend.url, HTTPS_PUBLIC)
    assert ok.headers["access-control-allow-origin"] == HTTPS_PUBLIC
    assert "access-control-allow-origin" not in _cors(https_backend.url, prod.url).headers


def _websocket_handshake(url: str, origin: str) -> str:
    """The status line the backend answers a browser's websocket handshake with."""
    host_port = url.removeprefix("http://")
    host, port = host_port.split(":")
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        "GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: {host_port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: {origin}\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request.encode())
        return sock.recv(4096).decode(errors="replace").split("\r\n", 1)[0]


def test_websocket_refuses_a_foreign_origin(prod: Server):
    assert " 101 " in _websocket_handshake(prod.url, prod.url)
    refused = _websocket_handshake(prod.url, FOREIGN)
    assert re.match(r"HTTP/1\.1 (400|403) ", refused), refused


# ----- the simulator --------------------------------------------------------------------------
def test_simulator_control_endpoints_do_not_exist_in_production(prod: Server):
    base = f"{prod.url}/satusehat-sim"
    for method, path in (("GET", "health"), ("POST", "reset"), ("POST", "faults")):
        response = httpx.request(method, f"{base}/_sim/{path}", json={"kind": "http_503"})
        assert response.status_code == 404, (method, path, response.text)
    # The simulated SATUSEHAT itself still answers (its FHIR API asks for a token).
    assert httpx.get(f"{base}/fhir-r4/v1/Patient").status_code == 401


# ----- in the browser -------------------------------------------------------------------------
def _console(page: Page) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.on("pageerror", lambda error: messages.append(str(error)))
    return messages


def test_the_app_works_under_its_content_security_policy(page: Page, prod: Server):
    messages = _console(page)
    page.set_viewport_size(DESK)
    login(page, prod.url, "admin", "Admin#2026")
    expect(page.locator("#page-title")).to_have_text("Beranda", timeout=30_000)
    page.goto(f"{prod.url}/kontak/pasien")
    expect(page.locator("#page-title")).to_have_text("Kontak", timeout=30_000)
    # The list comes over the websocket: the connection the policy allows works.
    expect(page.get_by_text("Claudia Sintia")).to_be_visible(timeout=30_000)
    refused = [m for m in messages if "Content Security Policy" in m or "Refused to" in m]
    assert refused == []


@contextmanager
def _other_site(framed_url: str):
    """Another site (its own server and port: another origin) whose page frames `framed_url`."""
    body = (
        '<html><body><h1 id="host">Situs lain</h1>'
        f'<iframe id="app" src="{framed_url}" width="800" height="600"></iframe>'
        "</body></html>"
    ).encode()

    class FramingPage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    site = ThreadingHTTPServer(("127.0.0.1", 0), FramingPage)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{site.server_address[1]}/"
    finally:
        site.shutdown()
        site.server_close()


def test_a_page_framed_by_another_origin_does_not_render(page: Page, prod: Server):
    messages = _console(page)
    with _other_site(f"{prod.url}/login") as other:
        page.goto(other, wait_until="load")  # the frame has loaded (or been refused) too
        expect(page.locator("#host")).to_be_visible()
        frame = page.frames[1]
        assert not frame.url.startswith(prod.url)  # Chromium shows its error page instead
        expect(page.frame_locator("#app").locator("#username")).to_have_count(0)
        assert any("frame-ancestors 'none'" in m for m in messages), messages


# ----- the supervisor (last: the server goes down and comes back) ------------------------------
def test_a_killed_server_is_started_again(prod: Server):
    supervisor = psutil.Process(prod.supervisor.pid)
    server = supervisor.children(recursive=True)
    assert server, "nothing runs under the supervisor"
    for process in server:
        process.kill()  # a crash: no clean shutdown
    psutil.wait_procs(server, timeout=30)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{prod.url}/ping", timeout=2)
    _wait_until_up(prod)
    assert httpx.get(f"{prod.url}/login", follow_redirects=True).status_code == 200
    restarted = supervisor.children(recursive=True)
    assert restarted and not {p.pid for p in restarted} & {p.pid for p in server}
