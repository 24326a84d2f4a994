"""People: employees (karyawan) and patients (pasien)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, String, Text, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from klinikita.models.base import (
    Versioned,
    created_at_field,
    updated_at_field,
    version_field,
)
from klinikita.models.enums import SyncStatus

# Byte order ("C" collation on PostgreSQL, SQLite's default): a prefix is an index range.
NAME_NORM_TYPE = String(150).with_variant(String(150, collation="C"), "postgresql")
PHONE_TYPE = String(32).with_variant(String(32, collation="C"), "postgresql")


class Employee(Versioned, SQLModel, table=True):
    """A staff member; doctors, nurses, midwives and pharmacists are SATUSEHAT
    Practitioners found by NIK."""

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    name: str = Field(sa_type=String(150))
    nik: str | None = Field(default=None, sa_type=String(16), index=True)
    sex: str | None = Field(default=None, sa_type=String(8))
    birth_date: date | None = None
    phone: str = Field(default="", sa_type=String(32))
    email: str = Field(default="", sa_type=String(254))
    main_duty: str = Field(sa_type=String(32))
    # Surat Izin Praktik: printed under a doctor's name on the letters they issue.
    sip_number: str = Field(default="", sa_type=String(80))
    is_active: bool = True
    ihs_number: str | None = Field(default=None, sa_type=String(32))
    sync_status: str = Field(default=SyncStatus.NOT_SENT, sa_type=String(16))
    sync_error: str | None = Field(default=None, sa_type=Text)
    version: int = version_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class Patient(Versioned, SQLModel, table=True):
    """A patient of a branch, with the medical record number (No. RM) of that branch."""

    __table_args__ = (
        UniqueConstraint("branch_id", "mrn", name="uq_patient_branch_mrn"),
        # Search (services/patients.py): exact NIK, phone and birth date, and name prefix,
        # each within a branch.
        Index("ix_patient_branch_nik", "branch_id", "nik"),
        Index("ix_patient_branch_phone", "branch_id", "phone"),
        Index("ix_patient_branch_birth_date", "branch_id", "birth_date"),
        Index("ix_patient_branch_name_norm", "branch_id", "name_norm"),
        Index("ix_patient_branch_bpjs_number", "branch_id", "bpjs_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    mrn: str = Field(sa_type=String(32))
    nik: str | None = Field(default=None, sa_type=String(16))
    kk_number: str | None = Field(default=None, sa_type=String(16))
    # The BPJS Kesehatan card number (13 digits), when the patient has one.
    bpjs_number: str | None = Field(default=None, sa_type=String(13))
    name: str = Field(sa_type=String(150))
    # The name lower-cased with single spaces, kept by the listener below; searched by prefix
    # (index above) and by substring (trigram index / FTS5 table, models/patient_search.py).
    # Byte order ("C" collation on PostgreSQL, SQLite's default) so a prefix is an index range
    # and the index gives the order of the results.
    name_norm: str = Field(default="", sa_type=NAME_NORM_TYPE)
    birth_date: date
    sex: str = Field(sa_type=String(8))
    # Address: official region codes (Kemendagri, with dots) plus free text.
    province_code: str | None = Field(default=None, sa_type=String(2))
    city_code: str | None = Field(default=None, sa_type=String(5))
    district_code: str | None = Field(default=None, sa_type=String(8))
    village_code: str | None = Field(default=None, sa_type=String(13))
    street: str = Field(default="", sa_type=String(300))
    rt: str = Field(default="", sa_type=String(3))
    rw: str = Field(default="", sa_type=String(3))
    phone: str = Field(default="", sa_type=PHONE_TYPE)  # digits (and +), searched by prefix
    is_newborn: bool = False
    # A baby registered before it has a NIK: the mother's NIK, by which SATUSEHAT creates the
    # baby's patient record (identifier nik-ibu), and its order among twins (0: single
    # birth; 1, 2, ...: first, second, ... of a multiple birth; FHIR multipleBirthInteger).
    mother_nik: str | None = Field(default=None, sa_type=String(16))
    birth_order: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    is_foreigner: bool = False
    no_nik_reason: str = Field(default="", sa_type=String(200))
    is_active: bool = True
    ihs_number: str | None = Field(default=None, sa_type=String(32))
    sync_status: str = Field(default=SyncStatus.NOT_SENT, sa_type=String(16))
    sync_error: str | None = Field(default=None, sa_type=Text)
    version: int = version_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class MrnCounter(SQLModel, table=True):
    """The last medical record number (No. RM) sequence handed out by a branch.

    Incremented with UPDATE in the transaction that saves the patient: on PostgreSQL the row
    lock makes a second desk wait for the first to commit; on SQLite the write lock does."""

    __tablename__ = "mrn_counter"

    branch_id: int = Field(foreign_key="branch.id", primary_key=True)
    last_seq: int = 0


def normalize_name(name: str) -> str:
    """What name search compares: lower case, single spaces."""
    return " ".join((name or "").split()).casefold()


@event.listens_for(Patient, "before_insert")
@event.listens_for(Patient, "before_update")
def _keep_name_norm(_mapper, _conn, target: Patient) -> None:  # noqa: ANN001
    target.name_norm = normalize_name(target.name)
