"""The outbox worker: claims due jobs, sends them, writes the outcome back. Nothing lost,
nothing twice.

- Claiming marks a job in progress with a short lease (`LEASE_SECONDS`), renewed while the
  worker holds the job; on PostgreSQL `FOR UPDATE SKIP LOCKED` lets several workers claim
  side by side. A job whose lease ran out (its worker died) is claimed again.
- `attempts` counts sends. It is committed before the HTTP call, so after a crash the next
  worker knows a send may have reached SATUSEHAT and looks the resource up before creating it.
- Transient failures retry with exponential backoff and jitter up to `max_attempts`, then the
  job is dead (visible and resendable). Rejections stop at once with SATUSEHAT's message.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import random
import socket
import sys
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

import httpx
from sqlalchemy import Integer, Select, Update, and_, bindparam, case, null, or_, select, update
from sqlmodel import Session, SQLModel

from klinikita.db import (
    Statements,
    as_model,
    for_ids,
    get_engine,
    ids_params,
    insert_statement,
    read_connection,
    session_scope,
    statements,
    update_statement,
)
from klinikita.integrations.satusehat import job_signal, jobs
from klinikita.integrations.satusehat.client import SatusehatClient, new_http_client
from klinikita.integrations.satusehat.config import credentials_for, missing_settings
from klinikita.integrations.satusehat.exchange import Exchange
from klinikita.integrations.satusehat.job_signal import signal_jobs_ended
from klinikita.integrations.satusehat.sync_log import sync_log_values
from klinikita.integrations.satusehat.tokens import TokenCache
from klinikita.models import Branch, SyncJob, SyncLog, Visit
from klinikita.models.base import utcnow
from klinikita.models.enums import SyncStatus
from klinikita.models.satusehat import JobKind, JobStatus

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

_JOB = SyncJob.__table__
_JOB_COLUMNS = (
    _JOB.c.id,
    _JOB.c.kind,
    _JOB.c.branch_id,
    _JOB.c.subject_type,
    _JOB.c.subject_id,
    _JOB.c.client_token,
    _JOB.c.attempts,
)


_VISIT = Visit.__table__


# A visit send's outcome, written by the same one statement per batch as the others, with
# one condition: when an admin changed the visit while it was on its way (its revision moved
# past the one this send carried; docs/satusehat.md "Corrections after completion"), the
# visit stays "sending" and its job goes back to the queue to send the change.
_VISIT_SENT = "visit"
_VISIT_JOB_DONE = "sync_job:visit_send_done"  # the job rows of such outcomes
_CHANGED_SINCE = (
    select(_VISIT.c.id)
    .where(_VISIT.c.id == _JOB.c.subject_id, _VISIT.c.sync_revision > _VISIT.c.sent_revision)
    .exists()
)


@functools.cache
def _outcome_update(name: str, columns: tuple[str, ...]) -> Update:
    if name == _VISIT_JOB_DONE:
        stmt = update_statement(_JOB, columns)
        return stmt.values(
            status=case((_CHANGED_SINCE, JobStatus.PENDING), else_=bindparam("v_status")),
            done_at=case((_CHANGED_SINCE, null()), else_=bindparam("v_done_at")),
            attempts=case((_CHANGED_SINCE, 0), else_=bindparam("v_attempts")),
        )
    stmt = update_statement(SQLModel.metadata.tables[name], columns)
    if name == _VISIT_SENT and "sent_revision" in columns:
        sent = bindparam("v_sent_revision", type_=Integer)
        stmt = stmt.values(
            sync_status=case(
                (_VISIT.c.sync_revision > sent, SyncStatus.SENDING),
                else_=bindparam("v_sync_status"),
            )
        )
    return stmt


_COUNT_ATTEMPT = (
    update(_JOB)
    .where(_JOB.c.id == bindparam("job_id"))
    .values(attempts=_JOB.c.attempts + 1, waiting_for=None)
)


# Built once: only their parameters change (no statement building per batch).
def _due(now):  # noqa: ANN001, ANN202
    """Pending and due, or in progress with an expired lease (a crashed worker's)."""
    return or_(
        and_(_JOB.c.status == JobStatus.PENDING, _JOB.c.next_attempt_at <= now),
        and_(_JOB.c.status == JobStatus.IN_PROGRESS, _JOB.c.lease_until < now),
    )


def _claim_statement(locked: bool):  # noqa: ANN202
    now = bindparam("now")
    due = _due(now)
    picked = (
        select(_JOB.c.id)
        .where(due)
        .order_by(_JOB.c.next_attempt_at, _JOB.c.id)
        .limit(bindparam("limit"))
    )
    if locked:  # PostgreSQL: several workers claim side by side
        picked = picked.with_for_update(skip_locked=True)
    return (
        update(_JOB)
        .where(_JOB.c.id.in_(picked.scalar_subquery()))
        .values(
            status=JobStatus.IN_PROGRESS,
            lease_until=bindparam("lease_to"),
            worker_id=bindparam("me"),
            updated_at=now,
        )
        .returning(*_JOB_COLUMNS)
    )


# Anything due at all? A plain read, so an idle worker polling every 50 ms never takes
# SQLite's write lock (each time it did, a page saving at that moment waited for it).
_ANY_DUE = select(_JOB.c.id).where(_due(bindparam("now"))).limit(1)
_CLAIM = _claim_statement(locked=False)
_CLAIM_LOCKED = _claim_statement(locked=True)
_OURS = and_(_JOB.c.status == JobStatus.IN_PROGRESS, _JOB.c.worker_id == bindparam("me"))
_IDS = bindparam("ids", expanding=True)
_TAKE_OWN = (
    update(_JOB)
    .where(_JOB.c.id.in_(_IDS), _OURS)  # else another worker took it
    .values(updated_at=bindparam("now"))
    .returning(*_JOB_COLUMNS)
)
_RENEW_LEASES = (
    update(_JOB).where(_JOB.c.id.in_(_IDS), _OURS).values(lease_until=bindparam("lease_to"))
)
_LOG_INSERT = insert_statement(SyncLog.__table__)


def _mine(ids: list) -> Select:  # noqa: ANN001
    """Still ours? Locked on PostgreSQL, so no other worker claims them until we commit."""
    return select(_JOB.c.id).where(_JOB.c.id.in_(ids), _OURS).with_for_update()


_BRANCH = select(*Branch.__table__.c).where(Branch.__table__.c.id == bindparam("branch_id"))


def apply_updates(
    st: Statements,
    updates: list[jobs.RowUpdate],
    statement_for: Callable[[str, tuple[str, ...]], Update] | None = None,
) -> None:
    """Write row updates with one executemany per table and set of columns, straight on
    the driver (`db.statements`: psycopg sends each executemany in one round trip), in the
    order the tables first appear. `statement_for(table, columns)` may give the statement
    (the plain `UPDATE ... WHERE id = :row_id` otherwise)."""
    groups: dict[tuple[str, tuple[str, ...]], list[dict]] = defaultdict(list)
    for u in updates:
        groups[(u.table, tuple(sorted(u.values)))].append(
            {"row_id": u.id, **{f"v_{k}": v for k, v in u.values.items()}}
        )
    for (name, columns), params in groups.items():
        if statement_for is not None:
            stmt = statement_for(name, columns)
        else:
            stmt = update_statement(SQLModel.metadata.tables[name], columns)
        st.execute(stmt, params)


class _Job(NamedTuple):
    """A claimed job: the columns its batch needs (`_JOB_COLUMNS`); `attempts` counts the
    send about to be made."""

    id: int
    kind: str
    branch_id: int
    subject_type: str
    subject_id: int
    client_token: str | None
    attempts: int


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
    # When the job ended, as the relay of a worker in another process read it (ISO time; ""
    # from the worker in this process): tells two endings of the same job apart.
    ended_at: str = ""


Notifier = Callable[[JobNotice], Awaitable[None]]

_running_workers: set[OutboxWorker] = set()


_BRANCHES = Branch.__table__


def _token_granted(item: _Sent) -> bool:
    return any(x.exchange.resource_type == "token" and x.exchange.ok for x in item.exchanges)


def record_key_state(conn, sent: list[_Sent], now: datetime) -> None:  # noqa: ANN001
    """Mark in the branch row that SATUSEHAT refused its keys (when, and its answer), so every
    process and page sees it; a token SATUSEHAT granted clears the mark. Only those sends
    write (a token is fetched about once an hour), so the outcome's usual batch gains no
    statement. Plain UPDATEs: the branch's version stays (an admin's open form stays valid)."""
    refused: dict[int, str] = {}
    accepted: set[int] = set()
    for item in sent:
        if isinstance(item.result, jobs.Retry) and item.result.key_refused:
            refused[item.claimed.branch_id] = item.result.message
        elif _token_granted(item):
            accepted.add(item.claimed.branch_id)
    accepted -= refused.keys()
    if accepted:
        conn.execute(
            update(_BRANCHES)
            .where(_BRANCHES.c.id.in_(sorted(accepted)), _BRANCHES.c.ss_key_refused_at.is_not(None))
            .values(ss_key_refused_at=None, ss_key_refusal=None)
        )
    for branch_id, message in sorted(refused.items()):
        conn.execute(
            update(_BRANCHES)
            .where(_BRANCHES.c.id == branch_id)
            .values(ss_key_refused_at=now, ss_key_refusal=message)
        )


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
    claimed: _Job
    prepared: object
    creds: object
    notice: JobNotice | None  # set when the job ended (or waits) without sending


@dataclass
class _Sent:
    claimed: _Job
    result: object
    exchanges: list[_Logged]


class OutboxWorker:
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
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.wait_delay = wait_delay
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
        with read_connection(get_engine(self.db_url)) as conn:
            return not conn.rows(_ANY_DUE, {"now": utcnow()})

    def claim(self, limit: int) -> list[int]:
        """Mark up to `limit` due jobs as ours (a new transaction); no attempt counted."""
        if self._nothing_due():
            return []
        with session_scope(self.db_url) as session:
            return [r.id for r in self._take(session, limit)]

    def _take(self, session: Session, limit: int, only: list[int] | None = None) -> list[_Job]:
        """Claim up to `limit` due jobs in one UPDATE ... RETURNING (or take the given ids
        if they are still ours): the columns the batch needs."""
        now = utcnow()
        if only is None:
            st = statements(session)
            stmt = _CLAIM_LOCKED if st.dialect.name == "postgresql" else _CLAIM
            params = {"now": now, "lease_to": now + self.lease, "me": self.worker_id}
            taken = st.rows(stmt, {**params, "limit": limit})
        else:  # a list of ids: SQLAlchemy's own execution expands it
            params = {"now": now, "me": self.worker_id, "ids": only}
            taken = session.connection().execute(_TAKE_OWN, params).all()
        return sorted((_Job(*r) for r in taken), key=lambda r: r.id)

    # ----- leases ---------------------------------------------------------------------
    def _renew_leases(self, ids: list[int]) -> None:
        """Extend the leases of these jobs, as far as they are still ours."""
        params = {"ids": ids, "me": self.worker_id, "lease_to": utcnow() + self.lease}
        with session_scope(self.db_url) as session:
            session.connection().execute(_RENEW_LEASES, params)

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
        ids = [b.claimed.id for b in begun if b.notice is None]
        self._held.update(ids)
        keeper = asyncio.create_task(self._keep_leases())
        try:
            yield
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
            self._held.difference_update(ids)

    # ----- one batch ----------------------------------------------------------------
    # The database side works per batch with Core statements (no ORM objects for the jobs
    # and the visits): one UPDATE ... RETURNING claims, two SELECTs prepare the visits, one
    # executemany per table writes the outcomes, one INSERT the log. Per-row ORM loads and
    # flushes used to take as much CPU as the HTTP side, under the same GIL.
    def _claim_and_begin(self, limit: int, only: list[int] | None = None) -> list[_Begun]:
        """Claim due jobs and prepare them, in one transaction (or prepare the given,
        already claimed ids). Each attempt is counted before anything is sent; jobs that
        need no sending (done, failed, waiting) are finished in the same transaction."""
        if only is None and self._nothing_due():
            return []
        with session_scope(self.db_url) as session:
            rows = self._take(session, limit, only)
            if not rows:
                return []
            prepared: dict[int, object] = {}
            branches: dict[int, Branch | None] = {}  # read once per batch, shared below
            st = statements(session)
            for row in rows:
                if row.branch_id not in branches:
                    found = st.rows(_BRANCH, {"branch_id": row.branch_id})
                    branches[row.branch_id] = as_model(Branch, found[0]) if found else None
                branch = branches[row.branch_id]
                missing = missing_settings(branch) if branch else ["cabang"]
                if missing:
                    prepared[row.id] = jobs.Fail(
                        f"Pengaturan SATUSEHAT cabang belum lengkap: {', '.join(missing)}."
                    )
            visits = [r for r in rows if r.id not in prepared and r.kind == JobKind.VISIT_SEND]
            if visits:
                prepared.update(jobs.prepare_visits(session, visits, branches))
            for row in rows:
                if row.id not in prepared:  # the other kinds are rare: the ORM path
                    prepared[row.id] = self._prepare_other(session, row.id)
            creds_by_branch: dict[int, object] = {}
            begun: list[_Begun] = []
            finished: list[tuple[_Job, object]] = []
            for row in rows:
                result, creds = prepared[row.id], None
                if isinstance(result, jobs.Send):
                    try:
                        if row.branch_id not in creds_by_branch:
                            creds_by_branch[row.branch_id] = credentials_for(
                                branches[row.branch_id], self._simulator_base()
                            )
                        creds = creds_by_branch[row.branch_id]
                    except ValueError as exc:
                        result = jobs.Fail(str(exc))
                sending = isinstance(result, jobs.Send)
                claimed = row._replace(attempts=row.attempts + (1 if sending else 0))
                if sending:
                    begun.append(_Begun(claimed, result, creds, None))
                else:
                    finished.append((claimed, result))
            if begun:
                # Counted before the send: after a crash, the next worker sees that a send
                # may have reached SATUSEHAT and looks before creating again.
                statements(session).execute(
                    _COUNT_ATTEMPT, [{"job_id": b.claimed.id} for b in begun]
                )
            notices = self._write_outcomes(session, finished)
            begun += [_Begun(c, r, None, n) for (c, r), n in zip(finished, notices, strict=True)]
        return begun

    @staticmethod
    def _prepare_other(session: Session, job_id: int) -> object:
        try:
            with session.begin_nested():  # a bug in one job spoils only that job
                return jobs.prepare(session, session.get(SyncJob, job_id))
        except Exception as exc:
            log.exception("Preparing SATUSEHAT job %s failed", job_id)
            return jobs.Retry(f"Kesalahan internal: {exc}")

    def _outcome(
        self, claimed: _Job, result: object, now: datetime
    ) -> tuple[dict, str, list[jobs.RowUpdate]]:
        """The job's new columns, the message for the page, and the rows to write back."""
        values: dict = {"lease_until": None, "updated_at": now, "attempts": claimed.attempts}
        message = ""
        rows: list[jobs.RowUpdate | None] = []
        if isinstance(result, jobs.Done):
            rows += result.updates
            values.update(
                status=JobStatus.DONE,
                result=result.result,
                done_at=now,
                last_error=None,
                waiting_for=None,
            )
        elif isinstance(result, jobs.Fail):
            message = result.message
            values.update(status=JobStatus.FAILED, last_error=message, waiting_for=None)
            rows.append(jobs.failed_update(claimed.kind, claimed.subject_id, message))
        elif isinstance(result, jobs.Wait):
            message = result.waiting_for
            values.update(
                status=JobStatus.PENDING,
                waiting_for=result.waiting_for,
                next_attempt_at=now + timedelta(seconds=self.wait_delay),
            )
        elif isinstance(result, jobs.Retry):
            message = result.message
            if claimed.attempts >= self.max_attempts:
                message = f"Gagal setelah {claimed.attempts} percobaan. Terakhir: {message}"
                values.update(status=JobStatus.DEAD, last_error=message)
                rows.append(jobs.failed_update(claimed.kind, claimed.subject_id, message))
            else:
                delay = self._backoff(claimed.attempts, result)
                values.update(
                    status=JobStatus.PENDING,
                    last_error=message,
                    next_attempt_at=now + timedelta(seconds=delay),
                )
        return values, message, [r for r in rows if r is not None]

    def _write_outcomes(
        self, session: Session, items: list[tuple[_Job, object]]
    ) -> list[JobNotice]:
        """Write the outcomes of jobs this worker holds, in the caller's transaction: one
        executemany per table and set of columns."""
        if not items:
            return []
        session.flush()  # what the ORM path of the rare kinds added goes first
        now = utcnow()
        updates: list[jobs.RowUpdate] = []
        released: set[int] = set()
        notices = []
        job_updates: list[jobs.RowUpdate] = []
        for claimed, result in items:
            values, message, rows = self._outcome(claimed, result, now)
            visit_sent = isinstance(result, jobs.Done) and claimed.kind == JobKind.VISIT_SEND
            table = _VISIT_JOB_DONE if visit_sent else "sync_job"
            job_updates.append(jobs.RowUpdate(table, claimed.id, values))
            updates += rows
            if isinstance(result, jobs.Done) and claimed.kind != JobKind.VISIT_SEND:
                released.add(claimed.branch_id)
            notices.append(
                JobNotice(
                    claimed.id,
                    claimed.kind,
                    claimed.branch_id,
                    claimed.subject_type,
                    claimed.subject_id,
                    values["status"],
                    message,
                    claimed.client_token,
                )
            )
        # The subjects' rows before the jobs': an admin's correction locks the visit first
        # too (services/examination.py), so the two wait for each other, never deadlock.
        apply_updates(statements(session), updates + job_updates, _outcome_update)
        conn = session.connection()
        for branch_id in released:
            self._release_waiting(conn, branch_id, now)
        if any(n.client_token for n in notices):
            signal_jobs_ended(conn)  # a tab waits for these: the app relays them at once
        return notices

    @staticmethod
    def _release_waiting(conn, branch_id: int, now: datetime) -> None:  # noqa: ANN001
        """Visits that waited for an IHS number or a Location may go now."""
        conn.execute(
            update(_JOB)
            .where(
                _JOB.c.branch_id == branch_id,
                _JOB.c.status == JobStatus.PENDING,
                _JOB.c.waiting_for.is_not(None),
            )
            .values(next_attempt_at=now)
        )

    def _backoff(self, attempts: int, retry: jobs.Retry) -> float:
        delay = min(self.backoff_cap, self.backoff_base * 2 ** max(0, attempts - 1))
        delay *= random.uniform(0.5, 1.5)
        return max(delay, retry.retry_after or 0.0, retry.min_delay)

    def _complete_many(self, done: list[_Sent]) -> list[JobNotice]:
        """Write several outcomes, and their exchanges to the log, in one transaction."""
        with session_scope(self.db_url) as session:
            st = statements(session)
            logged = [
                sync_log_values(
                    item.exchange,
                    branch_id=sent.claimed.branch_id,
                    job_id=sent.claimed.id,
                    patient_id=item.patient_id,
                    at=item.at,
                )
                for sent in done
                for item in sent.exchanges
            ]
            if logged:
                st.execute(_LOG_INSERT, logged)
            ids = [d.claimed.id for d in done]
            mine = st.rows(for_ids(_mine, len(ids)), {**ids_params(ids), "me": self.worker_id})
            owned = {job_id for (job_id,) in mine}
            notices = self._write_outcomes(
                session, [(d.claimed, d.result) for d in done if d.claimed.id in owned]
            )
            record_key_state(session.connection(), done, utcnow())
            return notices

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
            log.exception("SATUSEHAT job %s crashed", begun.claimed.id)
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
        open_job = (
            select(_JOB.c.id)
            .where(_JOB.c.status.in_((JobStatus.PENDING, JobStatus.IN_PROGRESS)))
            .limit(1)
        )
        with get_engine(self.db_url).connect() as conn:
            return conn.execute(open_job).first() is not None

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
        # back from the event loop (httpx), which keeps it up to the switch interval: 5 ms
        # by default, for each statement and fetched row (a convoy). At 1 ms the database
        # side stops queueing behind the HTTP side (bench/README.md: worker throughput).
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(switch_interval, GIL_SWITCH_INTERVAL))
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        _running_workers.add(self)
        # in_flight: sends on the wire (at most `concurrency`); ready: jobs claimed and
        # prepared, waiting for a slot; unwritten: finished sends whose outcome is not
        # committed yet. A slot is free again as soon as its answer came, and the next
        # prepared job goes at once: the database thread works beside the sends, not
        # between them.
        in_flight = unwritten = 0
        ready: deque[_Begun] = deque()
        finished: asyncio.Queue[_Sent] = asyncio.Queue()
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
                self._held.difference_update(sent.claimed.id for sent in batch)
                unwritten -= len(batch)
                self._wake.set()  # the outcomes may have released waiting jobs: look again
                await self._notify(notices)

        completer = asyncio.create_task(complete())
        keeper = asyncio.create_task(self._keep_leases())
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
                self._held.update(b.claimed.id for b in begun if b.notice is None)
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
            _running_workers.discard(self)
            self._held.clear()
            for task in senders:
                task.cancel()
            helpers = [completer, stopper, keeper] + ([listener] if listener is not None else [])
            for task in helpers:
                task.cancel()
            await asyncio.gather(*senders, *helpers, return_exceptions=True)
            if self._own_http and self._http is not None:
                await self._http.aclose()
                self._http = None
            log.info("SATUSEHAT worker %s stopped", self.worker_id)
