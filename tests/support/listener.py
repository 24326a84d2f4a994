"""A stranger's HTTP listener on a free local port: it records every request it receives.

Stands for a server an attacker points a branch's SATUSEHAT URLs at; a test asserts it
received nothing (no client_id, no client_secret).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Listener:
    url: str  # http://<host>:<port>
    received: list[str] = field(default_factory=list)  # request line, headers and body

    @property
    def auth_url(self) -> str:
        return f"{self.url}/oauth2/v1"

    @property
    def fhir_url(self) -> str:
        return f"{self.url}/fhir-r4/v1"


@contextmanager
def recording_listener(host: str = "127.0.0.1") -> Iterator[Listener]:
    """Listen on `host` (any 127.x.y.z is this machine under another name)."""
    received: list[str] = []

    class Record(BaseHTTPRequestHandler):
        def _record(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode(errors="replace") if length else ""
            received.append(f"{self.requestline}\n{self.headers}\n{body}")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"access_token": "dicuri", "expires_in": "3599"}')

        do_GET = do_POST = do_PUT = _record

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer((host, 0), Record)
    thread = threading.Thread(target=server.serve_forever, name="stranger-listener", daemon=True)
    thread.start()
    try:
        yield Listener(f"http://{host}:{server.server_address[1]}", received)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
