"""The Reflex app: pages, the exception handler that turns refusals into messages."""

import asyncio
import gc
import logging

import reflex as rx
from reflex.event import EventSpec
from sqlalchemy.orm.exc import StaleDataError

import klinikita.models  # noqa: F401  (registers the tables)
from klinikita import routes, styles
from klinikita.components.page import add_pages
from klinikita.health_api import health_api
from klinikita.logs import configure_logging

# Each page module registers its pages (`@page`) when imported.
from klinikita.pages import (  # noqa: F401
    drugs,
    employees,
    examination,
    home,
    kasir,
    login,
    passwords,
    patients,
    pharmacy,
    print_document,
    queue_display,
    referensi,
    registration,
    reports,
    resume,
    settings,
    stock,
    users,
)
from klinikita.satusehat_runtime import backend_api, run_outbox_worker
from klinikita.services import icd10
from klinikita.services.errors import ServiceError
from klinikita.settings import get_settings
from klinikita.simulator_address import simulator_base
from klinikita.state import live
from klinikita.state.auth import SessionExpired
from klinikita.state.event_timing import EventTiming
from klinikita.web_security import with_security_headers

configure_logging()
log = logging.getLogger("klinikita")
CHANGED_MEANWHILE = "Data ini baru saja diubah oleh pengguna lain. Muat ulang, lalu coba lagi."


def handle_backend_exception(exception: Exception) -> list[EventSpec]:
    """Refusals from the rules become a plain message; anything else is logged."""
    if isinstance(exception, SessionExpired):
        return [rx.toast.warning(exception.message), rx.redirect(routes.LOGIN)]
    if isinstance(exception, ServiceError):
        return [rx.toast.error(exception.message, id="service-error")]
    if isinstance(exception, StaleDataError):
        # A write raced a form's save of the same record and was rolled back whole.
        return [rx.toast.error(CHANGED_MEANWHILE, id="service-error")]
    log.exception("Unhandled error in an event handler", exc_info=exception)
    return [rx.toast.error("Terjadi kesalahan di server. Coba lagi; bila berulang, hubungi admin.")]


app = rx.App(
    backend_exception_handler=handle_backend_exception,
    # The simulator's routes (when mounted), /health, /ready and /metrics, then the security
    # headers around everything.
    api_transformer=[
        *backend_api(),
        health_api(simulator_base=simulator_base),
        with_security_headers,
    ],
    stylesheets=["/print.css"],
    style=styles.TOUCH_TARGETS,
    # Toasts at the top centre, below the top bar (TOPBAR_HEIGHT): never over a table's row
    # actions (the queue's Batal) nor over a form's buttons at the bottom right.
    toaster=rx.toast.provider(position="top-center", offset="72px", close_button=True),
    head_components=[
        rx.el.meta(name="viewport", content="width=device-width, initial-scale=1"),
        rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml"),
    ],
)
app.register_lifespan_task(run_outbox_worker)
app.add_middleware(EventTiming())


async def warm_up() -> None:
    """Ready before the first clicks: the ICD-10 index is built, and what the app built at
    start (compiled pages, tables, the index) is moved out of the garbage collector's way,
    so a full collection does not stall every tab's events."""
    await asyncio.to_thread(icd10.warm_up)
    gc.collect()
    gc.freeze()


app.register_lifespan_task(warm_up)
live.bind_app(app)
_SETTINGS = get_settings()
if _SETTINGS.redis_url:
    # Several backend workers share the tabs' states in Redis: live boards cross over too.
    app.register_lifespan_task(
        live.relay_boards, redis_url=_SETTINGS.redis_url, db_url=_SETTINGS.db_url
    )

add_pages(app)
