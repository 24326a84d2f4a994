"""A worker in its own process: the app learns of finished jobs from the database (on
PostgreSQL when the worker signals them, on SQLite by looking)."""

from __future__ import annotations

import asyncio
import signal

import pytest
from sqlmodel import Session

from klinikita.db import make_engine
from klinikita.migrations import upgrade_to_head
from klinikita.models import SyncJob
from klinikita.models.base import utcnow
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.satusehat_runtime import follow_finished_jobs
from klinikita.services import outbox
from klinikita.services.job_notices import signal_jobs_ended
from tests.factories import make_clinic, make_completed_visit
from tests.pg import require_pg, sqlite_and_postgresql, temporary_pg_database
from tests.support.simulator import start_simulator
from tests.support.worker import start_worker_process

# The relay reads on the read connection, whose conversions differ per driver: both run.
db = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)


def _finish(db, job_id: int, status: str, *, signal_it: bool = True) -> None:
    """End a job as a worker does: the outcome and, in the same transaction, the signal."""
    job = db.get(SyncJob, job_id)
    job.status, job.updated_at = status, utcnow()
    if status == JobStatus.FAILED:
        job.last_error = "Ditolak SATUSEHAT"
    db.add(job)
    db.flush()
    if signal_it:
        signal_jobs_ended(db)
    db.commit()


async def test_each_finished_job_of_a_tab_is_told_once(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    before = SyncJob(
        kind=JobKind.PATIENT_LOOKUP,
        branch_id=branch.id,
        subject_type="patient",
        subject_id=patient.id,
        status=JobStatus.DONE,
        client_token="tab-old",
    )
    asked = SyncJob(
        kind=JobKind.PRACTITIONER_LOOKUP,
        branch_id=branch.id,
        subject_type="employee",
        subject_id=doctor.id,
        client_token="tab-1",
    )
    unasked = SyncJob(
        kind=JobKind.LOCATION_CREATE, branch_id=branch.id, subject_type="room", subject_id=room.id
    )
    db.add_all([before, asked, unasked])
    db.commit()
    told = []

    async def notify(notice):
        told.append((notice.job_id, notice.status, notice.client_token, notice.message))

    follower = asyncio.create_task(
        follow_finished_jobs(notify, interval=0.02, engine=db.get_bind())
    )
    try:
        await asyncio.sleep(0.1)
        assert told == []  # what ended before the app started is not told again
        _finish(db, unasked.id, JobStatus.DONE)  # no tab asked: nobody to tell
        _finish(db, asked.id, JobStatus.FAILED)
        await asyncio.sleep(0.2)
        assert told == [(asked.id, "failed", "tab-1", "Ditolak SATUSEHAT")]
        _finish(db, asked.id, JobStatus.DONE)  # resent, and this time it went through
        await asyncio.sleep(0.2)
    finally:
        follower.cancel()
    assert [t[:2] for t in told] == [(asked.id, "failed"), (asked.id, "done")]


async def test_a_job_committed_late_with_an_earlier_time_is_still_told(db):
    """Two workers: one commits a job stamped a moment before one already told."""
    branch, unit, room, doctor, patient = make_clinic(db)
    first = SyncJob(
        kind=JobKind.PATIENT_LOOKUP,
        branch_id=branch.id,
        subject_type="patient",
        subject_id=patient.id,
        client_token="tab-1",
    )
    late = SyncJob(
        kind=JobKind.PRACTITIONER_LOOKUP,
        branch_id=branch.id,
        subject_type="employee",
        subject_id=doctor.id,
        client_token="tab-2",
    )
    db.add_all([first, late])
    db.commit()
    told = []

    async def notify(notice):
        told.append(notice.job_id)

    follower = asyncio.create_task(
        follow_finished_jobs(notify, interval=0.02, engine=db.get_bind())
    )
    try:
        await asyncio.sleep(0.05)
        stamped_earlier = utcnow()
        await asyncio.sleep(0.05)
        _finish(db, first.id, JobStatus.DONE)
        await asyncio.sleep(0.1)
        job = db.get(SyncJob, late.id)  # the slower worker commits its older stamp now
        job.status, job.updated_at = JobStatus.DONE, stamped_earlier
        db.add(job)
        db.flush()
        signal_jobs_ended(db)
        db.commit()
        await asyncio.sleep(0.1)
    finally:
        follower.cancel()
    assert told == [first.id, late.id]


def _asking_jobs(db) -> list[int]:
    """Two open jobs, each asked for by a tab (one open job per subject and kind)."""
    branch, unit, room, doctor, patient = make_clinic(db)
    found = [
        SyncJob(
            kind=kind,
            branch_id=branch.id,
            subject_type=subject_type,
            subject_id=subject_id,
            client_token=f"tab-{subject_type}",
        )
        for kind, subject_type, subject_id in (
            (JobKind.PATIENT_LOOKUP, "patient", patient.id),
            (JobKind.PRACTITIONER_LOOKUP, "employee", doctor.id),
        )
    ]
    db.add_all(found)
    db.commit()
    return [j.id for j in found]


@pytest.fixture
def pg_db():
    require_pg()
    with temporary_pg_database() as url:
        upgrade_to_head(url)
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as session:
            yield session
        engine.dispose()


@pytest.mark.postgres
async def test_on_postgresql_the_relay_looks_when_signalled_not_by_polling(pg_db):
    db = pg_db
    quiet, signalled = _asking_jobs(db)
    told = []

    async def notify(notice):
        told.append(notice.job_id)

    # Neither the polling interval nor the safety look comes during this test.
    follower = asyncio.create_task(
        follow_finished_jobs(notify, interval=30, safety=30, engine=db.get_bind())
    )
    try:
        await asyncio.sleep(0.3)  # listening
        _finish(db, quiet, JobStatus.DONE, signal_it=False)
        await asyncio.sleep(0.3)
        assert told == []  # ended, but nobody said so: not looked at yet
        _finish(db, signalled, JobStatus.DONE)
        for _ in range(50):
            if len(told) == 2:
                break
            await asyncio.sleep(0.02)
    finally:
        follower.cancel()
    assert sorted(told) == [quiet, signalled]  # the look finds every job that ended


@pytest.mark.postgres
@pytest.mark.processes
async def test_a_worker_process_on_postgresql_wakes_the_relay_when_it_sends_a_visit():
    """The whole path: the worker's outcome commit carries the signal to the app."""
    require_pg()
    with temporary_pg_database() as url, start_simulator() as sim:
        upgrade_to_head(url)
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as session:
            visit = make_completed_visit(session, *make_clinic(session))
            job_id = outbox.enqueue(
                session, JobKind.VISIT_SEND, visit.branch_id, visit.id, client_token="tab-dokter"
            ).id
            session.commit()
        told = []

        async def notify(notice):
            told.append((notice.job_id, notice.status, notice.client_token))

        follower = asyncio.create_task(
            follow_finished_jobs(notify, interval=60, safety=60, engine=engine)
        )
        await asyncio.sleep(0.3)  # listening before the worker starts
        worker = start_worker_process(url, sim.base_url)
        try:
            for _ in range(400):  # the worker starts and sends well within 20 s
                if told:
                    break
                await asyncio.sleep(0.05)
        finally:
            follower.cancel()
            worker.send_signal(signal.SIGTERM)
            worker.wait(15)
            engine.dispose()
        assert told == [(job_id, JobStatus.DONE, "tab-dokter")]
