"""The facility aggregate: branches, their service units and rooms."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from klinikita.models.base import (
    Versioned,
    created_at_field,
    updated_at_field,
    version_field,
)
from klinikita.models.enums import (
    BranchTimeZone,
    FacilityType,
    SatusehatEnvironment,
    SyncStatus,
)


class Branch(Versioned, SQLModel, table=True):
    """A branch (cabang): one clinic, practice, pharmacy or lab with its own SATUSEHAT keys."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(120), unique=True)
    facility_type: str = Field(default=FacilityType.KLINIK, sa_type=String(16))
    address: str = Field(default="", sa_type=String(300))
    phone: str = Field(default="", sa_type=String(32))
    # The licence on the letterhead: no. izin klinik, or the SIP of an independent practice.
    license_number: str = Field(default="", sa_type=String(80))
    timezone: str = Field(default=BranchTimeZone.WIB, sa_type=String(32))
    is_active: bool = True
    # No. RM format: {seq} (the branch's counter, e.g. {seq:06d}) and {year} (4 digits).
    mrn_format: str = Field(default="{seq:06d}", sa_type=String(60))
    # SATUSEHAT connection. The secret is Fernet-encrypted and never leaves the server.
    ss_environment: str = Field(default=SatusehatEnvironment.SIMULATOR, sa_type=String(16))
    ss_auth_url: str = Field(default="", sa_type=String(300))
    ss_fhir_url: str = Field(default="", sa_type=String(300))
    ss_organization_id: str = Field(default="", sa_type=String(64))
    ss_client_id: str = Field(default="", sa_type=String(200))
    ss_secret_encrypted: str = Field(default="", sa_type=Text)
    # When SATUSEHAT last refused the branch's keys, and its answer (no secret in it); cleared
    # by the next token it grants and when an admin saves new keys.
    ss_key_refused_at: datetime | None = None
    ss_key_refusal: str | None = Field(default=None, sa_type=Text)
    # The facility's position in decimal degrees (WGS84): every Location carries it.
    latitude: float | None = None
    longitude: float | None = None
    version: int = version_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class ServiceUnit(Versioned, SQLModel, table=True):
    """A service unit (unit layanan, e.g. Poli Umum) -> a SATUSEHAT sub-Organization."""

    __tablename__ = "service_unit"
    __table_args__ = (UniqueConstraint("branch_id", "name", name="uq_service_unit_branch_name"),)

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    name: str = Field(sa_type=String(120))
    is_active: bool = True
    ihs_id: str | None = Field(default=None, sa_type=String(64))
    sync_status: str = Field(default=SyncStatus.NOT_SENT, sa_type=String(16))
    sync_error: str | None = Field(default=None, sa_type=Text)
    version: int = version_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class Room(Versioned, SQLModel, table=True):
    """A room (ruangan) of a service unit -> a SATUSEHAT Location."""

    __table_args__ = (UniqueConstraint("branch_id", "name", name="uq_room_branch_name"),)

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="service_unit.id", index=True)
    name: str = Field(sa_type=String(120))
    is_active: bool = True
    ihs_id: str | None = Field(default=None, sa_type=String(64))
    sync_status: str = Field(default=SyncStatus.NOT_SENT, sa_type=String(16))
    sync_error: str | None = Field(default=None, sa_type=Text)
    # The room's own position (decimal degrees); None takes the branch's.
    latitude: float | None = None
    longitude: float | None = None
    version: int = version_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
