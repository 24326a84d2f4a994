"""Letters and the print page, called as the browser calls them: a doctor issues a sick-leave
letter from the exam page and lands on its print page; the first Cetak is the original, the
next one and every PDF after it say SALINAN and are audited; a desk duty is refused."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from klinikita.models import AuditLog, IssuedDocument
from klinikita.models.enums import Duty
from klinikita.services.errors import PermissionDenied
from klinikita.state.documents import DocumentIssueState, PrintState
from klinikita.state.resume import ResumeState
from tests.factories import make_clinic, make_completed_visit, make_user
from tests.state.conftest import logged_in, tab_at


@pytest.fixture
def clinic(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    doctor.sip_number = "SIP-DOK-77"
    db.add(doctor)
    db.commit()
    visit = make_completed_visit(db, branch, unit, room, doctor, patient)
    make_user(db, "dokter", branches=[branch], main_duty=Duty.DOKTER_UMUM)
    make_user(db, "perawat", branches=[branch], main_duty=Duty.PERAWAT)
    make_user(db, "daftar", branches=[branch], main_duty=Duty.PENDAFTARAN)
    return branch, patient, visit


def _url(events) -> str:  # noqa: ANN001
    """Where a handler's redirect goes."""
    for event in events if isinstance(events, list) else [events]:
        path = getattr(event, "args", None)
        if path:
            for name, value in path:
                if name._js_expr == "path":
                    return str(value).strip('"')
    return ""


def _issue_sick_leave(db, root, visit) -> tuple[DocumentIssueState, int]:  # noqa: ANN001
    state = logged_in(db, root, DocumentIssueState, "dokter")
    state.open_issue("sks", str(visit.id))
    day = visit.visit_date
    state.set_issue_field("start", day.strftime("%d/%m/%Y"))
    state.set_issue_field("end", (day + timedelta(days=1)).strftime("%d/%m/%Y"))
    state.set_include_diagnosis(True)
    events = state.issue()
    url = _url(events)
    assert url.startswith("/cetak?dok="), events
    return state, int(url.split("=")[1])


def test_doctor_issues_then_prints_original_then_salinan(db, root, clinic):
    branch, patient, visit = clinic
    issuer, doc_id = _issue_sick_leave(db, root, visit)
    assert issuer.issue_kind == "" and issuer.issue_errors == {}
    issuer.show_documents(visit.id)
    assert [d["id"] for d in issuer.visit_documents] == [str(doc_id)]
    assert issuer.visit_documents[0]["number"].startswith("SKS/")

    tab_at(root, "tab-print", f"/cetak?dok={doc_id}")
    page = logged_in(db, root, PrintState, "perawat")
    page.load()
    assert page.problem == "" and not page.is_copy
    assert "SIP-DOK-77" in page.html and branch.name.upper() in page.html.upper()
    assert patient.name in page.html and "SALINAN" not in page.html
    page.print_now()
    assert not page.is_copy and "SALINAN" not in page.html  # the original went to paper
    page.print_now()
    assert page.is_copy and "SALINAN" in page.html
    download = asyncio.run(page.download_pdf())
    assert download is not None
    db.expire_all()
    doc = db.get(IssuedDocument, doc_id)
    assert doc.print_count == 3
    actions = db.exec(
        select(AuditLog.action).where(AuditLog.entity == "issued_document").order_by(AuditLog.id)
    ).all()
    assert actions == ["document_issue", "document_print", "document_reprint", "document_reprint"]


def test_issue_errors_show_at_the_fields(db, root, clinic):
    _, _, visit = clinic
    state = logged_in(db, root, DocumentIssueState, "dokter")
    state.open_issue("rujukan", str(visit.id))
    state.issue()
    assert set(state.issue_errors) == {"destination", "reason"}
    assert state.issue_kind == "rujukan"  # the dialog stays open
    assert db.exec(select(IssuedDocument)).all() == []


def test_nurse_cannot_issue_and_desk_cannot_print(db, root, clinic):
    _, _, visit = clinic
    nurse = logged_in(db, root, DocumentIssueState, "perawat")
    with pytest.raises(PermissionDenied):
        nurse.open_issue("sks", str(visit.id))
    _, doc_id = _issue_sick_leave(db, root, visit)
    tab_at(root, "tab-desk", f"/cetak?dok={doc_id}")
    desk = logged_in(db, root, PrintState, "daftar")
    desk.load()
    assert desk.html == "" and desk.problem != ""
    desk.doc_id = doc_id
    with pytest.raises(PermissionDenied):
        desk.print_now()
    with pytest.raises(PermissionDenied):
        asyncio.run(desk.download_pdf())
    db.expire_all()
    assert db.get(IssuedDocument, doc_id).print_count == 0


def test_resume_print_numbers_the_page_and_opens_it(db, root, clinic):
    _, patient, _ = clinic
    tab_at(root, "tab-resume", f"/resume?pasien={patient.id}")
    resume = logged_in(db, root, ResumeState, "perawat")
    resume.load()
    assert resume.show_clinical
    url = _url(resume.print_with_letterhead())
    doc = db.get(IssuedDocument, int(url.split("=")[1]))
    assert doc.kind == "resume" and doc.number.startswith("RES/")
    assert doc.content["cards"][0]["soap"]
