"""The outbox: one open job per subject, whoever enqueues it."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import Session, select

from klinikita.models import Patient, SyncJob
from klinikita.models.enums import SyncStatus
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.services import outbox
from tests.factories import make_clinic
from tests.pg import sqlite_and_postgresql

db = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)


def _jobs(db, patient_id: int) -> list[SyncJob]:
    db.expire_all()
    return list(db.exec(select(SyncJob).where(SyncJob.subject_id == patient_id)).all())


def test_enqueue_twice_reuses_the_open_job_and_marks_the_subject(db):
    branch, *_, patient = make_clinic(db)
    first = outbox.enqueue(db, JobKind.PATIENT_LOOKUP, branch.id, patient.id)
    again = outbox.enqueue(db, JobKind.PATIENT_LOOKUP, branch.id, patient.id, client_token="t")
    db.commit()
    assert again.id == first.id and again.client_token == "t"
    assert [j.status for j in _jobs(db, patient.id)] == [JobStatus.PENDING]
    assert db.get(Patient, patient.id).sync_status == SyncStatus.SENDING


# SQLite has one writer at a time: two enqueues cannot overlap there.
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_ensure_job_when_another_worker_enqueues_at_the_same_moment(db):
    """PostgreSQL, several workers: both see no open job, one inserts first; the other's
    insert waits for it, is refused by the unique index, and reuses the job without an error."""
    branch, *_, patient = make_clinic(db)
    with Session(db.get_bind()) as first:
        outbox.enqueue(first, JobKind.PATIENT_LOOKUP, branch.id, patient.id)  # not committed

        def second() -> None:
            with Session(db.get_bind()) as other:
                outbox.ensure_job(other, JobKind.PATIENT_LOOKUP, branch.id, patient.id)
                other.commit()

        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(second)  # its insert waits for the first transaction
            time.sleep(0.3)
            assert not waiting.done()
            first.commit()
            waiting.result(timeout=10)  # refused by the unique index, and no error
    assert len(_jobs(db, patient.id)) == 1


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_two_enqueues_at_the_same_moment_share_one_job_without_an_error(db):
    """Two tabs queue the same subject at once: the second waits for the first's commit,
    then reuses its job (and takes it over for its own tab) instead of failing."""
    branch, *_, patient = make_clinic(db)
    with Session(db.get_bind()) as first:
        first_id = outbox.enqueue(first, JobKind.PATIENT_LOOKUP, branch.id, patient.id).id

        def second() -> int:
            with Session(db.get_bind()) as other:
                job = outbox.enqueue(
                    other, JobKind.PATIENT_LOOKUP, branch.id, patient.id, client_token="tab-2"
                )
                other.commit()
                return job.id

        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(second)
            time.sleep(0.3)
            assert not waiting.done()  # held by the unique index until the first commits
            first.commit()
            assert waiting.result(timeout=10) == first_id
    jobs = _jobs(db, patient.id)
    assert [(j.id, j.client_token) for j in jobs] == [(first_id, "tab-2")]
