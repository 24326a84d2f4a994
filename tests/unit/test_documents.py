"""Issued documents: numbers per kind, branch and month (never shared, even from two desks),
what each letter holds, who may issue and print them, SALINAN on every reprint (audited),
the letterhead's logo checks, and the licence and SIP numbers on the forms."""

from __future__ import annotations

import io
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image
from sqlmodel import Session, select

from klinikita.db import get_engine, make_engine
from klinikita.models import AuditLog, Branch, BranchLogo, Employee, IssuedDocument
from klinikita.models.clinical import Prescription, Procedure, VisitStatus
from klinikita.models.enums import Duty
from klinikita.services import documents, letterhead
from klinikita.services.audit import Actor
from klinikita.services.branches import BranchInput, update_branch
from klinikita.services.documents import ReferralInput, SickLeaveInput
from klinikita.services.employees import EmployeeInput, update_employee, validate
from klinikita.services.errors import NotFound, PermissionDenied, ValidationFailed
from klinikita.services.print_render import REFERRAL, RESUME, SICK_LEAVE
from tests.factories import make_branch, make_clinic, make_completed_visit, make_user, make_visit
from tests.pg import require_pg, temporary_pg_database
from tests.support.print_samples import TINY_PNG

NOW = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)  # 10:00 WIB


def _actor(user, branch, duty: str) -> Actor:
    return Actor(user.id, user.username, user.full_name, duty, branch.id)


@pytest.fixture
def clinic(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    doctor.sip_number = "SIP/446/2026/001"
    branch.license_number = "503/IZIN/2026/7"
    branch.address = "Jl. Sehat No. 1, Jakarta"
    db.add_all([doctor, branch])
    visit = make_completed_visit(db, branch, unit, room, doctor, patient, codes=("A01.0", "R50.9"))
    db.add(Procedure(visit_id=visit.id, code="89.03", description="Pemeriksaan menyeluruh"))
    db.add(Prescription(visit_id=visit.id, medicine="Paracetamol 500 mg", quantity=10))
    db.commit()
    dr = make_user(db, "dr-sari", branches=[branch], main_duty=Duty.DOKTER_UMUM)
    nurse = make_user(db, "ns-ani", branches=[branch], main_duty=Duty.PERAWAT)
    desk = make_user(db, "desk-budi", branches=[branch], main_duty=Duty.PENDAFTARAN)
    admin = make_user(db, "admin-a", branches=[branch], main_duty=Duty.ADMIN)
    return {
        "branch": branch,
        "unit": unit,
        "room": room,
        "doctor": doctor,
        "patient": patient,
        "visit": visit,
        "dr": _actor(dr, branch, Duty.DOKTER_UMUM),
        "nurse": _actor(nurse, branch, Duty.PERAWAT),
        "desk": _actor(desk, branch, Duty.PENDAFTARAN),
        "admin": _actor(admin, branch, Duty.ADMIN),
    }


def _days(visit, first: int, last: int) -> SickLeaveInput:
    start, end = visit.visit_date + timedelta(days=first), visit.visit_date + timedelta(days=last)
    return SickLeaveInput(start.strftime("%d/%m/%Y"), end.strftime("%d/%m/%Y"))


# ----- numbering -------------------------------------------------------------------------
def test_number_format_and_words():
    assert documents.format_number(SICK_LEAVE, date(2026, 12, 8), 1) == "SKS/2026/12/0001"
    assert documents.format_number(REFERRAL, date(2027, 1, 2), 12345) == "SR/2027/01/12345"
    assert documents.format_number(RESUME, date(2026, 3, 1), 7) == "RES/2026/03/0007"
    assert [documents.number_words(n) for n in (1, 3, 10, 11, 12, 19, 20, 21, 30)] == [
        "satu",
        "tiga",
        "sepuluh",
        "sebelas",
        "dua belas",
        "sembilan belas",
        "dua puluh",
        "dua puluh satu",
        "tiga puluh",
    ]


def test_numbers_count_per_kind_branch_and_month(db):
    a, b = make_branch(db, "Klinik A"), make_branch(db, "Klinik B")
    dec, jan = NOW, datetime(2027, 1, 1, 3, 0, tzinfo=UTC)
    got = [documents.next_number(db, a, SICK_LEAVE, dec) for _ in range(2)]
    got.append(documents.next_number(db, a, REFERRAL, dec))
    got.append(documents.next_number(db, b, SICK_LEAVE, dec))
    got.append(documents.next_number(db, a, SICK_LEAVE, jan))
    db.commit()
    assert got == [
        "SKS/2026/12/0001",
        "SKS/2026/12/0002",
        "SR/2026/12/0001",
        "SKS/2026/12/0001",
        "SKS/2027/01/0001",
    ]


def test_the_month_is_the_branchs_own(db):
    """31 Dec 20:00 UTC is already 1 Jan in Jakarta."""
    branch = make_branch(db)
    late = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    assert documents.next_number(db, branch, SICK_LEAVE, late) == "SKS/2027/01/0001"


def _race(url: str | None, branch_id: int, desks: int = 2, each: int = 10) -> list[str]:
    engine = get_engine() if url is None else make_engine(url)
    barrier = threading.Barrier(desks)
    got: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def desk() -> None:
        try:
            barrier.wait()
            for _ in range(each):
                with Session(engine) as session:
                    branch = session.get(Branch, branch_id)
                    number = documents.next_number(session, branch, SICK_LEAVE, NOW)
                    session.commit()
                with lock:
                    got.append(number)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=desk) for _ in range(desks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return got


def test_two_desks_never_share_a_number_sqlite(db):
    branch = make_branch(db)
    got = _race(None, branch.id)
    assert sorted(got) == [f"SKS/2026/12/{n:04d}" for n in range(1, 21)]


@pytest.mark.postgres
def test_two_desks_never_share_a_number_postgres():
    require_pg()
    from sqlmodel import SQLModel

    with temporary_pg_database() as url:
        engine = make_engine(url)
        SQLModel.metadata.create_all(engine)
        with Session(engine) as session:
            branch = make_branch(session)
            branch_id = branch.id
        got = _race(url, branch_id, desks=4, each=5)
        engine.dispose()
    assert sorted(got) == [f"SKS/2026/12/{n:04d}" for n in range(1, 21)]


# ----- issuing ---------------------------------------------------------------------------
def test_sick_leave_holds_days_doctor_and_optional_diagnosis(db, clinic):
    visit = clinic["visit"]
    doc = documents.issue_sick_leave(db, clinic["dr"], visit.id, _days(visit, 0, 2), now=NOW)
    db.commit()
    assert doc.number == "SKS/2026/12/0001"
    assert doc.content["days"] == 3 and doc.content["days_words"] == "tiga"
    assert doc.content["doctor"] == {"name": "dr. Alexander", "sip": "SIP/446/2026/001"}
    assert doc.content["diagnoses"] == []  # not asked for
    with_dx = SickLeaveInput(*_days(visit, 0, 0).__dict__.values())
    with_dx.include_diagnosis = True
    second = documents.issue_sick_leave(db, clinic["dr"], visit.id, with_dx, now=NOW)
    assert second.number == "SKS/2026/12/0002"
    # The Indonesian name where the list has one.
    assert second.content["diagnoses"][0].startswith("A01.0 Demam tifoid")
    audit = db.exec(select(AuditLog).where(AuditLog.action == "document_issue")).all()
    assert [a.after["number"] for a in audit] == ["SKS/2026/12/0001", "SKS/2026/12/0002"]


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [(2, 1, "end"), (0, 30, "end"), (8, 9, "start"), (-8, 0, "start")],
)
def test_sick_leave_days_are_checked(db, clinic, first, last, field):
    visit = clinic["visit"]
    with pytest.raises(ValidationFailed) as refused:
        documents.issue_sick_leave(db, clinic["dr"], visit.id, _days(visit, first, last))
    assert field in refused.value.errors
    bad = SickLeaveInput("31/02/2026", "")
    with pytest.raises(ValidationFailed) as refused:
        documents.issue_sick_leave(db, clinic["dr"], visit.id, bad)
    assert set(refused.value.errors) == {"start", "end"}


def test_referral_takes_the_record(db, clinic):
    data = ReferralInput("RSUD Tarakan", "Poli Penyakit Dalam", "Demam lebih dari 7 hari")
    doc = documents.issue_referral(db, clinic["dr"], clinic["visit"].id, data, now=NOW)
    c = doc.content
    assert doc.number == "SR/2026/12/0001"
    assert c["destination"] == "RSUD Tarakan" and c["destination_unit"] == "Poli Penyakit Dalam"
    assert [d["code"] for d in c["diagnoses"]] == ["A01.0", "R50.9"]
    assert c["diagnoses"][0]["primary"] and "tifoid" in c["diagnoses"][0]["name"].lower()
    assert c["anamnesis"] == "Batuk pilek 3 hari"
    assert "Tekanan darah 120/80 mmHg" in c["vitals"]
    assert any("Paracetamol" in t for t in c["therapy"])
    assert any("89.03" in t for t in c["therapy"])
    with pytest.raises(ValidationFailed) as refused:
        documents.issue_referral(db, clinic["dr"], clinic["visit"].id, ReferralInput(" ", "", ""))
    assert set(refused.value.errors) == {"destination", "reason"}


def test_only_doctors_issue_letters_for_examined_visits_of_their_branch(db, clinic):
    visit = clinic["visit"]
    for who in ("nurse", "desk"):
        with pytest.raises(PermissionDenied):
            documents.issue_sick_leave(db, clinic[who], visit.id, _days(visit, 0, 1))
    waiting = make_visit(
        db,
        clinic["branch"],
        clinic["unit"],
        clinic["room"],
        clinic["doctor"],
        clinic["patient"],
        queue_number=2,
    )
    assert waiting.status == VisitStatus.REGISTERED
    with pytest.raises(ValidationFailed):
        documents.issue_sick_leave(db, clinic["dr"], waiting.id, _days(waiting, 0, 1))
    other = make_branch(db, "Klinik Lain")
    elsewhere = Actor(clinic["dr"].user_id, "dr-sari", "Dr", Duty.DOKTER_UMUM, other.id)
    with pytest.raises(NotFound):
        documents.issue_sick_leave(db, elsewhere, visit.id, _days(visit, 0, 1))
    assert db.exec(select(IssuedDocument)).all() == []


def test_resume_is_numbered_and_holds_what_the_duty_reads(db, clinic):
    doc = documents.issue_resume(db, clinic["nurse"], clinic["patient"].id, now=NOW)
    assert doc.number == "RES/2026/12/0001"
    card = doc.content["cards"][0]
    assert card["soap"] and card["diagnoses"]
    with pytest.raises(PermissionDenied):
        documents.issue_resume(db, clinic["desk"], clinic["patient"].id)


# ----- printing --------------------------------------------------------------------------
def test_first_print_is_the_original_then_every_print_is_a_salinan(db, clinic):
    doc = documents.issue_sick_leave(
        db, clinic["dr"], clinic["visit"].id, _days(clinic["visit"], 0, 1)
    )
    db.commit()
    shown = documents.preview(db, clinic["nurse"], doc.id)
    assert not shown.copy and "SALINAN" not in shown.html
    first = documents.record_print(db, clinic["nurse"], doc.id)
    db.commit()
    assert not first.copy and "SALINAN" not in first.html
    assert "SIP/446/2026/001" in first.html and "503/IZIN/2026/7" in first.html
    assert "SKS/" in first.html and "dicetak" in first.html
    again = documents.record_print(db, clinic["dr"], doc.id, pdf=True)
    db.commit()
    assert again.copy and "SALINAN" in again.html and again.filename.endswith("-SALINAN.pdf")
    assert documents.preview(db, clinic["dr"], doc.id).copy
    db.refresh(doc)
    assert doc.print_count == 2
    rows = db.exec(
        select(AuditLog).where(AuditLog.entity == "issued_document").order_by(AuditLog.id)
    ).all()
    assert [r.action for r in rows] == ["document_issue", "document_print", "document_reprint"]
    assert rows[2].after["format"] == "pdf" and rows[2].after["print_count"] == 2


def test_printing_needs_view_clinical_in_the_documents_branch(db, clinic):
    doc = documents.issue_sick_leave(
        db, clinic["dr"], clinic["visit"].id, _days(clinic["visit"], 0, 1)
    )
    db.commit()
    with pytest.raises(PermissionDenied):
        documents.record_print(db, clinic["desk"], doc.id)
    with pytest.raises(PermissionDenied):
        documents.preview(db, clinic["desk"], doc.id)
    other = make_branch(db, "Klinik Lain")
    elsewhere = Actor(clinic["admin"].user_id, "admin-a", "A", Duty.ADMIN, other.id)
    with pytest.raises(NotFound):
        documents.record_print(db, elsewhere, doc.id)
    db.refresh(doc)
    assert doc.print_count == 0


def test_text_is_escaped_in_the_html(db, clinic):
    data = ReferralInput("<script>alert(1)</script> RS", "", "nyeri <b>hebat</b>")
    doc = documents.issue_referral(db, clinic["dr"], clinic["visit"].id, data)
    db.commit()
    html = documents.preview(db, clinic["dr"], doc.id).html
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "<b>hebat" not in html


# ----- the letterhead --------------------------------------------------------------------
def _image(fmt: str, size=(40, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "navy").save(out, fmt)
    return out.getvalue()


def test_logo_is_png_or_jpeg_of_at_most_512_kb(db, clinic):
    admin, branch = clinic["admin"], clinic["branch"]
    assert letterhead.logo_problem(_image("PNG")) is None
    assert letterhead.logo_mime(_image("JPEG")) == "image/jpeg"
    for bad in (_image("GIF"), _image("BMP"), b"<svg xmlns='http://www.w3.org/2000/svg'/>", b""):
        assert letterhead.logo_problem(bad) == letterhead.LOGO_WRONG_TYPE
    assert letterhead.logo_problem(b"\x89PNG" + b"0" * letterhead.LOGO_MAX_BYTES) == (
        letterhead.LOGO_TOO_BIG
    )
    assert letterhead.logo_problem(_image("PNG", (5000, 10))) == letterhead.LOGO_WRONG_TYPE
    with pytest.raises(ValidationFailed) as refused:
        letterhead.save_logo(db, admin, branch.id, b"GIF89a not really")
    assert "logo" in refused.value.errors
    with pytest.raises(PermissionDenied):
        letterhead.save_logo(db, clinic["dr"], branch.id, TINY_PNG)
    letterhead.save_logo(db, admin, branch.id, TINY_PNG)
    db.commit()
    head = letterhead.letterhead_for(db, branch.id)
    assert head.logo.startswith("data:image/png;base64,")
    assert head.license_number == "503/IZIN/2026/7"
    letterhead.remove_logo(db, admin, branch.id)
    db.commit()
    assert db.get(BranchLogo, branch.id) is None
    actions = db.exec(select(AuditLog.action).where(AuditLog.entity == "branch_logo")).all()
    assert actions == ["update", "delete"]


def test_licence_number_and_sip_are_saved_from_the_forms(db, clinic):
    admin, branch = clinic["admin"], clinic["branch"]
    data = BranchInput(
        name=branch.name,
        facility_type=branch.facility_type,
        timezone=branch.timezone,
        license_number="  503/ 9 /2026  ",
    )
    update_branch(db, admin, branch.id, data)
    db.commit()
    assert db.get(Branch, branch.id).license_number == "503/ 9 /2026"
    doctor: Employee = clinic["doctor"]
    form = EmployeeInput(
        name=doctor.name,
        nik=doctor.nik,
        main_duty=doctor.main_duty,
        branch_id=branch.id,
        sip_number=" SIP 123 ",
    )
    update_employee(db, admin, doctor.id, form)
    db.commit()
    assert db.get(Employee, doctor.id).sip_number == "SIP 123"
    form.sip_number = "x" * 81
    assert "sip_number" in validate(db, admin, form, employee_id=doctor.id)
