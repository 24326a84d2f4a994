"""A staff session as the browser is one: a Socket.IO connection to the app's `/_event`
websocket, sending Reflex events and receiving the state deltas pushed back.

Only what the benchmark needs: connect with a client token, send an event by state class and
handler name, wait for the next update (the event's answer) or for a delta that satisfies a
condition (a live push from the worker).
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import socketio

NAMESPACE = "/_event"  # the browser connects to <backend>/_event: path and namespace
Delta = dict[str, dict[str, Any]]


def event_name(state_cls: type, handler: str) -> str:
    return f"{state_cls.get_full_name()}.{handler}"


def var_key(state_cls: type) -> str:
    """The key of a state's vars in a delta."""
    return state_cls.get_full_name()


def var(delta: Delta, state_cls: type, name: str) -> Any:
    """A var's new value in a delta (None when the delta does not carry it)."""
    return delta.get(var_key(state_cls), {}).get(f"{name}_rx_state_")


def has(delta: Delta, state_cls: type, name: str) -> bool:
    return f"{name}_rx_state_" in delta.get(var_key(state_cls), {})


class WsSession:
    def __init__(self, backend_url: str, think_seconds: float = 0.0) -> None:
        self.backend_url = backend_url.rstrip("/")
        self.token = str(uuid.uuid4())
        self.sio = socketio.AsyncClient(reconnection=False)
        self.updates: asyncio.Queue[tuple[float, dict[str, Any]]] = asyncio.Queue()
        self.sio.on("event", self._on_update, namespace=NAMESPACE)
        self.path = "/"
        # A person reads, types or reaches for the next field between two events.
        self.think_seconds = think_seconds
        self.last: dict[str, Any] = {}
        self.sent_at = 0.0  # when the last `call` sent its event

    async def _on_update(self, update: dict[str, Any]) -> None:
        self.updates.put_nowait((time.perf_counter(), update))

    async def connect(self) -> None:
        await self.sio.connect(
            f"{self.backend_url}?token={self.token}",
            socketio_path="_event",
            transports=["websocket"],
            namespaces=[NAMESPACE],
            wait_timeout=30,
        )

    async def close(self) -> None:
        await self.sio.disconnect()

    def drain(self) -> None:
        while not self.updates.empty():
            self.updates.get_nowait()

    async def send(self, state_cls: type, handler: str, **payload: Any) -> None:
        router = {"pathname": self.path, "asPath": self.path, "query": {}}
        if "?" in self.path:
            path, query = self.path.split("?", 1)
            router["pathname"] = path
            router["query"] = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        await self.sio.emit(
            "event",
            {"name": event_name(state_cls, handler), "payload": payload, "router_data": router},
            namespace=NAMESPACE,
        )

    async def call(
        self,
        state_cls: type,
        handler: str,
        until: Callable[[Delta], bool] | None = None,
        timeout: float = 30,
        **payload: Any,
    ) -> tuple[float, Delta]:
        """Send one event and wait for its answer: the first update satisfying `until`
        (by default, any update of `state_cls`). Other tabs' changes are pushed to this
        session too, so `until` should look for what only this event's answer holds.
        Returns (seconds, delta)."""
        key = var_key(state_cls)
        until = until or (lambda d: key in d)
        if self.think_seconds:
            await asyncio.sleep(random.uniform(0.5, 1.5) * self.think_seconds)
        self.drain()
        start = self.sent_at = time.perf_counter()
        await self.send(state_cls, handler, **payload)
        at, delta = await self.wait_for(until, timeout)
        return at - start, delta

    async def login(self, username: str, password: str) -> None:
        """Sign in as the login page does; returns once the session is authenticated."""
        from klinikita.state.auth import AuthState, LoginState

        self.path = "/login"
        self.drain()
        form = {"username": username, "password": password}
        await self.send(LoginState, "submit", form_data=form)
        key = var_key(AuthState)
        await self.wait_for(lambda d: d.get(key, {}).get("is_authenticated_rx_state_") is True)

    async def wait_for(
        self, condition: Callable[[Delta], bool], timeout: float = 30
    ) -> tuple[float, Delta]:
        """Wait for a pushed delta satisfying `condition`; returns (arrival time, delta)."""
        deadline = time.perf_counter() + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"no matching update; last: {str(self.last)[:2000]}")
            try:
                at, update = await asyncio.wait_for(self.updates.get(), left)
            except TimeoutError:
                raise TimeoutError(f"no matching update; last: {str(self.last)[:2000]}") from None
            self.last = update
            delta = update.get("delta") or {}
            if condition(delta):
                return at, delta
