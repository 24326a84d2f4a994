"""The outbox worker: claims due jobs, sends them, writes the outcome back. Nothing lost,
nothing twice.

- Claiming marks a job in progress with a short lease (`LEASE_SECONDS`), renewed while the
  worker holds the job; on PostgreSQL `FOR UPDATE SKIP LOCKED` lets several workers claim
  side by side. A job whose lease ran out (its worker died) is claimed again
  (`services/outbox_claims.py`).
- `attempts` counts sends. It is committed before the HTTP call, so after a crash the next
  worker knows a send may have reached SATUSEHAT and looks the resource up before creating it.
- Transient failures retry with exponential backoff and jitter up to `max_attempts`, then the
  job is dead (visible and resendable). Rejections stop at once with SATUSEHAT's message
  (`services/job_outcomes.py`).

The database work runs in threads of the worker's own (one on SQLite), each step in one
transaction; the sends run on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import sys
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlmodel import Session

from klinikita.db import get_engine, read_scope, session_scope
from klinikita.integrations.satusehat.client import SatusehatClient, new_http_client
from klinikita.integrations.satusehat.exchange import Exchange
from klinikita.integrations.satusehat.tokens import TokenCache
from klinikita.models.base import utcnow
from klinikita.outbox_worker import job_signal
from klinikita.services import job_outcomes, outbox_claims, worker_heartbeat
from klinikita.services.job_notices import JobNotice, Notifier, running_worker
from klinikita.services.job_outcomes import RetryPolicy, SentJob
from klinikita.services.job_preparation import Begun, prepare_claimed
from klinikita.services.job_results import Retry, Send
from klinikita.services.sync_log import LoggedExchange

log = logging.getLogger("klinikita.satusehat")

GIL_SWITCH_INTERVAL = 0.001  # seconds, while a worker runs (see run())
# While it listens (PostgreSQL), a new job wakes the worker: its own looks only catch retries
# whose backoff (2 s and more) ran out and leases that expired, and once a second does for
# those, instead of twenty reads a second from an idle worker.
LISTENING_POLL_SECONDS = 1.0
# A claimed job's lease, renewed LEASE_RENEWALS times per lease while the worker holds it
# (waiting for a slot, on the wire, its outcome unwritten): a job of a worker that died is
# taken again within LEASE_SECONDS and one look, whatever its sends take. Two renewals may
# be late (a busy database) before the lease runs out under a live worker.
LEASE_SECONDS = 10.0
LEASE_RENEWALS = 3
# A running worker renews its row in `worker_heartbeat` this often (the backend's /ready
# calls a worker whose last beat is older than KLINIKITA_READY_HEARTBEAT_SECONDS stale).
HEARTBEAT_SECONDS = 5.0


@dataclass
class _Begun:
    """A claimed job: to be sent (`notice` None) or already finished without a send."""

    begun: Begun
    notice: JobNotice | None

    @property
    def job(self) -> outbox_claims.ClaimedJob:
        return self.begun.job


class OutboxWorker:
    """Sends the outbox's jobs to SATUSEHAT until stopped (`run`), or what is due now
    (`run_once`, `drain`). Pages in this process wake it with `job_notices.wake_workers()`;
    it tells them what became of their jobs through `notifier`."""

    def __init__(
        self,
        *,
        simulator_base: str | Callable[[], str],
        db_url: str | None = None,
        notifier: Notifier | None = None,
        concurrency: int = 16,
        poll_interval: float = 0.25,
        lease_seconds: float = LEASE_SECONDS,
        max_attempts: int = 8,
        backoff_base: float = 2.0,
        backoff_cap: float = 600.0,
        wait_delay: float = 2.0,
        group_window: float = 0.005,
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
        self.policy = RetryPolicy(
            max_attempts=max_attempts,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            wait_delay=wait_delay,
        )
        self.group_window = group_window
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{id(self):x}"
        self.tokens = tokens or TokenCache()
        self._http = http
        self._own_http = http is None
        # Jobs claimed to be sent whose outcome is not written yet: their leases are renewed.
        self._held: set[int] = set()
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
    def _nothing_due(self) -> bool:
        with read_scope(self.db_url) as session:
            return not outbox_claims.any_due(session, utcnow())

    def claim(self, limit: int) -> list[int]:
        """Mark up to `limit` due jobs as ours (a new transaction); no attempt counted."""
        if self._nothing_due():
            return []
        with session_scope(self.db_url) as session:
            return [job.id for job in self._take(session, limit)]

    def _take(
        self, session: Session, limit: int, only: list[int] | None = None
    ) -> list[outbox_claims.ClaimedJob]:
        """Claim up to `limit` due jobs (or take the given ids if they are still ours)."""
        now = utcnow()
        if only is not None:
            return outbox_claims.take_own(session, worker_id=self.worker_id, ids=only, now=now)
        return outbox_claims.claim_due(
            session,
            worker_id=self.worker_id,
            limit=limit,
            now=now,
            lease_until=now + self.lease,
        )

    # ----- leases ---------------------------------------------------------------------
    def _renew_leases(self, ids: list[int]) -> None:
        """Extend the leases of these jobs, as far as they are still ours."""
        with session_scope(self.db_url) as session:
            outbox_claims.renew_leases(
                session, worker_id=self.worker_id, ids=ids, lease_until=utcnow() + self.lease
            )

    async def _keep_leases(self) -> None:
        """Renew the leases of the held jobs, LEASE_RENEWALS times per lease, until
        cancelled."""
        every = self.lease.total_seconds() / LEASE_RENEWALS
        while True:
            await asyncio.sleep(every)
            if not self._held:
                continue
            try:
                await self._db(self._renew_leases, sorted(self._held))
            except Exception:  # the next renewal tries again; the lease has room for it
                log.exception("Renewing the leases of SATUSEHAT jobs failed")

    @contextlib.asynccontextmanager
    async def _holding(self, begun: list[_Begun]) -> AsyncIterator[None]:
        """The jobs about to be sent are held (their leases renewed) until the block ends."""
        ids = [b.job.id for b in begun if b.notice is None]
        self._held.update(ids)
        keeper = asyncio.create_task(self._keep_leases())
        try:
            yield
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
            self._held.difference_update(ids)

    # ----- heartbeat -----------------------------------------------------------------
    def _beat(self) -> None:
        with session_scope(self.db_url) as session:
            worker_heartbeat.beat(session, self.worker_id, utcnow())

    def _stopped(self) -> None:
        with session_scope(self.db_url) as session:
            worker_heartbeat.stopped(session, self.worker_id)

    async def _keep_beating(self) -> None:
        """Renew this worker's heartbeat every HEARTBEAT_SECONDS until cancelled."""
        while True:
            try:
                await self._db(self._beat)
            except Exception:  # a missed beat shows as a stale heartbeat, and it tries again
                log.exception("Recording the SATUSEHAT worker's heartbeat failed")
            await asyncio.sleep(HEARTBEAT_SECONDS)

    # ----- one batch ----------------------------------------------------------------
    def _claim_and_begin(self, limit: int, only: list[int] | None = None) -> list[_Begun]:
        """Claim due jobs and prepare them, in one transaction (or prepare the given,
        already claimed ids). Each send is counted before it is made; jobs that need no
        sending (done, failed, waiting) are finished in the same transaction."""
        if only is None and self._nothing_due():
            return []
        with session_scope(self.db_url) as session:
            claimed = self._take(session, limit, only)
            if not claimed:
                return []
            prepared = prepare_claimed(session, claimed, self._simulator_base())
            sending = [b for b in prepared if isinstance(b.prepared, Send)]
            finished = [b for b in prepared if not isinstance(b.prepared, Send)]
            outbox_claims.count_sends(session, [b.job.id for b in sending])
            notices = job_outcomes.write_outcomes(
                session, [(b.job, b.prepared) for b in finished], self.policy
            )
        return [_Begun(b, None) for b in sending] + [
            _Begun(b, n) for b, n in zip(finished, notices, strict=True)
        ]

    def _complete_many(self, done: list[SentJob]) -> list[JobNotice]:
        """Write several outcomes, and their exchanges to the log, in one transaction."""
        with session_scope(self.db_url) as session:
            return job_outcomes.complete_sent(
                session, worker_id=self.worker_id, sent=done, policy=self.policy
            )

    async def _send(self, item: _Begun) -> SentJob:
        """The HTTP part of one job; never raises (a bug becomes a retry with its reason)."""
        exchanges: list[LoggedExchange] = []
        send = item.begun.prepared
        patient_id = send.patient_id

        async def sink(exchange: Exchange) -> None:
            exchanges.append(LoggedExchange(exchange, patient_id))

        client = SatusehatClient(item.begun.creds, self._client(), self.tokens, sink)
        try:
            result = await send.run(client)
        except Exception as exc:
            log.exception("SATUSEHAT job %s crashed", item.job.id)
            result = Retry(f"Kesalahan internal: {type(exc).__name__}: {exc}")
        return SentJob(item.job, result, exchanges)

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
            async with self._holding(begun):
                notices = await self._db(self._complete_many, [await self._send(item)])
        await self._notify(notices)
        return notices[0] if notices else None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = new_http_client(connections=self.concurrency)
        return self._http

    # ----- loops ---------------------------------------------------------------------
    async def run_once(self) -> int:
        """Claim what is due now and process it all; returns how many jobs were taken."""
        begun = await self._db(self._claim_and_begin, self.concurrency)
        await self._notify([b.notice for b in begun if b.notice is not None])
        async with self._holding(begun):
            sent = await asyncio.gather(*(self._send(b) for b in begun if b.notice is None))
            notices = await self._db(self._complete_many, list(sent)) if sent else []
        await self._notify(notices)
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
        with read_scope(self.db_url) as session:
            return outbox_claims.has_open_jobs(session)

    def wake(self) -> None:
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _wake_when_jobs_queued(self) -> None:
        """PostgreSQL: a job that becomes due anywhere (the app in another process) wakes
        this worker at its commit, instead of at the next poll."""
        # Its own poll is the safety net: the listener need not look by itself.
        looks = job_signal.times_to_look(
            get_engine(self.db_url),
            self.poll_interval,
            channel=job_signal.JOBS_QUEUED,
            safety=max(self.poll_interval, job_signal.SAFETY_SECONDS),
        )
        async with contextlib.aclosing(looks):
            async for _ in looks:
                self._wake.set()

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Work until `stop` is set (or the task is cancelled).

        Claiming and preparing happen in one transaction per batch; finished sends queue up
        and are written together (group commit), so the database is not the bottleneck."""
        stop = stop or asyncio.Event()
        # The database thread releases the GIL in every SQLite/psycopg call and must win it
        # back from the event loop (httpx), which holds it up to the switch interval; a
        # short interval keeps the database side from queueing behind the HTTP side.
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(switch_interval, GIL_SWITCH_INTERVAL))
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        registered = contextlib.ExitStack()
        registered.enter_context(running_worker(self.wake))
        # in_flight: sends on the wire (at most `concurrency`); ready: jobs claimed and
        # prepared, waiting for a slot; unwritten: finished sends whose outcome is not
        # committed yet. A slot is free again as soon as its answer came, and the next
        # prepared job goes at once: the database thread works beside the sends, not
        # between them.
        in_flight = unwritten = 0
        ready: deque[_Begun] = deque()
        finished: asyncio.Queue[SentJob] = asyncio.Queue()
        senders: set[asyncio.Task] = set()

        def start_sends() -> None:
            nonlocal in_flight
            while ready and in_flight < self.concurrency:
                in_flight += 1
                task = asyncio.create_task(send(ready.popleft()))
                senders.add(task)
                task.add_done_callback(senders.discard)

        async def send(begun: _Begun) -> None:
            nonlocal in_flight, unwritten
            try:
                sent = await self._send(begun)
            finally:
                in_flight -= 1
            start_sends()
            unwritten += 1
            await finished.put(sent)
            self._wake.set()

        async def complete() -> None:
            nonlocal unwritten
            while True:
                batch = [await finished.get()]
                if in_flight > 1 and self.group_window > 0:
                    # Other sends are on the wire: let a few more finish, to write them in
                    # the same transaction (group commit) instead of one each.
                    await asyncio.sleep(self.group_window)
                while not finished.empty():
                    batch.append(finished.get_nowait())
                try:
                    notices = await self._db(self._complete_many, batch)
                except Exception:
                    # The jobs stay in progress; their lease runs out and they are retried.
                    log.exception("Writing SATUSEHAT outcomes failed")
                    notices = []
                self._held.difference_update(sent.job.id for sent in batch)
                unwritten -= len(batch)
                self._wake.set()  # the outcomes may have released waiting jobs: look again
                await self._notify(notices)

        completer = asyncio.create_task(complete())
        keeper = asyncio.create_task(self._keep_leases())
        beating = asyncio.create_task(self._keep_beating())
        listening = get_engine(self.db_url).dialect.name == "postgresql"
        listener = asyncio.create_task(self._wake_when_jobs_queued()) if listening else None
        # Were the listening connection down, the listener wakes it every poll_interval.
        poll = max(self.poll_interval, LISTENING_POLL_SECONDS) if listening else self.poll_interval

        async def wake_on_stop() -> None:  # stopping need not wait for the next look
            await stop.wait()
            self._wake.set()

        stopper = asyncio.create_task(wake_on_stop())
        # With a backlog, sends finish one or two at a time: claiming for each would make
        # batches of one (a transaction, its statements and a thread hop per visit). Claim
        # when a quarter of the slots (plus a small stock of prepared jobs) is wanted,
        # unless nothing is on the wire or a poll interval passed: an idle worker still
        # claims a fresh job at once.
        min_batch = max(1, self.concurrency // 4)
        stock = min_batch
        polled = True
        log.info("SATUSEHAT worker %s started", self.worker_id)
        try:
            while not stop.is_set():
                self._wake.clear()
                want = self.concurrency + stock - in_flight - len(ready)
                idle = in_flight == 0 and not ready
                begun: list[_Begun] = []
                if want > 0 and (want >= min_batch or idle or polled):
                    try:
                        begun = await self._db(self._claim_and_begin, want)
                    except Exception:
                        log.exception("Claiming SATUSEHAT jobs failed; trying again")
                await self._notify([b.notice for b in begun if b.notice is not None])
                ready.extend(b for b in begun if b.notice is None)
                self._held.update(b.job.id for b in begun if b.notice is None)
                start_sends()
                polled = False
                if begun and len(begun) == want:
                    continue  # there may be more due right now
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=poll)
                except TimeoutError:
                    polled = True
            # Send what is prepared, let it finish and be written before stopping.
            while ready or in_flight > 0 or unwritten > 0:
                start_sends()
                await asyncio.sleep(0.01)
        finally:
            sys.setswitchinterval(switch_interval)
            registered.close()
            self._held.clear()
            for task in senders:
                task.cancel()
            helpers = [completer, stopper, keeper, beating]
            helpers += [listener] if listener is not None else []
            for task in helpers:
                task.cancel()
            await asyncio.gather(*senders, *helpers, return_exceptions=True)
            with contextlib.suppress(Exception):  # a stale row says the same, later
                await self._db(self._stopped)
            if self._own_http and self._http is not None:
                await self._http.aclose()
                self._http = None
            log.info("SATUSEHAT worker %s stopped", self.worker_id)
