"""Every Reflex event, timed and logged: a Reflex middleware (`rx.Middleware`, added with
`app.add_middleware`). Reflex 0.10 calls a middleware's `preprocess` at the start of each
event, in the event's own asyncio task, and never calls `postprocess`; so `preprocess`
starts the clock and the end of that task (the handler done, its changes sent) stops it.

Per event: one log line (`event_handled`: request id, user id, branch id, handler, duration
in ms) and an observation in the `klinikita_event_seconds` histogram. Ids only: no names."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import reflex as rx
import structlog

from klinikita.logs import get_logger
from klinikita.metrics import EVENT_SECONDS
from klinikita.state.auth import AuthState

log = get_logger("klinikita.events")


def handler_label(event_name: str) -> str:
    """`<state>.<handler>` from a Reflex event name (the state's last path segment)."""
    state, _, handler = event_name.rpartition(".")
    return f"{state.rpartition('.')[2]}.{handler}" if state else handler


async def _who(state: Any) -> tuple[int | None, int | None]:
    """The user and branch ids of the tab's login, when there is one."""
    try:
        auth = await state.get_state(AuthState)
    except Exception:  # a state outside the login tree
        return None, None
    if not auth.auth_token:
        return None, None
    actor = auth._current_actor()
    if actor is None:
        return None, None
    return actor.user_id, actor.branch_id


def record_event(
    handler: str, seconds: float, *, user_id: int | None, branch_id: int | None, **ids: Any
) -> None:
    """One handled event: the histogram and the log line."""
    EVENT_SECONDS.labels(handler).observe(seconds)
    log.info(
        "event_handled",
        handler=handler,
        duration_ms=round(seconds * 1000, 1),
        user_id=user_id,
        branch_id=branch_id,
        **ids,
    )


class EventTiming(rx.Middleware):
    async def preprocess(self, app: Any, state: Any, event: Any) -> None:  # noqa: ANN401
        started = time.perf_counter()
        request_id = uuid.uuid4().hex[:16]
        # Log lines written while this event runs carry its request id.
        structlog.contextvars.bind_contextvars(request_id=request_id)
        handler = handler_label(event.name)
        user_id, branch_id = await _who(state)
        task = asyncio.current_task()
        if task is None:
            return None

        def done(_task: asyncio.Task) -> None:
            record_event(
                handler,
                time.perf_counter() - started,
                user_id=user_id,
                branch_id=branch_id,
                request_id=request_id,
            )

        task.add_done_callback(done)
        return None
