"""What the Pemeriksaan page reads of one visit."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from klinikita.models import SyncJob, Visit
from klinikita.models.enums import Duty, SyncStatus
from klinikita.models.satusehat import JobKind
from klinikita.services import examination as exam
from klinikita.services import prescribing
from klinikita.services.audit import Actor
from klinikita.services.errors import NotFound
from klinikita.services.examination_view import visit_record
from tests.factories import make_branch, make_clinic, make_user, make_visit
from tests.pg import sqlite_and_postgresql
from tests.prescribing_support import compound, make_items, single_line

db = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)


def committed_read(db, read, *args, **kwargs):  # noqa: ANN001, ANN201
    """`read(session, *args, **kwargs)` in a session of its own once `db`'s work is
    committed, as the page reads."""
    db.commit()
    with Session(db.get_bind()) as session:
        return read(session, *args, **kwargs)


def test_the_record_shows_values_as_staff_type_them(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    visit = make_visit(db, branch, unit, room, doctor, patient, queue_number=7)
    user = make_user(db, "dokter", branches=[branch], main_duty=Duty.DOKTER_UMUM)
    actor = Actor(user.id, user.username, user.full_name, Duty.DOKTER_UMUM, branch.id)
    exam.save_vitals(db, actor, visit.id, {"temperature": "36,5", "weight": "70"})
    exam.add_diagnosis(db, actor, visit.id, "E11.9")
    exam.add_diagnosis(db, actor, visit.id, "I10")
    items = make_items(db, branch)
    prescribing.add_line(db, actor, visit.id, single_line(items["paracetamol"]))
    prescribing.add_compound(db, actor, visit.id, compound([items["paracetamol"], items["ctm"]]))
    exam.add_procedure(db, actor, visit.id, {"description": "Nebulisasi", "note": "2 kali"})
    exam.save_soap(db, actor, visit.id, {"subjective": "Batuk", "plan": "Kontrol 3 hari"})
    record = committed_read(db, visit_record, branch.id, visit.id)
    assert record.queue_number == 7 and record.patient_name == patient.name
    assert record.status_label == "diperiksa" and record.exam_started_time
    assert record.vitals["temperature"] == "36,5" and record.vitals["weight"] == "70"
    assert record.vitals["systolic"] == ""
    assert [(d["code"], d["primary"]) for d in record.diagnoses] == [("E11.9", "1"), ("I10", "")]
    single, racikan = record.prescriptions
    assert (single["line_no"], single["quantity"], single["unit"], single["route"]) == (
        "1",
        "10",
        "tablet",
        "O",
    )
    assert (racikan["compound"], racikan["form"], racikan["quantity"]) == ("1", "puyer", "10")
    assert racikan["ingredients"] == (
        "Paracetamol 500 mg tablet 2 tablet (tiap racikan 1/5 tablet); "
        "CTM 4 mg tablet 2 tablet (tiap racikan 1/5 tablet)"
    )
    assert record.age.endswith("th") and record.sex_label == "Laki-laki"
    assert [(p["description"], p["note"]) for p in record.procedures] == [("Nebulisasi", "2 kali")]
    assert record.soap == {
        "subjective": "Batuk",
        "objective": "",
        "assessment": "",
        "plan": "Kontrol 3 hari",
    }
    assert record.vitals_time and record.sync_waiting == ""
    # A click reads back only the lists it changed; the others are None, not empty.
    after_vitals = committed_read(db, visit_record, branch.id, visit.id, lists=())
    assert after_vitals.vitals == record.vitals and after_vitals.soap == record.soap
    assert (after_vitals.diagnoses, after_vitals.procedures, after_vitals.prescriptions) == (
        None,
        None,
        None,
    )
    after_diagnosis = committed_read(db, visit_record, branch.id, visit.id, lists=("diagnoses",))
    assert after_diagnosis.diagnoses == record.diagnoses and after_diagnosis.procedures is None


def test_a_fresh_visit_has_empty_forms_and_a_waiting_job_says_what_it_waits_for(db):
    clinic = make_clinic(db)
    visit = make_visit(db, *clinic)
    fresh = committed_read(db, visit_record, clinic[0].id, visit.id)
    assert set(fresh.vitals.values()) == {""} and set(fresh.soap.values()) == {""}
    assert fresh.vitals_time == "" and fresh.diagnoses == [] and fresh.status_label == "menunggu"
    row = db.get(Visit, visit.id)
    row.sync_status = SyncStatus.SENDING
    db.add(row)
    db.add(
        SyncJob(
            kind=JobKind.VISIT_SEND,
            branch_id=clinic[0].id,
            subject_type="visit",
            subject_id=visit.id,
            waiting_for="patient_ihs",
        )
    )
    sending = committed_read(db, visit_record, clinic[0].id, visit.id)
    assert sending.sync_status == SyncStatus.SENDING and sending.sync_waiting == "patient_ihs"


def test_a_visit_of_another_branch_is_not_shown(db):
    clinic = make_clinic(db)
    visit = make_visit(db, *clinic)
    other = make_branch(db, "Cabang Lain")
    with pytest.raises(NotFound):
        committed_read(db, visit_record, other.id, visit.id)
