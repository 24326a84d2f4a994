"""Pemeriksaan rules: vital ranges, the examination start, diagnoses, procedures, prescriptions,
and who may change an examination after it is complete."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from klinikita.models import AuditLog, Diagnosis, Examination, SyncJob, Visit
from klinikita.models.base import utcnow
from klinikita.models.clinical import Procedure, VisitStatus
from klinikita.models.enums import Duty, SyncStatus
from klinikita.models.satusehat import JobKind
from klinikita.services import examination as exam
from klinikita.services.audit import Actor
from klinikita.services.errors import NotFound, PermissionDenied, ValidationFailed
from tests.factories import make_clinic, make_nurse, make_patient, make_user, make_visit
from tests.pg import sqlite_and_postgresql

db = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)


@pytest.fixture
def clinic(db):
    return make_clinic(db)


@pytest.fixture
def visit(db, clinic):
    return make_visit(db, *clinic)


def _actor(db, branch, duty: str, name: str | None = None) -> Actor:
    username = name or duty.replace("_", "")
    user = make_user(db, username, branches=[branch], main_duty=duty)
    return Actor(user.id, user.username, user.full_name, duty, branch.id)


@pytest.fixture
def nurse(db, clinic):
    return _actor(db, clinic[0], Duty.PERAWAT)


@pytest.fixture
def doctor(db, clinic):
    return _actor(db, clinic[0], Duty.DOKTER_UMUM)


@pytest.fixture
def admin(db, clinic):
    return _actor(db, clinic[0], Duty.ADMIN)


def _audits(db, action: str) -> int:
    return db.exec(
        select(func.count()).select_from(AuditLog).where(AuditLog.action == action)
    ).one()


# ----- vital signs -------------------------------------------------------------------------
GOOD_VITALS = {
    "systolic": "120",
    "diastolic": "80",
    "pulse": "84",
    "respiratory_rate": "18",
    "temperature": "36,8",
    "weight": "60,5",
    "height": "165",
    "spo2": "98",
}


def test_vitals_are_saved_with_a_decimal_comma_time_and_author(db, visit, nurse):
    saved = exam.save_vitals(db, nurse, visit.id, GOOD_VITALS)
    db.commit()
    row = db.exec(select(Examination).where(Examination.visit_id == visit.id)).one()
    assert row.id == saved  # the examination's id
    assert (row.systolic, row.diastolic, row.pulse, row.respiratory_rate) == (120, 80, 84, 18)
    assert (row.temperature, row.weight, row.height, row.spo2) == (36.8, 60.5, 165.0, 98)
    assert row.vitals_at is not None and row.vitals_by_user_id == nurse.user_id
    assert _audits(db, "exam_vitals") == 1


def test_every_vital_is_optional(db, visit, nurse):
    exam.save_vitals(db, nurse, visit.id, {"temperature": "37.2"})
    db.commit()
    row = db.exec(select(Examination).where(Examination.visit_id == visit.id)).one()
    assert row.temperature == 37.2 and row.systolic is None and row.spo2 is None


@pytest.mark.parametrize(
    "data", [{}, dict.fromkeys(GOOD_VITALS, ""), dict.fromkeys(GOOD_VITALS, "  "), {"pulse": None}]
)
def test_empty_vitals_are_refused_naming_what_is_missing(db, visit, nurse, data):
    """A form saved with nothing in it measured nothing: no examination, no status change."""
    with pytest.raises(ValidationFailed) as refused:
        exam.save_vitals(db, nurse, visit.id, data)
    assert list(refused.value.errors) == [exam.VITALS_EMPTY]
    message = refused.value.errors[exam.VITALS_EMPTY]
    assert "masih kosong" in message
    for missing in ("tekanan darah", "nadi", "frekuensi napas", "suhu", "berat", "tinggi", "SpO2"):
        assert missing in message
    db.rollback()
    assert db.exec(select(Examination)).first() is None
    assert db.get(Visit, visit.id).status == VisitStatus.REGISTERED
    assert _audits(db, "exam_vitals") == 0


def test_clearing_every_stored_vital_is_refused_too(db, visit, nurse):
    exam.save_vitals(db, nurse, visit.id, {"pulse": "80"})
    db.commit()
    with pytest.raises(ValidationFailed):
        exam.save_vitals(db, nurse, visit.id, {"pulse": ""})
    db.rollback()
    assert db.exec(select(Examination)).one().pulse == 80


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("systolic", "300", "50–260 mmHg"),
        ("systolic", "40", "50–260 mmHg"),
        ("pulse", "10", "20–250 /menit"),
        ("respiratory_rate", "90", "5–80 /menit"),
        ("temperature", "46", "30–45 °C"),
        ("temperature", "29,9", "30–45 °C"),
        ("weight", "0,2", "0,3–400 kg"),
        ("height", "260", "20–250 cm"),
        ("spo2", "101", "50–100 %"),
    ],
)
def test_implausible_vitals_are_refused_with_the_range_and_unit(
    db, visit, nurse, field, value, expected
):
    data = {**GOOD_VITALS, field: value}
    with pytest.raises(ValidationFailed) as refused:
        exam.save_vitals(db, nurse, visit.id, data)
    assert list(refused.value.errors) == [field]
    assert expected in refused.value.errors[field]
    db.rollback()
    assert db.exec(select(Examination)).first() is None
    assert db.get(Visit, visit.id).status == VisitStatus.REGISTERED


def test_diastolic_must_be_below_systolic_and_in_its_own_range(db, visit, nurse):
    with pytest.raises(ValidationFailed) as refused:
        exam.save_vitals(db, nurse, visit.id, {"systolic": "100", "diastolic": "110"})
    assert "lebih rendah dari sistolik" in refused.value.errors["diastolic"]
    with pytest.raises(ValidationFailed) as refused:
        exam.save_vitals(db, nurse, visit.id, {"systolic": "250", "diastolic": "170"})
    assert "30–160 mmHg" in refused.value.errors["diastolic"]


def test_blood_pressure_needs_both_numbers(db, visit, nurse):
    with pytest.raises(ValidationFailed) as refused:
        exam.save_vitals(db, nurse, visit.id, {"systolic": "120"})
    assert "diastolik" in refused.value.errors["diastolic"]


def test_text_and_fractions_of_whole_vitals_are_refused(db, visit, nurse):
    with pytest.raises(ValidationFailed) as refused:
        exam.save_vitals(db, nurse, visit.id, {"pulse": "delapan", "spo2": "97,5"})
    assert "angka" in refused.value.errors["pulse"] and "/menit" in refused.value.errors["pulse"]
    assert "tanpa desimal" in refused.value.errors["spo2"]


# ----- the start of the examination --------------------------------------------------------
def test_the_first_save_starts_the_examination_once(db, visit, nurse, doctor):
    first = utcnow()
    exam.save_vitals(db, nurse, visit.id, GOOD_VITALS, now=first)
    db.commit()
    started = db.get(Visit, visit.id)
    assert started.status == VisitStatus.IN_EXAMINATION
    assert started.exam_started_at.replace(tzinfo=None) == first.replace(tzinfo=None)
    exam.save_soap(db, doctor, visit.id, {"subjective": "Batuk"}, now=first + timedelta(minutes=5))
    exam.start_examination(db, doctor, visit.id, now=first + timedelta(minutes=6))
    db.commit()
    db.expire_all()
    again = db.get(Visit, visit.id)
    assert again.exam_started_at.replace(tzinfo=None) == first.replace(tzinfo=None)
    assert _audits(db, "exam_start") == 1


def test_mulai_periksa_starts_without_any_data(db, visit, nurse):
    exam.start_examination(db, nurse, visit.id)
    db.commit()
    assert db.get(Visit, visit.id).status == VisitStatus.IN_EXAMINATION


# ----- SOAP -----------------------------------------------------------------------------------
def test_soap_is_the_doctors_and_records_the_author(db, visit, nurse, doctor):
    with pytest.raises(PermissionDenied):
        exam.save_soap(db, nurse, visit.id, {"subjective": "x"})
    exam.save_soap(
        db,
        doctor,
        visit.id,
        {"subjective": " Batuk 3 hari ", "objective": "Faring hiperemis", "plan": "Obat"},
    )
    db.commit()
    row = db.exec(select(Examination).where(Examination.visit_id == visit.id)).one()
    assert row.subjective == "Batuk 3 hari" and row.assessment == ""
    assert row.soap_by_user_id == doctor.user_id
    assert _audits(db, "exam_soap") == 1


# ----- diagnoses ------------------------------------------------------------------------------
def _codes(db, visit_id) -> list[tuple[int, str]]:
    db.expire_all()
    return [(d.rank, d.icd10_code) for d in exam.diagnoses_of(db, visit_id)]


def test_first_diagnosis_is_primary_then_secondaries(db, visit, doctor):
    first = exam.add_diagnosis(db, doctor, visit.id, "j069")
    exam.add_diagnosis(db, doctor, visit.id, "E11.9")
    exam.add_diagnosis(db, doctor, visit.id, "I10")
    db.commit()
    assert first.icd10_code == "J06.9" and first.display
    assert _codes(db, visit.id) == [(1, "J06.9"), (2, "E11.9"), (3, "I10")]
    assert db.get(Visit, visit.id).status == VisitStatus.IN_EXAMINATION
    assert _audits(db, "diagnosis_add") == 3


def test_the_same_code_twice_and_unknown_codes_are_refused(db, visit, doctor):
    exam.add_diagnosis(db, doctor, visit.id, "J06.9")
    with pytest.raises(ValidationFailed) as twice:
        exam.add_diagnosis(db, doctor, visit.id, "j06.9")
    assert "sudah tercatat" in twice.value.errors["icd10"]
    with pytest.raises(ValidationFailed) as unknown:
        exam.add_diagnosis(db, doctor, visit.id, "Z99.99")
    assert "tidak dikenal" in unknown.value.errors["icd10"]
    with pytest.raises(ValidationFailed):
        exam.add_diagnosis(db, doctor, visit.id, "A00-A09")  # a block, not a diagnosis
    db.commit()
    assert _codes(db, visit.id) == [(1, "J06.9")]


def test_set_primary_and_remove_keep_ranks_one_to_n(db, visit, doctor):
    ids = [exam.add_diagnosis(db, doctor, visit.id, c).id for c in ("J06.9", "E11.9", "I10")]
    exam.set_primary(db, doctor, visit.id, ids[2])
    db.commit()
    assert _codes(db, visit.id) == [(1, "I10"), (2, "J06.9"), (3, "E11.9")]
    exam.remove_diagnosis(db, doctor, visit.id, ids[2])  # the primary: the next one moves up
    db.commit()
    assert _codes(db, visit.id) == [(1, "J06.9"), (2, "E11.9")]
    exam.remove_diagnosis(db, doctor, visit.id, ids[0])
    db.commit()
    assert _codes(db, visit.id) == [(1, "E11.9")]
    assert _audits(db, "diagnosis_primary") == 1 and _audits(db, "diagnosis_remove") == 2


def test_a_diagnosis_of_another_visit_cannot_be_touched(db, clinic, visit, doctor):
    branch, unit, room, doc, _ = clinic
    other = make_visit(db, branch, unit, room, doc, make_patient(db, branch), queue_number=2)
    foreign = exam.add_diagnosis(db, doctor, other.id, "J06.9")
    db.commit()
    with pytest.raises(NotFound):
        exam.remove_diagnosis(db, doctor, visit.id, foreign.id)
    with pytest.raises(NotFound):
        exam.set_primary(db, doctor, visit.id, foreign.id)


def test_a_visit_of_another_branch_is_not_found(db, visit, clinic):
    from tests.factories import make_branch

    other_branch = make_branch(db, "Cabang Lain")
    stranger = _actor(db, other_branch, Duty.DOKTER_UMUM, "dokterlain")
    with pytest.raises(NotFound):
        exam.add_diagnosis(db, stranger, visit.id, "J06.9")


# ----- procedures and prescriptions ------------------------------------------------------------
def test_procedures_need_a_description_and_a_well_formed_code_when_given(db, visit, doctor):
    with pytest.raises(ValidationFailed) as refused:
        exam.add_procedure(db, doctor, visit.id, {"code": "96-59x", "description": " "})
    assert set(refused.value.errors) == {"code", "description"}
    assert "2 angka" in refused.value.errors["code"]
    coded = exam.add_procedure(db, doctor, visit.id, {"code": "9659", "description": "Rawat luka"})
    free = exam.add_procedure(db, doctor, visit.id, {"description": "Nebulisasi"})
    db.commit()
    assert (coded.code, free.code) == ("96.59", "")
    exam.remove_procedure(db, doctor, visit.id, coded.id)
    db.commit()
    rows = db.exec(select(Procedure)).all()
    assert [p.description for p in rows] == ["Nebulisasi"]
    assert _audits(db, "procedure_add") == 2 and _audits(db, "procedure_remove") == 1


def test_a_procedure_code_outside_the_list_is_refused(db, visit, doctor):
    with pytest.raises(ValidationFailed) as refused:
        exam.add_procedure(db, doctor, visit.id, {"code": "13.34", "description": "Lain"})
    assert "tidak dikenal" in refused.value.errors["code"]
    assert "description" not in refused.value.errors


def test_a_listed_procedure_code_alone_takes_its_indonesian_name(db, visit, doctor):
    added = exam.add_procedure(db, doctor, visit.id, {"code": "86.59"})
    assert (added.code, added.description) == ("86.59", "Penjahitan luka")


def test_a_code_outside_the_primary_care_list_takes_its_english_title(db, visit, doctor):
    added = exam.add_procedure(db, doctor, visit.id, {"code": "4709"})
    assert (added.code, added.description) == ("47.09", "Other appendectomy")


def test_a_procedure_change_after_completion_goes_to_satusehat(db, visit, doctor, admin):
    """Coded procedures are in the visit's bundle: an admin's addition or removal of one on a
    visit SATUSEHAT holds queues the correction; a removed one that has a Procedure is kept
    to withdraw (entered-in-error). Uncoded ones are not sent, so they queue nothing."""
    held = exam.add_procedure(db, doctor, visit.id, {"code": "86.59", "description": "Hecting"})
    never_sent = exam.add_procedure(db, doctor, visit.id, {"code": "93.94"})
    free = exam.add_procedure(db, doctor, visit.id, {"description": "Edukasi"})
    row = db.get(Visit, visit.id)
    row.status, row.completed_at = VisitStatus.COMPLETE, utcnow()
    row.encounter_id, row.sync_status = "enc-1", SyncStatus.SENT
    held.resource_id = "proc-1"
    db.add_all([row, held])
    db.commit()

    exam.remove_procedure(db, admin, visit.id, free.id)  # uncoded: nothing to send
    db.commit()
    assert _jobs(db, visit.id) == 0 and db.get(Visit, visit.id).sync_revision == 0

    exam.remove_procedure(db, admin, visit.id, held.id, client_token="tab-1")
    exam.remove_procedure(db, admin, visit.id, never_sent.id)  # no Procedure: none to withdraw
    added = exam.add_procedure(db, admin, visit.id, {"code": "89.52"})
    db.commit()
    after = db.get(Visit, visit.id)
    assert after.sync_status == SyncStatus.SENDING and after.sync_revision == 3
    assert _jobs(db, visit.id) == 1
    (withdrawn,) = after.retracted
    assert withdrawn["type"] == "Procedure" and withdrawn["id"] == "proc-1"
    assert (withdrawn["code"], withdrawn["display"]) == ("86.59", "Hecting")
    assert withdrawn["performed_at"].endswith("+00:00")
    # Done during the visit: performed by its end, not at the time of the correction.
    assert added.performed_at == after.completed_at


def _jobs(db, visit_id: int) -> int:
    return db.exec(
        select(func.count())
        .select_from(SyncJob)
        .where(SyncJob.kind == JobKind.VISIT_SEND, SyncJob.subject_id == visit_id)
    ).one()


def test_a_nurse_records_vitals_only(db, visit, nurse):
    for call in (
        lambda: exam.add_diagnosis(db, nurse, visit.id, "J06.9"),
        lambda: exam.add_procedure(db, nurse, visit.id, {"description": "x"}),
    ):
        with pytest.raises(PermissionDenied):
            call()
    db.rollback()
    assert db.exec(select(Diagnosis)).first() is None


# ----- after completion ---------------------------------------------------------------------
def test_after_completion_only_admin_changes_the_examination(db, visit, nurse, doctor, admin):
    exam.add_diagnosis(db, doctor, visit.id, "J06.9")
    row = db.get(Visit, visit.id)
    row.status, row.completed_at = VisitStatus.COMPLETE, utcnow()
    db.add(row)
    db.commit()
    for actor, call in (
        (nurse, lambda a: exam.save_vitals(db, a, visit.id, {"temperature": "37"})),
        (doctor, lambda a: exam.save_soap(db, a, visit.id, {"plan": "kontrol"})),
        (doctor, lambda a: exam.add_diagnosis(db, a, visit.id, "E11.9")),
    ):
        with pytest.raises(PermissionDenied) as refused:
            call(actor)
        assert "Hanya admin" in refused.value.message
    db.rollback()
    exam.add_diagnosis(db, admin, visit.id, "E11.9")
    exam.save_vitals(db, admin, visit.id, {"temperature": "37"})
    db.commit()
    assert _codes(db, visit.id) == [(1, "J06.9"), (2, "E11.9")]
    assert db.get(Visit, visit.id).status == VisitStatus.COMPLETE


def test_vitals_record_the_employee_of_the_user_who_measured(db, clinic, visit, doctor):
    nurse, user = make_nurse(db, clinic[0], username="sheila")
    sheila = Actor(user.id, user.username, user.full_name, Duty.PERAWAT, clinic[0].id)
    exam.save_vitals(db, sheila, visit.id, {"pulse": "80"})
    db.commit()
    row = db.exec(select(Examination).where(Examination.visit_id == visit.id)).one()
    assert (row.vitals_by_id, row.vitals_by_user_id) == (nurse.id, user.id)
    # A user without an employee is recorded as the one who saved them, with nobody measuring.
    exam.save_vitals(db, doctor, visit.id, {"pulse": "82"})
    db.commit()
    db.refresh(row)
    assert (row.vitals_by_id, row.vitals_by_user_id) == (None, doctor.user_id)


def test_an_admins_correction_keeps_who_measured_the_vitals(db, clinic, visit, admin):
    nurse, user = make_nurse(db, clinic[0], username="sheila")
    sheila = Actor(user.id, user.username, user.full_name, Duty.PERAWAT, clinic[0].id)
    exam.save_vitals(db, sheila, visit.id, {"pulse": "80"})
    row = db.get(Visit, visit.id)
    row.status, row.completed_at = VisitStatus.COMPLETE, utcnow()
    db.add(row)
    db.commit()
    exam.save_vitals(db, admin, visit.id, {"pulse": "88"})
    db.commit()
    saved = db.exec(select(Examination).where(Examination.visit_id == visit.id)).one()
    assert (saved.pulse, saved.vitals_by_id, saved.vitals_by_user_id) == (88, nurse.id, user.id)


def test_a_cancelled_visit_cannot_be_examined(db, visit, doctor):
    row = db.get(Visit, visit.id)
    row.status = VisitStatus.CANCELLED
    db.add(row)
    db.commit()
    with pytest.raises(Exception, match="dibatalkan"):
        exam.save_soap(db, doctor, visit.id, {"subjective": "x"})
