"""The clinical aggregate: a visit (kunjungan), its examination and its diagnoses."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from klinikita.models.base import (
    Versioned,
    created_at_field,
    updated_at_field,
    version_field,
)
from klinikita.models.enums import SyncStatus


class VisitStatus(StrEnum):
    REGISTERED = "registered"
    IN_EXAMINATION = "in_examination"
    COMPLETE = "complete"
    CANCELLED = "cancelled"


class Payer(StrEnum):
    UMUM = "umum"
    BPJS = "bpjs"
    ASURANSI = "asuransi"


OPEN_VISIT_WHERE = "status IN ('registered', 'in_examination')"  # VisitStatus, not yet ended
OPEN_STATUSES = (VisitStatus.REGISTERED.value, VisitStatus.IN_EXAMINATION.value)  # the same


def new_visit_uid() -> str:
    return uuid.uuid4().hex


class Visit(Versioned, SQLModel, table=True):
    """One visit of a patient to a unit. Its `uid` is the SATUSEHAT Encounter identifier:
    random, so it never collides, even across databases of the same organization."""

    __table_args__ = (
        UniqueConstraint(
            "branch_id", "unit_id", "visit_date", "queue_number", name="uq_visit_queue"
        ),
        # One open visit per patient, unit and day, whoever writes it: Daftarkan's insert
        # stops at this index (services/registration.py) instead of looking first.
        Index(
            "uq_visit_open",
            "patient_id",
            "unit_id",
            "visit_date",
            unique=True,
            sqlite_where=text(OPEN_VISIT_WHERE),
            postgresql_where=text(OPEN_VISIT_WHERE),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(default_factory=new_visit_uid, sa_type=String(32), unique=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    unit_id: int = Field(foreign_key="service_unit.id")
    room_id: int = Field(foreign_key="room.id")
    doctor_id: int = Field(foreign_key="employee.id")
    visit_date: date = Field(index=True)  # the branch's local date
    queue_number: int
    payer: str = Field(default=Payer.UMUM, sa_type=String(16))
    # The BPJS card number the visit is claimed on (payer BPJS only).
    bpjs_number: str | None = Field(default=None, sa_type=String(13))
    status: str = Field(default=VisitStatus.REGISTERED, sa_type=String(16))
    # The three moments of the Encounter's statusHistory, in UTC.
    arrived_at: datetime
    exam_started_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str = Field(default="", sa_type=String(300))
    encounter_id: str | None = Field(default=None, sa_type=String(64))
    sync_status: str = Field(default=SyncStatus.NOT_SENT, sa_type=String(16))
    # Corrections after completion (docs/satusehat.md): every change SATUSEHAT must hear of
    # raises `sync_revision`; a send writes back the revision it carried as `sent_revision`,
    # and a visit whose revision moved on while it was sending is sent again.
    sync_revision: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    sent_revision: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # What SATUSEHAT holds that the visit no longer has (a removed diagnosis, a cleared
    # vital), withdrawn as entered-in-error by every later send: a list of
    # {"type": "Condition"|"Observation", "id", "code", "display", "value"}.
    retracted: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    sync_error: str | None = Field(default=None, sa_type=Text)
    version: int = version_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class Examination(Versioned, SQLModel, table=True):
    """Vitals (nurse) and SOAP (doctor) of one visit."""

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visit.id", unique=True)
    systolic: int | None = None  # mm[Hg]
    diastolic: int | None = None  # mm[Hg]
    pulse: int | None = None  # /min
    respiratory_rate: int | None = None  # /min
    temperature: float | None = None  # Cel
    weight: float | None = None  # kg
    height: float | None = None  # cm
    spo2: int | None = None  # %
    vitals_at: datetime | None = None
    vitals_by_id: int | None = Field(default=None, foreign_key="employee.id")
    vitals_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    soap_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    subjective: str = Field(default="", sa_type=Text)
    objective: str = Field(default="", sa_type=Text)
    assessment: str = Field(default="", sa_type=Text)
    plan: str = Field(default="", sa_type=Text)
    # SATUSEHAT Observation ids by LOINC code, written back by the worker.
    observation_ids: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    version: int = version_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class Diagnosis(SQLModel, table=True):
    """An ICD-10 diagnosis of a visit; rank 1 is the primary one."""

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visit.id", index=True)
    rank: int = 1
    icd10_code: str = Field(sa_type=String(16))
    display: str = Field(default="", sa_type=String(300))
    condition_id: str | None = Field(default=None, sa_type=String(64))
    created_at: datetime = created_at_field()


class QueueCounter(SQLModel, table=True):
    """The last queue number (nomor antrean) given by a unit on one local date.

    Incremented with UPDATE ... RETURNING in the registering transaction: on PostgreSQL the
    row lock makes a second desk wait for the first to commit; on SQLite the write lock does."""

    __tablename__ = "queue_counter"

    branch_id: int = Field(foreign_key="branch.id", primary_key=True)
    unit_id: int = Field(foreign_key="service_unit.id", primary_key=True)
    visit_date: date = Field(primary_key=True)
    last_number: int = 0


class Procedure(SQLModel, table=True):
    """A procedure (tindakan) done in a visit: an ICD-9-CM code when known, else free text."""

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visit.id", index=True)
    code: str = Field(default="", sa_type=String(16))  # ICD-9-CM, may be empty
    description: str = Field(sa_type=String(300))
    note: str = Field(default="", sa_type=String(500))
    # Who did it and when (Procedure.performer and performedPeriod); the visit's doctor and
    # the time it was recorded unless staff say otherwise.
    performed_by_id: int | None = Field(default=None, foreign_key="employee.id")
    performed_at: datetime | None = None
    # The SATUSEHAT Procedure id, written back by the worker.
    resource_id: str | None = Field(default=None, sa_type=String(64))
    created_at: datetime = created_at_field()


class Prescription(SQLModel, table=True):
    """One line of a visit's prescription (resep): one item of the drug master, or a racikan
    (`is_compound`) whose items are its PrescriptionIngredient rows, made into `quantity`
    powders, capsules ... Each line is one MedicationRequest; `line_no` numbers it within the
    visit (the `prescription-item` identifier). Rows written before the drug master have no
    `item_id` and only the free-text `medicine`."""

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visit.id", index=True)
    line_no: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    item_id: int | None = Field(default=None, foreign_key="drug_item.id")
    is_compound: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    medicine: str = Field(sa_type=String(200))  # the item's or the racikan's name as shown
    form: str = Field(default="", sa_type=String(40))  # tablet, sirup, puyer, kapsul ...
    quantity: float | None = None  # dispensing units; a racikan: how many powders/capsules
    dose: str = Field(default="", sa_type=String(100))  # e.g. "1 tablet"
    dose_amount: float | None = None  # the number in `dose`, for doseQuantity
    frequency: str = Field(default="", sa_type=String(100))  # e.g. "3 x sehari"
    times_per_day: int | None = None  # the number in `frequency`, for timing.repeat
    route: str = Field(
        default="O", sa_type=String(8), sa_column_kwargs={"server_default": "O"}
    )  # WHO ATC route: O, P, R, V, N, TD ...
    duration_days: int | None = None
    instructions: str = Field(default="", sa_type=String(300))  # e.g. "sesudah makan"
    # SATUSEHAT ids written back by the worker: the MedicationRequest when the visit is
    # sent, the MedicationDispense once the pharmacy has dispensed it.
    medication_request_id: str | None = Field(default=None, sa_type=String(64))
    medication_dispense_id: str | None = Field(default=None, sa_type=String(64))
    created_at: datetime = created_at_field()


class PrescriptionIngredient(SQLModel, table=True):
    """One item of a racikan: `quantity` whole units taken from stock for the whole racikan,
    `dose_text` what each powder or capsule holds of it (e.g. "125 mg")."""

    __tablename__ = "prescription_ingredient"

    id: int | None = Field(default=None, primary_key=True)
    prescription_id: int = Field(foreign_key="prescription.id", index=True)
    item_id: int = Field(foreign_key="drug_item.id")
    quantity: int
    dose_text: str = Field(default="", sa_type=String(60))
    created_at: datetime = created_at_field()
