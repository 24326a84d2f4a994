"""Short leases, renewed while a job is held: a dead worker's job is sent again within 15
seconds, and a live worker's slow send is never taken from it."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
from sqlmodel import Session, select

from klinikita.db import make_engine
from klinikita.migrations import upgrade_to_head
from klinikita.models import Diagnosis, Examination, SyncJob, SyncLog, Visit
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.outbox_worker.worker import LEASE_SECONDS, OutboxWorker
from klinikita.services import outbox
from tests.factories import make_clinic, make_completed_visit
from tests.pg import sqlite_and_postgresql
from tests.support.simulator import start_simulator
from tests.support.worker import start_worker_process, wait_for

ENCOUNTER_SYSTEM = "http://sys-ids.kemkes.go.id/encounter/10000004"
BUNDLE = "/fhir-r4/v1"
RECOVERY_BOUND = 15.0  # seconds from a worker's death until another has sent its job

# PostgreSQL too: there several workers claim side by side (FOR UPDATE SKIP LOCKED).
db = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)


def _seed_visit(url: str) -> tuple[int, str]:
    upgrade_to_head(url)
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        visit = make_completed_visit(session, *make_clinic(session), codes=("J06.9", "E11.9"))
        outbox.enqueue(session, JobKind.VISIT_SEND, visit.branch_id, visit.id)
        session.commit()
    engine.dispose()
    return visit.id, visit.uid


def _visit_job(url: str) -> SyncJob:
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        job = session.exec(select(SyncJob).where(SyncJob.kind == JobKind.VISIT_SEND)).one()
    engine.dispose()
    return job


def _assert_sent_once(sim, url: str, visit_id: int, uid: str) -> None:
    [encounter] = sim.simulator.list_resources("Encounter", (ENCOUNTER_SYSTEM, uid))
    engine = make_engine(url)
    with Session(engine) as session:
        visit = session.get(Visit, visit_id)
        diagnoses = session.exec(select(Diagnosis)).all()
        exam = session.exec(select(Examination)).one()
    engine.dispose()
    assert visit.encounter_id == encounter["id"]
    conditions = sim.simulator.list_resources("Condition")
    assert sorted(c["code"]["coding"][0]["code"] for c in conditions) == ["E11.9", "J06.9"]
    assert {d.condition_id for d in diagnoses} == {c["id"] for c in conditions}
    observations = sim.simulator.list_resources("Observation")
    assert len(observations) == len(exam.observation_ids) == 8  # one per measurement
    assert set(exam.observation_ids.values()) == {o["id"] for o in observations}


@pytest.mark.processes
def test_a_killed_workers_job_is_sent_by_another_within_15_seconds(tmp_path):
    assert LEASE_SECONDS + 1.0 < RECOVERY_BOUND  # a lease and one look fit in the bound
    url = f"sqlite:///{tmp_path / 'killed.db'}"
    visit_id, uid = _seed_visit(url)
    with start_simulator() as sim:
        # The bundle is stored at once and answered late: the worker dies with its request
        # in SATUSEHAT and no answer.
        slow = sim.simulator.faults.fail_next(
            "delay_after", path=BUNDLE, method="POST", latency_ms=60_000
        )
        first = start_worker_process(url, sim.base_url)  # the production lease
        try:
            wait_for(lambda: slow.hits >= 1, 60, "the visit's bundle on the wire")
            wait_for(lambda: sim.simulator.count_resources("Encounter") == 1, 10, "stored")
            assert _visit_job(url).status == JobStatus.IN_PROGRESS
            first.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
        second = start_worker_process(url, sim.base_url)
        try:
            # The other worker sends the job (finding what is stored) within the bound.
            wait_for(
                lambda: _visit_job(url).status == JobStatus.DONE,
                RECOVERY_BOUND + 15,
                "the job sent again",
            )
            recovered_in = time.monotonic() - killed_at
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(15)
        assert recovered_in < RECOVERY_BOUND, f"sent again {recovered_in:.1f} s after the kill"
        job = _visit_job(url)
        assert job.attempts == 2 and job.worker_id != ""
        _assert_sent_once(sim, url, visit_id, uid)


async def test_a_send_slower_than_the_lease_keeps_its_job(db, sim):
    """The holder renews its lease while the send takes several leases' time: a second
    worker looking all the while never takes the job, and one bundle is sent."""
    branch, unit, room, doctor, patient = clinic = make_clinic(db)
    outbox.enqueue(db, JobKind.LOCATION_CREATE, branch.id, room.id)
    outbox.enqueue(db, JobKind.PATIENT_LOOKUP, branch.id, patient.id)
    outbox.enqueue(db, JobKind.PRACTITIONER_LOOKUP, branch.id, doctor.id)
    db.commit()
    options = dict(backoff_base=0.01, backoff_cap=0.05, poll_interval=0.02, wait_delay=0.0)
    options["db_url"] = db.get_bind().url.render_as_string(hide_password=False)
    holder = OutboxWorker(simulator_base=sim.base_url, lease_seconds=0.6, **options)
    other = OutboxWorker(simulator_base=sim.base_url, lease_seconds=0.6, **options)
    await holder.drain()  # what the visit needs first
    visit = make_completed_visit(db, *clinic)
    outbox.enqueue(db, JobKind.VISIT_SEND, visit.branch_id, visit.id)
    db.commit()
    db.rollback()
    sim.simulator.faults.add_latency(2500, path=BUNDLE, method="POST")  # four leases
    [job_id] = holder.claim(10)
    sending = asyncio.create_task(holder.process(job_id))
    taken_by_other: list[int] = []
    while not sending.done():
        taken_by_other += await asyncio.to_thread(other.claim, 10)
        await asyncio.sleep(0.05)
    assert (await sending).status == JobStatus.DONE
    assert taken_by_other == []
    db.expire_all()
    job = db.get(SyncJob, job_id)
    assert job.subject_id == visit.id and job.attempts == 1
    bundles = db.exec(select(SyncLog).where(SyncLog.resource_type == "Bundle")).all()
    assert len(bundles) == 1
