"""Newborns without a NIK: the rules of the form (services/newborns.py via
patient_records.validate), what is stored and queued, and the first NIK that keeps the IHS
number (audited)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from klinikita.integrations.satusehat import fhir
from klinikita.models import AuditLog, Patient, SyncJob
from klinikita.models.enums import Duty, SyncStatus
from klinikita.models.satusehat import JobKind
from klinikita.services import newborns, satusehat_rules
from klinikita.services import patient_records as records
from klinikita.services.errors import ValidationFailed
from tests.factories import make_branch
from tests.patients_support import actor_for, add_regions, patient_form

MOTHER = "3171015208859901"  # female-coded (day 12 + 40)
KK = "3171010101260001"
TODAY = date.today()


def baby_form(**changes):
    values = dict(
        name="Bayi Ny. Siti",
        birth_date=(TODAY - timedelta(days=3)).isoformat(),
        sex="female",
        nik="",
        is_newborn=True,
        mother_nik=MOTHER,
        kk_number=KK,
        province_code="31",
        city_code="31.71",
        district_code="31.71.01",
        village_code="31.71.01.1002",
    )
    values.update(changes)
    return patient_form(**values)


@pytest.fixture
def desk(db):
    branch = make_branch(db)
    add_regions(db)
    return branch, actor_for(db, branch, Duty.PENDAFTARAN), actor_for(db, branch, Duty.ADMIN)


# ----- the rules -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("born", "baby"),
    [
        (TODAY, True),
        (TODAY - timedelta(days=28), True),
        (TODAY - timedelta(days=364), True),
        (newborns.one_year_before(TODAY), False),  # the first birthday
        (TODAY - timedelta(days=400), False),
        (TODAY + timedelta(days=1), False),
    ],
)
def test_a_baby_is_under_one_year(born, baby):
    assert newborns.is_baby(born, TODAY) is baby


def test_a_leap_day_has_a_year_before():
    assert newborns.one_year_before(date(2028, 2, 29)) == date(2027, 2, 28)


def test_the_mothers_nik_is_checked_as_a_nik_and_a_male_coded_one_warns():
    assert newborns.mother_nik_problem(MOTHER) is None
    assert newborns.mother_nik_problem("12345") == "NIK ibu harus tepat 16 digit angka."
    assert newborns.mother_nik_problem("3171019911900001").startswith("Bagian tanggal lahir")
    assert newborns.mother_nik_warning(MOTHER) is None
    assert "laki-laki" in newborns.mother_nik_warning("3171011208850001")


@pytest.mark.parametrize(
    ("typed", "order", "error"),
    [("", 0, False), (" 2 ", 2, False), ("0", 0, True), ("10", 0, True), ("a", 0, True)],
)
def test_birth_order(typed, order, error):
    errors: dict[str, str] = {}
    assert newborns.take_birth_order(errors, "birth_order", typed) == order
    assert ("birth_order" in errors) is error


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"mother_nik": ""}, "mother_nik", "NIK ibu wajib diisi"),
        ({"mother_nik": "3171"}, "mother_nik", "NIK ibu harus tepat 16 digit"),
        ({"mother_nik": "31710152088599０1"}, "mother_nik", "angka 0-9"),
        ({"kk_number": ""}, "kk_number", "No. KK wajib diisi"),
        ({"kk_number": "123"}, "kk_number", "tepat 16 digit"),
        ({"birth_date": "2020-01-01"}, "birth_date", "di bawah 1 tahun"),
        (
            {"province_code": "", "city_code": "", "district_code": "", "village_code": ""},
            "village_code",
            "kelurahan/desa",
        ),
        ({"birth_order": "x"}, "birth_order", "Kembar ke-"),
        ({"nik": MOTHER}, "mother_nik", "tidak boleh sama"),
    ],
)
def test_a_baby_without_a_nik_is_refused_at_the_field(db, desk, changes, field, words):
    _, clerk, _ = desk
    with pytest.raises(ValidationFailed) as err:
        records.create_patient(db, clerk, baby_form(**changes))
    assert words in err.value.errors[field], err.value.errors
    assert db.exec(select(Patient)).all() == []


def test_a_baby_with_its_own_nik_needs_no_mothers_nik(db, desk):
    _, clerk, _ = desk
    nik = "3171014512260001"
    clean = records.validate(db, baby_form(nik=nik, mother_nik="", kk_number=""))
    assert clean.values["nik"] == nik and clean.values["mother_nik"] is None


def test_the_mothers_nik_is_kept_only_for_a_newborn(db, desk):
    clean = records.validate(db, patient_form(mother_nik=MOTHER))
    assert clean.values["mother_nik"] is None and clean.values["birth_order"] == 0


# ----- stored and queued -----------------------------------------------------------------
def _register(db, actor, **changes) -> Patient:
    patient = records.create_patient(db, actor, baby_form(**changes), client_token="tab-1")
    db.commit()
    return patient


def test_a_baby_without_a_nik_is_stored_with_the_mothers_nik_and_queued(db, desk):
    _, clerk, _ = desk
    patient = _register(db, clerk, birth_order="2")
    db.expire_all()
    row = db.get(Patient, patient.id)
    assert (row.nik, row.mother_nik, row.kk_number, row.birth_order) == (None, MOTHER, KK, 2)
    assert row.sync_status == SyncStatus.SENDING
    job = db.exec(select(SyncJob)).one()
    assert (job.kind, job.subject_id) == (JobKind.PATIENT_LOOKUP, patient.id)
    audit = db.exec(select(AuditLog).where(AuditLog.entity == "patient")).one()
    assert audit.after["mother_nik"] == MOTHER
    # What will be sent: the mother's NIK and the KK as identifiers, twins told apart.
    body = satusehat_rules.checked_newborn_patient(row)
    assert [i["system"] for i in body["identifier"]] == [fhir.NIK_IBU_SYSTEM, fhir.KK_SYSTEM]
    assert body["multipleBirthInteger"] == 2
    assert body["birthDate"] == row.birth_date.isoformat()


def test_the_babys_first_nik_keeps_its_ihs_number_and_the_audit_shows_it(db, desk):
    _, clerk, admin = desk
    patient = _register(db, clerk)
    row = db.get(Patient, patient.id)
    row.ihs_number, row.sync_status = "P02029102701", SyncStatus.SENT
    db.commit()
    jobs_before = len(db.exec(select(SyncJob)).all())
    nik = "3171014512260001"
    records.update_patient(db, admin, patient.id, baby_form(nik=nik))
    db.commit()
    db.expire_all()
    row = db.get(Patient, patient.id)
    assert (row.nik, row.ihs_number, row.sync_status) == (nik, "P02029102701", SyncStatus.SENT)
    assert len(db.exec(select(SyncJob)).all()) == jobs_before  # nothing asked again
    update = db.exec(
        select(AuditLog).where(AuditLog.entity == "patient", AuditLog.action == "update")
    ).one()
    assert update.before["nik"] is None and update.after["nik"] == nik
    assert update.after["ihs_number"] == "P02029102701"


def test_a_corrected_mothers_nik_sends_a_baby_without_ihs_again(db, desk):
    _, clerk, admin = desk
    patient = _register(db, clerk)
    row = db.get(Patient, patient.id)
    row.sync_status, row.sync_error = SyncStatus.NOT_FOUND, "Citizen Not Exists"
    db.commit()
    for job in db.exec(select(SyncJob)).all():
        db.delete(job)
    db.commit()
    records.update_patient(db, admin, patient.id, baby_form(mother_nik="3171014608900002"))
    db.commit()
    db.expire_all()
    assert db.get(Patient, patient.id).sync_status == SyncStatus.SENDING
    assert db.exec(select(SyncJob)).one().kind == JobKind.PATIENT_LOOKUP


def test_a_baby_not_yet_created_blocks_nothing_but_a_refused_mother_is_named(db, desk):
    _, clerk, _ = desk
    row = db.get(Patient, _register(db, clerk).id)
    assert "belum dibuat di SATUSEHAT" in satusehat_rules.patient_problems(row)[0]
    row.sync_status, row.sync_error = SyncStatus.NOT_FOUND, "NIK ibu tidak dikenal."
    assert "menolak" in satusehat_rules.patient_problems(row)[0]
    row.village_code = None
    assert any("Kelurahan/desa" in p for p in satusehat_rules.newborn_problems(row))
