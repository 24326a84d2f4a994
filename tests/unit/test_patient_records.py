"""Registering and changing patients through the service."""

from __future__ import annotations

import pytest
from sqlmodel import select

from klinikita.models import AuditLog, Patient, SyncJob
from klinikita.models.enums import Duty, SyncStatus
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.services import patient_records as records
from klinikita.services.errors import PermissionDenied, ValidationFailed
from tests.factories import make_branch
from tests.patients_support import actor_for, add_regions, patient_form


@pytest.fixture
def desk(db):
    branch = make_branch(db)
    add_regions(db)
    return branch, actor_for(db, branch, Duty.PENDAFTARAN), actor_for(db, branch, Duty.ADMIN)


def _create(db, actor, **changes):
    patient = records.create_patient(db, actor, patient_form(**changes), client_token="tab-9")
    db.commit()
    return patient


def test_create_gives_a_number_audits_and_queues_the_ihs_lookup_with_the_tab(db, desk):
    branch, clerk, _ = desk
    patient = _create(
        db,
        clerk,
        province_code="31",
        city_code="31.71",
        district_code="31.71.01",
        village_code="31.71.01.1002",
        rt="3",
        rw="12",
        kk_number="3171010101010001",
    )
    db.expire_all()
    row = db.get(Patient, patient.id)
    assert row.mrn == "000001" and row.name_norm == "budi santoso"
    assert (row.rt, row.rw, row.phone) == ("003", "012", "081234567890")
    assert row.sync_status == SyncStatus.SENDING
    job = db.exec(select(SyncJob)).one()
    assert (job.kind, job.subject_id, job.client_token) == (
        JobKind.PATIENT_LOOKUP,
        patient.id,
        "tab-9",
    )
    audit = db.exec(select(AuditLog).where(AuditLog.entity == "patient")).one()
    assert audit.action == "create" and audit.after["nik"] == "3171012511900001"
    assert _create(db, clerk, nik="3171012511900002", name="Ani").mrn == "000002"


def test_same_nik_in_the_branch_is_refused_naming_the_patient_who_has_it(db, desk):
    branch, clerk, _ = desk
    _create(db, clerk)
    with pytest.raises(ValidationFailed) as err:
        _create(db, clerk, name="Orang Lain")
    assert "Budi Santoso" in err.value.errors["nik"] and "000001" in err.value.errors["nik"]
    assert len(db.exec(select(Patient)).all()) == 1
    # Another branch may register the same person.
    other = make_branch(db, "Cabang Dua")
    _create(db, actor_for(db, other, Duty.PENDAFTARAN))


def test_same_name_and_birth_date_warns_until_confirmed(db, desk):
    _, clerk, _ = desk
    _create(db, clerk, nik="", no_nik=True, no_nik_reason="Belum punya KTP")
    with pytest.raises(records.SimilarPatientsFound) as found:
        _create(db, clerk, nik="", name="budi  SANTOSO", is_foreigner=True, no_nik_reason="WNA")
    assert found.value.matches[0].mrn == "000001"
    assert len(db.exec(select(Patient)).all()) == 1
    records.create_patient(
        db,
        clerk,
        patient_form(nik="", name="Budi Santoso", is_foreigner=True, no_nik_reason="WNA"),
        confirm_similar=True,
    )
    db.commit()
    assert len(db.exec(select(Patient)).all()) == 2
    # Without a NIK, nothing is queued.
    assert db.exec(select(SyncJob)).all() == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"nik": ""}, "nik"),
        ({"nik": "", "is_foreigner": True}, "no_nik_reason"),
        ({"nik": "12345"}, "nik"),
        ({"nik": "3171019911900001"}, "nik"),
        ({"kk_number": "123"}, "kk_number"),
        ({"rt": "1234"}, "rt"),
        ({"rw": "a1"}, "rw"),
        ({"name": "  "}, "name"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"sex": ""}, "sex"),
        ({"phone": "08-abc"}, "phone"),
        ({"province_code": "31", "city_code": "32.73"}, "city_code"),
        ({"village_code": "31.71.01.1001"}, "province_code"),
    ],
)
def test_bad_input_is_named_at_its_field_and_nothing_is_written(db, desk, changes, field):
    _, clerk, _ = desk
    with pytest.raises(ValidationFailed) as err:
        _create(db, clerk, **changes)
    assert field in err.value.errors
    assert db.exec(select(Patient)).all() == []
    assert db.exec(select(AuditLog).where(AuditLog.entity == "patient")).all() == []


def test_nik_birth_part_that_differs_is_a_warning_not_an_error(db, desk):
    clean = records.validate(db, patient_form(nik="3171010101900001"))
    assert "berbeda" in clean.warnings["nik"]


def test_only_admin_edits_or_deactivates_and_a_new_nik_asks_satusehat_again(db, desk):
    _, clerk, admin = desk
    patient = _create(db, clerk)
    db.get(Patient, patient.id).ihs_number = "P000"
    db.commit()
    with pytest.raises(PermissionDenied):
        records.update_patient(db, clerk, patient.id, patient_form(name="Diganti"))
    with pytest.raises(PermissionDenied):
        records.deactivate_patient(db, clerk, patient.id)
    db.rollback()
    assert db.get(Patient, patient.id).name == "Budi Santoso"

    # The first lookup is done; a changed NIK gets a new one.
    job = db.exec(select(SyncJob)).one()
    job.status = JobStatus.DONE
    db.commit()
    records.update_patient(
        db,
        admin,
        patient.id,
        patient_form(name="Budi S.", nik="3171012511900009"),
        client_token="tab-admin",
    )
    db.commit()
    db.expire_all()
    row = db.get(Patient, patient.id)
    assert (row.name, row.nik, row.ihs_number) == ("Budi S.", "3171012511900009", None)
    jobs = db.exec(select(SyncJob).order_by(SyncJob.id)).all()
    assert len(jobs) == 2 and jobs[1].client_token == "tab-admin"
    records.deactivate_patient(db, admin, patient.id)
    db.commit()
    assert db.get(Patient, patient.id).is_active is False
    actions = [
        a.action
        for a in db.exec(select(AuditLog).order_by(AuditLog.id)).all()
        if a.entity == "patient"
    ]
    assert actions == ["create", "update", "deactivate"]


def test_resend_requeues_a_failed_lookup_and_asks_again_after_not_found(db, desk):
    branch, clerk, admin = desk
    patient = _create(db, clerk)
    job = db.exec(select(SyncJob)).one()
    job.status = JobStatus.FAILED
    db.commit()
    with pytest.raises(PermissionDenied):
        records.resend_lookup(db, clerk, patient.id)
    again = records.resend_lookup(db, admin, patient.id, client_token="t2")
    db.commit()
    assert again.id == job.id and again.status == JobStatus.PENDING
    again.status = JobStatus.DONE
    row = db.get(Patient, patient.id)
    row.sync_status = SyncStatus.NOT_FOUND
    db.commit()
    fresh = records.resend_lookup(db, admin, patient.id)
    db.commit()
    assert fresh.id != job.id and db.get(Patient, patient.id).sync_status == SyncStatus.SENDING
