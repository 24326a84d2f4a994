"""Resep: prescribing from the branch's drug master, one line at a time.

A line is one item of the drug master (dose, frequency, route, days, whole units, aturan
pakai) or a racikan (a named compound made into N powders, capsules ... from two or more
items). Each line becomes one MedicationRequest; `line_no` numbers the lines 1..n within
the visit (R/1, R/2 ...; its `prescription-item` identifier), closing up after a removal:
nothing is sent before the visit is complete, and then the lines no longer change.

Every change checks EXAM_MEDICAL and the active branch, takes the visit's row lock
(`examination.editable_visit`), is refused once the visit is complete (the pharmacy has
it), and is audited in the same transaction. A drug the patient is allergic to is refused
with `AllergyWarning` until the doctor confirms it (`confirm=True`); the confirmation is
audited. Rows written before the drug master (free text, no item) stay readable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from klinikita.integrations.satusehat.fhir_medication import RxIngredient, RxItem, RxLine
from klinikita.models.allergies import AllergyKind, PatientAllergy
from klinikita.models.base import utcnow
from klinikita.models.clinical import Prescription, PrescriptionIngredient, Visit, VisitStatus
from klinikita.models.pharmacy import DrugItem
from klinikita.services import audit, drug_master
from klinikita.services.errors import NotFound, ServiceError, ValidationFailed
from klinikita.services.examination import editable_visit, mark_started, parse_number
from klinikita.services.permissions import Action, require
from klinikita.services.text_input import take_text


# ----- the short lists the form offers -------------------------------------------------------
@dataclass(frozen=True)
class Route:
    code: str  # WHO ATC/DDD route of administration
    label: str  # for staff
    display: str  # sent with the code


ROUTES: tuple[Route, ...] = (
    Route("O", "Oral (diminum)", "Oral"),
    Route("P", "Parenteral (suntik)", "Parenteral"),
    Route("R", "Rektal", "Rectal"),
    Route("V", "Vaginal", "Vaginal"),
    Route("N", "Nasal", "Nasal"),
    Route("SL", "Sublingual", "Sublingual/buccal/oromucosal"),
    Route("TD", "Transdermal", "Transdermal"),
    Route("Inhal", "Inhalasi", "Inhalation"),
    Route("Instill", "Tetes (mata/telinga)", "Instillation"),
    Route("Implant", "Implan", "Implant"),
)
ROUTE_BY_CODE = {r.code: r for r in ROUTES}


@dataclass(frozen=True)
class CompoundForm:
    key: str  # what the form sends
    label: str
    form_code: str  # the ministry's medication-form code
    form_name: str
    piece: str  # what one of the N pieces is called


# The forms a racikan is made into (medication-form codes of terminology.kemkes.go.id).
COMPOUND_FORMS: tuple[CompoundForm, ...] = (
    CompoundForm("puyer", "Puyer", "BS045", "Serbuk Oral", "bungkus"),
    CompoundForm("kapsul", "Kapsul", "BS019", "Kapsul", "kapsul"),
    CompoundForm("salep", "Salep", "BS051", "Salep", "pot"),
    CompoundForm("sirup", "Sirup", "BS046", "Sirup", "botol"),
)
COMPOUND_BY_KEY = {f.key: f for f in COMPOUND_FORMS}

QUANTITY_MAX = 10_000
DAYS_MAX = 365
TIMES_MAX = 24
DOSE_MAX = 10_000
INGREDIENTS_MAX = 10
SEARCH_LIMIT = 20

_FIELDS = {  # text field: (label, longest)
    "dose": ("Dosis", 100),
    "frequency": ("Frekuensi", 100),
    "instructions": ("Aturan pakai", 300),
    "name": ("Nama racikan", 200),
    "dose_text": ("Dosis per bungkus", 60),
}


# ----- allergy warning -----------------------------------------------------------------------
# A substance allergy (its display, lower case) and the words of medicines of its class.
ALLERGY_CLASS_WORDS: dict[str, tuple[str, ...]] = {
    "penisilin": (
        "penisilin",
        "penicillin",
        "amoksisilin",
        "amoxicillin",
        "ampisilin",
        "ampicillin",
        "kloksasilin",
        "cloxacillin",
        "dikloksasilin",
    ),  # fmt: skip
    "penicillin": (
        "penisilin",
        "penicillin",
        "amoksisilin",
        "amoxicillin",
        "ampisilin",
        "ampicillin",
        "kloksasilin",
        "cloxacillin",
        "dikloksasilin",
    ),  # fmt: skip
    "amoksisilin": ("amoksisilin", "amoxicillin"),
    "amoxicillin": ("amoksisilin", "amoxicillin"),
    "sulfonamid": (
        "sulfa",
        "kotrimoksazol",
        "cotrimoxazole",
        "sulfametoksazol",
        "sulfamethoxazole",
    ),  # fmt: skip
    "sulfonamide": (
        "sulfa",
        "kotrimoksazol",
        "cotrimoxazole",
        "sulfametoksazol",
        "sulfamethoxazole",
    ),  # fmt: skip
    "aspirin": ("aspirin", "asetosal", "asam asetilsalisilat", "acetylsalicylic"),
    "nsaid": (
        "ibuprofen",
        "asam mefenamat",
        "mefenamic",
        "diklofenak",
        "diclofenac",
        "natrium diklofenak",
        "piroksikam",
        "piroxicam",
        "meloxicam",
        "meloksikam",
        "ketoprofen",
        "naproksen",
        "naproxen",
        "aspirin",
        "asetosal",
    ),  # fmt: skip
    "sefalosporin": (
        "sefalosporin",
        "cephalosporin",
        "sefadroksil",
        "cefadroxil",
        "seftriakson",
        "ceftriaxone",
        "sefiksim",
        "cefixime",
    ),  # fmt: skip
    "cephalosporin": (
        "sefalosporin",
        "cephalosporin",
        "sefadroksil",
        "cefadroxil",
        "seftriakson",
        "ceftriaxone",
        "sefiksim",
        "cefixime",
    ),  # fmt: skip
}


@dataclass(frozen=True)
class AllergyMatch:
    allergy_id: int
    allergy: str  # the allergy as recorded
    item: str  # the prescribed item it matches
    reaction: str


class AllergyWarning(ServiceError):
    """The line prescribes a drug the patient is allergic to: nothing was written; the same
    call with `confirm=True` writes it (and audits the confirmation)."""

    def __init__(self, matches: list[AllergyMatch]) -> None:
        named = "; ".join(
            f"{m.item} (alergi {m.allergy}{', ' + m.reaction if m.reaction else ''})"
            for m in matches
        )
        super().__init__(
            f"Pasien tercatat alergi: {named}. Tetap resepkan hanya bila sudah "
            "dipertimbangkan (konfirmasi akan dicatat)."
        )
        self.matches = matches


def _words_of(allergy: PatientAllergy) -> tuple[str, ...]:
    display = (allergy.display or "").strip().lower()
    if not display:
        return ()
    for key, words in ALLERGY_CLASS_WORDS.items():
        if key in display:
            return (display, *words)
    return (display,)


def allergy_matches(allergies: list[PatientAllergy], items: list[DrugItem]) -> list[AllergyMatch]:
    """Which of `items` the patient's active `allergies` warn about: a drug allergy to the
    same item or the same KFA code; a substance allergy whose name (or a word of its class,
    `ALLERGY_CLASS_WORDS`) appears in the item's name or KFA display, case-insensitively."""
    found: list[AllergyMatch] = []
    for item in items:
        texts = f"{item.name} {item.kfa_display}".lower()
        for allergy in allergies:
            if not allergy.active:
                continue
            if allergy.kind == AllergyKind.DRUG:
                hit = (allergy.item_id is not None and allergy.item_id == item.id) or (
                    bool(item.kfa_code) and (allergy.code or "").strip() == item.kfa_code
                )
            elif allergy.kind == AllergyKind.SUBSTANCE:
                hit = any(word and word in texts for word in _words_of(allergy))
            else:
                hit = False
            if hit:
                found.append(AllergyMatch(allergy.id, allergy.display, item.name, allergy.reaction))
    return found


def _patient_allergies(session: Session, patient_id: int) -> list[PatientAllergy]:
    return list(
        session.exec(
            select(PatientAllergy).where(
                PatientAllergy.patient_id == patient_id, PatientAllergy.active.is_(True)
            )
        ).all()
    )


def _check_allergies(
    session: Session,
    actor: audit.Actor,
    visit: Visit,
    items: list[DrugItem],
    confirm: bool,
) -> list[AllergyMatch]:
    """Raise AllergyWarning for a match unless `confirm`; the matches confirmed."""
    matches = allergy_matches(_patient_allergies(session, visit.patient_id), items)
    if matches and not confirm:
        raise AllergyWarning(matches)
    return matches


# ----- reading ---------------------------------------------------------------------------
def search_items(
    session: Session, actor: audit.Actor, text: str, *, limit: int = SEARCH_LIMIT
) -> list[dict[str, str]]:
    """The drug master items the prescription form offers for `text` (2+ characters), as
    the form shows them; a missing KFA code is said (Selesai will ask for it)."""
    require(actor.duty, Action.EXAM_MEDICAL)
    if len(text.strip()) < 2:
        return []
    return [
        {
            "id": str(item.id),
            "name": item.name,
            "unit": item.unit,
            "kfa_code": item.kfa_code or "",
            "kfa_display": item.kfa_display if item.kfa_display != item.name else "",
            "no_kfa": "" if item.kfa_code else "1",
        }
        for item in drug_master.search_items(session, actor.branch_id, text, limit)
    ]


def lines_of(session: Session, visit_id: int) -> list[Prescription]:
    return list(
        session.exec(
            select(Prescription)
            .where(Prescription.visit_id == visit_id)
            .order_by(Prescription.line_no, Prescription.id)
        ).all()
    )


def ingredients_of(
    session: Session, line_ids: list[int]
) -> dict[int, list[PrescriptionIngredient]]:
    found: dict[int, list[PrescriptionIngredient]] = {i: [] for i in line_ids}
    if line_ids:
        rows = session.exec(
            select(PrescriptionIngredient)
            .where(PrescriptionIngredient.prescription_id.in_(line_ids))
            .order_by(PrescriptionIngredient.id)
        ).all()
        for row in rows:
            found[row.prescription_id].append(row)
    return found


# ----- parsing the form ----------------------------------------------------------------------
def _text(errors: dict[str, str], data: dict[str, Any], field: str, key: str | None = None) -> str:
    label, limit = _FIELDS[field]
    return take_text(
        errors,
        key or field,
        data.get(field),
        label=label,
        max_length=limit,
        collapse_spaces=True,
    )


def _whole(
    errors: dict[str, str],
    key: str,
    raw: Any,
    *,
    label: str,
    high: int,
    required: bool,
) -> int | None:
    """A whole number 1..high (or None when empty and not required)."""
    message = f"{label} ditulis sebagai bilangan bulat 1 sampai {high:,}.".replace(",", ".")
    try:
        number = parse_number(raw)
    except ValueError:
        errors[key] = message
        return None
    if number is None:
        if required:
            errors[key] = f"{label} wajib diisi."
        return None
    if number != int(number) or not 1 <= number <= high:
        errors[key] = message
        return None
    return int(number)


def _first_number(text: str) -> float | None:
    found = re.search(r"\d+(?:[.,]\d+)?", text)
    return float(found.group().replace(",", ".")) if found else None


def _dose_amount(errors: dict[str, str], data: dict[str, Any], dose: str) -> float | None:
    """The number of `dose_amount`, or the first number of the dose text."""
    raw = data.get("dose_amount")
    try:
        amount = parse_number(raw)
    except ValueError:
        errors["dose_amount"] = "Jumlah per dosis harus berupa angka (mis. 1 atau 0,5)."
        return None
    if amount is None:
        amount = _first_number(dose)
    if amount is not None and not 0 < amount <= DOSE_MAX:
        errors["dose_amount"] = "Jumlah per dosis harus lebih dari 0."
        return None
    return round(amount, 3) if amount is not None else None


def _times_per_day(errors: dict[str, str], data: dict[str, Any], frequency: str) -> int | None:
    raw = data.get("times_per_day")
    if raw in (None, "") and frequency:
        first = _first_number(frequency)
        raw = str(int(first)) if first is not None and first == int(first) else raw
    return _whole(
        errors, "times_per_day", raw, label="Berapa kali sehari", high=TIMES_MAX, required=True
    )


def _route(errors: dict[str, str], data: dict[str, Any]) -> str:
    code = data.get("route") or "O"
    if not isinstance(code, str) or code not in ROUTE_BY_CODE:
        errors["route"] = "Pilih rute pemberian dari daftar."
        return "O"
    return code


def _usage(errors: dict[str, str], data: dict[str, Any]) -> dict[str, Any]:
    """What a single line and a racikan share: dose, frequency, route, days, aturan pakai."""
    dose, frequency = _text(errors, data, "dose"), _text(errors, data, "frequency")
    if not dose:
        errors.setdefault("dose", "Dosis wajib diisi (mis. 1 tablet).")
    return {
        "dose": dose,
        "dose_amount": _dose_amount(errors, data, dose),
        "frequency": frequency,
        "times_per_day": _times_per_day(errors, data, frequency),
        "route": _route(errors, data),
        "duration_days": _whole(
            errors,
            "duration_days",
            data.get("duration_days"),
            label="Lama pemakaian (hari)",
            high=DAYS_MAX,
            required=False,
        ),
        "instructions": _text(errors, data, "instructions"),
    }


def _item(
    session: Session, actor: audit.Actor, errors: dict[str, str], key: str, raw: Any
) -> DrugItem | None:
    """An active item of the actor's branch, chosen from the search."""
    try:
        item_id = int(raw) if raw not in (None, "") and not isinstance(raw, bool) else None
    except (TypeError, ValueError):
        item_id = None
    item = session.get(DrugItem, item_id) if item_id else None
    if item is None or item.branch_id != actor.branch_id or not item.active:
        errors[key] = "Pilih obat dari hasil pencarian (daftar Obat & BHP cabang)."
        return None
    return item


def _usage_text(usage: dict[str, Any]) -> str:
    """'3 x sehari 1 tablet' when the doctor wrote no frequency text."""
    return usage["frequency"] or f"{usage['times_per_day']} x sehari"


def _editable(session: Session, actor: audit.Actor, visit_id: int) -> Visit:
    """The visit, locked, if its prescription may still change (not complete)."""
    visit = editable_visit(session, actor, visit_id, Action.EXAM_MEDICAL)
    if visit.status == VisitStatus.COMPLETE:
        raise ServiceError(
            "Kunjungan ini sudah selesai dan resepnya sudah diteruskan ke apotek; "
            "resep tidak dapat diubah lagi."
        )
    return visit


def _next_line_no(session: Session, visit_id: int) -> int:
    last = session.scalar(
        select(func.max(Prescription.line_no)).where(Prescription.visit_id == visit_id)
    )
    return (last or 0) + 1


def _audit_allergy_override(
    session: Session, actor: audit.Actor, line: Prescription, matches: list[AllergyMatch]
) -> None:
    if matches:
        audit.record(
            session,
            actor,
            "prescription_allergy_confirm",
            "prescription",
            line.id,
            after={
                "visit_id": line.visit_id,
                "allergies": [
                    {"allergy_id": m.allergy_id, "allergy": m.allergy, "item": m.item}
                    for m in matches
                ],
            },
        )


# ----- writing -------------------------------------------------------------------------------
def add_line(
    session: Session,
    actor: audit.Actor,
    visit_id: int,
    data: dict[str, Any],
    *,
    confirm: bool = False,
    now: datetime | None = None,
) -> Prescription:
    """One item of the drug master: `item_id`, `dose` (+ `dose_amount`), `frequency`
    (+ `times_per_day`), `route` (ROUTES), `duration_days`, `quantity` (whole units > 0),
    `instructions`. AllergyWarning unless `confirm` when the patient is allergic to it."""
    visit = _editable(session, actor, visit_id)
    errors: dict[str, str] = {}
    item = _item(session, actor, errors, "item_id", data.get("item_id"))
    usage = _usage(errors, data)
    quantity = _whole(
        errors, "quantity", data.get("quantity"), label="Jumlah", high=QUANTITY_MAX, required=True
    )
    if errors:
        raise ValidationFailed(errors)
    matches = _check_allergies(session, actor, visit, [item], confirm)
    now = now or utcnow()
    mark_started(session, actor, visit, now)
    line = Prescription(
        visit_id=visit.id,
        line_no=_next_line_no(session, visit.id),
        item_id=item.id,
        is_compound=False,
        medicine=item.name,
        form=item.form_name or item.unit,
        quantity=quantity,
        **{**usage, "frequency": _usage_text(usage)},
    )
    session.add(line)
    session.flush()
    audit.record(
        session, actor, "prescription_add", "prescription", line.id, after=audit.snapshot(line)
    )
    _audit_allergy_override(session, actor, line, matches)
    return line


def add_compound(
    session: Session,
    actor: audit.Actor,
    visit_id: int,
    data: dict[str, Any],
    *,
    confirm: bool = False,
    now: datetime | None = None,
) -> Prescription:
    """A racikan: `name`, `form` (COMPOUND_FORMS), `quantity` N pieces, `ingredients` (two
    or more of {item_id, quantity: whole units taken for the whole racikan, dose_text: what
    each piece holds}, each item once), and the usage of a single line. AllergyWarning
    unless `confirm` when the patient is allergic to an ingredient."""
    visit = _editable(session, actor, visit_id)
    errors: dict[str, str] = {}
    name = _text(errors, data, "name")
    if not name:
        errors.setdefault("name", "Nama racikan wajib diisi (mis. Puyer batuk anak).")
    form = COMPOUND_BY_KEY.get(data.get("form") or "")
    if form is None:
        errors["form"] = "Pilih bentuk racikan (puyer, kapsul, salep, sirup)."
    pieces = _whole(
        errors, "quantity", data.get("quantity"), label="Jumlah racikan", high=1000, required=True
    )
    usage = _usage(errors, data)
    ingredients: list[tuple[DrugItem, int, str]] = []
    raw_ingredients = data.get("ingredients")
    if not isinstance(raw_ingredients, list):
        raw_ingredients = []
    for index, raw in enumerate(raw_ingredients[:INGREDIENTS_MAX]):
        raw = raw if isinstance(raw, dict) else {}
        key = f"ingredients.{index}"
        item = _item(session, actor, errors, f"{key}.item_id", raw.get("item_id"))
        units = _whole(
            errors,
            f"{key}.quantity",
            raw.get("quantity"),
            label="Jumlah bahan",
            high=QUANTITY_MAX,
            required=True,
        )
        dose_text = _text(errors, raw, "dose_text", f"{key}.dose_text")
        if item is not None and any(i.id == item.id for i, _, _ in ingredients):
            errors[f"{key}.item_id"] = f"{item.name} sudah ada di racikan ini."
        elif item is not None and units is not None:
            ingredients.append((item, units, dose_text))
    if len(raw_ingredients) > INGREDIENTS_MAX:
        errors["ingredients"] = f"Racikan paling banyak {INGREDIENTS_MAX} bahan."
    elif len(raw_ingredients) < 2:
        errors["ingredients"] = "Racikan terdiri dari minimal dua bahan obat."
    if errors:
        raise ValidationFailed(errors)
    matches = _check_allergies(session, actor, visit, [i for i, _, _ in ingredients], confirm)
    now = now or utcnow()
    mark_started(session, actor, visit, now)
    line = Prescription(
        visit_id=visit.id,
        line_no=_next_line_no(session, visit.id),
        item_id=None,
        is_compound=True,
        medicine=name,
        form=form.key,
        quantity=pieces,
        **{**usage, "frequency": _usage_text(usage)},
    )
    session.add(line)
    session.flush()
    rows = [
        PrescriptionIngredient(
            prescription_id=line.id, item_id=item.id, quantity=units, dose_text=dose_text
        )
        for item, units, dose_text in ingredients
    ]
    session.add_all(rows)
    session.flush()
    audit.record(
        session,
        actor,
        "prescription_add",
        "prescription",
        line.id,
        after={
            **(audit.snapshot(line) or {}),
            "ingredients": [
                {"item_id": r.item_id, "quantity": r.quantity, "dose_text": r.dose_text}
                for r in rows
            ],
        },
    )
    _audit_allergy_override(session, actor, line, matches)
    return line


def remove_line(session: Session, actor: audit.Actor, visit_id: int, prescription_id: int) -> None:
    """Remove one line (a racikan with its ingredients) before the visit is complete; the
    lines after it close up (1..n)."""
    visit = _editable(session, actor, visit_id)
    line = session.get(Prescription, prescription_id)
    if line is None or line.visit_id != visit.id:
        raise NotFound("Resep tidak ditemukan pada kunjungan ini.")
    before = audit.snapshot(line) or {}
    ingredients = ingredients_of(session, [line.id])[line.id]
    if ingredients:
        before["ingredients"] = [
            {"item_id": r.item_id, "quantity": r.quantity, "dose_text": r.dose_text}
            for r in ingredients
        ]
    for row in ingredients:
        session.delete(row)
    session.flush()
    session.delete(line)
    audit.record(session, actor, "prescription_remove", "prescription", prescription_id,
                 before=before)  # fmt: skip
    session.flush()
    for number, rest in enumerate(lines_of(session, visit.id), start=1):
        if rest.line_no != number:
            rest.line_no = number
            session.add(rest)
    session.flush()


# ----- sending -------------------------------------------------------------------------------
def _rx_item(item: DrugItem) -> RxItem:
    return RxItem(
        name=item.name,
        kfa_code=(item.kfa_code or "").strip(),
        kfa_display=item.kfa_display,
        unit=item.unit,
        form_code=item.form_code,
        form_name=item.form_name,
    )


def lines_to_send(session: Session, visit_ids: list[int]) -> dict[int, list[RxLine]]:
    """Per visit id, its prescription lines as the MedicationRequest builder takes them
    (three queries per batch: lines, their items, racikan ingredients). Rows written
    before the drug master (no item, not a racikan) are not sent: they carry no KFA code."""
    found: dict[int, list[RxLine]] = {v: [] for v in visit_ids}
    if not visit_ids:
        return found
    lines = session.exec(
        select(Prescription)
        .where(Prescription.visit_id.in_(visit_ids))
        .order_by(Prescription.visit_id, Prescription.line_no, Prescription.id)
    ).all()
    parts = ingredients_of(session, [line.id for line in lines if line.is_compound])
    item_ids = {line.item_id for line in lines if line.item_id}
    item_ids |= {p.item_id for rows in parts.values() for p in rows}
    items = {
        i.id: _rx_item(i)
        for i in (
            session.exec(select(DrugItem).where(DrugItem.id.in_(item_ids))).all()
            if item_ids
            else []
        )
    }
    for line in lines:
        if line.item_id is None and not line.is_compound:
            continue  # free text from before the drug master
        form = COMPOUND_BY_KEY.get(line.form) if line.is_compound else None
        route = ROUTE_BY_CODE.get(line.route) or ROUTE_BY_CODE["O"]
        found[line.visit_id].append(
            RxLine(
                id=line.id,
                line_no=line.line_no,
                name=line.medicine,
                item=items[line.item_id] if line.item_id else None,
                ingredients=tuple(
                    RxIngredient(items[p.item_id], p.quantity, p.dose_text)
                    for p in parts.get(line.id, [])
                ),
                form_code=form.form_code if form else "",
                form_name=form.form_name if form else "",
                piece_unit=form.piece if form else "",
                quantity=line.quantity,
                dose=line.dose,
                dose_amount=line.dose_amount,
                frequency=line.frequency,
                times_per_day=line.times_per_day,
                route=route.code,
                route_display=route.display,
                duration_days=line.duration_days,
                instructions=line.instructions,
                medication_request_id=line.medication_request_id,
            )
        )
    return found
