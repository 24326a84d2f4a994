"""Resume: a patient's visits newest first, as cards, a page at a time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from klinikita.models import Patient, Visit
from klinikita.models.clinical import (
    Diagnosis,
    Examination,
    Prescription,
    Procedure,
    VisitStatus,
)
from klinikita.models.enums import Duty, Sex, SyncStatus
from klinikita.services.resume import patient_visits
from tests.factories import make_branch, make_clinic, make_completed_visit
from tests.pg import sqlite_and_postgresql

# On SQLite and on PostgreSQL (production).
db = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)


@pytest.fixture
def clinic(db):
    return make_clinic(db)


def _visit(db, clinic, number: int, minutes_ago: int, **changes) -> Visit:
    branch, unit, room, doctor, patient = clinic
    visit = make_completed_visit(
        db, branch, unit, room, doctor, patient, queue_number=number, minutes_ago=minutes_ago
    )
    for key, value in changes.items():
        setattr(visit, key, value)
    db.add(visit)
    db.commit()
    return visit


def test_visits_come_newest_first_with_everything_recorded(db, clinic):
    branch, unit, room, doctor, patient = clinic
    old = _visit(db, clinic, 1, 60 * 24 * 40, encounter_id="enc-old", sync_status=SyncStatus.SENT)
    new = _visit(db, clinic, 2, 10, sync_status=SyncStatus.FAILED, sync_error="Ditolak: kode")
    # A secondary diagnosis written before the primary: the primary still comes first.
    db.add(Diagnosis(visit_id=new.id, rank=2, icd10_code="R50.9", display="Demam"))
    db.add(Procedure(visit_id=new.id, code="96.04", description="Nebulisasi", note="2 kali"))
    db.add(
        Prescription(
            visit_id=new.id,
            medicine="Paracetamol 500 mg",
            form="tablet",
            quantity=10,
            dose="1 tablet",
            frequency="3 x sehari",
            duration_days=3,
            instructions="sesudah makan",
        )
    )
    db.commit()

    found = patient_visits(db, branch.id, patient.id, duty=Duty.ADMIN)

    assert found.total == 2 and found.page_count == 1
    assert found.patient.name == "Ardianto Putra" and found.patient.mrn == "000001"
    first, second = found.cards
    assert (first.visit_id, second.visit_id) == (new.id, old.id)
    assert [(d.code, d.primary) for d in first.diagnoses] == [("J06.9", True), ("R50.9", False)]
    # Staff read the Indonesian name, the ICD-10 English under it.
    assert first.diagnoses[0].display == "Infeksi saluran pernapasan atas akut"
    assert first.status == VisitStatus.COMPLETE and first.status_label == "selesai"
    assert first.unit == "Poli Umum" and first.room == "Ruang Periksa 1"
    assert first.doctor == "dr. Alexander"
    # No encounter yet: the sync state and its error instead.
    assert first.encounter_id == "" and first.sync_label == "gagal dikirim"
    assert first.sync_error == "Ditolak: kode"
    assert second.encounter_id == "enc-old"
    vitals = {v.label: v.value for v in first.vitals}
    assert vitals["Tekanan darah"] == "120/80 mmHg"
    assert vitals["Suhu"] == "36,8 °C" and vitals["Berat badan"] == "60,5 kg"
    assert vitals["Tinggi badan"] == "165 cm" and vitals["SpO2"] == "98 %"
    # Only the SOAP parts written are shown.
    assert [s.label for s in first.soap] == ["S (Subjektif)", "A (Asesmen)"]
    assert first.procedures == ["96.04 Nebulisasi (2 kali)"]
    assert first.prescriptions == [
        "Paracetamol 500 mg tablet, jumlah 10, 3 x sehari 1 tablet, 3 hari, sesudah makan"
    ]


def test_times_are_the_branch_local_time(db, clinic):
    branch, unit, room, doctor, patient = clinic
    visit = _visit(
        db,
        clinic,
        1,
        5,
        visit_date=date(2026, 11, 25),
        arrived_at=datetime(2026, 11, 25, 1, 30, tzinfo=UTC),
        completed_at=datetime(2026, 11, 25, 2, 15, tzinfo=UTC),
    )
    [card] = patient_visits(db, branch.id, patient.id, duty=Duty.ADMIN).cards
    assert card.visit_id == visit.id
    assert card.date_text == "25 Nov 2026"
    assert card.time_text == "08:30-09:15"  # WIB
    branch.timezone = "Asia/Jayapura"
    db.add(branch)
    db.commit()
    [card] = patient_visits(db, branch.id, patient.id, duty=Duty.ADMIN).cards
    assert card.time_text == "10:30-11:15"  # WIT


def test_pages_of_a_long_history(db, clinic):
    branch, unit, room, doctor, patient = clinic
    visits = [_visit(db, clinic, n, 60 * 24 * n) for n in range(1, 8)]  # n days ago
    newest_first = [v.id for v in visits]

    seen = []
    for page in (1, 2, 3):
        found = patient_visits(db, branch.id, patient.id, page=page, page_size=3, duty=Duty.ADMIN)
        assert found.total == 7 and found.page_count == 3 and found.page == page
        seen += [c.visit_id for c in found.cards]
    assert seen == newest_first
    # A page past the end shows the last page.
    assert patient_visits(db, branch.id, patient.id, page=9, page_size=3, duty=Duty.ADMIN).page == 3


def test_a_page_costs_the_same_queries_whatever_its_size(db, clinic):
    """No query per visit: the page's details are loaded with one query per table."""
    branch, unit, room, doctor, patient = clinic
    for n in range(1, 13):
        _visit(db, clinic, n, 60 * 24 * n)
    engine = db.get_bind()
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # noqa: ANN001, ARG001
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        # Fresh sessions: nothing comes from an earlier call's identity map.
        with Session(engine) as session:
            patient_visits(session, branch.id, patient.id, page_size=2, duty=Duty.ADMIN)
        small = len(statements)
        statements.clear()
        with Session(engine) as session:
            found = patient_visits(session, branch.id, patient.id, page_size=12, duty=Duty.ADMIN)
        large = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(found.cards) == 12
    assert large == small <= 11  # allergies: the active ones and those of the page


def test_a_patient_of_another_branch_is_not_shown(db, clinic):
    branch, unit, room, doctor, patient = clinic
    _visit(db, clinic, 1, 5)
    other = make_branch(db, "Klinik Lain")
    stranger = Patient(
        branch_id=other.id,
        mrn="000001",
        name="Orang Lain",
        sex=Sex.FEMALE,
        birth_date=date(1990, 1, 1),
    )
    db.add(stranger)
    db.commit()
    assert patient_visits(db, other.id, patient.id, duty=Duty.ADMIN).patient is None
    assert patient_visits(db, other.id, patient.id, duty=Duty.ADMIN).cards == []
    empty = patient_visits(db, other.id, stranger.id, duty=Duty.ADMIN)
    assert empty.patient.name == "Orang Lain" and empty.cards == [] and empty.total == 0


def _full_visit(db, clinic) -> Visit:
    visit = _visit(db, clinic, 1, 10, encounter_id="enc-1", payer="bpjs")
    db.add(Procedure(visit_id=visit.id, code="96.04", description="Nebulisasi"))
    db.add(Prescription(visit_id=visit.id, medicine="Amoxicillin 500 mg", quantity=15))
    db.commit()
    return visit


@pytest.mark.parametrize("duty", [Duty.PENDAFTARAN, Duty.PENDAFTARAN_KASIR])
def test_the_registration_desk_reads_the_visits_without_clinical_content(db, clinic, duty):
    branch, unit, room, doctor, patient = clinic
    visit = _full_visit(db, clinic)
    found = patient_visits(db, branch.id, patient.id, duty=duty)
    [card] = found.cards
    assert not found.clinical and not found.prescriptions
    # The administrative part of the visit stays.
    assert (card.visit_id, card.unit, card.doctor, card.payer) == (
        visit.id,
        "Poli Umum",
        "dr. Alexander",
        "BPJS",
    )
    assert card.encounter_id == "enc-1" and card.status_label == "selesai" and card.date_text
    # Nothing clinical left the server.
    assert card.diagnoses == [] and card.vitals == [] and card.soap == []
    assert card.procedures == [] and card.prescriptions == []
    assert "ISPA" not in repr(found) and "J06.9" not in repr(found)


@pytest.mark.parametrize("duty", [Duty.APOTEKER, Duty.ASISTEN_APOTEKER])
def test_the_pharmacy_reads_prescriptions_but_not_soap_or_diagnoses(db, clinic, duty):
    branch, unit, room, doctor, patient = clinic
    _full_visit(db, clinic)
    found = patient_visits(db, branch.id, patient.id, duty=duty)
    [card] = found.cards
    assert found.prescriptions and not found.clinical
    assert card.prescriptions == ["Amoxicillin 500 mg, jumlah 15"]
    assert card.diagnoses == [] and card.vitals == [] and card.soap == [] and card.procedures == []


@pytest.mark.parametrize("duty", [Duty.DOKTER_UMUM, Duty.PERAWAT, Duty.LOGIN_KLINIK])
def test_clinicians_read_everything(db, clinic, duty):
    branch, unit, room, doctor, patient = clinic
    _full_visit(db, clinic)
    [card] = patient_visits(db, branch.id, patient.id, duty=duty).cards
    assert card.diagnoses and card.vitals and card.soap and card.procedures and card.prescriptions


def test_a_duty_without_the_resume_is_refused(db, clinic):
    from klinikita.services.errors import PermissionDenied

    branch, unit, room, doctor, patient = clinic
    _full_visit(db, clinic)
    with pytest.raises(PermissionDenied):
        patient_visits(db, branch.id, patient.id, duty=Duty.KASIR)


def test_allergies_and_the_visit_s_other_satusehat_ids_are_shown(db, clinic):
    from klinikita.models.allergies import PatientAllergy

    branch, unit, room, doctor, patient = clinic
    visit = _visit(db, clinic, 1, 10, encounter_id="enc-1", sync_status=SyncStatus.SENT)
    db.add(Procedure(visit_id=visit.id, code="93.94", description="Nebulisasi",
                     resource_id="proc-1"))  # fmt: skip
    first = db.exec(select(Diagnosis).where(Diagnosis.visit_id == visit.id)).one()  # J06.9
    first.condition_id = "cond-1"
    db.add(Diagnosis(visit_id=visit.id, rank=2, icd10_code="R05"))  # not sent yet: no id
    exam = db.exec(select(Examination).where(Examination.visit_id == visit.id)).one()
    exam.observation_ids = {"8867-4": "obs-pulse", "8480-6": "obs-sys"}
    db.add(
        PatientAllergy(
            patient_id=patient.id,
            branch_id=branch.id,
            kind="substance",
            category="medication",
            code="764146007",
            display="Penisilin",
            severity="severe",
            reaction="sesak",
            recorded_visit_id=visit.id,
            recorded_at=datetime.now(UTC),
            resource_id="allergy-1",
        )  # fmt: skip
    )
    db.commit()
    found = patient_visits(db, branch.id, patient.id, duty=Duty.DOKTER_UMUM)
    [card] = found.cards
    assert card.allergies == ["Penisilin (Berat): sesak"]
    assert [(r.label, r.value) for r in card.resource_ids] == [
        ("Condition J06.9", "cond-1"),
        ("Observation tekanan darah sistolik", "obs-sys"),
        ("Observation nadi", "obs-pulse"),
        ("Procedure 93.94", "proc-1"),
        ("AllergyIntolerance Penisilin", "allergy-1"),
    ]
    assert [a["display"] for a in found.allergies] == ["Penisilin"]
    desk = patient_visits(db, branch.id, patient.id, duty=Duty.PENDAFTARAN)
    assert desk.allergies == [] and desk.cards[0].allergies == []


def test_drug_master_lines_show_their_number_ingredients_request_and_dispense_ids(db, clinic):
    from klinikita.models.clinical import PrescriptionIngredient
    from tests.prescribing_support import make_items

    branch, unit, room, doctor, patient = clinic
    visit = _visit(db, clinic, 1, 10, encounter_id="enc-1")
    items = make_items(db, branch)
    single = Prescription(visit_id=visit.id, line_no=1, item_id=items["ctm"].id,
                          medicine="CTM 4 mg tablet", form="Tablet", quantity=6,
                          dose="1 tablet", frequency="2 x sehari",
                          medication_request_id="mr-1",
                          medication_dispense_id="md-1")  # fmt: skip
    racikan = Prescription(visit_id=visit.id, line_no=2, is_compound=True, medicine="Puyer",
                           form="puyer", quantity=10, medication_request_id="mr-2")  # fmt: skip
    db.add_all([single, racikan])
    db.flush()
    db.add_all(
        [
            PrescriptionIngredient(prescription_id=racikan.id, item_id=items["paracetamol"].id,
                                   quantity=2, dose_text="100 mg"),
            PrescriptionIngredient(prescription_id=racikan.id, item_id=items["ctm"].id,
                                   quantity=1),
        ]
    )  # fmt: skip
    db.commit()
    [card] = patient_visits(db, branch.id, patient.id, duty=Duty.APOTEKER).cards
    assert card.prescriptions == [
        "R/1 CTM 4 mg tablet Tablet, jumlah 6, 2 x sehari 1 tablet · MedicationRequest mr-1"
        " · MedicationDispense md-1",
        "R/2 Puyer (racikan puyer), bahan: Paracetamol 500 mg tablet 2 tablet "
        "(tiap racikan 100 mg); CTM 4 mg tablet 1 tablet, jumlah 10 · MedicationRequest mr-2",
    ]
