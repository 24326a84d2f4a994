"""People: employees (karyawan) and patients (pasien)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from klinikita.models.base import created_at_field, updated_at_field
from klinikita.models.enums import SyncStatus


class Employee(SQLModel, table=True):
    """A staff member; doctors and pharmacists are SATUSEHAT Practitioners found by NIK."""

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    name: str = Field(sa_type=String(150))
    nik: str | None = Field(default=None, sa_type=String(16), index=True)
    sex: str | None = Field(default=None, sa_type=String(8))
    birth_date: date | None = None
    phone: str = Field(default="", sa_type=String(32))
    email: str = Field(default="", sa_type=String(254))
    main_duty: str = Field(sa_type=String(32))
    is_active: bool = True
    ihs_number: str | None = Field(default=None, sa_type=String(32))
    sync_status: str = Field(default=SyncStatus.NOT_SENT, sa_type=String(16))
    sync_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class Patient(SQLModel, table=True):
    """A patient of a branch, with the medical record number (No. RM) of that branch."""

    __table_args__ = (UniqueConstraint("branch_id", "mrn", name="uq_patient_branch_mrn"),)

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    mrn: str = Field(sa_type=String(32))
    nik: str | None = Field(default=None, sa_type=String(16), index=True)
    kk_number: str | None = Field(default=None, sa_type=String(16))
    name: str = Field(sa_type=String(150))
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
    phone: str = Field(default="", sa_type=String(32))
    is_newborn: bool = False
    is_foreigner: bool = False
    no_nik_reason: str = Field(default="", sa_type=String(200))
    is_active: bool = True
    ihs_number: str | None = Field(default=None, sa_type=String(32))
    sync_status: str = Field(default=SyncStatus.NOT_SENT, sa_type=String(16))
    sync_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
