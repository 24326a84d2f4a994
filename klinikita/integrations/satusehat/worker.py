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
import functools
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy import and_, or_, update
from sqlmodel import Session, select

from klinikita.db import get_engine, session_scope
from klinikita.integrations.satusehat import jobs
from klinikita.integrations.satusehat.client import SatusehatClient, new_http_client
from klinikita.integrations.satusehat.config import credentials_for, missing_settings
from klinikita.integrations.satusehat.exchange import Exchange
from klinikita.integrations.satusehat.sync_log import sync_log_row
from klinikita.integrations.satusehat.tokens import TokenCache
from klinikita.models import Branch, SyncJob, SyncLog
from klinikita.models.base import utcnow
from klinikita.models.satusehat import JobKind, JobStatus

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
class _Logged:
    exchange: Exchange
    patient_id: int | None
    at: datetime = field(default_factory=utcnow)


@dataclass
class _Begun:
    claimed: _Claimed
    prepared: object
    creds: object
    notice: JobNotice | None  # set when the job ended (or waits) without sending


@dataclass
class _Sent:
    claimed: _Claimed
    result: object
    exchanges: list[_Logged]


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
        # SQLite has one writer at a time, and its busy handler waits in coarse sleeps when
        # threads collide; one database thread per worker queues them fairly instead.
        sqlite = get_engine(db_url).dialect.name == "sqlite"
        self._db_pool = ThreadPoolExecutor(
            max_workers=1 if sqlite else 4, thread_name_prefix="outbox-db"
        )

    async def _db(self, fn, *args):  # noqa: ANN001, ANN202
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._db_pool, functools.partial(fn, *args))

    def _simulator_base(self) -> str:
        # A callable, because the app only knows its own address once it is serving.
        base = self.simulator_base
        return base() if callable(base) else base

    # ----- claiming ------------------------------------------------------------------
    def claim(self, limit: int) -> list[int]:
        """Mark up to `limit` due jobs as ours (a new transaction)."""
        with session_scope(self.db_url) as session:
            return self._claim_in(session, limit)

    def _claim_in(self, session: Session, limit: int) -> list[int]:
        now = utcnow()
        due = or_(
            and_(SyncJob.status == JobStatus.PENDING, SyncJob.next_attempt_at <= now),
            and_(SyncJob.status == JobStatus.IN_PROGRESS, SyncJob.lease_until < now),
        )
        stmt = (
            select(SyncJob.id).where(due).order_by(SyncJob.next_attempt_at, SyncJob.id).limit(limit)
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
    def _claim_and_begin(self, limit: int, only: list[int] | None = None) -> list[_Begun]:
        """Claim due jobs and prepare them, in one transaction (or prepare the given,
        already claimed ids). Each attempt is counted before anything is sent; jobs that
        need no sending (done, failed, waiting) are finished in the same transaction."""
        begun: list[_Begun] = []
        creds_by_branch: dict[int, object] = {}
        with session_scope(self.db_url) as session:
            ids = only if only is not None else self._claim_in(session, limit)
            for job_id in ids:
                job = session.get(SyncJob, job_id)
                if (
                    job is None
                    or job.status != JobStatus.IN_PROGRESS
                    or job.worker_id != self.worker_id
                ):
                    continue  # another worker took it after our lease ran out
                try:
                    with session.begin_nested():  # a bug in one job spoils only that job
                        prepared, creds = self._prepare_one(session, job, creds_by_branch)
                except Exception as exc:
                    log.exception("Preparing SATUSEHAT job %s failed", job_id)
                    prepared, creds = jobs.Retry(f"Kesalahan internal: {exc}"), None
                claimed = _Claimed(
                    job.id,
                    job.kind,
                    job.branch_id,
                    job.subject_type,
                    job.subject_id,
                    job.client_token,
                    job.attempts,
                )
                notice = None
                if not isinstance(prepared, jobs.Send):
                    notice = self._notice(job, self._finish(session, job, prepared))
                begun.append(_Begun(claimed, prepared, creds, notice))
        return begun

    def _prepare_one(self, session: Session, job: SyncJob, creds_by_branch: dict) -> tuple:
        branch = session.get(Branch, job.branch_id)
        missing = missing_settings(branch) if branch else ["cabang"]
        if missing:
            return jobs.Fail(
                f"Pengaturan SATUSEHAT cabang belum lengkap: {', '.join(missing)}."
            ), None
        prepared = jobs.prepare(session, job)
        if not isinstance(prepared, jobs.Send):
            return prepared, None
        if branch.id not in creds_by_branch:
            try:
                creds_by_branch[branch.id] = credentials_for(branch, self._simulator_base())
            except ValueError as exc:
                return jobs.Fail(str(exc)), None
        job.attempts += 1
        job.waiting_for = None
        session.add(job)
        return prepared, creds_by_branch[branch.id]

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
            if job.kind != JobKind.VISIT_SEND:
                self._release_waiting(session, job.branch_id, now)
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

    @staticmethod
    def _release_waiting(session: Session, branch_id: int, now: datetime) -> None:
        """Visits that waited for an IHS number or a Location may go now."""
        session.exec(
            update(SyncJob)
            .where(
                SyncJob.branch_id == branch_id,
                SyncJob.status == JobStatus.PENDING,
                SyncJob.waiting_for.is_not(None),
            )
            .values(next_attempt_at=now)
        )

    def _backoff(self, attempts: int, retry: jobs.Retry) -> float:
        delay = min(self.backoff_cap, self.backoff_base * 2 ** max(0, attempts - 1))
        delay *= random.uniform(0.5, 1.5)
        return max(delay, retry.retry_after or 0.0, retry.min_delay)

    def _complete_many(self, done: list[_Sent]) -> list[JobNotice]:
        """Write several outcomes, and their exchanges to the log, in one transaction."""
        notices = []
        with session_scope(self.db_url) as session:
            for item in done:
                session.add_all(self._log_rows(item.claimed, item.exchanges))
                job = session.get(SyncJob, item.claimed.job_id)
                if (
                    job is None
                    or job.worker_id != self.worker_id
                    or job.status != JobStatus.IN_PROGRESS
                ):
                    continue
                notices.append(self._notice(job, self._finish(session, job, item.result)))
        return notices

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

    @staticmethod
    def _log_rows(claimed: _Claimed, exchanges: list[_Logged]) -> list[SyncLog]:
        return [
            sync_log_row(
                item.exchange,
                branch_id=claimed.branch_id,
                job_id=claimed.job_id,
                patient_id=item.patient_id,
                at=item.at,
            )
            for item in exchanges
        ]

    async def _send(self, begun: _Begun) -> _Sent:
        """The HTTP part of one job; never raises (a bug becomes a retry with its reason)."""
        exchanges: list[_Logged] = []
        patient_id = begun.prepared.patient_id

        async def sink(exchange: Exchange) -> None:
            exchanges.append(_Logged(exchange, patient_id))

        client = SatusehatClient(begun.creds, self._client(), self.tokens, sink)
        try:
            result = await begun.prepared.run(client)
        except Exception as exc:
            log.exception("SATUSEHAT job %s crashed", begun.claimed.job_id)
            result = jobs.Retry(f"Kesalahan internal: {type(exc).__name__}: {exc}")
        return _Sent(begun.claimed, result, exchanges)

    async def _notify(self, notices: list[JobNotice]) -> None:
        if self.notifier is None:
            return
        for notice in notices:
            try:
                await self.notifier(notice)
            except Exception:  # the page reloads the truth anyway
                log.exception("Live update for job %s failed", notice.job_id)

    async def process(self, job_id: int) -> JobNotice | None:
        """Prepare, send and complete one job this worker has claimed."""
        begun = await self._db(self._claim_and_begin, 0, [job_id])
        if not begun:
            return None
        item = begun[0]
        if item.notice is not None:
            notices = [item.notice]
        else:
            notices = await self._db(self._complete_many, [await self._send(item)])
        await self._notify(notices)
        return notices[0] if notices else None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = new_http_client()
        return self._http

    # ----- loops ---------------------------------------------------------------------
    async def run_once(self) -> int:
        """Claim what is due now and process it all; returns how many jobs were taken."""
        begun = await self._db(self._claim_and_begin, self.concurrency)
        await self._notify([b.notice for b in begun if b.notice is not None])
        sent = await asyncio.gather(*(self._send(b) for b in begun if b.notice is None))
        if sent:
            await self._notify(await self._db(self._complete_many, list(sent)))
        return len(begun)

    async def drain(self, *, timeout: float = 30.0) -> None:
        """Run until no job is pending or in progress (tests and scripts)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if await self.run_once() == 0:
                if not await self._db(self._has_open_jobs):
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
        """Work until `stop` is set (or the task is cancelled).

        Claiming and preparing happen in one transaction per batch; finished sends queue up
        and are written together (group commit), so the database is not the bottleneck."""
        stop = stop or asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        _running_workers.add(self)
        in_flight = 0
        finished: asyncio.Queue[_Sent] = asyncio.Queue()

        async def send(begun: _Begun) -> None:
            await finished.put(await self._send(begun))

        async def complete() -> None:
            nonlocal in_flight
            while True:
                batch = [await finished.get()]
                while not finished.empty():
                    batch.append(finished.get_nowait())
                try:
                    notices = await self._db(self._complete_many, batch)
                except Exception:
                    # The jobs stay in progress; their lease runs out and they are retried.
                    log.exception("Writing SATUSEHAT outcomes failed")
                    notices = []
                in_flight -= len(batch)
                self._wake.set()
                await self._notify(notices)

        completer = asyncio.create_task(complete())
        senders: set[asyncio.Task] = set()
        log.info("SATUSEHAT worker %s started", self.worker_id)
        try:
            while not stop.is_set():
                self._wake.clear()
                free = self.concurrency - in_flight
                begun: list[_Begun] = []
                if free > 0:
                    try:
                        begun = await self._db(self._claim_and_begin, free)
                    except Exception:
                        log.exception("Claiming SATUSEHAT jobs failed; trying again")
                await self._notify([b.notice for b in begun if b.notice is not None])
                for item in begun:
                    if item.notice is None:
                        in_flight += 1
                        task = asyncio.create_task(send(item))
                        senders.add(task)
                        task.add_done_callback(senders.discard)
                if begun and len(begun) == free:
                    continue  # there may be more due right now
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
                except TimeoutError:
                    pass
            # Let what is on the wire finish and be written before stopping.
            while in_flight > 0:
                await asyncio.sleep(0.01)
        finally:
            _running_workers.discard(self)
            for task in senders:
                task.cancel()
            completer.cancel()
            await asyncio.gather(completer, *senders, return_exceptions=True)
            if self._own_http and self._http is not None:
                await self._http.aclose()
                self._http = None
            log.info("SATUSEHAT worker %s stopped", self.worker_id)
