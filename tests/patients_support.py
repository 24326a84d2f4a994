"""Helpers for the patient tests: actors and a valid form."""

from __future__ import annotations

from sqlmodel import Session

from klinikita.models import Branch, Region
from klinikita.models.enums import Duty
from klinikita.services.audit import Actor
from klinikita.services.patient_records import PatientInput
from tests.factories import make_user

# A small slice of the official list: one province down to two villages.
REGIONS = (
    ("31", "Daerah Khusus Ibukota Jakarta", 1, None),
    ("31.71", "Kota Administrasi Jakarta Pusat", 2, "31"),
    ("31.71.01", "Gambir", 3, "31.71"),
    ("31.71.01.1001", "Gambir", 4, "31.71.01"),
    ("31.71.01.1002", "Cideng", 4, "31.71.01"),
    ("32", "Jawa Barat", 1, None),
    ("32.73", "Kota Bandung", 2, "32"),
)


def add_regions(session: Session) -> None:
    for code, name, level, parent in REGIONS:
        session.add(Region(code=code, name=name, level=level, parent_code=parent))
    session.commit()


def actor_for(session: Session, branch: Branch, duty: str = Duty.ADMIN, name: str = "") -> Actor:
    username = name or f"{duty}-{branch.id}"
    user = make_user(session, username, branches=[branch], main_duty=duty)
    return Actor(
        user_id=user.id,
        username=username,
        full_name=username,
        duty=duty,
        branch_id=branch.id,
    )


def patient_form(**changes) -> PatientInput:
    values = dict(
        name="Budi Santoso",
        birth_date="1990-11-25",
        sex="male",
        nik="3171012511900001",
        phone="0812-3456-7890",
    )
    values.update(changes)
    return PatientInput(**values)
