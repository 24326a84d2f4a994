"""Logging for the whole process through structlog: one JSON line per event in production,
readable console lines in development (KLINIKITA_DEMO, `reflex run` in dev mode). The
standard library's loggers (`logging.getLogger(...)`, Reflex's, uvicorn's) come out the
same way. Level: KLINIKITA_LOG_LEVEL (default INFO).

Only ids go into a log line: fields that could hold personal data (names, NIK, phone,
address, birth date) are dropped by name wherever a caller passes them."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import structlog

from klinikita.settings import get_settings

# Field names never written, whoever logs them.
PERSONAL_FIELDS = frozenset(
    {
        "name",
        "full_name",
        "patient_name",
        "nik",
        "phone",
        "address",
        "birth_date",
        "email",
        "username",
        "password",
        "token",
        "auth_token",
        "secret",
    }
)


# Libraries whose INFO lines would carry personal data (request URLs): WARNING and above only.
QUIET_LOGGERS = ("httpx", "httpcore")


def drop_personal_fields(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: removes the PERSONAL_FIELDS from an event."""
    for key in PERSONAL_FIELDS.intersection(event):
        del event[key]
    return event


def console_wanted() -> bool:
    """Development: the demo, or Reflex's dev mode."""
    return get_settings().seed_demo or os.environ.get("REFLEX_ENV_MODE", "").lower() == "dev"


def configure_logging(*, json: bool | None = None, stream: Any = None) -> None:
    """Route structlog and the standard library into one handler on the root logger.
    `json` None: JSON unless `console_wanted()`. Calling it again replaces the setup."""
    level = logging.getLevelName(get_settings().log_level)
    if not isinstance(level, int):
        level = logging.INFO
    as_json = (not console_wanted()) if json is None else json
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        drop_personal_fields,
    ]
    renderer = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if as_json else _keep,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "klinikita", False):
            root.removeHandler(old)
    handler.klinikita = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request's URL at INFO, and a SATUSEHAT lookup's URL carries a NIK.
    for chatty in QUIET_LOGGERS:
        logging.getLogger(chatty).setLevel(max(level, logging.WARNING))


def _keep(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    return event


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
