"""Branches (cabang): their general settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from klinikita.models import Branch
from klinikita.models.base import utcnow
from klinikita.models.enums import BranchTimeZone, FacilityType
from klinikita.services import audit, mrn
from klinikita.services.errors import NotFound, ValidationFailed
from klinikita.services.permissions import Action, require


@dataclass
class BranchInput:
    name: str
    facility_type: str
    address: str = ""
    phone: str = ""
    timezone: str = BranchTimeZone.WIB
    mrn_format: str | None = None  # None: unchanged


def validate_branch_input(
    session: Session, data: BranchInput, *, branch_id: int | None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    name = data.name.strip()
    if not name:
        errors["name"] = "Nama cabang wajib diisi."
    elif len(name) > 120:
        errors["name"] = "Nama cabang maksimal 120 karakter."
    else:
        clash = session.exec(select(Branch).where(Branch.name == name)).first()
        if clash is not None and clash.id != branch_id:
            errors["name"] = f"Nama cabang '{name}' sudah dipakai."
    if data.facility_type not in {f.value for f in FacilityType}:
        errors["facility_type"] = "Pilih jenis fasilitas."
    if data.timezone not in {z.value for z in BranchTimeZone}:
        errors["timezone"] = "Pilih zona waktu WIB, WITA atau WIT."
    phone = data.phone.strip()
    if phone and not all(c.isdigit() or c in "+-() " for c in phone):
        errors["phone"] = "Nomor telepon hanya boleh berisi angka, spasi, +, -, ( dan )."
    if len(data.address) > 300:
        errors["address"] = "Alamat maksimal 300 karakter."
    if data.mrn_format is not None:
        problem = mrn.format_problem(data.mrn_format.strip())
        if problem:
            errors["mrn_format"] = problem
    return errors


def update_branch(
    session: Session, actor: audit.Actor, branch_id: int, data: BranchInput
) -> Branch:
    require(actor.duty, Action.BRANCH_SETTINGS)
    require(actor.duty, Action.RECORD_EDIT)
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise NotFound("Cabang tidak ditemukan.")
    errors = validate_branch_input(session, data, branch_id=branch_id)
    if errors:
        raise ValidationFailed(errors)
    before = audit.snapshot(branch)
    branch.name = data.name.strip()
    branch.facility_type = data.facility_type
    branch.address = data.address.strip()
    branch.phone = data.phone.strip()
    branch.timezone = data.timezone
    if data.mrn_format is not None:
        branch.mrn_format = data.mrn_format.strip()
    branch.updated_at = utcnow()
    session.add(branch)
    session.flush()
    audit.record(
        session,
        actor,
        "update",
        "branch",
        branch.id,
        before=before,
        after=audit.snapshot(branch),
        branch_id=branch.id,
    )
    return branch


def list_branches(session: Session) -> list[Branch]:
    return list(session.exec(select(Branch).order_by(Branch.id)).all())
