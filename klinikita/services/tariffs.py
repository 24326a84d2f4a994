"""Kasir -> Tarif: a branch's prices, and the insurers (Asuransi) it bills.

A tariff is never edited: a new price is a new row applying from its date, and a price that
stops gets the date it ends. So every bill can be built at the price of its visit's day, and
the history stays. `find_tariff` picks, among the rows valid on a day, the most specific one:
the payer's own price over the general one (and the insurer's own over any insurer's), the
doctor's over the unit's over the branch's, then the latest date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_
from sqlmodel import Session, select

from klinikita.models import Employee, ServiceUnit
from klinikita.models.base import utcnow
from klinikita.models.billing import Insurer, Tariff, TariffKind
from klinikita.models.clinical import Payer
from klinikita.services import audit, icd9cm
from klinikita.services.audit import Actor
from klinikita.services.dates import parse_typed_date
from klinikita.services.errors import NotFound, ValidationFailed
from klinikita.services.money import rupiah, take_rupiah
from klinikita.services.permissions import Action, require
from klinikita.services.text_input import normalize_text, parse_id, take_text
from klinikita.services.visit_queue import branch_zone_of

PAYER_LABELS = {"": "Semua penjamin", "umum": "Umum", "bpjs": "BPJS", "asuransi": "Asuransi"}
MAX_TARIFF = 1_000_000_000


@dataclass
class TariffInput:
    """The tariff form as typed: ids as text ("" = any), `valid_from` dd/mm/yyyy or ISO."""

    kind: str
    name: str
    amount: str
    valid_from: str
    unit_id: str = ""
    doctor_id: str = ""
    code: str = ""
    payer: str = ""
    insurer_id: str = ""
    covered: bool = True


def find_tariff(
    session: Session,
    branch_id: int,
    kind: TariffKind | str,
    day: date,
    *,
    payer: str = "",
    insurer_id: int | None = None,
    unit_id: int | None = None,
    doctor_id: int | None = None,
    code: str = "",
    name: str = "",
) -> Tariff | None:
    """The tariff of `kind` that applies on `day` to this payer (and insurer), unit, doctor,
    or procedure (its ICD-9-CM `code`, else its `name`); None when the branch has none."""
    rows = session.exec(
        select(Tariff).where(
            Tariff.branch_id == branch_id,
            Tariff.kind == str(kind),
            Tariff.valid_from <= day,
            or_(Tariff.ended_on.is_(None), Tariff.ended_on > day),
            Tariff.payer.in_(["", payer]),
        )
    ).all()
    best: tuple | None = None
    chosen: Tariff | None = None
    for row in rows:
        if row.insurer_id is not None and row.insurer_id != insurer_id:
            continue
        if row.unit_id is not None and row.unit_id != unit_id:
            continue
        if row.doctor_id is not None and row.doctor_id != doctor_id:
            continue
        if str(kind) == TariffKind.PROCEDURE:
            by_code = bool(code) and row.code == code
            by_name = bool(name) and row.name.casefold() == name.strip().casefold()
            if not (by_code or by_name):
                continue
        score = (
            row.payer != "",
            row.insurer_id is not None,
            row.doctor_id is not None,
            row.unit_id is not None,
            bool(code) and row.code == code,
            row.valid_from,
            row.id or 0,
        )
        if best is None or score > best:
            best, chosen = score, row
    return chosen


# ----- the tariff list ----------------------------------------------------------------------
@dataclass(frozen=True)
class TariffRow:
    id: int
    kind: str
    name: str
    unit: str
    doctor: str
    code: str
    payer: str
    insurer: str
    amount: str
    covered: bool
    valid_from: date
    ended_on: date | None


def list_tariffs(
    session: Session, branch_id: int, *, include_ended: bool = False
) -> list[TariffRow]:
    """The branch's tariffs, by kind and name, newest date first; ended ones on request."""
    query = (
        select(Tariff, ServiceUnit.name, Employee.name, Insurer.name)
        .join(ServiceUnit, ServiceUnit.id == Tariff.unit_id, isouter=True)
        .join(Employee, Employee.id == Tariff.doctor_id, isouter=True)
        .join(Insurer, Insurer.id == Tariff.insurer_id, isouter=True)
        .where(Tariff.branch_id == branch_id)
        .order_by(Tariff.kind, Tariff.name, Tariff.valid_from.desc(), Tariff.id.desc())
    )
    if not include_ended:
        today = utcnow().astimezone(branch_zone_of(session, branch_id)).date()
        query = query.where(or_(Tariff.ended_on.is_(None), Tariff.ended_on > today))
    return [
        TariffRow(
            id=t.id,
            kind=TariffKind(t.kind).label,
            name=t.name,
            unit=unit or "",
            doctor=doctor or "",
            code=t.code,
            payer=PAYER_LABELS.get(t.payer, t.payer),
            insurer=insurer or "",
            amount=rupiah(t.amount),
            covered=t.covered,
            valid_from=t.valid_from,
            ended_on=t.ended_on,
        )
        for t, unit, doctor, insurer in session.exec(query).all()
    ]


def _branch_row(session: Session, model: type, row_id: int | None, branch_id: int) -> bool:
    if row_id is None:
        return True
    row = session.get(model, row_id)
    return row is not None and row.branch_id == branch_id


def add_tariff(session: Session, actor: Actor, data: TariffInput) -> Tariff:
    """Save a new price of the active branch from its date (admin); audited."""
    require(actor.duty, Action.TARIFF_EDIT)
    errors: dict[str, str] = {}
    kind = normalize_text(data.kind)
    if kind not in {k.value for k in TariffKind}:
        errors["kind"] = "Pilih jenis tarif: pendaftaran, konsultasi atau tindakan."
    name = take_text(
        errors,
        "name",
        data.name,
        label="Nama tarif",
        max_length=200,
        required=True,
        collapse_spaces=True,
    )
    amount = take_rupiah(
        errors, "amount", data.amount, label="Tarif", maximum=MAX_TARIFF, required=True
    )
    valid_from = parse_typed_date(normalize_text(data.valid_from))
    if valid_from is None:
        errors["valid_from"] = "Isi tanggal berlaku, contoh 01/01/2027."
    code = procedure_code(errors, data.code) if kind == TariffKind.PROCEDURE else ""
    payer = normalize_text(data.payer).lower()
    if payer not in PAYER_LABELS:
        errors["payer"] = "Pilih penjamin."
    unit_id, doctor_id = parse_id(data.unit_id), parse_id(data.doctor_id)
    insurer_id = parse_id(data.insurer_id)
    if not _branch_row(session, ServiceUnit, unit_id, actor.branch_id):
        errors["unit_id"] = "Unit layanan tidak ditemukan di cabang ini."
    if not _branch_row(session, Employee, doctor_id, actor.branch_id):
        errors["doctor_id"] = "Dokter tidak ditemukan di cabang ini."
    if not _branch_row(session, Insurer, insurer_id, actor.branch_id):
        errors["insurer_id"] = "Asuransi tidak ditemukan di cabang ini."
    if insurer_id is not None and payer != Payer.ASURANSI:
        errors.setdefault("insurer_id", "Asuransi hanya untuk penjamin Asuransi.")
    if kind == TariffKind.REGISTRATION and (unit_id or doctor_id):
        errors.setdefault("unit_id", "Tarif pendaftaran berlaku untuk seluruh cabang.")
    if errors:
        raise ValidationFailed(errors)
    tariff = Tariff(
        branch_id=actor.branch_id,
        kind=kind,
        name=name,
        unit_id=unit_id,
        doctor_id=doctor_id if kind == TariffKind.CONSULTATION else None,
        code=code,
        payer=payer,
        insurer_id=insurer_id,
        amount=amount,
        covered=data.covered is True,
        valid_from=valid_from,
        created_by_user_id=actor.user_id,
    )
    session.add(tariff)
    session.flush()
    audit.record(
        session,
        actor,
        "tariff_add",
        "tariff",
        tariff.id,
        after={
            "kind": kind,
            "name": name,
            "code": tariff.code,
            "unit_id": unit_id,
            "doctor_id": tariff.doctor_id,
            "payer": payer,
            "insurer_id": insurer_id,
            "amount": amount,
            "covered": tariff.covered,
            "valid_from": valid_from.isoformat(),
        },
    )
    return tariff


def procedure_code(errors: dict[str, str], typed: str) -> str:
    """A procedure tariff's ICD-9-CM code as SATUSEHAT writes it (`8659` -> `86.59`), or ""
    when none is typed; a message at `code` when it is not a code of ICD-9-CM."""
    code = icd9cm.normalize(take_text(errors, "code", typed, label="Kode ICD-9-CM", max_length=16))
    problem = icd9cm.code_problem(code, "Cari kodenya lewat nama tindakan, atau kosongkan.")
    if code and problem:
        errors["code"] = problem
    return code


# ----- the clinic's own names for procedures --------------------------------------------------
@dataclass(frozen=True)
class ClinicProcedure:
    """A procedure as the branch names it on its price list, with its ICD-9-CM code ("" when
    the tariff has none)."""

    name: str
    code: str


def _folded_words(text: str) -> list[str]:
    return normalize_text(text).casefold().replace("(", " ").replace(")", " ").split()


def clinic_procedures(
    session: Session, branch_id: int, query: str, *, limit: int = 8
) -> list[ClinicProcedure]:
    """The branch's procedure tariffs that apply today (the branch's day) whose name has a
    word starting with every word of `query` (or whose code starts with it), each name and
    code once however many payers it is priced for; by name."""
    wanted = _folded_words(query)
    if not wanted or limit <= 0:
        return []
    today = utcnow().astimezone(branch_zone_of(session, branch_id)).date()
    rows = session.exec(
        select(Tariff.name, Tariff.code).where(
            Tariff.branch_id == branch_id,
            Tariff.kind == TariffKind.PROCEDURE.value,
            Tariff.valid_from <= today,
            or_(Tariff.ended_on.is_(None), Tariff.ended_on > today),
        )
    ).all()
    found: dict[tuple[str, str], ClinicProcedure] = {}
    for name, code in rows:
        words = _folded_words(name)
        bare = code.replace(".", "")
        matches = all(
            any(w.startswith(part) for w in words)
            or (part.replace(".", "").isdigit() and bare.startswith(part.replace(".", "")))
            for part in wanted
        )
        code = icd9cm.normalize(code)
        key = (" ".join(words), code)
        if matches and key not in found:
            found[key] = ClinicProcedure(normalize_text(name), code)
    return sorted(found.values(), key=lambda c: (c.name.casefold(), c.code))[:limit]


def end_tariff(session: Session, actor: Actor, tariff_id: int, ended_on_text: str = "") -> None:
    """Stop a price from a date (today when empty); bills already made keep it. Audited."""
    require(actor.duty, Action.TARIFF_EDIT)
    tariff = session.get(Tariff, tariff_id)
    if tariff is None or tariff.branch_id != actor.branch_id:
        raise NotFound("Tarif tidak ditemukan.")
    typed = normalize_text(ended_on_text)
    if typed:
        ended_on = parse_typed_date(typed)
        if ended_on is None:
            raise ValidationFailed({"ended_on": "Isi tanggal berakhir, contoh 01/01/2027."})
    else:
        ended_on = utcnow().astimezone(branch_zone_of(session, actor.branch_id)).date()
    if ended_on < tariff.valid_from:
        raise ValidationFailed({"ended_on": "Tanggal berakhir sebelum tanggal berlaku."})
    before = {"ended_on": tariff.ended_on.isoformat() if tariff.ended_on else None}
    tariff.ended_on = ended_on
    session.add(tariff)
    audit.record(
        session,
        actor,
        "tariff_end",
        "tariff",
        tariff.id,
        before=before,
        after={"ended_on": ended_on.isoformat(), "name": tariff.name},
    )


# ----- insurers -----------------------------------------------------------------------------
def list_insurers(session: Session, branch_id: int) -> list[Insurer]:
    return list(
        session.exec(
            select(Insurer)
            .where(Insurer.branch_id == branch_id, Insurer.is_active.is_(True))
            .order_by(Insurer.name)
        ).all()
    )


def add_insurer(session: Session, actor: Actor, name_text: str, percent_text: str) -> Insurer:
    """A new insurer of the active branch, paying `percent` % of covered services (admin)."""
    require(actor.duty, Action.TARIFF_EDIT)
    errors: dict[str, str] = {}
    name = take_text(
        errors,
        "insurer_name",
        name_text,
        label="Nama asuransi",
        max_length=150,
        required=True,
        collapse_spaces=True,
    )
    percent = take_rupiah(
        errors, "insurer_percent", percent_text or "100", label="Tanggungan (%)", maximum=100
    )
    if (
        "insurer_name" not in errors
        and session.exec(
            select(Insurer.id).where(Insurer.branch_id == actor.branch_id, Insurer.name == name)
        ).first()
    ):
        errors["insurer_name"] = "Asuransi ini sudah ada di cabang ini."
    if errors:
        raise ValidationFailed(errors)
    insurer = Insurer(branch_id=actor.branch_id, name=name, coverage_percent=percent)
    session.add(insurer)
    session.flush()
    audit.record(
        session,
        actor,
        "insurer_add",
        "insurer",
        insurer.id,
        after={"name": name, "coverage_percent": percent},
    )
    return insurer


@dataclass(frozen=True)
class FormOptions:
    units: list[tuple[str, str]]
    doctors: list[tuple[str, str]]
    insurers: list[tuple[str, str]]


def form_options(session: Session, branch_id: int) -> FormOptions:
    """The active units, doctors and insurers of a branch, as (id, name) for the forms."""
    from klinikita.models.enums import DOCTOR_DUTIES

    units = session.exec(
        select(ServiceUnit.id, ServiceUnit.name)
        .where(ServiceUnit.branch_id == branch_id, ServiceUnit.is_active.is_(True))
        .order_by(ServiceUnit.name)
    ).all()
    doctors = session.exec(
        select(Employee.id, Employee.name)
        .where(
            Employee.branch_id == branch_id,
            Employee.is_active.is_(True),
            Employee.main_duty.in_([d.value for d in DOCTOR_DUTIES]),
        )
        .order_by(Employee.name)
    ).all()
    return FormOptions(
        units=[(str(i), n) for i, n in units],
        doctors=[(str(i), n) for i, n in doctors],
        insurers=[(str(i.id), i.name) for i in list_insurers(session, branch_id)],
    )
