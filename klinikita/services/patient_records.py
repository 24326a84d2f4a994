"""Registering and changing patients: validation, duplicates, No. RM, IHS lookup job."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from klinikita.models import Branch, Patient, SyncJob
from klinikita.models.base import utcnow
from klinikita.models.enums import Sex, SyncStatus
from klinikita.models.people import normalize_name
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.services import audit, mrn, newborns, outbox, regions, versions
from klinikita.services.dates import BIRTH_DATE_FORMAT, parse_typed_date
from klinikita.services.errors import NotFound, ServiceError, ValidationFailed
from klinikita.services.nik import nik_problem, nik_warning
from klinikita.services.permissions import Action, require
from klinikita.services.text_input import ascii_digits, take_digits, take_text

ENTITY = "patient"
NO_NIK_HELP = (
    "NIK wajib diisi, kecuali untuk bayi baru lahir, WNA, atau pasien tanpa NIK "
    "(centang salah satu dan isi alasannya)."
)


@dataclass
class PatientInput:
    """The form as typed (strings and flags); validated by `validate`."""

    name: str = ""
    birth_date: str = ""  # as typed: 17/08/1990 (services/dates.py)
    sex: str = ""
    nik: str = ""
    kk_number: str = ""
    bpjs_number: str = ""
    phone: str = ""
    province_code: str = ""
    city_code: str = ""
    district_code: str = ""
    village_code: str = ""
    street: str = ""
    rt: str = ""
    rw: str = ""
    is_newborn: bool = False
    is_foreigner: bool = False
    no_nik: bool = False
    no_nik_reason: str = ""
    mother_nik: str = ""  # a newborn's (services/newborns.py)
    birth_order: str = ""  # "Kembar ke-": empty for a single birth


@dataclass
class Clean:
    """Validated values, ready to store."""

    values: dict
    warnings: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SimilarPatient:
    id: int
    mrn: str
    name: str
    birth_date: str


class SimilarPatientsFound(ServiceError):
    """Same name and birth date already registered: the user confirms before saving."""

    def __init__(self, matches: list[SimilarPatient]) -> None:
        super().__init__(
            "Sudah ada pasien dengan nama dan tanggal lahir yang sama. Periksa dulu; bila "
            "memang orang yang berbeda, pilih Tetap simpan."
        )
        self.matches = matches


BPJS_DIGITS = 13


def take_bpjs_number(errors: dict[str, str], field: str, value: object) -> str:
    """A BPJS Kesehatan card number as typed: "" when empty, else exactly 13 ASCII digits
    (spaces typed between groups removed); a wrong one sets `errors[field]` and gives ""."""
    number = take_digits(errors, field, value, label="No. BPJS")
    if number and len(number) != BPJS_DIGITS:
        errors[field] = f"No. BPJS harus tepat {BPJS_DIGITS} digit angka (tertera di kartu)."
        return ""
    return number


def normalize_phone(phone: str) -> str:
    """Digits only, with a leading + kept: what search compares."""
    phone = (phone or "").strip()
    plus = phone.startswith("+")
    digits = "".join(c for c in phone if c.isdigit())
    return ("+" if plus and digits else "") + digits


def validate(session: Session, data: PatientInput) -> Clean:
    """Check the form; raises ValidationFailed with a message per wrong field."""
    errors: dict[str, str] = {}
    warnings: dict[str, str] = {}
    name = take_text(
        errors,
        "name",
        data.name,
        label="Nama pasien",
        max_length=150,
        required=True,
        collapse_spaces=True,
    )

    born = parse_typed_date(data.birth_date)
    if not take_text(errors, "birth_date", data.birth_date, label="Tanggal lahir", max_length=40):
        errors.setdefault("birth_date", "Tanggal lahir wajib diisi.")
    elif born is None:
        errors["birth_date"] = BIRTH_DATE_FORMAT
    elif born > date.today():
        errors["birth_date"] = "Tanggal lahir tidak boleh di masa depan."
    elif born.year < 1900:
        errors["birth_date"] = "Tanggal lahir terlalu lampau."

    if data.sex not in {s.value for s in Sex}:
        errors["sex"] = "Pilih jenis kelamin."

    nik = take_digits(errors, "nik", data.nik, label="NIK")
    exempt = data.is_newborn or data.is_foreigner or data.no_nik
    reason = take_text(
        errors,
        "no_nik_reason",
        data.no_nik_reason,
        label="Alasan",
        max_length=200,
        collapse_spaces=True,
    )
    if nik:
        problem = nik_problem(nik)
        if problem:
            errors["nik"] = problem
        else:
            warning = nik_warning(nik, birth_date=born, sex=data.sex or None)
            if warning:
                warnings["nik"] = warning
    elif not exempt:
        errors.setdefault("nik", NO_NIK_HELP)
    elif not reason and not data.is_newborn:  # a newborn gives its mother's NIK instead
        errors.setdefault("no_nik_reason", "Tulis alasan pasien belum/tidak memiliki NIK.")

    kk = take_digits(errors, "kk_number", data.kk_number, label="No. KK")
    if kk and len(kk) != 16:
        errors["kk_number"] = "No. KK harus tepat 16 digit angka."

    bpjs = take_bpjs_number(errors, "bpjs_number", data.bpjs_number)

    phone_typed = take_digits(errors, "phone", data.phone, label="Nomor telepon", allowed="+-().")
    phone = normalize_phone(phone_typed)
    if phone_typed and not 8 <= len(phone.lstrip("+")) <= 15:
        errors["phone"] = "Nomor telepon 8 sampai 15 digit."

    rt_rw: dict[str, str] = {}
    for key, label in (("rt", "RT"), ("rw", "RW")):
        raw = getattr(data, key).strip() if isinstance(getattr(data, key), str) else ""
        if raw and (not ascii_digits(raw) or len(raw) > 3):
            errors[key] = f"{label} berupa angka, paling banyak 3 digit (misalnya 003)."
        rt_rw[key] = raw.zfill(3) if raw and key not in errors else ""
    street = take_text(
        errors, "street", data.street, label="Alamat jalan", max_length=300, collapse_spaces=True
    )

    codes = [data.province_code, data.city_code, data.district_code, data.village_code]
    chain = regions.chain_problem(session, codes)
    if chain:
        errors[chain[0]] = chain[1]

    mother_nik, birth_order = None, 0
    if data.is_newborn:
        mother = take_digits(errors, "mother_nik", data.mother_nik, label="NIK ibu")
        birth_order = newborns.take_birth_order(errors, "birth_order", data.birth_order)
        newborns.check_newborn(
            errors,
            warnings,
            nik=nik,
            mother_nik=mother,
            kk_number=kk,
            born=born,
            village_code=data.village_code if isinstance(data.village_code, str) else "",
            today=date.today(),
        )
        mother_nik = mother or None

    if errors:
        raise ValidationFailed(errors)
    return Clean(
        values={
            "name": name,
            "birth_date": born,
            "sex": data.sex,
            "nik": nik or None,
            "kk_number": kk or None,
            "bpjs_number": bpjs or None,
            "phone": phone,
            "province_code": data.province_code or None,
            "city_code": data.city_code or None,
            "district_code": data.district_code or None,
            "village_code": data.village_code or None,
            "street": street,
            "rt": rt_rw["rt"],
            "rw": rt_rw["rw"],
            "is_newborn": data.is_newborn,
            "mother_nik": mother_nik,
            "birth_order": birth_order,
            "is_foreigner": data.is_foreigner,
            "no_nik_reason": reason,
        },
        warnings=warnings,
    )


def same_nik(
    session: Session, branch_id: int, nik: str, *, except_id: int | None = None
) -> Patient | None:
    stmt = select(Patient).where(
        Patient.branch_id == branch_id, Patient.nik == nik, Patient.is_active.is_(True)
    )
    if except_id is not None:
        stmt = stmt.where(Patient.id != except_id)
    return session.exec(stmt.limit(1)).first()


def same_name_and_birth_date(
    session: Session, branch_id: int, name: str, born: date
) -> list[SimilarPatient]:
    rows = session.exec(
        select(Patient)
        .where(
            Patient.branch_id == branch_id,
            Patient.name_norm == normalize_name(name),
            Patient.birth_date == born,
            Patient.is_active.is_(True),
        )
        .limit(5)
    ).all()
    return [SimilarPatient(p.id, p.mrn, p.name, p.birth_date.isoformat()) for p in rows]


def _duplicate_nik_error(existing: Patient) -> ValidationFailed:
    return ValidationFailed(
        {
            "nik": f"NIK ini sudah terdaftar atas nama {existing.name} "
            f"(No. RM {existing.mrn}). Cari pasien tersebut, jangan didaftarkan dua kali."
        }
    )


def identifiable(patient: Patient) -> bool:
    """SATUSEHAT can give this patient an IHS number: by its NIK, or, for a newborn without
    one, by creating its record with the mother's NIK (services/newborns.py)."""
    return bool(patient.nik) or bool(patient.is_newborn and patient.mother_nik)


def _enqueue_lookup(session: Session, patient: Patient, client_token: str | None) -> None:
    outbox.enqueue(
        session, JobKind.PATIENT_LOOKUP, patient.branch_id, patient.id, client_token=client_token
    )


def create_patient(
    session: Session,
    actor: audit.Actor,
    data: PatientInput,
    *,
    confirm_similar: bool = False,
    client_token: str | None = None,
) -> Patient:
    """Register a patient in the actor's branch (caller commits).

    Same NIK in the branch: refused, naming the patient who has it. Same name and birth date:
    SimilarPatientsFound unless `confirm_similar`. With a NIK (or, for a newborn, the
    mother's NIK), the IHS lookup job is queued in the same transaction."""
    require(actor.duty, Action.PATIENT_CREATE)
    branch = session.get(Branch, actor.branch_id)
    if branch is None:
        raise NotFound("Cabang aktif tidak ditemukan.")
    clean = validate(session, data)
    values = clean.values
    if values["nik"]:
        existing = same_nik(session, branch.id, values["nik"])
        if existing is not None:
            raise _duplicate_nik_error(existing)
    if not confirm_similar:
        similar = same_name_and_birth_date(session, branch.id, values["name"], values["birth_date"])
        if similar:
            raise SimilarPatientsFound(similar)
    patient = Patient(branch_id=branch.id, mrn=mrn.allocate_mrn(session, branch), **values)
    session.add(patient)
    session.flush()
    if identifiable(patient):
        _enqueue_lookup(session, patient, client_token)
    audit.record(session, actor, "create", ENTITY, patient.id, after=audit.snapshot(patient))
    return patient


def _get_in_branch(session: Session, actor: audit.Actor, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None or patient.branch_id != actor.branch_id:
        raise NotFound("Pasien tidak ditemukan di cabang aktif.")
    return patient


def update_patient(
    session: Session,
    actor: audit.Actor,
    patient_id: int,
    data: PatientInput,
    *,
    client_token: str | None = None,
    expected_version: int | None = None,
) -> Patient:
    """Change a registered patient (admin only). A new NIK clears the IHS number and queues
    a new lookup, except a newborn's first NIK: its record, created by the mother's NIK,
    keeps its IHS number (services/newborns.py). A newborn without an IHS number whose
    mother's NIK changed is sent again. `expected_version`: the version the form loaded
    (services/versions.py)."""
    require(actor.duty, Action.RECORD_EDIT)
    patient = _get_in_branch(session, actor, patient_id)
    versions.check(session, patient, expected_version, entity=ENTITY, branch_id=actor.branch_id)
    clean = validate(session, data)
    values = clean.values
    if values["nik"]:
        existing = same_nik(session, patient.branch_id, values["nik"], except_id=patient.id)
        if existing is not None:
            raise _duplicate_nik_error(existing)
    before = audit.snapshot(patient)
    nik_changed = values["nik"] != patient.nik
    # A baby's record created by its mother's NIK is the same person once the NIK comes.
    first_nik_of_baby = (
        nik_changed and not patient.nik and bool(patient.ihs_number and patient.mother_nik)
    )
    mother_changed = values["mother_nik"] != patient.mother_nik
    for key, value in values.items():
        setattr(patient, key, value)
    relook = (nik_changed and not first_nik_of_baby) or (mother_changed and not patient.ihs_number)
    if relook:
        patient.ihs_number = None
        patient.sync_status = SyncStatus.NOT_SENT
        patient.sync_error = None
    patient.updated_at = utcnow()
    versions.save(session, patient, entity=ENTITY, branch_id=actor.branch_id)
    if relook and identifiable(patient):
        _enqueue_lookup(session, patient, client_token)
    audit.record(
        session,
        actor,
        "update",
        ENTITY,
        patient.id,
        before=before,
        after=audit.snapshot(patient),
    )
    return patient


def deactivate_patient(session: Session, actor: audit.Actor, patient_id: int) -> Patient:
    """Nonaktifkan (admin only): hidden from search, kept for the record."""
    require(actor.duty, Action.RECORD_DELETE)
    patient = _get_in_branch(session, actor, patient_id)
    if not patient.is_active:
        return patient
    before = audit.snapshot(patient)
    patient.is_active = False
    patient.updated_at = utcnow()
    session.add(patient)
    session.flush()
    audit.record(
        session,
        actor,
        "deactivate",
        ENTITY,
        patient.id,
        before=before,
        after=audit.snapshot(patient),
    )
    return patient


def resend_lookup(
    session: Session, actor: audit.Actor, patient_id: int, *, client_token: str | None = None
) -> SyncJob:
    """Kirim ulang: a failed lookup goes back to the queue; a not-found one is asked again."""
    require(actor.duty, Action.SATUSEHAT_RESEND)
    patient = _get_in_branch(session, actor, patient_id)
    if not identifiable(patient):
        raise ServiceError("Pasien ini belum punya NIK; lengkapi NIK dulu (admin).")
    last = session.exec(
        select(SyncJob)
        .where(SyncJob.kind == JobKind.PATIENT_LOOKUP, SyncJob.subject_id == patient.id)
        .order_by(SyncJob.id.desc())
        .limit(1)
    ).first()
    if last is not None and last.status in (JobStatus.FAILED, JobStatus.DEAD):
        return outbox.resend(session, last.id, client_token=client_token)
    return outbox.enqueue(
        session, JobKind.PATIENT_LOOKUP, patient.branch_id, patient.id, client_token=client_token
    )


def get_for_edit(session: Session, actor: audit.Actor, patient_id: int) -> Patient:
    """The patient of the actor's branch, for the admin's edit form."""
    require(actor.duty, Action.RECORD_EDIT)
    return _get_in_branch(session, actor, patient_id)
