"""Reading the toasts an event handler returned (`rx.toast.*`), as the browser will get them."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx
from reflex.event import Event, EventSpec

_LEVELS = ("success", "error", "info", "warning")


def _function(event: Any) -> str | None:  # noqa: ANN401
    if isinstance(event, EventSpec):
        (event,) = Event.from_event_type(event)
    function = getattr(event, "payload", {}).get("function")
    return function if isinstance(function, str) else None


_PREFIXES = {
    level: _function(getattr(rx.toast, level)("\x01")).split(json.dumps("\x01"))[0]
    for level in _LEVELS
}


def toasts_of(result: Any) -> list[tuple[str, str]]:  # noqa: ANN401
    """(level, message) of each toast in what a handler returned."""
    found: list[tuple[str, str]] = []
    for event in result if isinstance(result, list | tuple) else [result]:
        if isinstance(event, list | tuple):
            found += toasts_of(event)
            continue
        function = _function(event)
        if function is None:
            continue
        for level, prefix in _PREFIXES.items():
            if function.startswith(prefix):
                found.append((level, json.JSONDecoder().raw_decode(function[len(prefix) :])[0]))
    return found
