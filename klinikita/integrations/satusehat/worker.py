"""The outbox worker: claims due jobs, sends them, writes the outcome back. Nothing lost,
nothing twice.

- Claiming marks a job in progress with a lease; on PostgreSQL `FOR UPDATE SKIP LOCKED` lets
  several workers claim side by side. A job whose lease ran out (its worker died) is claimed
  again.
- `attempts` counts sends. It is committed before the HTTP call, so after a crash the next
  worker knows a send may have reached SATUSEHAT and looks the resource up before creating it.
- Transient failures retry with exponential backoff and jitter up to `max_attempts`, then the
  job is dead (visible and resendable). Rejections stop at once with SATUSEHAT's message.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import and_, or_, update
from sqlmodel import Session, select

from klinikita.db import get_engine, session_scope
from klinikita.integrations.satusehat import jobs
from klinikita.integrations.satusehat.client import SatusehatClient, new_http_client
from klinikita.integrations.satusehat.config import credentials_for, missing_settings
from klinikita.integrations.satusehat.sync_log import sync_log_sink
from klinikita.integrations.satusehat.tokens import TokenCache
from klinikita.models import Branch, SyncJob
from klinikita.models.base import utcnow
from klinikita.models.satusehat import JobStatus

log = logging.getLogger("klinikita.satusehat")


@dataclass(frozen=True)
class JobNotice:
    """What a page needs to know when a job ends (or waits)."""

    job_id: int
    kind: str
    branch_id: int
    subject_type: str
    subject_id: int
    status: str
    message: str
    client_token: str | None


Notifier = Callable[[JobNotice], Awaitable[None]]

_running_workers: set[OutboxWorker] = set()


def wake_workers() -> None:
    """Tell the in-process workers that a job was just committed (they also poll)."""
    for worker in list(_running_workers):
        worker.wake()


@dataclass
class _Claimed:
    job_id: int
    kind: str
    branch_id: int
    subject_type: str
    subject_id: int
    client_token: str | None
    attempts: int


class OutboxWorker:
    def __init__(
        self,
        *,
        simulator_base: str | Callable[[], str],
        db_url: str | None = None,
        notifier: Notifier | None = None,
        concurrency: int = 16,
        poll_interval: float = 0.25,
        lease_seconds: float = 120.0,
        max_attempts: int = 8,
        backoff_base: float = 2.0,
        backoff_cap: float = 600.0,
        wait_delay: float = 2.0,
        worker_id: str | None = None,
        http: httpx.AsyncClient | None = None,
        tokens: TokenCache | None = None,
    ) -> None:
        self.simulator_base = simulator_base
        self.db_url = db_url
        self.notifier = notifier
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.lease = timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.wait_delay = wait_delay
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{id(self):x}"
        self.tokens = tokens or TokenCache()
        self._http = http
        self._own_http = http is None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _simulator_base(self) -> str:
        # A callable, because the app only knows its own address once it is serving.
        base = self.simulator_base
        return base() if callable(base) else base

    # ----- claiming ------------------------------------------------------------------
    def claim(self, limit: int) -> list[int]:
        """Mark up to `limit` due jobs as ours (a new transaction)."""
        now = utcnow()
        due = or_(
            and_(SyncJob.status == JobStatus.PENDING, SyncJob.next_attempt_at <= now),
            and_(SyncJob.status == JobStatus.IN_PROGRESS, SyncJob.lease_until < now),
        )
        with session_scope(self.db_url) as session:
            stmt = (
                select(SyncJob.id)
                .where(due)
                .order_by(SyncJob.next_attempt_at, SyncJob.id)
                .limit(limit)
            )
            if session.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            ids = list(session.exec(stmt).all())
            if ids:
                session.exec(
                    update(SyncJob)
                    .where(SyncJob.id.in_(ids))
                    .values(
                        status=JobStatus.IN_PROGRESS,
                        lease_until=now + self.lease,
                        worker_id=self.worker_id,
                        updated_at=now,
                    )
                )
        return ids

    # ----- one job -------------------------------------------------------------------
    def _begin(self, job_id: int) -> tuple[_Claimed, jobs.Prepared, object] | None:
        """Prepare in a transaction; counts the attempt before anything is sent."""
        with session_scope(self.db_url) as session:
            job = session.get(SyncJob, job_id)
            if (
                job is None
                or job.status != JobStatus.IN_PROGRESS
                or job.worker_id != self.worker_id
            ):
                return None  # another worker took it after our lease ran out
            branch = session.get(Branch, job.branch_id)
            missing = missing_settings(branch) if branch else ["cabang"]
            prepared: jobs.Prepared
            creds = None
            if missing:
                prepared = jobs.Fail(
                    f"Pengaturan SATUSEHAT cabang belum lengkap: {', '.join(missing)}."
                )
            else:
                prepared = jobs.prepare(session, job)
            if isinstance(prepared, jobs.Send):
                try:
                    creds = credentials_for(branch, self._simulator_base())
                except ValueError as exc:
                    prepared = jobs.Fail(str(exc))
                else:
                    job.attempts += 1
                    job.waiting_for = None
                    session.add(job)
            claimed = _Claimed(
                job.id,
                job.kind,
                job.branch_id,
                job.subject_type,
                job.subject_id,
                job.client_token,
                job.attempts,
            )
            if not isinstance(prepared, jobs.Send):
                self._finish(session, job, prepared)
        return claimed, prepared, creds

    def _finish(self, session: Session, job: SyncJob, result: object) -> str:
        """Write the job's outcome (and the ids it brought) in the caller's transaction."""
        now = utcnow()
        job.lease_until = None
        job.updated_at = now
        message = ""
        if isinstance(result, jobs.Done):
            if result.apply is not None:
                result.apply(session)
            job.status, job.result, job.done_at = JobStatus.DONE, result.result, now
            job.last_error = job.waiting_for = None
            # Jobs that waited for this one may go now.
            session.exec(
                update(SyncJob)
                .where(
                    SyncJob.branch_id == job.branch_id,
                    SyncJob.status == JobStatus.PENDING,
                    SyncJob.waiting_for.is_not(None),
                )
                .values(next_attempt_at=now)
            )
        elif isinstance(result, jobs.Fail):
            job.status, job.last_error, job.waiting_for = JobStatus.FAILED, result.message, None
            jobs.mark_failed(session, job, result.message)
            message = result.message
        elif isinstance(result, jobs.Wait):
            job.status, job.waiting_for = JobStatus.PENDING, result.waiting_for
            job.next_attempt_at = now + timedelta(seconds=self.wait_delay)
            message = result.waiting_for
        elif isinstance(result, jobs.Retry):
            message = result.message
            if job.attempts >= self.max_attempts:
                job.status = JobStatus.DEAD
                job.last_error = f"Gagal setelah {job.attempts} percobaan. Terakhir: {message}"
                jobs.mark_failed(session, job, job.last_error)
                message = job.last_error
            else:
                job.status, job.last_error = JobStatus.PENDING, message
                job.next_attempt_at = now + timedelta(seconds=self._backoff(job.attempts, result))
        session.add(job)
        return message

    def _backoff(self, attempts: int, retry: jobs.Retry) -> float:
        delay = min(self.backoff_cap, self.backoff_base * 2 ** max(0, attempts - 1))
        delay *= random.uniform(0.5, 1.5)
        return max(delay, retry.retry_after or 0.0, retry.min_delay)

    def _complete(self, claimed: _Claimed, result: object) -> JobNotice | None:
        with session_scope(self.db_url) as session:
            job = session.get(SyncJob, claimed.job_id)
            if (
                job is None
                or job.worker_id != self.worker_id
                or job.status != JobStatus.IN_PROGRESS
            ):
                return None
            message = self._finish(session, job, result)
            return self._notice(job, message)

    @staticmethod
    def _notice(job: SyncJob, message: str) -> JobNotice:
        return JobNotice(
            job.id,
            job.kind,
            job.branch_id,
            job.subject_type,
            job.subject_id,
            job.status,
            message,
            job.client_token,
        )

    def _sink(self, claimed: _Claimed, patient_id: int | None):  # noqa: ANN202
        return sync_log_sink(
            claimed.branch_id, job_id=claimed.job_id, patient_id=patient_id, db_url=self.db_url
        )

    async def process(self, job_id: int) -> JobNotice | None:
        begun = await asyncio.to_thread(self._begin, job_id)
        if begun is None:
            return None
        claimed, prepared, creds = begun
        if not isinstance(prepared, jobs.Send):
            notice = await asyncio.to_thread(self._read_notice, claimed.job_id)
        else:
            client = SatusehatClient(
                creds, self._client(), self.tokens, self._sink(claimed, prepared.patient_id)
            )
            try:
                result = await prepared.run(client)
            except Exception as exc:  # a bug must not lose the job: retry it, and say why
                log.exception("SATUSEHAT job %s crashed", job_id)
                result = jobs.Retry(f"Kesalahan internal: {type(exc).__name__}: {exc}")
            notice = await asyncio.to_thread(self._complete, claimed, result)
        if notice is not None and self.notifier is not None:
            try:
                await self.notifier(notice)
            except Exception:  # the page reloads the truth anyway
                log.exception("Live update for job %s failed", job_id)
        return notice

    def _read_notice(self, job_id: int) -> JobNotice | None:
        with Session(get_engine(self.db_url)) as session:
            job = session.get(SyncJob, job_id)
            return self._notice(job, job.last_error or job.waiting_for or "") if job else None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = new_http_client()
        return self._http

    # ----- loops ---------------------------------------------------------------------
    async def run_once(self) -> int:
        """Claim what is due now and process it all; returns how many jobs were taken."""
        ids = await asyncio.to_thread(self.claim, self.concurrency)
        await asyncio.gather(*(self.process(i) for i in ids))
        return len(ids)

    async def drain(self, *, timeout: float = 30.0) -> None:
        """Run until no job is pending or in progress (tests and scripts)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if await self.run_once() == 0:
                if not await asyncio.to_thread(self._has_open_jobs):
                    return
                await asyncio.sleep(min(self.poll_interval, 0.05))
        raise TimeoutError("outbox not drained in time")

    def _has_open_jobs(self) -> bool:
        with Session(get_engine(self.db_url)) as session:
            return (
                session.exec(
                    select(SyncJob.id)
                    .where(SyncJob.status.in_((JobStatus.PENDING, JobStatus.IN_PROGRESS)))
                    .limit(1)
                ).first()
                is not None
            )

    def wake(self) -> None:
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Work until `stop` is set (or the task is cancelled)."""
        stop = stop or asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        _running_workers.add(self)
        running: set[asyncio.Task] = set()
        log.info("SATUSEHAT worker %s started", self.worker_id)
        try:
            while not stop.is_set():
                self._wake.clear()
                free = self.concurrency - len(running)
                ids: list[int] = []
                if free > 0:
                    try:
                        ids = await asyncio.to_thread(self.claim, free)
                    except Exception:
                        log.exception("Claiming SATUSEHAT jobs failed; trying again")
                for job_id in ids:
                    task = asyncio.create_task(self.process(job_id))
                    running.add(task)
                    task.add_done_callback(running.discard)
                    task.add_done_callback(lambda _t: self._wake.set())
                if ids and len(ids) == free:
                    continue  # there may be more due right now
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
                except TimeoutError:
                    pass
        finally:
            _running_workers.discard(self)
            if running:
                await asyncio.gather(*running, return_exceptions=True)
            if self._own_http and self._http is not None:
                await self._http.aclose()
                self._http = None
            log.info("SATUSEHAT worker %s stopped", self.worker_id)
