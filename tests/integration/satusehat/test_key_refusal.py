"""A refused secret is recorded on the branch by the worker (the real simulator refuses it),
shown by readiness, and cleared when the admin saves the right key or a token is granted."""

from __future__ import annotations

from datetime import timedelta

import httpx

from klinikita.integrations.satusehat.tokens import TokenCache
from klinikita.models import Branch, Patient, SyncJob
from klinikita.models.base import utcnow
from klinikita.models.enums import Duty, SatusehatEnvironment, SyncStatus
from klinikita.models.satusehat import JobStatus
from klinikita.outbox_worker.worker import OutboxWorker
from klinikita.services import branches
from klinikita.services import patient_records as records
from klinikita.services.audit import Actor
from klinikita.services.readiness import branch_readiness
from klinikita.services.satusehat_connection import check_branch_connection
from klinikita.services.secrets_store import encrypt_secret
from tests.factories import make_user
from tests.patients_support import actor_for, patient_form


def _branch(db, secret: str) -> Branch:
    branch = Branch(
        name="Klinik Simulator",
        ss_environment=SatusehatEnvironment.SIMULATOR,
        ss_organization_id="10000004",
        ss_client_id="demo-klinik",
        ss_secret_encrypted=encrypt_secret(secret),
    )
    db.add(branch)
    db.commit()
    return branch


def _general(branch: Branch) -> branches.BranchInput:
    return branches.BranchInput(
        name=branch.name,
        facility_type=branch.facility_type,
        address=branch.address,
        phone=branch.phone,
        timezone=branch.timezone,
    )


def _patient(db, branch: Branch) -> Patient:
    desk = actor_for(db, branch, Duty.PENDAFTARAN)
    patient = records.create_patient(
        db,
        desk,
        patient_form(nik="9271060312000001", name="Ardianto Putra", birth_date="1992-01-09"),
    )
    db.commit()
    return patient


async def test_refused_secret_is_marked_on_the_branch_and_cleared_by_new_keys(db, sim):
    branch = _branch(db, "salah-secret")
    patient = _patient(db, branch)
    worker = OutboxWorker(simulator_base=sim.base_url, poll_interval=0.02, wait_delay=0.0)
    await worker.run_once()

    db.expire_all()
    refused = db.get(Branch, branch.id)
    assert refused.ss_key_refused_at is not None
    assert "ditolak" in refused.ss_key_refusal
    assert refused.version == branch.version  # a worker's mark leaves an open form valid
    assert [i.key for i in branch_readiness(db, branch.id)][0] == "key_refused"
    job = db.exec(SyncJob.__table__.select()).one()
    assert job.status == JobStatus.PENDING and job.next_attempt_at > utcnow() + timedelta(
        seconds=30
    )

    user = make_user(db, "admin", branches=[refused], main_duty=Duty.ADMIN)
    admin = Actor(user.id, "admin", "Admin", Duty.ADMIN, refused.id)
    branches.update_branch(
        db,
        admin,
        refused.id,
        _general(refused),
        branches.SatusehatInput(
            environment=SatusehatEnvironment.SIMULATOR,
            organization_id="10000004",
            client_id="demo-klinik",
            new_secret="demo-klinik-secret",
        ),
    )
    db.commit()
    db.expire_all()
    fixed = db.get(Branch, branch.id)
    assert fixed.ss_key_refused_at is None and fixed.ss_key_refusal is None
    assert "key_refused" not in [i.key for i in branch_readiness(db, branch.id)]

    db.commit()  # end the test's read (SQLite: one writer)
    # SATUSEHAT answers no token request for a minute after a refused secret (API.md 2).
    httpx.post(f"{sim.control_url}/clock", json={"advance_seconds": 61}).raise_for_status()
    await worker.run_once()  # the waiting lookup went due at the save, not a minute later
    db.expire_all()
    assert db.get(Patient, patient.id).sync_status == SyncStatus.SENT


async def test_a_granted_token_clears_an_earlier_refusal(db, sim):
    branch = _branch(db, "demo-klinik-secret")
    branch.ss_key_refused_at, branch.ss_key_refusal = utcnow(), "ditolak kemarin"
    db.add(branch)
    db.commit()
    patient = _patient(db, branch)
    await OutboxWorker(simulator_base=sim.base_url, poll_interval=0.02, wait_delay=0.0).drain()

    db.expire_all()
    assert db.get(Patient, patient.id).sync_status == SyncStatus.SENT
    cleared = db.get(Branch, branch.id)
    assert cleared.ss_key_refused_at is None and cleared.ss_key_refusal is None


async def test_tes_koneksi_records_a_refusal_and_clears_it_when_the_key_is_right(db, sim):
    branch = _branch(db, "salah-secret")
    branch_id = branch.id
    db.commit()
    refused = await check_branch_connection(branch_id, sim.base_url, tokens=TokenCache())
    assert not refused.ok
    db.expire_all()
    marked = db.get(Branch, branch_id)
    assert marked.ss_key_refused_at is not None and "ditolak" in marked.ss_key_refusal
    marked.ss_secret_encrypted = encrypt_secret("demo-klinik-secret")
    db.add(marked)
    db.commit()
    httpx.post(f"{sim.control_url}/clock", json={"advance_seconds": 61}).raise_for_status()
    granted = await check_branch_connection(branch_id, sim.base_url, tokens=TokenCache())
    assert granted.ok
    db.expire_all()
    assert db.get(Branch, branch_id).ss_key_refused_at is None
