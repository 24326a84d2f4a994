"""PostgreSQL: a job that becomes due wakes the workers at its commit (the trigger on
sync_job), so a worker in its own process does not wait for its next look."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import psycopg
import pytest
from sqlmodel import Session, SQLModel

from klinikita.db import make_engine
from klinikita.migrations import upgrade_to_head
from klinikita.models import Visit
from klinikita.models.base import utcnow
from klinikita.models.enums import SyncStatus
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.outbox_worker.job_signal import JOBS_QUEUED
from klinikita.outbox_worker.worker import OutboxWorker
from klinikita.services import outbox
from tests.factories import make_clinic, make_completed_visit
from tests.pg import require_pg, temporary_pg_database

pytestmark = pytest.mark.postgres


@pytest.fixture(params=["migrations", "create_all"])
def pg_url(request) -> Iterator[str]:
    """A database made as production makes it (migrations) and as the tests' fixtures do
    (the models' create_all): both must carry the trigger."""
    require_pg()
    with temporary_pg_database() as url:
        if request.param == "migrations":
            upgrade_to_head(url)
        else:
            engine = make_engine(url)
            SQLModel.metadata.create_all(engine)
            engine.dispose()
        yield url


def _signals(listener: psycopg.Connection) -> int:
    return len(list(listener.notifies(timeout=0.3)))


def test_a_job_becoming_due_is_signalled_at_its_commit_and_never_after_a_rollback(pg_url):
    engine = make_engine(pg_url)
    libpq_url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq_url, autocommit=True) as listener, Session(engine) as db:
        listener.execute(f"LISTEN {JOBS_QUEUED}")
        clinic = make_clinic(db)
        db.commit()
        assert _signals(listener) == 0  # no job yet

        visit = make_completed_visit(db, *clinic)
        job = outbox.enqueue(db, JobKind.VISIT_SEND, visit.branch_id, visit.id)
        db.flush()
        assert _signals(listener) == 0  # not before the commit
        db.commit()
        assert _signals(listener) == 1

        job.status = JobStatus.IN_PROGRESS  # a worker claims it: nothing new is due
        db.add(job)
        db.commit()
        assert _signals(listener) == 0

        job.status, job.waiting_for = JobStatus.PENDING, "Pasien belum punya nomor IHS"
        db.add(job)
        db.commit()
        assert _signals(listener) == 1  # back in the queue (waiting)
        job.next_attempt_at = utcnow()  # released: what it waited for is done
        db.add(job)
        db.commit()
        assert _signals(listener) == 1  # every worker may take it now, not only the releaser

        job.status = JobStatus.FAILED
        db.add(job)
        db.commit()
        outbox.resend(db, job.id)  # Kirim ulang makes it due again
        db.commit()
        assert _signals(listener) == 1

        other = make_completed_visit(db, *clinic, queue_number=2)
        db.commit()
        outbox.enqueue(db, JobKind.VISIT_SEND, other.branch_id, other.id)
        db.rollback()
        assert _signals(listener) == 0
    engine.dispose()


async def test_a_worker_that_would_not_look_for_minutes_sends_a_new_job_at_once(sim):
    """The app in another process enqueues (no in-process wake): the trigger wakes it."""
    require_pg()
    with temporary_pg_database() as url:
        upgrade_to_head(url)
        engine = make_engine(url)
        worker = OutboxWorker(simulator_base=sim.base_url, db_url=url, poll_interval=300)
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop))
        try:
            await asyncio.sleep(0.5)  # started, found nothing, waits for five minutes
            with Session(engine, expire_on_commit=False) as db:
                visit = make_completed_visit(db, *make_clinic(db))
                outbox.enqueue(db, JobKind.VISIT_SEND, visit.branch_id, visit.id)
                db.commit()
            sent = None
            # Its lookups, the Location, then the visit: seconds (30 s on a loaded machine).
            for _ in range(600):
                await asyncio.sleep(0.05)
                with Session(engine) as db:
                    sent = db.get(Visit, visit.id)
                    if sent.sync_status == SyncStatus.SENT:
                        break
            assert sent is not None and sent.sync_status == SyncStatus.SENT and sent.encounter_id
        finally:
            stop.set()
            await asyncio.wait_for(running, 15)
            engine.dispose()


async def test_an_idle_listening_worker_looks_about_once_a_second_not_twenty_times(sim):
    require_pg()
    with temporary_pg_database() as url:
        upgrade_to_head(url)
        worker = OutboxWorker(simulator_base=sim.base_url, db_url=url, poll_interval=0.02)
        looks = []
        nothing_due = worker._nothing_due

        def counted() -> bool:
            looks.append(1)
            return nothing_due()

        worker._nothing_due = counted
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop))
        await asyncio.sleep(3)
        stop.set()
        await asyncio.wait_for(running, 15)
    # At 0.02 s without the signal it would have looked about 150 times.
    assert 2 <= len(looks) <= 8
