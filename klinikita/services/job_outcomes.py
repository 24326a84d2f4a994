"""Writing what became of outbox jobs: the job rows, the rows they were about, the SyncLog.

A batch of outcomes is written in the caller's transaction with one UPDATE (executemany) per
table and set of columns. A visit changed by an admin while its send was on its way (its
revision moved past the one sent; docs/satusehat.md "Corrections after completion") stays
"sending", and its job goes back to the queue to send the change. Retries back off
exponentially with jitter up to `RetryPolicy.max_attempts`, then the job is dead (visible and
resendable); a rejection stops at once with SATUSEHAT's message.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Table, Update, bindparam, case, null, select, update
from sqlmodel import Session, SQLModel

from klinikita.models import Branch, SyncJob, Visit
from klinikita.models.base import utcnow
from klinikita.models.enums import SyncStatus
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.services import outbox_claims
from klinikita.services.job_notices import JobNotice, signal_jobs_ended
from klinikita.services.job_results import Done, Fail, Retry, RowUpdate, Wait, failed_update
from klinikita.services.outbox_claims import ClaimedJob
from klinikita.services.sync_log import LoggedExchange, add_exchanges, sync_log_values

_JOB = SyncJob.__table__
_VISIT = Visit.__table__
_BRANCH = Branch.__table__

_VISIT_JOB_DONE = "sync_job:visit_send_done"  # the job rows of visits sent
_CHANGED_SINCE = (
    select(_VISIT.c.id)
    .where(_VISIT.c.id == _JOB.c.subject_id, _VISIT.c.sync_revision > _VISIT.c.sent_revision)
    .exists()
)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how late a job that can be retried is sent again."""

    max_attempts: int = 8
    backoff_base: float = 2.0  # seconds before the second send, doubled for each further one
    backoff_cap: float = 600.0
    wait_delay: float = 2.0  # a job waiting for another row looks again after this long

    def backoff(self, attempts: int, retry: Retry) -> float:
        """Seconds until the next send after `attempts` sends: exponential with jitter, at
        least what SATUSEHAT asked (Retry-After) and the retry's own minimum."""
        delay = min(self.backoff_cap, self.backoff_base * 2 ** max(0, attempts - 1))
        delay *= random.uniform(0.5, 1.5)
        return max(delay, retry.retry_after or 0.0, retry.min_delay)


@dataclass
class SentJob:
    """A job sent (or tried): its result and the exchanges it made."""

    job: ClaimedJob
    result: Done | Fail | Retry
    exchanges: list[LoggedExchange] = field(default_factory=list)


def _update_by_id(table: Table, columns: tuple[str, ...]) -> Update:
    """`UPDATE table SET col = :v_col, ... WHERE id = :row_id`."""
    return (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values({c: bindparam(f"v_{c}", type_=table.c[c].type) for c in columns})
    )


def _outcome_update(name: str, columns: tuple[str, ...]) -> Update:
    """The UPDATE of one group of outcomes; a visit's, and its job's, keep it queued when
    the visit changed since the revision sent."""
    if name == _VISIT_JOB_DONE:
        return _update_by_id(_JOB, columns).values(
            status=case((_CHANGED_SINCE, JobStatus.PENDING), else_=bindparam("v_status")),
            done_at=case((_CHANGED_SINCE, null()), else_=bindparam("v_done_at")),
            attempts=case((_CHANGED_SINCE, 0), else_=bindparam("v_attempts")),
        )
    stmt = _update_by_id(SQLModel.metadata.tables[name], columns)
    if name == "visit" and "sent_revision" in columns:
        sent = bindparam("v_sent_revision", type_=Integer)
        stmt = stmt.values(
            sync_status=case(
                (_VISIT.c.sync_revision > sent, SyncStatus.SENDING),
                else_=bindparam("v_sync_status"),
            )
        )
    return stmt


def apply_updates(
    session: Session,
    updates: Sequence[RowUpdate],
    statement_for: Callable[[str, tuple[str, ...]], Update] | None = None,
) -> None:
    """Write row updates in the caller's transaction, one executemany per table and set of
    columns, in the order the tables first appear. Plain UPDATEs: a row's edit version stays.
    `statement_for(table, columns)` may give the statement (`UPDATE ... WHERE id = :row_id`
    with `:v_<column>` values otherwise)."""
    groups: dict[tuple[str, tuple[str, ...]], list[dict]] = defaultdict(list)
    for u in updates:
        groups[(u.table, tuple(sorted(u.values)))].append(
            {"row_id": u.id, **{f"v_{k}": v for k, v in u.values.items()}}
        )
    for (name, columns), params in groups.items():
        if statement_for is not None:
            stmt = statement_for(name, columns)
        else:
            stmt = _update_by_id(SQLModel.metadata.tables[name], columns)
        session.execute(stmt, params)


def _outcome(
    job: ClaimedJob, result: object, now: datetime, policy: RetryPolicy
) -> tuple[dict[str, Any], str, list[RowUpdate]]:
    """The job's new columns, the message for the page, and the rows to write back."""
    values: dict[str, Any] = {"lease_until": None, "updated_at": now, "attempts": job.attempts}
    message = ""
    rows: list[RowUpdate | None] = []
    if isinstance(result, Done):
        rows += result.updates
        values.update(
            status=JobStatus.DONE,
            result=result.result,
            done_at=now,
            last_error=None,
            waiting_for=None,
        )
    elif isinstance(result, Fail):
        message = result.message
        values.update(status=JobStatus.FAILED, last_error=message, waiting_for=None)
        rows.append(failed_update(job.kind, job.subject_id, message))
    elif isinstance(result, Wait):
        message = result.waiting_for
        values.update(
            status=JobStatus.PENDING,
            waiting_for=result.waiting_for,
            next_attempt_at=now + timedelta(seconds=policy.wait_delay),
        )
    elif isinstance(result, Retry):
        message = result.message
        if job.attempts >= policy.max_attempts:
            message = f"Gagal setelah {job.attempts} percobaan. Terakhir: {message}"
            values.update(status=JobStatus.DEAD, last_error=message)
            rows.append(failed_update(job.kind, job.subject_id, message))
        else:
            delay = policy.backoff(job.attempts, result)
            values.update(
                status=JobStatus.PENDING,
                last_error=message,
                next_attempt_at=now + timedelta(seconds=delay),
            )
    return values, message, [r for r in rows if r is not None]


def write_outcomes(
    session: Session, items: Sequence[tuple[ClaimedJob, object]], policy: RetryPolicy
) -> list[JobNotice]:
    """Write the outcomes of jobs the caller holds, in its transaction, and return what to
    tell the pages, in the same order. A job done that others waited for (an IHS number, a
    unit, a room) makes them due at once; a tab waiting for one of them is signalled."""
    if not items:
        return []
    session.flush()  # what the ORM path of the rare kinds added goes first
    now = utcnow()
    updates: list[RowUpdate] = []
    job_updates: list[RowUpdate] = []
    released: set[int] = set()
    notices = []
    for job, result in items:
        values, message, rows = _outcome(job, result, now, policy)
        visit_sent = isinstance(result, Done) and job.kind == JobKind.VISIT_SEND
        job_updates.append(RowUpdate(_VISIT_JOB_DONE if visit_sent else "sync_job", job.id, values))
        updates += rows
        if isinstance(result, Done) and job.kind != JobKind.VISIT_SEND:
            released.add(job.branch_id)
        notices.append(
            JobNotice(
                job.id,
                job.kind,
                job.branch_id,
                job.subject_type,
                job.subject_id,
                values["status"],
                message,
                job.client_token,
            )
        )
    # The subjects' rows before the jobs': an admin's correction locks the visit first
    # too (services/examination.py), so the two wait for each other, never deadlock.
    apply_updates(session, updates + job_updates, _outcome_update)
    for branch_id in sorted(released):
        _release_waiting(session, branch_id, now)
    if any(n.client_token for n in notices):
        signal_jobs_ended(session)  # a tab waits for these: the app relays them at once
    return notices


def _release_waiting(session: Session, branch_id: int, now: datetime) -> None:
    """Visits that waited for an IHS number or a Location may go now."""
    session.execute(
        update(_JOB)
        .where(
            _JOB.c.branch_id == branch_id,
            _JOB.c.status == JobStatus.PENDING,
            _JOB.c.waiting_for.is_not(None),
        )
        .values(next_attempt_at=now)
    )


def _token_granted(sent: SentJob) -> bool:
    return any(x.exchange.resource_type == "token" and x.exchange.ok for x in sent.exchanges)


def record_key_state(session: Session, sent: Sequence[SentJob], now: datetime) -> None:
    """Mark in the branch row that SATUSEHAT refused its keys (when, and its answer), so every
    process and page sees it; a token SATUSEHAT granted clears the mark. Only those sends
    write (a token is fetched about once an hour). Plain UPDATEs: the branch's version stays
    (an admin's open form stays valid)."""
    refused: dict[int, str] = {}
    accepted: set[int] = set()
    for item in sent:
        if isinstance(item.result, Retry) and item.result.key_refused:
            refused[item.job.branch_id] = item.result.message
        elif _token_granted(item):
            accepted.add(item.job.branch_id)
    accepted -= refused.keys()
    if accepted:
        session.execute(
            update(_BRANCH)
            .where(_BRANCH.c.id.in_(sorted(accepted)), _BRANCH.c.ss_key_refused_at.is_not(None))
            .values(ss_key_refused_at=None, ss_key_refusal=None)
        )
    for branch_id, message in sorted(refused.items()):
        session.execute(
            update(_BRANCH)
            .where(_BRANCH.c.id == branch_id)
            .values(ss_key_refused_at=now, ss_key_refusal=message)
        )


def complete_sent(
    session: Session, *, worker_id: str, sent: Sequence[SentJob], policy: RetryPolicy
) -> list[JobNotice]:
    """Write what a batch of sends came to, in the caller's transaction: every exchange to
    the SyncLog, the outcome of each job `worker_id` still holds (one whose lease ran out
    and another worker took is left to that worker), and the branches' key state."""
    add_exchanges(
        session,
        [
            sync_log_values(
                item.exchange,
                branch_id=s.job.branch_id,
                job_id=s.job.id,
                patient_id=item.patient_id,
                at=item.at,
            )
            for s in sent
            for item in s.exchanges
        ],
    )
    owned = outbox_claims.lock_own(session, worker_id=worker_id, ids=[s.job.id for s in sent])
    notices = write_outcomes(
        session, [(s.job, s.result) for s in sent if s.job.id in owned], policy
    )
    record_key_state(session, sent, utcnow())
    return notices
