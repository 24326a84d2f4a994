"""Where the SATUSEHAT simulator answers for this app: an explicit URL, else its mount on
this backend."""

from __future__ import annotations

from reflex_base.config import get_config

from klinikita.settings import get_settings

SIMULATOR_MOUNT = "/satusehat-sim"


def simulator_base() -> str:
    """The simulator's base URL: an explicit one, else the one mounted on this backend."""
    settings = get_settings()
    if settings.simulator_url:
        return settings.simulator_url.rstrip("/")
    return f"{get_config().api_url.rstrip('/')}{SIMULATOR_MOUNT}"
