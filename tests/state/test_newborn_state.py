"""Kontak -> Pasien for a newborn without a NIK: the mother's NIK field's messages, the
registration that queues the baby's SATUSEHAT record, and the NIK added later (admin)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from klinikita.models import AuditLog, Patient, SyncJob
from klinikita.models.enums import Duty, SyncStatus
from klinikita.models.satusehat import JobKind
from klinikita.services.dates import typed_date
from klinikita.state.patients import PatientState
from tests.factories import make_branch, make_user
from tests.patients_support import add_regions
from tests.state.conftest import logged_in

MOTHER = "3171015208859901"
BABY = {
    "name": "Bayi Ny. Siti",
    "birth_date": typed_date(date.today() - timedelta(days=2)),
    "sex": "female",
    "nik": "",
}


@pytest.fixture
def clinic(db):
    branch = make_branch(db, "Klinik A")
    add_regions(db)
    make_user(db, "admin", branches=[branch], main_duty=Duty.ADMIN)
    make_user(db, "daftar", branches=[branch], main_duty=Duty.PENDAFTARAN)
    return branch


def _patients(db) -> list[Patient]:
    db.expire_all()
    rows = list(db.exec(select(Patient).order_by(Patient.id)).all())
    db.commit()
    return rows


def _pick_cideng(state: PatientState) -> None:
    state.pick_region("province_code", "31")
    state.pick_region("city_code", "31.71")
    state.pick_region("district_code", "31.71.01")
    state.pick_region("village_code", "31.71.01.1002")


def _register_baby(state: PatientState) -> None:
    state.load()
    state.open_create()
    for key, value in BABY.items():
        state.set_field(key, value)
    state.set_flag("is_newborn", True)
    state.set_field("mother_nik", MOTHER)
    state.set_field("kk_number", "3171010101260001")
    _pick_cideng(state)
    state.save()


def test_a_baby_without_the_mothers_nik_is_told_at_each_field(db, root, clinic):
    state = logged_in(db, root, PatientState, "daftar")
    state.load()
    state.open_create()
    for key, value in BABY.items():
        state.set_field(key, value)
    state.save()
    assert "NIK wajib diisi" in state.errors["nik"]  # not yet marked as a baby
    state.set_flag("is_newborn", True)
    assert "nik" not in state.errors
    state.save()
    assert "NIK ibu wajib diisi" in state.errors["mother_nik"]
    assert "No. KK wajib diisi" in state.errors["kk_number"]
    assert "kelurahan/desa" in state.errors["village_code"]
    assert "no_nik_reason" not in state.errors and state.form_open
    state.set_field("mother_nik", "3171011208850001")  # coded male: a warning only
    assert "mother_nik" not in state.errors
    assert "laki-laki" in state.warnings["mother_nik"]
    state.set_field("mother_nik", MOTHER)
    assert "mother_nik" not in state.warnings
    state.set_field("birth_date", "01-01-2020")
    state.save()
    assert "di bawah 1 tahun" in state.errors["birth_date"]
    assert _patients(db) == []


def test_registering_a_baby_stores_the_mothers_nik_and_queues_its_record(db, root, clinic):
    state = logged_in(db, root, PatientState, "daftar")
    _register_baby(state)
    assert state.errors == {} and not state.form_open
    [baby] = _patients(db)
    assert (baby.nik, baby.mother_nik, baby.is_newborn) == (None, MOTHER, True)
    job = db.exec(select(SyncJob)).one()
    db.commit()
    assert (job.kind, job.subject_id) == (JobKind.PATIENT_LOOKUP, baby.id)
    assert state.rows[0]["sync_status"] == SyncStatus.SENDING


def test_the_admin_adds_the_babys_nik_later_and_the_ihs_number_stays(db, root, clinic):
    _register_baby(logged_in(db, root, PatientState, "daftar"))
    [baby] = _patients(db)
    baby.ihs_number, baby.sync_status = "P02029102701", SyncStatus.SENT
    db.add(baby)
    db.commit()
    admin = logged_in(db, root, PatientState, "admin")
    admin.load()
    admin.start_edit(str(baby.id))
    assert admin.flags["is_newborn"] and admin.form["mother_nik"] == MOTHER
    assert admin.form["birth_order"] == ""
    admin.set_field("nik", "3171014512260001")
    admin.save()
    assert admin.errors == {} and not admin.form_open
    [baby] = _patients(db)
    assert (baby.nik, baby.ihs_number) == ("3171014512260001", "P02029102701")
    update = db.exec(select(AuditLog).where(AuditLog.action == "update")).one()
    db.commit()
    assert update.before["nik"] is None and update.after["nik"] == "3171014512260001"
