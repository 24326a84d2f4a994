"""A patient's allergies (alergi), or the explicit record that there are none."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from klinikita.models.base import created_at_field, updated_at_field

NO_KNOWN_ALLERGY_SNOMED = "716186003"  # "No known allergy": sent to SATUSEHAT too


class AllergyKind(StrEnum):
    SUBSTANCE = "substance"  # a common allergen coded in SNOMED CT
    DRUG = "drug"  # an item of the branch's drug master (coded by its KFA code)
    NONE = "none"  # tidak ada alergi (SNOMED 716186003)


class AllergyCategory(StrEnum):
    """AllergyIntolerance.category."""

    FOOD = "food"
    MEDICATION = "medication"
    ENVIRONMENT = "environment"
    BIOLOGIC = "biologic"


class AllergySeverity(StrEnum):
    """AllergyIntolerance.reaction.severity."""

    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


class PatientAllergy(SQLModel, table=True):
    """One allergy of a patient, recorded in a visit (the AllergyIntolerance's encounter).
    An inactive row is one staff withdrew; a NONE row is withdrawn when an allergy is
    recorded."""

    __tablename__ = "patient_allergy"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    branch_id: int = Field(foreign_key="branch.id")
    kind: str = Field(sa_type=String(12))
    category: str = Field(default="", sa_type=String(16))
    code: str = Field(default="", sa_type=String(20))  # SNOMED (substance, none) or KFA (drug)
    display: str = Field(sa_type=String(200))
    item_id: int | None = Field(default=None, foreign_key="drug_item.id")
    reaction: str = Field(default="", sa_type=String(200))  # e.g. "gatal, ruam kulit"
    severity: str = Field(default="", sa_type=String(10))
    recorded_visit_id: int | None = Field(default=None, foreign_key="visit.id", index=True)
    recorded_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    recorded_at: datetime
    active: bool = Field(default=True)
    # The SATUSEHAT AllergyIntolerance id, written back by the worker.
    resource_id: str | None = Field(default=None, sa_type=String(64))
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
