"""Issued documents: surat keterangan sakit, surat rujukan, the resep and the resume,
numbered per kind per branch and month ("SKS/2026/12/0001"), stored with everything they
print, and printed (the first time as the original, every later time marked SALINAN and
audited).

Issuing a letter is a doctor's act (EXAM_MEDICAL) for a visit of the active branch that was
examined; the resep is the doctor's or the pharmacy's (EXAM_MEDICAL or DISPENSE_RECORD); the
resume is a copy of the record (VIEW_CLINICAL). Printing or downloading a document needs
VIEW_CLINICAL in the document's branch, the resep VIEW_PRESCRIPTION (what the pharmacy
dispenses against).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select, update

from klinikita.models import (
    Branch,
    Diagnosis,
    DocumentCounter,
    DrugItem,
    Employee,
    Examination,
    IssuedDocument,
    Patient,
    Prescription,
    PrescriptionIngredient,
    Procedure,
    Visit,
)
from klinikita.models.allergies import AllergyKind
from klinikita.models.base import utcnow
from klinikita.models.clinical import VisitStatus
from klinikita.models.enums import Sex
from klinikita.services import allergies, audit, icd10
from klinikita.services.dates import parse_typed_date
from klinikita.services.dispensing import signa
from klinikita.services.errors import NotFound, PermissionDenied, ValidationFailed
from klinikita.services.letterhead import letterhead_for
from klinikita.services.permissions import Action, allows, require
from klinikita.services.print_render import (
    DOCUMENT_KINDS,
    PRESCRIPTION,
    REFERRAL,
    RESUME,
    SICK_LEAVE,
    DocumentKind,
    Rendered,
    render,
)
from klinikita.services.resume import (
    patient_visits,
    prescription_text,
    procedure_text,
    vitals_lines,
)
from klinikita.services.text_input import take_text
from klinikita.services.visit_queue import branch_zone

MONTHS_LONG = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip
# The longest sick leave one letter grants, and how far from the visit it may start.
SICK_LEAVE_MAX_DAYS = 30
SICK_LEAVE_START_WINDOW = timedelta(days=7)
ENTITY = "issued_document"


def long_date(value: date | None) -> str:
    """8 Desember 2026."""
    return f"{value.day} {MONTHS_LONG[value.month - 1]} {value.year}" if value else ""


_ONES = (
    "", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan",
    "sepuluh", "sebelas",
)  # fmt: skip


def number_words(n: int) -> str:
    """0 <= n < 100 in Indonesian words: 3 -> "tiga", 14 -> "empat belas", 21 -> "dua
    puluh satu" (a letter writes its days as "3 (tiga) hari")."""
    if not 0 <= n < 100:
        raise ValueError(n)
    if n == 0:
        return "nol"
    if n < 12:
        return _ONES[n]
    if n < 20:
        return f"{_ONES[n - 10]} belas"
    tens, ones = divmod(n, 10)
    head = "sepuluh" if tens == 1 else f"{_ONES[tens]} puluh"
    return f"{head} {_ONES[ones]}".strip()


_ROMAN = (
    (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
    (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
)  # fmt: skip


def roman_numeral(n: int) -> str:
    """1 <= n < 4000 in Roman numerals, as a resep writes its quantities: 15 -> "XV",
    40 -> "XL", 1999 -> "MCMXCIX" (ValueError outside that range)."""
    if isinstance(n, bool) or not isinstance(n, int) or not 0 < n < 4000:
        raise ValueError(n)
    out = []
    for value, letters in _ROMAN:
        count, n = divmod(n, value)
        out.append(letters * count)
    return "".join(out)


# ----- numbering -----------------------------------------------------------------------
def period_of(on: date) -> str:
    return f"{on.year}/{on.month:02d}"


def format_number(kind: DocumentKind, on: date, seq: int) -> str:
    """SKS/2026/12/0001: the kind's prefix, the year and month it was issued, the sequence
    of that kind in the branch that month (at least four digits)."""
    return f"{kind.prefix}/{period_of(on)}/{seq:04d}"


def _next_seq(session: Session, branch_id: int, kind: str, period: str) -> int:
    """Increment the counter in the caller's transaction: the UPDATE locks the row
    (PostgreSQL) or the database (SQLite) until the commit, so no two documents share a
    number."""
    stmt = (
        update(DocumentCounter)
        .where(
            DocumentCounter.branch_id == branch_id,
            DocumentCounter.kind == kind,
            DocumentCounter.period == period,
        )
        .values(last_seq=DocumentCounter.last_seq + 1)
        .returning(DocumentCounter.last_seq)
    )
    seq = session.execute(stmt).scalar_one_or_none()
    if seq is not None:
        return seq
    try:
        with session.begin_nested():
            session.add(DocumentCounter(branch_id=branch_id, kind=kind, period=period, last_seq=1))
        return 1
    except IntegrityError:  # another desk made the month's row at the same moment
        return session.execute(stmt).scalar_one()


def next_number(
    session: Session, branch: Branch, kind: DocumentKind, now: datetime | None = None
) -> str:
    """The next number of `kind` in `branch`, for the branch's local month of `now`."""
    on = (now or utcnow()).astimezone(branch_zone(branch)).date()
    return format_number(kind, on, _next_seq(session, branch.id, kind.code, period_of(on)))


# ----- what the letters say ------------------------------------------------------------
def _age(born: date | None, on: date) -> str:
    if born is None:
        return ""
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if years >= 1:
        return f"{years} tahun"
    months = (on.year - born.year) * 12 + on.month - born.month - (on.day < born.day)
    return f"{max(months, 0)} bulan"


def _patient_block(patient: Patient, on: date) -> dict[str, str]:
    try:
        sex = Sex(patient.sex).label
    except ValueError:
        sex = patient.sex or ""
    address = patient.street
    if patient.rt or patient.rw:
        address = f"{address} RT {patient.rt or '-'}/RW {patient.rw or '-'}".strip()
    return {
        "name": patient.name,
        "mrn": patient.mrn,
        "birth_date": long_date(patient.birth_date),
        "age": _age(patient.birth_date, on),
        "sex": sex,
        "address": address,
    }


def _doctor_block(doctor: Employee | None) -> dict[str, str]:
    return {"name": doctor.name if doctor else "", "sip": doctor.sip_number if doctor else ""}


def _diagnoses(session: Session, visit_id: int) -> list[dict]:
    """The visit's diagnoses by rank, with the Indonesian name where the list has one."""
    rows = session.exec(
        select(Diagnosis)
        .where(Diagnosis.visit_id == visit_id)
        .order_by(Diagnosis.rank, Diagnosis.id)
    ).all()
    return [
        {
            "code": d.icd10_code,
            "name": icd10.shown_names(d.icd10_code, d.display)[0],
            "primary": d.rank == 1,
        }
        for d in rows
    ]


@dataclass
class _VisitFacts:
    visit: Visit
    branch: Branch
    patient: Patient
    doctor: Employee | None


def _examined_visit(session: Session, actor: audit.Actor, visit_id: int) -> _VisitFacts:
    """A visit of the active branch that has been examined (NotFound / ValidationFailed)."""
    require(actor.duty, Action.EXAM_MEDICAL)
    visit = session.get(Visit, visit_id)
    if visit is None or visit.branch_id != actor.branch_id:
        raise NotFound("Kunjungan tidak ditemukan di cabang aktif.")
    if visit.status not in (VisitStatus.IN_EXAMINATION, VisitStatus.COMPLETE):
        raise ValidationFailed(
            {"visit": "Surat hanya bisa dibuat untuk kunjungan yang sudah diperiksa."}
        )
    branch = session.get(Branch, visit.branch_id)
    patient = session.get(Patient, visit.patient_id)
    return _VisitFacts(visit, branch, patient, session.get(Employee, visit.doctor_id))


def _common(facts: _VisitFacts, now: datetime) -> dict:
    today = now.astimezone(branch_zone(facts.branch)).date()
    return {
        "patient": _patient_block(facts.patient, facts.visit.visit_date),
        "doctor": _doctor_block(facts.doctor),
        "exam_date": long_date(facts.visit.visit_date),
        "issued_date": long_date(today),
    }


@dataclass
class SickLeaveInput:
    """The dialog's fields as typed: dates as day/month/year."""

    start: str
    end: str
    include_diagnosis: bool = False


def sick_leave_days(data: SickLeaveInput, visit_date: date) -> tuple[date, date]:
    """The leave's first and last day, or ValidationFailed on `start` / `end`."""
    errors: dict[str, str] = {}
    start, end = parse_typed_date(data.start or ""), parse_typed_date(data.end or "")
    if start is None:
        errors["start"] = "Isi tanggal mulai istirahat (hari/bulan/tahun)."
    if end is None:
        errors["end"] = "Isi tanggal selesai istirahat (hari/bulan/tahun)."
    if start and end:
        if end < start:
            errors["end"] = "Tanggal selesai tidak boleh sebelum tanggal mulai."
        elif (end - start).days + 1 > SICK_LEAVE_MAX_DAYS:
            errors["end"] = f"Istirahat paling lama {SICK_LEAVE_MAX_DAYS} hari per surat."
        if abs(start - visit_date) > SICK_LEAVE_START_WINDOW:
            errors["start"] = "Tanggal mulai paling jauh 7 hari dari tanggal pemeriksaan."
    if errors:
        raise ValidationFailed(errors)
    return start, end


def _issue(
    session: Session,
    actor: audit.Actor,
    kind: DocumentKind,
    branch: Branch,
    content: dict,
    *,
    visit_id: int | None,
    patient_id: int | None,
    now: datetime,
) -> IssuedDocument:
    doc = IssuedDocument(
        branch_id=branch.id,
        kind=kind.code,
        number=next_number(session, branch, kind, now),
        visit_id=visit_id,
        patient_id=patient_id,
        content=content,
        issued_by=actor.user_id,
        issued_by_name=actor.full_name or actor.username,
        issued_at=now,
    )
    session.add(doc)
    session.flush()
    audit.record(
        session,
        actor,
        "document_issue",
        ENTITY,
        doc.id,
        after={"kind": kind.code, "number": doc.number, "visit_id": visit_id},
        branch_id=branch.id,
    )
    return doc


def issue_sick_leave(
    session: Session,
    actor: audit.Actor,
    visit_id: int,
    data: SickLeaveInput,
    *,
    now: datetime | None = None,
) -> IssuedDocument:
    """A surat keterangan sakit for an examined visit, signed by the visit's doctor; the
    diagnosis is printed only when the doctor chooses so."""
    facts = _examined_visit(session, actor, visit_id)
    start, end = sick_leave_days(data, facts.visit.visit_date)
    now = now or utcnow()
    days = (end - start).days + 1
    content = _common(facts, now) | {
        "start": long_date(start),
        "end": long_date(end),
        "start_iso": start.isoformat(),
        "end_iso": end.isoformat(),
        "days": days,
        "days_words": number_words(days),
        "diagnoses": [f"{d['code']} {d['name']}" for d in _diagnoses(session, visit_id)]
        if data.include_diagnosis
        else [],
    }
    return _issue(
        session, actor, SICK_LEAVE, facts.branch, content,
        visit_id=visit_id, patient_id=facts.patient.id, now=now,
    )  # fmt: skip


@dataclass
class ReferralInput:
    destination: str  # the facility referred to (rumah sakit, puskesmas, ...)
    destination_unit: str = ""  # its poli or specialist, when known
    reason: str = ""


def _referral_fields(data: ReferralInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    out = {
        "destination": take_text(
            errors, "destination", data.destination, label="Fasilitas tujuan",
            max_length=150, required=True, collapse_spaces=True,
        ),
        "destination_unit": take_text(
            errors, "destination_unit", data.destination_unit, label="Poli/spesialis tujuan",
            max_length=100, collapse_spaces=True,
        ),
        "reason": take_text(
            errors, "reason", data.reason, label="Alasan dirujuk",
            max_length=1000, required=True, multiline=True,
        ),
    }  # fmt: skip
    if errors:
        raise ValidationFailed(errors)
    return out


def issue_referral(
    session: Session,
    actor: audit.Actor,
    visit_id: int,
    data: ReferralInput,
    *,
    now: datetime | None = None,
) -> IssuedDocument:
    """A surat rujukan for an examined visit: where to, why, and from the record the
    diagnoses (Indonesian names), the anamnesis, the examination and the therapy given."""
    facts = _examined_visit(session, actor, visit_id)
    fields = _referral_fields(data)
    now = now or utcnow()
    exam = session.exec(select(Examination).where(Examination.visit_id == visit_id)).first()
    procedures = session.exec(
        select(Procedure).where(Procedure.visit_id == visit_id).order_by(Procedure.id)
    ).all()
    prescriptions = session.exec(
        select(Prescription).where(Prescription.visit_id == visit_id).order_by(Prescription.id)
    ).all()
    content = (
        _common(facts, now)
        | fields
        | {
            "diagnoses": _diagnoses(session, visit_id),
            "anamnesis": (exam.subjective or "").strip() if exam else "",
            "exam": (exam.objective or "").strip() if exam else "",
            "vitals": [f"{v.label} {v.value}" for v in vitals_lines(exam)],
            "therapy": [procedure_text(p) for p in procedures]
            + [prescription_text(p) for p in prescriptions],
        }
    )
    return _issue(
        session, actor, REFERRAL, facts.branch, content,
        visit_id=visit_id, patient_id=facts.patient.id, now=now,
    )  # fmt: skip


# ----- the resep ------------------------------------------------------------------------
# How a racikan of each form (services/prescribing.COMPOUND_FORMS) is made: powders and
# capsules are divided doses ("dtd": every piece holds the amounts listed), an ointment or
# a syrup is mixed whole.
_COMPOUND_MAKE = {
    "puyer": ("pulv.", True),
    "kapsul": ("caps.", True),
    "salep": ("ungt.", False),
    "sirup": ("sir.", False),
}


def resep_quantity(quantity: float | None) -> str:
    """'No. XV (15)': how many, in Roman numerals and then in digits; a number Roman
    numerals do not write (a fraction, 4000 or more) in digits alone; '' when none."""
    if quantity is None or quantity <= 0:
        return ""
    if float(quantity).is_integer() and quantity < 4000:
        whole = int(quantity)
        return f"No. {roman_numeral(whole)} ({whole})"
    return f"No. {quantity:g}"


def _with(name: str, *parts: str) -> str:
    """`name` followed by each part it does not already say ("Paracetamol 500 mg tablet"
    needs neither "500 mg" nor "Tablet" again)."""
    text = name.strip()
    for part in parts:
        part = (part or "").strip()
        if part and part.casefold() not in text.casefold():
            text = f"{text} {part}"
    return text


def _resep_lines(session: Session, visit_id: int) -> list[dict]:
    """The visit's prescription lines as the resep prints them, by line number: the item
    (name, strength, form), "No. XV (15)", the signa; a racikan its ingredients with what
    each piece holds and how it is made ("m.f. pulv. dtd No. X (10)")."""
    lines = session.exec(
        select(Prescription)
        .where(Prescription.visit_id == visit_id)
        .order_by(Prescription.line_no, Prescription.id)
    ).all()
    ids = [p.id for p in lines]
    parts: dict[int, list[dict[str, str]]] = {}
    if ids:
        for ing, item in session.exec(
            select(PrescriptionIngredient, DrugItem)
            .join(DrugItem, DrugItem.id == PrescriptionIngredient.item_id)
            .where(PrescriptionIngredient.prescription_id.in_(ids))
            .order_by(PrescriptionIngredient.id)
        ).all():
            parts.setdefault(ing.prescription_id, []).append(
                {
                    "name": _with(item.name, item.strength),
                    "amount": ing.dose_text.strip() or f"{ing.quantity} {item.unit} (seluruhnya)",
                }
            )
    item_ids = {p.item_id for p in lines if p.item_id}
    items = (
        {i.id: i for i in session.exec(select(DrugItem).where(DrugItem.id.in_(item_ids))).all()}
        if item_ids
        else {}
    )
    out = []
    for p in lines:
        how = signa(p)
        row = {
            "no": p.line_no,
            "compound": p.is_compound,
            "signa": f"S. {how}" if how else "",
            "ingredients": parts.get(p.id, []),
        }
        if p.is_compound:
            shape, divided = _COMPOUND_MAKE.get(p.form, (p.form, False))
            made = " ".join(x for x in ("m.f.", shape, "dtd" if divided else "") if x)
            row |= {
                "item": p.medicine,
                "quantity": "",
                "make": f"{made} {resep_quantity(p.quantity)}".strip(),
            }
        else:
            item = items.get(p.item_id) if p.item_id else None
            name = _with(p.medicine, item.strength if item else "", p.form.lower())
            row |= {"item": name, "quantity": resep_quantity(p.quantity), "make": ""}
        out.append(row)
    return out


def _allergy_text(session: Session, patient_id: int) -> str:
    """The patient's active allergies ("Amoxicillin (ruam, berat); Udang"), "Tidak ada
    alergi", or "" when nothing was ever recorded."""
    rows = allergies.active_rows(session, patient_id)
    if rows and all(r.kind == AllergyKind.NONE for r in rows):
        return allergies.NO_KNOWN_ALLERGY_LABEL
    texts = []
    for r in rows:
        if r.kind == AllergyKind.NONE:
            continue
        notes = [
            x for x in (r.reaction.strip(), allergies.SEVERITY_LABELS.get(r.severity, "")) if x
        ]
        texts.append(f"{r.display} ({', '.join(notes).lower()})" if notes else r.display)
    return "; ".join(texts)


def _require_resep_issuer(duty: str) -> None:
    """The doctor (EXAM_MEDICAL) or the pharmacy (DISPENSE_RECORD) issues a resep."""
    if not (allows(duty, Action.EXAM_MEDICAL) or allows(duty, Action.DISPENSE_RECORD)):
        raise PermissionDenied(
            "Resep dicetak oleh dokter atau petugas apotek. Ganti tugas atau hubungi admin."
        )


def issue_prescription(
    session: Session, actor: audit.Actor, visit_id: int, *, now: datetime | None = None
) -> IssuedDocument:
    """The resep of a visit of the active branch that has prescription lines, signed by the
    visit's doctor (EXAM_MEDICAL or DISPENSE_RECORD). When a resep of the visit was issued
    and everything it prints is still the same, that document is returned (its next print
    is a SALINAN); after a change to the prescription (or the patient's allergies or
    weight) a new one is issued with a new number."""
    _require_resep_issuer(actor.duty)
    visit = session.get(Visit, visit_id, with_for_update=True)
    if visit is None or visit.branch_id != actor.branch_id:
        raise NotFound("Kunjungan tidak ditemukan di cabang aktif.")
    if visit.status == VisitStatus.CANCELLED:
        raise ValidationFailed({"visit": "Kunjungan ini dibatalkan; resep tidak dicetak."})
    lines = _resep_lines(session, visit_id)
    if not lines:
        raise ValidationFailed({"visit": "Kunjungan ini belum memiliki resep."})
    branch = session.get(Branch, visit.branch_id)
    patient = session.get(Patient, visit.patient_id)
    exam = session.exec(select(Examination).where(Examination.visit_id == visit_id)).first()
    weight = next((v.value for v in vitals_lines(exam) if v.label == "Berat badan"), "")
    content = {
        "patient": _patient_block(patient, visit.visit_date),
        "doctor": _doctor_block(session.get(Employee, visit.doctor_id)),
        "exam_date": long_date(visit.visit_date),
        # The resep is dated the day it was written: the signature says so too.
        "issued_date": long_date(visit.visit_date),
        "weight": weight,
        "allergies": _allergy_text(session, patient.id),
        "lines": lines,
    }
    last = session.exec(
        select(IssuedDocument)
        .where(
            IssuedDocument.visit_id == visit_id,
            IssuedDocument.branch_id == visit.branch_id,
            IssuedDocument.kind == PRESCRIPTION.code,
        )
        .order_by(IssuedDocument.id.desc())
    ).first()
    if last is not None and last.content == content:
        return last
    return _issue(
        session, actor, PRESCRIPTION, branch, content,
        visit_id=visit_id, patient_id=patient.id, now=now or utcnow(),
    )  # fmt: skip


def issue_resume(
    session: Session,
    actor: audit.Actor,
    patient_id: int,
    page: int = 1,
    *,
    now: datetime | None = None,
) -> IssuedDocument:
    """The resume's page `page` of a patient of the active branch, as the reader's duty may
    read it, numbered for print (VIEW_CLINICAL)."""
    require(actor.duty, Action.VIEW_CLINICAL)
    found = patient_visits(session, actor.branch_id, patient_id, page, duty=actor.duty)
    if found.patient is None:
        raise NotFound("Pasien tidak ditemukan di cabang aktif.")
    patient = session.get(Patient, patient_id)
    branch = session.get(Branch, actor.branch_id)
    now = now or utcnow()
    content = {
        "patient": _patient_block(patient, now.astimezone(branch_zone(branch)).date()),
        "issued_date": long_date(now.astimezone(branch_zone(branch)).date()),
        "page": found.page,
        "page_count": found.page_count,
        "total": found.total,
        "scope_note": "" if found.prescriptions else "Resep tidak ditampilkan untuk tugas ini.",
        "cards": [
            {
                k: v
                for k, v in asdict(card).items()
                if k not in {"sync_detail", "sync_error", "sync_status", "sync_label"}
            }
            for card in found.cards
        ],
    }
    return _issue(
        session, actor, RESUME, branch, content, visit_id=None, patient_id=patient_id, now=now
    )


# ----- printing ------------------------------------------------------------------------
@dataclass(frozen=True)
class DocumentRow:
    id: int
    kind: str
    title: str
    number: str
    issued_at: str
    print_count: int


# What reading (printing, downloading) a document needs, per kind: the resep is what the
# pharmacy dispenses against (prescriptions and allergies); every other kind is clinical.
_READ_ACTION = {PRESCRIPTION.code: Action.VIEW_PRESCRIPTION}


def read_action(kind: str) -> Action:
    """The action that reads (prints) a document of `kind`."""
    return _READ_ACTION.get(kind, Action.VIEW_CLINICAL)


def may_read_documents(duty: str) -> bool:
    """Whether `duty` may read some kind of document (the print page opens at all)."""
    return any(allows(duty, a) for a in {Action.VIEW_CLINICAL, *_READ_ACTION.values()})


def _printable(
    session: Session, actor: audit.Actor, doc_id: int, *, lock: bool = False
) -> IssuedDocument:
    """The document, if the actor may read its kind in its branch."""
    if not may_read_documents(actor.duty):
        require(actor.duty, Action.VIEW_CLINICAL)  # raises, naming the duty
    doc = session.get(IssuedDocument, doc_id, with_for_update=lock)
    if doc is None or doc.branch_id != actor.branch_id or doc.kind not in DOCUMENT_KINDS:
        raise NotFound("Dokumen tidak ditemukan di cabang aktif.")
    require(actor.duty, read_action(doc.kind))
    return doc


def _rendered(session: Session, doc: IssuedDocument, *, copy: bool, now: datetime) -> Rendered:
    branch = session.get(Branch, doc.branch_id)
    zone = branch_zone(branch)
    local = now.astimezone(zone)
    printed_at = f"{long_date(local.date())} {local:%H:%M} {local.tzname() or ''}".strip()
    return render(
        doc.kind,
        letterhead=letterhead_for(session, doc.branch_id),
        content=doc.content,
        number=doc.number,
        printed_at=printed_at,
        copy=copy,
    )


def preview(
    session: Session, actor: audit.Actor, doc_id: int, *, now: datetime | None = None
) -> Rendered:
    """The document as its next print will look (SALINAN once it has been printed); reading
    it prints nothing and changes nothing."""
    doc = _printable(session, actor, doc_id)
    return _rendered(session, doc, copy=doc.print_count > 0, now=now or utcnow())


def record_print(
    session: Session,
    actor: audit.Actor,
    doc_id: int,
    *,
    pdf: bool = False,
    now: datetime | None = None,
) -> Rendered:
    """Count one print (or PDF download) of the document and return what goes to paper: the
    first is the original, every later one is marked SALINAN. Audited either way."""
    doc = _printable(session, actor, doc_id, lock=True)
    now = now or utcnow()
    copy = doc.print_count > 0
    before = {"print_count": doc.print_count}
    doc.print_count += 1
    doc.last_printed_at = now
    audit.record(
        session,
        actor,
        "document_reprint" if copy else "document_print",
        ENTITY,
        doc.id,
        before=before,
        after={
            "print_count": doc.print_count,
            "number": doc.number,
            "kind": doc.kind,
            "format": "pdf" if pdf else "kertas",
        },
        branch_id=doc.branch_id,
    )
    return _rendered(session, doc, copy=copy, now=now)


def visit_documents(session: Session, actor: audit.Actor, visit_id: int) -> list[DocumentRow]:
    """The documents issued for a visit of the active branch, newest first."""
    require(actor.duty, Action.VIEW_CLINICAL)
    docs = session.exec(
        select(IssuedDocument)
        .where(IssuedDocument.visit_id == visit_id, IssuedDocument.branch_id == actor.branch_id)
        .order_by(IssuedDocument.id.desc())
    ).all()
    branch = session.get(Branch, actor.branch_id)
    zone = branch_zone(branch)
    return [
        DocumentRow(
            id=d.id,
            kind=d.kind,
            title=DOCUMENT_KINDS[d.kind].title if d.kind in DOCUMENT_KINDS else d.kind,
            number=d.number,
            issued_at=f"{d.issued_at.astimezone(zone):%d/%m/%Y %H:%M}",
            print_count=d.print_count,
        )
        for d in docs
    ]
