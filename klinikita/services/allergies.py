"""Alergi: a patient's allergies, recorded during a visit, or the record that there are none.

Three kinds (models/allergies.py): a common allergen of the SNOMED CT list
(terminology/allergens.py), an item of the branch's drug master (coded by its KFA code), or
"tidak ada alergi" (SNOMED 716186003). Recording an allergy withdraws an active "none"; "none"
is refused while allergies are active. Withdrawing keeps the row (inactive) and audits the
reason. Every write checks ALLERGY_RECORD and the active branch, and is audited in the same
transaction; reading needs VIEW_PRESCRIPTION or VIEW_CLINICAL. A change to an allergy of a
visit SATUSEHAT already holds queues that visit's send again (services/corrections.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from klinikita.models import Visit
from klinikita.models.allergies import (
    NO_KNOWN_ALLERGY_SNOMED,
    AllergyCategory,
    AllergyKind,
    AllergySeverity,
    PatientAllergy,
)
from klinikita.models.base import utcnow
from klinikita.models.clinical import VisitStatus
from klinikita.models.pharmacy import DrugItem
from klinikita.services import audit, corrections, drug_master
from klinikita.services.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from klinikita.services.permissions import Action, allows, require
from klinikita.services.text_input import normalize_text, parse_id, take_text
from klinikita.terminology import allergens

NO_KNOWN_ALLERGY_DISPLAY = "No known allergy"
NO_KNOWN_ALLERGY_LABEL = "Tidak ada alergi"
REACTION_MAX = 200
REASON_MAX = 200

# What staff pick -> AllergyIntolerance.reaction.severity.
SEVERITY_LABELS: dict[str, str] = {
    AllergySeverity.MILD: "Ringan",
    AllergySeverity.MODERATE: "Sedang",
    AllergySeverity.SEVERE: "Berat",
}
_SEVERITY_WORDS = {
    "ringan": AllergySeverity.MILD,
    "sedang": AllergySeverity.MODERATE,
    "berat": AllergySeverity.SEVERE,
}
CATEGORY_LABELS: dict[str, str] = {
    AllergyCategory.MEDICATION: "Obat",
    AllergyCategory.FOOD: "Makanan",
    AllergyCategory.ENVIRONMENT: "Lingkungan",
    AllergyCategory.BIOLOGIC: "Biologis",
}

# What a patient's allergy list says, for the banner.
STATUS_UNKNOWN = "unknown"  # nothing recorded: "Alergi belum ditanyakan"
STATUS_NONE = "none"  # "Tidak ada alergi"
STATUS_ALLERGIES = "allergies"


def allergen_options() -> list[dict[str, str]]:
    """The common allergens for a picker: key, label (Bahasa Indonesia), category label."""
    return [
        {"key": a.key, "label": a.name_id, "category": CATEGORY_LABELS.get(a.category, "")}
        for a in allergens.allergens()
    ]


def severity_of(word: object) -> str:
    """`ringan`/`sedang`/`berat` (or the FHIR value itself) -> the stored FHIR value; "" when
    not given. ValueError for anything else."""
    text = word.strip().lower() if isinstance(word, str) else ""
    if not text:
        return ""
    if text in _SEVERITY_WORDS:
        return _SEVERITY_WORDS[text]
    if text in SEVERITY_LABELS:
        return text
    raise ValueError(text)


# ----- reading -------------------------------------------------------------------------------
def _require_reader(actor: audit.Actor) -> None:
    duty = actor.duty
    if not (allows(duty, Action.VIEW_PRESCRIPTION) or allows(duty, Action.VIEW_CLINICAL)):
        raise PermissionDenied("Anda tidak berwenang membaca data alergi.")


def active_rows(session: Session, patient_id: int) -> list[PatientAllergy]:
    """A patient's active rows (allergies, or one "none"), oldest first. No permission check:
    for services that already checked theirs."""
    return list(
        session.exec(
            select(PatientAllergy)
            .where(PatientAllergy.patient_id == patient_id, PatientAllergy.active)
            .order_by(PatientAllergy.recorded_at, PatientAllergy.id)
        ).all()
    )


def as_dict(row: PatientAllergy) -> dict[str, Any]:
    """A row as pages show it (plain strings, for state)."""
    return {
        "id": row.id,
        "kind": row.kind,
        "display": row.display,
        "category": CATEGORY_LABELS.get(row.category, ""),
        "code": row.code,
        "reaction": row.reaction,
        "severity": row.severity,
        "severity_label": SEVERITY_LABELS.get(row.severity, ""),
        "resource_id": row.resource_id or "",
        "is_none": row.kind == AllergyKind.NONE,
    }


def patient_allergies(
    session: Session, actor: audit.Actor, patient_id: int
) -> list[dict[str, Any]]:
    """A patient's active allergies (or the one "tidak ada alergi" row) as dicts for a page;
    [] when nothing was ever asked. Needs VIEW_PRESCRIPTION or VIEW_CLINICAL."""
    _require_reader(actor)
    return [as_dict(row) for row in active_rows(session, patient_id)]


def status_of(allergies: list[dict[str, Any]]) -> str:
    """STATUS_UNKNOWN (nothing recorded), STATUS_NONE or STATUS_ALLERGIES."""
    if not allergies:
        return STATUS_UNKNOWN
    if all(a.get("is_none") for a in allergies):
        return STATUS_NONE
    return STATUS_ALLERGIES


# ----- writing -------------------------------------------------------------------------------
def _visit_for_change(session: Session, actor: audit.Actor, visit_id: int) -> Visit:
    """The visit an allergy is recorded in, locked until the commit (as examination writes
    lock it), when the actor may change it now."""
    require(actor.duty, Action.ALLERGY_RECORD)
    visit = session.get(Visit, visit_id, populate_existing=True, with_for_update=True)
    if visit is None or visit.branch_id != actor.branch_id:
        raise NotFound("Kunjungan tidak ditemukan di cabang aktif.")
    if visit.status == VisitStatus.CANCELLED:
        raise ServiceError("Kunjungan ini dibatalkan; alerginya tidak dapat dicatat di sini.")
    if visit.status == VisitStatus.COMPLETE and not allows(actor.duty, Action.RECORD_EDIT):
        raise PermissionDenied(
            "Kunjungan ini sudah selesai. Hanya admin yang dapat mengubah alergi yang tercatat "
            "pada kunjungan yang sudah selesai."
        )
    return visit


def _withdraw(
    session: Session, actor: audit.Actor, row: PatientAllergy, reason: str, now: datetime
) -> None:
    before = audit.snapshot(row)
    row.active, row.updated_at = False, now
    session.add(row)
    audit.record(
        session,
        actor,
        "allergy_withdraw",
        "patient_allergy",
        row.id,
        before=before,
        after={"active": False, "reason": reason, "patient_id": row.patient_id},
    )


def _correct_visit(session: Session, visit_id: int | None, now: datetime) -> None:
    """Tell SATUSEHAT again about the visit an allergy was recorded in, when it holds it."""
    visit = (
        session.get(Visit, visit_id, populate_existing=True, with_for_update=True)
        if visit_id
        else None
    )
    if visit is not None:
        corrections.send_correction(session, visit, now=now)


def _coded(
    session: Session, actor: audit.Actor, data: dict[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    """kind, category, code, display and item_id of what `data` names."""
    kind = data.get("kind")
    if kind == AllergyKind.SUBSTANCE:
        key = data.get("allergen")
        found = allergens.by_key(key if isinstance(key, str) else "")
        if found is None:
            errors["allergen"] = "Pilih alergen dari daftar."
            return {}
        return {"kind": kind, "category": found.category, "code": found.snomed,
                "display": found.name_id, "item_id": None}  # fmt: skip
    if kind == AllergyKind.DRUG:
        item_id = parse_id(data.get("item_id"))
        item = session.get(DrugItem, item_id) if item_id is not None else None
        if item is None or item.branch_id != actor.branch_id or not item.active:
            errors["item_id"] = "Pilih obat dari daftar obat cabang ini."
            return {}
        return {"kind": kind, "category": AllergyCategory.MEDICATION,
                "code": (item.kfa_code or "").strip(), "display": item.name,
                "item_id": item.id}  # fmt: skip
    if kind == AllergyKind.NONE:
        return {"kind": kind, "category": "", "code": NO_KNOWN_ALLERGY_SNOMED,
                "display": NO_KNOWN_ALLERGY_LABEL, "item_id": None}  # fmt: skip
    errors["kind"] = "Pilih jenis: alergen umum, obat, atau tidak ada alergi."
    return {}


def record_allergy(
    session: Session,
    actor: audit.Actor,
    visit_id: int,
    data: dict[str, Any],
    *,
    now: datetime | None = None,
) -> PatientAllergy:
    """Record an allergy of the visit's patient (data: kind, allergen key or item_id,
    reaction, severity ringan/sedang/berat), or "tidak ada alergi" (kind none).

    An allergy withdraws the patient's active "none"; "none" is refused while allergies are
    active, and an allergen already active is refused too. Returns the active row (an
    existing "none" when "none" is recorded again)."""
    visit = _visit_for_change(session, actor, visit_id)
    errors: dict[str, str] = {}
    coded = _coded(session, actor, data, errors)
    reaction = take_text(
        errors, "reaction", data.get("reaction"), label="Reaksi", max_length=REACTION_MAX
    )
    try:
        severity = severity_of(data.get("severity"))
    except ValueError:
        errors["severity"] = "Pilih tingkat keparahan: ringan, sedang, atau berat."
        severity = ""
    if errors:
        raise ValidationFailed(errors)
    now = now or utcnow()
    active = active_rows(session, visit.patient_id)
    nones = [r for r in active if r.kind == AllergyKind.NONE]
    allergies = [r for r in active if r.kind != AllergyKind.NONE]
    if coded["kind"] == AllergyKind.NONE:
        if allergies:
            names = ", ".join(r.display for r in allergies)
            raise ValidationFailed(
                {
                    "kind": f"Pasien masih tercatat alergi ({names}). Cabut dulu alergi yang "
                    "keliru sebelum mencatat tidak ada alergi."
                }  # fmt: skip
            )
        if nones:
            return nones[0]
        reaction, severity = "", ""
    else:
        same = [
            r
            for r in allergies
            if (r.item_id is not None and r.item_id == coded["item_id"])
            or (r.item_id is None and coded["item_id"] is None and r.code == coded["code"])
        ]
        if same:
            field = "item_id" if coded["kind"] == AllergyKind.DRUG else "allergen"
            raise ValidationFailed({field: f"Alergi {same[0].display} sudah tercatat."})
        for row in nones:
            _withdraw(session, actor, row, "Alergi baru dicatat", now)
    row = PatientAllergy(
        patient_id=visit.patient_id,
        branch_id=visit.branch_id,
        reaction=reaction,
        severity=severity,
        recorded_visit_id=visit.id,
        recorded_by_user_id=actor.user_id,
        recorded_at=now,
        **coded,
    )
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "allergy_record", "patient_allergy", row.id, after=audit.snapshot(row)
    )
    corrections.send_correction(session, visit, now=now)
    return row


def withdraw_allergy(
    session: Session,
    actor: audit.Actor,
    allergy_id: int,
    reason: object,
    *,
    now: datetime | None = None,
) -> None:
    """Cabut: an active allergy (or "none") of the active branch becomes inactive, with the
    reason in its audit row. A withdrawn allergy SATUSEHAT holds is sent again as entered in
    error with its visit."""
    require(actor.duty, Action.ALLERGY_RECORD)
    errors: dict[str, str] = {}
    text = take_text(errors, "reason", reason, label="Alasan", max_length=REASON_MAX, required=True)
    if errors:
        raise ValidationFailed(errors)
    row = session.get(PatientAllergy, allergy_id, populate_existing=True, with_for_update=True)
    if row is None or row.branch_id != actor.branch_id:
        raise NotFound("Data alergi tidak ditemukan di cabang aktif.")
    if not row.active:
        raise ServiceError("Alergi ini sudah dicabut.")
    visit = session.get(Visit, row.recorded_visit_id) if row.recorded_visit_id else None
    if (
        visit is not None
        and visit.status == VisitStatus.COMPLETE
        and not allows(actor.duty, Action.RECORD_EDIT)
        and row.resource_id
    ):
        raise PermissionDenied(
            "Alergi ini sudah terkirim ke SATUSEHAT bersama kunjungan yang selesai. "
            "Hanya admin yang dapat mencabutnya."
        )
    now = now or utcnow()
    _withdraw(session, actor, row, text, now)
    if row.resource_id:
        _correct_visit(session, row.recorded_visit_id, now)


DRUG_RESULTS = 10


def search_drugs(session: Session, actor: audit.Actor, text: object) -> list[dict[str, str]]:
    """Active items of the branch's drug master whose name contains `text` (at least two
    characters), for the drug-allergy picker: id, name, KFA code."""
    require(actor.duty, Action.ALLERGY_RECORD)
    words = normalize_text(text)
    if len(words) < 2:
        return []
    items = drug_master.search_items(session, actor.branch_id, words, DRUG_RESULTS)
    return [{"id": str(i.id), "name": i.name, "kfa": i.kfa_code or ""} for i in items]
