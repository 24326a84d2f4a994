"""Workers as real processes: killed mid-send and restarted; two side by side on PostgreSQL."""

from __future__ import annotations

import signal
from collections import Counter

import pytest
from sqlmodel import Session, func, select

from klinikita.db import make_engine
from klinikita.migrations import upgrade_to_head
from klinikita.models import SyncJob, SyncLog, Visit
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.services import outbox
from tests.factories import make_clinic, make_completed_visit
from tests.pg import require_pg, temporary_pg_database
from tests.support.simulator import start_simulator
from tests.support.worker import start_worker_process, wait_for

pytestmark = pytest.mark.processes

ENCOUNTER_SYSTEM = "http://sys-ids.kemkes.go.id/encounter/10000004"


def _seed_visits(url: str, count: int) -> list[str]:
    upgrade_to_head(url)
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        clinic = make_clinic(session)
        uids = []
        for n in range(count):
            visit = make_completed_visit(session, *clinic, queue_number=n + 1)
            outbox.enqueue(session, JobKind.VISIT_SEND, visit.branch_id, visit.id)
            uids.append(visit.uid)
        session.commit()
    engine.dispose()
    return uids


def _visit_jobs(url: str) -> Counter:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.exec(select(SyncJob.status).where(SyncJob.kind == JobKind.VISIT_SEND)).all()
    engine.dispose()
    return Counter(rows)


def _all_jobs(url: str) -> Counter:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.exec(select(SyncJob.kind, SyncJob.status, SyncJob.last_error)).all()
    engine.dispose()
    return Counter((k, s, (e or "")[:80]) for k, s, e in rows)


def _assert_each_encounter_once(sim, url: str, uids: list[str]) -> None:
    for uid in uids:
        assert sim.simulator.count_resources("Encounter", (ENCOUNTER_SYSTEM, uid)) == 1, uid
    assert len(sim.simulator.list_resources("Encounter")) == len(uids)
    engine = make_engine(url)
    with Session(engine) as session:
        ids = session.exec(select(Visit.encounter_id)).all()
    engine.dispose()
    assert None not in ids and len(set(ids)) == len(uids)
    stored = {r["id"] for r in sim.simulator.list_resources("Encounter")}
    assert set(ids) == stored


def test_worker_killed_mid_send_and_restarted_sends_every_visit_exactly_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    uids = _seed_visits(url, 20)
    with start_simulator() as sim:
        # Slow bundle answers, so the kill lands while sends are in flight.
        sim.simulator.faults.add_latency(400, path="/fhir-r4/v1", method="POST")
        first = start_worker_process(
            url, sim.base_url, "--concurrency", "4", "--lease-seconds", "2"
        )
        try:
            wait_for(lambda: _visit_jobs(url)[JobStatus.DONE] >= 4, 60, "the first visits")
            wait_for(lambda: _visit_jobs(url)[JobStatus.IN_PROGRESS] >= 1, 30, "sends in flight")
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
        left = _visit_jobs(url)
        assert left[JobStatus.DONE] < 20, "the kill came too late to prove anything"
        second = start_worker_process(
            url, sim.base_url, "--concurrency", "4", "--lease-seconds", "2"
        )
        try:
            wait_for(lambda: _visit_jobs(url)[JobStatus.DONE] == 20, 90, "all visits done")
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(15)
        assert _visit_jobs(url) == Counter({JobStatus.DONE: 20})
        _assert_each_encounter_once(sim, url, uids)


@pytest.mark.postgres
def test_two_workers_on_postgresql_send_every_job_exactly_once():
    require_pg()
    with temporary_pg_database() as url, start_simulator() as sim:
        uids = _seed_visits(url, 40)
        sim.simulator.faults.add_latency(30, path="/fhir-r4/v1", method="POST")
        workers = [start_worker_process(url, sim.base_url, "--concurrency", "6") for _ in range(2)]
        try:
            wait_for(
                lambda: _visit_jobs(url)[JobStatus.DONE] == 40,
                120,
                "all visits done",
                lambda: _all_jobs(url),
            )
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                worker.wait(15)
        _assert_each_encounter_once(sim, url, uids)
        engine = make_engine(url)
        with Session(engine) as session:
            bundles = session.exec(
                select(func.count()).select_from(SyncLog).where(SyncLog.resource_type == "Bundle")
            ).one()
            by_worker = Counter(
                session.exec(
                    select(SyncJob.worker_id).where(SyncJob.kind == JobKind.VISIT_SEND)
                ).all()
            )
        engine.dispose()
        # Exactly one transaction per visit reached SATUSEHAT: no job was sent twice.
        assert bundles == 40
        assert len(by_worker) == 2, f"both workers should have taken jobs: {by_worker}"
        assert sim.simulator.count_resources("Location") == 1
        assert sim.simulator.count_resources("Organization") == 1
