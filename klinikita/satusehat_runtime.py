"""How the app runs the SATUSEHAT side: the mounted simulator and the in-process worker."""

from __future__ import annotations

import asyncio

import reflex as rx
from reflex_base.config import get_config
from starlette.applications import Starlette
from starlette.routing import Mount

from klinikita.integrations.satusehat.simulator import Simulator
from klinikita.integrations.satusehat.tokens import shared_token_cache
from klinikita.integrations.satusehat.worker import OutboxWorker
from klinikita.settings import get_settings
from klinikita.state.live import make_notifier

SIMULATOR_MOUNT = "/satusehat-sim"


def simulator_base() -> str:
    """The simulator's base URL: an explicit one, else the one mounted on this backend."""
    settings = get_settings()
    if settings.simulator_url:
        return settings.simulator_url.rstrip("/")
    return f"{get_config().api_url.rstrip('/')}{SIMULATOR_MOUNT}"


def backend_api() -> Starlette | None:
    """Extra routes on the backend: the simulator, unless turned off."""
    settings = get_settings()
    if not settings.mount_simulator:
        return None
    simulator = Simulator(data_file=settings.simulator_data_file)
    return Starlette(routes=[Mount(SIMULATOR_MOUNT, app=simulator.create_app())])


async def run_outbox_worker(app: rx.App) -> None:
    """Lifespan task: the SATUSEHAT worker inside the app (off with KLINIKITA_RUN_WORKER=0,
    e.g. when `python -m klinikita worker` runs as its own process)."""
    if not get_settings().run_worker:
        return
    worker = OutboxWorker(
        simulator_base=simulator_base, notifier=make_notifier(app), tokens=shared_token_cache()
    )
    stop = asyncio.Event()
    try:
        await worker.run(stop)
    except asyncio.CancelledError:
        stop.set()
        raise
