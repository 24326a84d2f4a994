"""The resep: Roman numerals, what it prints ("R/" lines, "No. XV (15)", the signa, a
racikan's ingredients and "m.f. pulv. dtd No. X (10)", weight and allergies), who may issue
and print it (the doctor and the pharmacy, not the cashier), reuse while the prescription
is unchanged and a new number after a change, and the branch it belongs to."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from klinikita.models import (
    AuditLog,
    Examination,
    IssuedDocument,
    PatientAllergy,
    Prescription,
)
from klinikita.models.allergies import AllergyKind
from klinikita.models.clinical import VisitStatus
from klinikita.models.enums import Duty
from klinikita.services import documents
from klinikita.services.audit import Actor
from klinikita.services.errors import NotFound, PermissionDenied, ValidationFailed
from klinikita.services.print_render import PRESCRIPTION
from tests.factories import make_branch, make_clinic, make_completed_visit, make_user
from tests.support import pharmacy_data as data

NOW = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)


def _actor(db, branch, username: str, duty: str) -> Actor:
    user = make_user(db, username, branches=[branch], main_duty=duty)
    return Actor(user.id, user.username, user.full_name, duty, branch.id)


@pytest.fixture
def clinic(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    doctor.sip_number = "SIP/446/2026/001"
    db.add(doctor)
    visit = make_completed_visit(db, branch, unit, room, doctor, patient)
    amox = data.item(db, branch, "Amoxicillin 500 mg kapsul", unit="kapsul")
    amox.strength, amox.form_name = "500 mg", "Kapsul"
    ambroxol = data.item(db, branch, "Ambroxol", unit="tablet")
    ambroxol.strength = "30 mg"
    pct = data.item(db, branch, "Paracetamol 500 mg tablet")
    ctm = data.item(db, branch, "CTM 4 mg tablet")
    rx = data.prescription(
        db,
        visit,
        [
            (amox, 15, "3 x sehari", "1 kapsul", "sesudah makan"),
            (ambroxol, 10, "3 x sehari", "1 tablet", ""),
        ],
        compounds=[("Puyer batuk anak", 10, [(pct, 3, "125 mg"), (ctm, 1, "0,5 mg")])],
    )
    rx.lines[0].form = "Kapsul"  # as prescribing writes it: the item's form name
    db.add(rx.lines[0])
    db.add(
        PatientAllergy(
            patient_id=patient.id,
            branch_id=branch.id,
            kind=AllergyKind.SUBSTANCE,
            display="Udang",
            reaction="Gatal",
            severity="moderate",
            recorded_at=NOW,
        )
    )
    db.commit()
    return {
        "branch": branch,
        "unit": unit,
        "room": room,
        "doctor": doctor,
        "patient": patient,
        "visit": visit,
        "rx": rx,
        "dr": _actor(db, branch, "dr-sari", Duty.DOKTER_UMUM),
        "apoteker": _actor(db, branch, "apt-rina", Duty.APOTEKER),
        "asisten": _actor(db, branch, "aa-tono", Duty.ASISTEN_APOTEKER),
        "kasir": _actor(db, branch, "kasir-dewi", Duty.KASIR),
        "perawat": _actor(db, branch, "ns-ani", Duty.PERAWAT),
    }


def test_roman_numerals():
    expected = {
        1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "VI", 9: "IX", 10: "X", 14: "XIV",
        15: "XV", 19: "XIX", 20: "XX", 30: "XXX", 40: "XL", 44: "XLIV", 49: "XLIX", 50: "L",
        60: "LX", 90: "XC", 99: "XCIX", 100: "C", 400: "CD", 1999: "MCMXCIX", 3999: "MMMCMXCIX",
    }  # fmt: skip
    assert {n: documents.roman_numeral(n) for n in expected} == expected
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
    seen = set()
    for n in range(1, 101):
        text = documents.roman_numeral(n)
        # Read back (a smaller letter before a larger one subtracts): the same number.
        total = sum(
            -values[c] if i + 1 < len(text) and values[c] < values[text[i + 1]] else values[c]
            for i, c in enumerate(text)
        )
        assert total == n and text not in seen and "IIII" not in text and "XXXX" not in text
        seen.add(text)
    for bad in (0, -1, 4000, 1.5, True):
        with pytest.raises(ValueError):
            documents.roman_numeral(bad)
    assert documents.resep_quantity(15) == "No. XV (15)"
    assert documents.resep_quantity(10.0) == "No. X (10)"
    assert documents.resep_quantity(2.5) == "No. 2.5"
    assert documents.resep_quantity(None) == documents.resep_quantity(0) == ""


def test_resep_prints_the_lines_the_patient_and_the_doctor(db, clinic):
    doc = documents.issue_prescription(db, clinic["dr"], clinic["visit"].id, now=NOW)
    db.commit()
    assert doc.kind == "resep" and doc.number == "RSP/2026/12/0001"
    assert doc.visit_id == clinic["visit"].id and doc.patient_id == clinic["patient"].id
    c = doc.content
    assert c["doctor"] == {"name": "dr. Alexander", "sip": "SIP/446/2026/001"}
    assert c["patient"]["name"] == "Ardianto Putra" and c["patient"]["mrn"] == "000001"
    assert c["patient"]["age"].endswith("tahun")
    assert c["weight"] == "60,5 kg"
    assert c["allergies"] == "Udang (gatal, sedang)"
    amox, ambroxol, puyer = c["lines"]
    assert amox == {
        "no": 1,
        "compound": False,
        "item": "Amoxicillin 500 mg kapsul",  # strength and form not said twice
        "quantity": "No. XV (15)",
        "signa": "S. 3 x sehari 1 kapsul sesudah makan",
        "ingredients": [],
        "make": "",
    }
    assert ambroxol["item"] == "Ambroxol 30 mg tablet" and ambroxol["quantity"] == "No. X (10)"
    assert ambroxol["signa"] == "S. 3 x sehari 1 tablet"
    assert puyer["compound"] and puyer["item"] == "Puyer batuk anak"
    assert puyer["ingredients"] == [
        {"name": "Paracetamol 500 mg tablet", "amount": "125 mg"},
        {"name": "CTM 4 mg tablet", "amount": "0,5 mg"},
    ]
    assert puyer["make"] == "m.f. pulv. dtd No. X (10)"
    assert puyer["signa"] == "S. 3 x sehari 1 bungkus sesudah makan"
    html = documents.preview(db, clinic["apoteker"], doc.id).html
    for text in ("Resep", "RSP/2026/12/0001", "R/", "No. XV (15)", "m.f. pulv. dtd No. X (10)",
                 "SIP/446/2026/001", "60,5 kg", "Udang (gatal, sedang)"):  # fmt: skip
        assert text in html, text
    audits = db.exec(select(AuditLog).where(AuditLog.entity == "issued_document")).all()
    assert [(a.action, a.after["kind"]) for a in audits] == [("document_issue", "resep")]


def test_capsules_and_unrecorded_weight_and_allergies(db, clinic):
    """A racikan in capsules is "m.f. caps. dtd"; no weight, no allergy recorded: no row."""
    branch, visit = clinic["branch"], clinic["visit"]
    puyer = db.exec(select(Prescription).where(Prescription.is_compound)).one()
    puyer.form = "kapsul"
    db.add(puyer)
    other = make_completed_visit(
        db, branch, clinic["unit"], clinic["room"], clinic["doctor"], clinic["patient"],
        queue_number=2,
    )  # fmt: skip
    db.commit()
    doc = documents.issue_prescription(db, clinic["dr"], visit.id, now=NOW)
    assert doc.content["lines"][2]["make"] == "m.f. caps. dtd No. X (10)"
    db.exec(select(PatientAllergy)).one().active = False
    db.exec(select(Examination).where(Examination.visit_id == other.id)).one().weight = None
    db.add(Prescription(visit_id=other.id, medicine="Oralit", form="sachet", quantity=5))
    db.commit()
    plain = documents.issue_prescription(db, clinic["dr"], other.id, now=NOW)
    assert plain.content["weight"] == "" and plain.content["allergies"] == ""
    assert plain.content["lines"][0]["item"] == "Oralit sachet"
    html = documents.preview(db, clinic["dr"], plain.id).html
    assert "Berat badan" not in html and "Alergi" not in html


def test_reused_while_unchanged_new_number_after_a_change(db, clinic):
    visit = clinic["visit"]
    first = documents.issue_prescription(db, clinic["dr"], visit.id, now=NOW)
    db.commit()
    documents.record_print(db, clinic["dr"], first.id, now=NOW)
    db.commit()
    db.expire_all()
    again = documents.issue_prescription(db, clinic["apoteker"], visit.id, now=NOW)
    db.commit()
    assert again.id == first.id  # the same resep: its next print is a SALINAN
    assert documents.preview(db, clinic["apoteker"], again.id).copy
    line = db.exec(select(Prescription).where(Prescription.line_no == 2)).one()
    line.quantity = 20
    db.add(line)
    db.commit()
    changed = documents.issue_prescription(db, clinic["apoteker"], visit.id, now=NOW)
    db.commit()
    assert changed.id != first.id and changed.number == "RSP/2026/12/0002"
    assert changed.content["lines"][1]["quantity"] == "No. XX (20)"
    assert not documents.preview(db, clinic["apoteker"], changed.id).copy
    issued = db.exec(select(AuditLog).where(AuditLog.action == "document_issue")).all()
    assert len(issued) == 2  # the reuse issued nothing


def test_doctor_and_pharmacy_issue_the_cashier_does_not(db, clinic):
    visit_id = clinic["visit"].id
    for who in ("dr", "apoteker", "asisten"):
        assert documents.issue_prescription(db, clinic[who], visit_id, now=NOW).kind == "resep"
    with pytest.raises(PermissionDenied, match="dokter atau petugas apotek"):
        documents.issue_prescription(db, clinic["kasir"], visit_id, now=NOW)
    assert len(db.exec(select(IssuedDocument)).all()) == 1


def test_pharmacy_prints_the_resep_but_no_clinical_letter(db, clinic):
    visit_id = clinic["visit"].id
    resep = documents.issue_prescription(db, clinic["apoteker"], visit_id, now=NOW)
    letter = documents.issue_referral(
        db, clinic["dr"], visit_id, documents.ReferralInput("RSUD", "", "Demam")
    )
    db.commit()
    assert not documents.record_print(db, clinic["apoteker"], resep.id).copy
    assert documents.record_print(db, clinic["perawat"], resep.id).copy
    for duty in ("apoteker", "asisten"):
        with pytest.raises(PermissionDenied):
            documents.preview(db, clinic[duty], letter.id)
        with pytest.raises(PermissionDenied):
            documents.record_print(db, clinic[duty], letter.id)
    for action in (documents.preview, documents.record_print):
        with pytest.raises(PermissionDenied):
            action(db, clinic["kasir"], resep.id)
    db.refresh(letter)
    assert letter.print_count == 0


def test_refused_without_lines_cancelled_or_in_another_branch(db, clinic):
    branch = clinic["branch"]
    bare = make_completed_visit(
        db, branch, clinic["unit"], clinic["room"], clinic["doctor"], clinic["patient"],
        queue_number=2,
    )  # fmt: skip
    with pytest.raises(ValidationFailed) as failed:
        documents.issue_prescription(db, clinic["dr"], bare.id, now=NOW)
    assert failed.value.errors == {"visit": "Kunjungan ini belum memiliki resep."}
    clinic["visit"].status = VisitStatus.CANCELLED
    db.add(clinic["visit"])
    db.commit()
    with pytest.raises(ValidationFailed):
        documents.issue_prescription(db, clinic["dr"], clinic["visit"].id, now=NOW)
    other = make_branch(db, "Klinik Lain")
    elsewhere = Actor(clinic["dr"].user_id, "dr-sari", "", Duty.DOKTER_UMUM, other.id)
    with pytest.raises(NotFound):
        documents.issue_prescription(db, elsewhere, clinic["visit"].id, now=NOW)
    with pytest.raises(NotFound):
        documents.issue_prescription(db, clinic["dr"], 999_999, now=NOW)
    assert db.exec(select(IssuedDocument)).all() == []


def test_resep_is_registered_on_a5():
    assert PRESCRIPTION.code == "resep" and PRESCRIPTION.prefix == "RSP"
    assert PRESCRIPTION.paper == "A5" and PRESCRIPTION.signed_by_doctor
