"""How the app runs the SATUSEHAT side: the mounted simulator and the in-process worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

import reflex as rx
from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount

from klinikita.db import get_engine, read_scope
from klinikita.integrations.satusehat.simulator import Simulator
from klinikita.integrations.satusehat.tokens import shared_token_cache
from klinikita.models import SyncJob
from klinikita.models.base import utcnow
from klinikita.models.enums import Duty
from klinikita.models.satusehat import JobStatus
from klinikita.outbox_worker import job_signal
from klinikita.outbox_worker.worker import OutboxWorker
from klinikita.services.auth import actor_for
from klinikita.services.job_notices import JobNotice, Notifier
from klinikita.settings import get_settings
from klinikita.simulator_address import SIMULATOR_MOUNT, simulator_base
from klinikita.state.live import make_notifier

ENDED = (JobStatus.DONE, JobStatus.FAILED, JobStatus.DEAD)
log = logging.getLogger("klinikita.satusehat")


def backend_api() -> list[Starlette]:
    """Extra routes on the backend: the simulator, unless turned off. Its control endpoints
    (faults, reset, clock) exist only with KLINIKITA_SIMULATOR_CONTROL (the demo), and then
    answer only an admin's session."""
    settings = get_settings()
    if not settings.mount_simulator:
        return []
    simulator = Simulator(data_file=settings.simulator_data_file)
    control = admin_session_only if settings.simulator_control else False
    return [Starlette(routes=[Mount(SIMULATOR_MOUNT, app=simulator.create_app(control))])]


async def admin_session_only(request: Request) -> Response | None:
    """None for a request that carries the session token of a login whose active duty is
    Admin (`Authorization: Bearer <token>`, the token a logged-in tab keeps); else the
    refusal: 401 without a live session, 403 for another duty."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return JSONResponse({"error": "admin session required"}, 401)
    actor = await asyncio.to_thread(actor_for, token)
    if actor is None:
        return JSONResponse({"error": "admin session required"}, 401)
    if actor.duty != Duty.ADMIN:
        return JSONResponse({"error": "only an admin may control the simulator"}, 403)
    return None


async def run_outbox_worker(app: rx.App) -> None:
    """Lifespan task: the SATUSEHAT worker inside the app. With KLINIKITA_RUN_WORKER=0
    (`python -m klinikita worker` runs as its own process) the app relays that worker's
    results to the tabs instead."""
    if not get_settings().run_worker:
        await relay_worker_notices(app)
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


# ----- results of a worker running as its own process ----------------------------------------
RELAY_INTERVAL = 0.05  # seconds between two looks at the jobs without a signal (SQLite)
RELAY_MARGIN = timedelta(seconds=5)


_JOB = SyncJob.__table__
# Plain columns, no SyncJob objects: this runs beside the page events (on SQLite every
# RELAY_INTERVAL).
_FINISHED = (
    select(
        _JOB.c.id,
        _JOB.c.kind,
        _JOB.c.branch_id,
        _JOB.c.subject_type,
        _JOB.c.subject_id,
        _JOB.c.status,
        _JOB.c.last_error,
        _JOB.c.client_token,
        _JOB.c.updated_at,
    )
    .where(
        _JOB.c.updated_at >= bindparam("since"),
        _JOB.c.status.in_([s.value for s in ENDED]),
        _JOB.c.client_token.is_not(None),
    )
    .order_by(_JOB.c.updated_at)
    .limit(500)
)


def finished_jobs_since(
    since: datetime, engine: Engine | None = None
) -> tuple[list[tuple[JobNotice, datetime]], datetime]:
    """Jobs that ended (or failed, or died) at or after `since` and were asked for by a tab,
    oldest first, each with its time, and the newest of those times (`since` if none)."""
    with read_scope(engine) as session:
        rows = session.execute(_FINISHED, {"since": since}).all()
    found = []
    for job_id, kind, branch, s_type, s_id, status, error, token, at in rows:
        ended = _utc(at)
        notice = JobNotice(
            job_id, kind, branch, s_type, s_id, status, error or "", token, ended.isoformat()
        )
        found.append((notice, ended))
    return found, max((at for _, at in found), default=since)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def relay_worker_notices(app: rx.App) -> None:
    """Tell the tabs what a worker in another process finished, as the in-app worker does."""
    await follow_finished_jobs(make_notifier(app, tell_other_processes=False))


async def follow_finished_jobs(
    notify: Notifier,
    *,
    interval: float = RELAY_INTERVAL,
    engine: Engine | None = None,
    safety: float = job_signal.SAFETY_SECONDS,
) -> None:
    """Call `notify` once for every job that ends from now on. The jobs are read (an indexed
    range on updated_at) when a worker signals that jobs ended (PostgreSQL: LISTEN, at least
    every `safety` seconds), or every `interval` seconds (SQLite).

    Each look goes back RELAY_MARGIN before the newest time seen: a worker may commit a job
    stamped a moment earlier after one stamped later (several workers on PostgreSQL), and
    that job must not be skipped. What was already told is remembered for that long."""
    started = utcnow()
    newest = started
    told: dict[tuple[int, str], datetime] = {}  # (job, status) -> its time
    async with contextlib.aclosing(
        job_signal.times_to_look(engine or get_engine(), interval, safety=safety)
    ) as looks:
        async for _ in looks:
            try:
                since = max(started, newest - RELAY_MARGIN)
                notices, latest = await asyncio.to_thread(finished_jobs_since, since, engine)
                for notice, at in notices:
                    if (notice.job_id, notice.status) in told:
                        continue
                    await notify(notice)
                    told[(notice.job_id, notice.status)] = at
                newest = max(newest, latest)
                keep_from = newest - RELAY_MARGIN
                told = {key: at for key, at in told.items() if at >= keep_from}
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be briefly away: keep following
                log.warning("Could not read finished SATUSEHAT jobs", exc_info=True)
                await asyncio.sleep(interval)
