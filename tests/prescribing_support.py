"""Drug master items and allergies for prescribing tests (written directly, as the drug
master and allergy pages would leave them)."""

from __future__ import annotations

from sqlmodel import Session

from klinikita.models.allergies import AllergyKind, PatientAllergy
from klinikita.models.base import utcnow
from klinikita.models.pharmacy import DrugItem

# KFA virtual products (92xxxxxx) of common outpatient medicines.
PARACETAMOL_KFA = "92000486"
AMOXICILLIN_KFA = "92000157"
CTM_KFA = "92000347"


def make_item(
    session: Session,
    branch,
    name: str,
    *,
    kfa_code: str | None = None,
    kfa_display: str = "",
    unit: str = "tablet",
    form_code: str = "BS066",
    form_name: str = "Tablet",
    active: bool = True,
) -> DrugItem:
    item = DrugItem(
        branch_id=branch.id,
        name=name,
        unit=unit,
        kfa_code=kfa_code,
        kfa_display=kfa_display or (name if kfa_code else ""),
        form_code=form_code,
        form_name=form_name,
        price=500,
        active=active,
    )
    session.add(item)
    session.commit()
    return item


def make_items(session: Session, branch) -> dict[str, DrugItem]:
    """Paracetamol, amoxicillin and CTM (all KFA-mapped) and an unmapped vitamin."""
    return {
        "paracetamol": make_item(
            session,
            branch,
            "Paracetamol 500 mg tablet",
            kfa_code=PARACETAMOL_KFA,
            kfa_display="Paracetamol 500 mg Tablet",
        ),  # fmt: skip
        "amoxicillin": make_item(
            session,
            branch,
            "Amoksisilin 500 mg kapsul",
            kfa_code=AMOXICILLIN_KFA,
            kfa_display="Amoxicillin 500 mg Kapsul",
            unit="kapsul",
            form_code="BS019",
            form_name="Kapsul",
        ),  # fmt: skip
        "ctm": make_item(
            session,
            branch,
            "CTM 4 mg tablet",
            kfa_code=CTM_KFA,
            kfa_display="Klorfeniramin Maleat 4 mg Tablet",
        ),  # fmt: skip
        "vitamin": make_item(session, branch, "Vitamin B kompleks tablet"),
    }


def make_allergy(
    session: Session,
    patient,
    branch,
    *,
    kind: str = AllergyKind.SUBSTANCE,
    display: str,
    code: str = "",
    item_id: int | None = None,
    active: bool = True,
) -> PatientAllergy:
    row = PatientAllergy(
        patient_id=patient.id,
        branch_id=branch.id,
        kind=kind,
        category="medication",
        code=code,
        display=display,
        item_id=item_id,
        reaction="ruam kulit",
        recorded_at=utcnow(),
        active=active,
    )
    session.add(row)
    session.commit()
    return row


def single_line(item: DrugItem, **over) -> dict:
    """The prescription form filled for `item`: 3 x sehari 1, 10 units, 3 days."""
    return {
        "item_id": str(item.id),
        "dose": "1 tablet",
        "frequency": "3 x sehari",
        "route": "O",
        "duration_days": "3",
        "quantity": "10",
        "instructions": "sesudah makan",
        **over,
    }


def compound(items: list[DrugItem], **over) -> dict:
    """A puyer of 10 from `items` (one unit of each per 5 pieces)."""
    return {
        "name": "Puyer batuk anak",
        "form": "puyer",
        "quantity": "10",
        "dose": "1 bungkus",
        "frequency": "3 x sehari",
        "route": "O",
        "duration_days": "3",
        "instructions": "sesudah makan",
        "ingredients": [
            {"item_id": str(i.id), "quantity": "2", "dose_text": "1/5 tablet"} for i in items
        ],
        **over,
    }
