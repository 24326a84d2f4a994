"""A worker in its own process: the app learns of finished jobs from the database."""

from __future__ import annotations

import asyncio

import pytest

from klinikita.models import SyncJob
from klinikita.models.base import utcnow
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.satusehat_runtime import follow_finished_jobs
from tests.factories import make_clinic
from tests.pg import sqlite_and_postgresql

# The relay reads on the read connection, whose conversions differ per driver: both run.
db = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)


def _finish(db, job_id: int, status: str) -> None:
    job = db.get(SyncJob, job_id)
    job.status, job.updated_at = status, utcnow()
    if status == JobStatus.FAILED:
        job.last_error = "Ditolak SATUSEHAT"
    db.add(job)
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
        db.commit()
        await asyncio.sleep(0.1)
    finally:
        follower.cancel()
    assert told == [first.id, late.id]
