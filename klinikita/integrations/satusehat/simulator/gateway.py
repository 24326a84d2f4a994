"""ASGI layer in front of the simulated platform, playing the Apigee gateway / load balancer:
request ids, counters and the runtime fault switches."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import no_api_product, quota_violation_body
from .faults import FaultRule
from .paths import CONTROL_PREFIX, route_path

if TYPE_CHECKING:
    from .simulator import Simulator

logger = logging.getLogger("klinikita.satusehat.simulator")

# Extra bytes promised in Content-Length when a connection is dropped on purpose.
_MISSING_BYTES = 512
FORBIDDEN_HTML = (
    '<!doctype html><meta charset="utf-8"><meta name=viewport '
    'content="width=device-width, initial-scale=1"><title>403</title>403 Forbidden'
)


class SimulatorGateway:
    def __init__(self, app: ASGIApp, simulator: Simulator) -> None:
        self.app = app
        self.sim = simulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        self.sim.stats.record_request(method, path)
        send = self._decorate(send)
        latency_ms, rule = self.sim.faults.take(method, path)
        if latency_ms:
            await asyncio.sleep(latency_ms / 1000)
        if rule is None:
            await self.app(scope, receive, send)
            return
        self.sim.stats.record_fault(rule.kind)
        logger.info("injecting fault %s on %s %s", rule.kind, method, path)
        await self._play(rule, scope, receive, send)

    def _decorate(self, send: Send) -> Send:
        request_id = str(uuid.uuid4()).encode()

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.sim.stats.record_status(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id))
                headers.append((b"via", b"1.1 google"))
                message = {**message, "headers": headers}
            await send(message)

        return wrapped

    async def _play(self, rule: FaultRule, scope: Scope, receive: Receive, send: Send) -> None:
        if rule.kind == "http_503":
            await _plain(send, 503, b"no healthy upstream", "text/plain")
        elif rule.kind == "http_504":
            await _plain(send, 504, b"Gateway Timeout", "text/plain")
        elif rule.kind == "http_429":
            retry_after = rule.retry_after or self.sim.config.retry_after_seconds
            body = json.dumps(quota_violation_body()).encode()
            await _plain(
                send, 429, body, "application/json", [(b"retry-after", str(retry_after).encode())]
            )
        elif rule.kind == "http_error":
            await _plain(send, rule.status or 500, rule.body.encode(), rule.content_type)
        elif rule.kind == "forbidden_html":
            await _plain(send, 403, FORBIDDEN_HTML.encode(), "text/html; charset=UTF-8")
        elif rule.kind == "no_api_product":
            error = no_api_product()
            headers = [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
            await _plain(send, 401, json.dumps(error.body).encode(), "application/json", headers)
        elif rule.kind == "drop_before":
            # Read the body first: closing on unread data would be a TCP reset instead.
            await _drain(receive)
            await _truncated(send, 200, [(b"content-type", b"application/json")], b"{")
        elif rule.kind == "drop_after":
            status, headers, body = await self._process(scope, receive)
            await _truncated(send, status, headers, body)
        elif rule.kind == "delay_after":
            status, headers, body = await self._process(scope, receive)
            await asyncio.sleep(rule.latency_ms / 1000)
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

    async def _process(
        self, scope: Scope, receive: Receive
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Run the request for real (it is stored): its answer's status, headers and body."""
        status = 500
        headers: list[tuple[bytes, bytes]] = []
        body = bytearray()

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        await self.app(scope, receive, capture)
        return status, headers, bytes(body)


async def _drain(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def _plain(
    send: Send,
    status: int,
    body: bytes,
    content_type: str,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _truncated(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    """Promise more bytes than we send and stop: the server closes the connection, so the
    client sees a protocol error instead of a response."""
    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body) + _MISSING_BYTES).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
