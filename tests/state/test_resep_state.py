""" "Cetak resep", called as the browser calls it: the doctor from the exam page's documents
box and the pharmacist from the prescription review land on the resep's print page; the
pharmacist prints it (original, then SALINAN when pressed again), but no clinical letter;
a visit without prescription lines is refused with a message."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from klinikita.models import AuditLog, IssuedDocument
from klinikita.models.enums import Duty
from klinikita.services import documents
from klinikita.services.audit import Actor
from klinikita.services.errors import PermissionDenied
from klinikita.state.documents import DocumentIssueState, PrintState
from klinikita.state.pharmacy import PharmacyState
from tests.factories import make_clinic, make_completed_visit, make_user
from tests.state.conftest import logged_in, tab_at
from tests.state.test_documents_state import _url
from tests.support import pharmacy_data as ph


@pytest.fixture
def clinic(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    visit = make_completed_visit(db, branch, unit, room, doctor, patient)
    make_user(db, "dokter", branches=[branch], main_duty=Duty.DOKTER_UMUM)
    make_user(db, "apt.rina", branches=[branch], main_duty=Duty.APOTEKER)
    make_user(db, "kasir", branches=[branch], main_duty=Duty.KASIR)
    para = ph.item(db, branch, "Paracetamol 500 mg tablet")
    rx_ = ph.prescription(db, visit, [(para, 15, "3 x sehari", "1 tablet", "sesudah makan")])
    bare = make_completed_visit(db, branch, unit, room, doctor, patient, queue_number=2)
    return {"branch": branch, "visit": visit, "bare": bare, "rx": rx_}


def _print_page(db, root, username: str, doc_id: int) -> PrintState:  # noqa: ANN001
    tab_at(root, f"tab-print-{username}", f"/cetak?dok={doc_id}")
    page = logged_in(db, root, PrintState, username)
    page.load()
    return page


def test_doctor_prints_the_resep_from_the_exam_page(db, root, clinic):
    state = logged_in(db, root, DocumentIssueState, "dokter")
    url = _url(state.issue_prescription(str(clinic["visit"].id)))
    assert url.startswith("/cetak?dok=")
    doc = db.get(IssuedDocument, int(url.split("=")[1]))
    assert doc.kind == "resep" and doc.number.startswith("RSP/")
    db.commit()  # the test's own read ends before the next press writes
    # Pressed again with nothing changed: the same resep.
    assert _url(state.issue_prescription(str(clinic["visit"].id))) == url
    assert len(db.exec(select(IssuedDocument)).all()) == 1
    state.show_documents(clinic["visit"].id)
    assert [d["title"] for d in state.visit_documents] == ["Resep"]


def test_a_visit_without_lines_is_refused_with_a_message(db, root, clinic):
    state = logged_in(db, root, DocumentIssueState, "dokter")
    events = state.issue_prescription(str(clinic["bare"].id))
    assert _url(events) == ""
    assert "belum memiliki resep" in str(events)
    assert db.exec(select(IssuedDocument)).all() == []


def test_pharmacist_prints_the_resep_original_then_salinan(db, root, clinic):
    tab_at(root, "tab-apt", "/apotek")
    pharmacy = logged_in(db, root, PharmacyState, "apt.rina")
    pharmacy.load()
    pharmacy.open_dispense(str(clinic["rx"].dispense.id))
    url = _url(pharmacy.print_prescription())
    doc_id = int(url.split("=")[1])
    page = _print_page(db, root, "apt.rina", doc_id)
    assert page.problem == "" and page.title == "Resep" and page.paper == "A5"
    assert "R/" in page.html and "No. XV (15)" in page.html and not page.is_copy
    page.print_now()
    assert not page.is_copy and "SALINAN" not in page.html
    # The review's button again: the same resep, now a SALINAN.
    assert _url(pharmacy.print_prescription()) == url
    page = _print_page(db, root, "apt.rina", doc_id)
    assert page.is_copy
    assert asyncio.run(page.download_pdf()) is not None
    actions = db.exec(
        select(AuditLog.action).where(AuditLog.entity == "issued_document").order_by(AuditLog.id)
    ).all()
    assert actions == ["document_issue", "document_print", "document_reprint"]


def test_pharmacist_prints_no_clinical_letter_and_the_cashier_no_resep(db, root, clinic):
    user = make_user(db, "dr-2", branches=[clinic["branch"]], main_duty=Duty.DOKTER_UMUM)
    actor = Actor(user.id, user.username, user.full_name, Duty.DOKTER_UMUM, clinic["branch"].id)
    letter = documents.issue_referral(
        db, actor, clinic["visit"].id, documents.ReferralInput("RSUD", "", "Demam")
    )
    resep = documents.issue_prescription(db, actor, clinic["visit"].id)
    db.commit()
    page = _print_page(db, root, "apt.rina", letter.id)
    assert page.html == "" and "tidak berwenang" in page.problem
    page.doc_id = letter.id
    with pytest.raises(PermissionDenied):
        page.print_now()
    cashier = _print_page(db, root, "kasir", resep.id)
    assert cashier.html == "" and cashier.problem != ""
    cashier.doc_id = resep.id
    with pytest.raises(PermissionDenied):
        cashier.print_now()
    with pytest.raises(PermissionDenied):
        asyncio.run(cashier.download_pdf())
    db.expire_all()
    assert db.get(IssuedDocument, letter.id).print_count == 0
    assert db.get(IssuedDocument, resep.id).print_count == 0
