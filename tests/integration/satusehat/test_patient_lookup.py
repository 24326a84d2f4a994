"""A patient registered with a sandbox NIK gets its IHS number from the worker."""

from __future__ import annotations

from sqlmodel import select

from klinikita.models import Branch, Patient, SyncJob
from klinikita.models.enums import Duty, SatusehatEnvironment, SyncStatus
from klinikita.models.satusehat import JobStatus
from klinikita.outbox_worker.worker import OutboxWorker
from klinikita.services import patient_records as records
from klinikita.services.secrets_store import encrypt_secret
from tests.patients_support import actor_for, patient_form


def _simulator_branch(db) -> Branch:
    branch = Branch(
        name="Klinik Simulator",
        ss_environment=SatusehatEnvironment.SIMULATOR,
        ss_organization_id="10000004",
        ss_client_id="demo-klinik",
        ss_secret_encrypted=encrypt_secret("demo-klinik-secret"),
    )
    db.add(branch)
    db.commit()
    return branch


async def test_worker_fills_the_ihs_number_and_tells_the_tab(db, sim):
    branch = _simulator_branch(db)
    desk = actor_for(db, branch, Duty.PENDAFTARAN)
    found = records.create_patient(
        db,
        desk,
        patient_form(nik="9271060312000001", name="Ardianto Putra", birth_date="1992-01-09"),
        client_token="tab-7",
    )
    unknown = records.create_patient(
        db, desk, patient_form(nik="3171012511909999", name="Tidak Dikenal"), client_token="tab-7"
    )
    db.commit()
    notices = []

    async def notifier(notice):
        notices.append(notice)

    worker = OutboxWorker(
        simulator_base=sim.base_url, notifier=notifier, poll_interval=0.02, wait_delay=0.0
    )
    await worker.drain()

    db.expire_all()
    patient = db.get(Patient, found.id)
    assert (patient.ihs_number, patient.sync_status) == ("P02478375538", SyncStatus.SENT)
    # Not in SATUSEHAT: a clear state with guidance, and the job is finished, not failed.
    missing = db.get(Patient, unknown.id)
    assert missing.sync_status == SyncStatus.NOT_FOUND and missing.ihs_number is None
    assert "tidak ditemukan" in missing.sync_error
    assert {j.status for j in db.exec(select(SyncJob)).all()} == {JobStatus.DONE}
    assert {(n.subject_type, n.subject_id, n.client_token) for n in notices} == {
        ("patient", found.id, "tab-7"),
        ("patient", unknown.id, "tab-7"),
    }
