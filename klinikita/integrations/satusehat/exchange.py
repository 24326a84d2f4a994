"""What one HTTP exchange looked like, with secrets removed, for the SyncLog."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

_MAX_BODY = 200_000  # characters kept per body; bundles are far smaller


@dataclass
class Exchange:
    method: str
    url: str
    status_code: int | None
    duration_ms: int
    request_body: str
    response_body: str
    error: str = ""
    resource_type: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


ExchangeSink = Callable[[Exchange], Awaitable[None]]

_SECRET_KEYS = {"access_token", "client_secret", "refresh_token"}


def _redact_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("***" if k in _SECRET_KEYS else _redact_json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_json(v) for v in value]
    return value


def _may_hold_secret(text: str) -> bool:
    return any(key in text for key in _SECRET_KEYS)


def redact_body(body: Any) -> str:
    """A body as text for the log, with tokens and secrets replaced by ***.

    Most bodies (FHIR resources, bundles, their answers) name no secret at all: they are
    kept as they are, without parsing and re-serialising them (a bundle per visit made that
    a visible share of the worker's CPU)."""
    if body is None:
        return ""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str):
        if not _may_hold_secret(body):
            return body[:_MAX_BODY]
        text = re.sub(r"(client_secret|access_token)=[^&\s]*", r"\1=***", body)
        try:
            return redact_body(json.loads(text)) if text[:1] in "{[" else text[:_MAX_BODY]
        except json.JSONDecodeError:
            return text[:_MAX_BODY]
    text = json.dumps(body, ensure_ascii=False)
    if not _may_hold_secret(text):
        return text[:_MAX_BODY]
    return json.dumps(_redact_json(body), ensure_ascii=False)[:_MAX_BODY]
