"""Branches (cabang): their general settings and their SATUSEHAT connection."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlparse

from sqlmodel import Session, func, select, update

from klinikita.integrations.satusehat.config import (
    branch_destination,
    destination_of,
    is_safe_server_url,
)
from klinikita.models import Branch, SyncJob, UserBranch
from klinikita.models.base import utcnow
from klinikita.models.enums import BranchTimeZone, FacilityType, SatusehatEnvironment
from klinikita.models.satusehat import JobStatus
from klinikita.services import audit, facility, mrn, versions
from klinikita.services.accounts import actor_branch_ids
from klinikita.services.coordinates import parse_coordinates
from klinikita.services.errors import NotFound, ValidationFailed
from klinikita.services.permissions import Action, require
from klinikita.services.secrets_store import encrypt_secret
from klinikita.services.text_input import ascii_digits, normalize_text, take_text

# Shown instead of a stored secret; the secret itself never leaves the server.
SECRET_SAVED_MASK = "•••••• tersimpan"
_SECRET_MAX = 500
# A stored secret goes only where it was saved for: new server addresses need it typed again.
DESTINATION_CHANGED = "Alamat server berubah: ketik ulang Secret Key untuk alamat yang baru."
DESTINATION_NOT_SAVED = (
    "Alamat server berubah tetapi belum disimpan: ketik ulang Secret Key untuk alamat yang "
    "baru dan simpan dulu, lalu tes lagi."
)


@dataclass
class BranchInput:
    name: str
    facility_type: str
    address: str = ""
    phone: str = ""
    timezone: str = BranchTimeZone.WIB
    mrn_format: str | None = None  # None: unchanged
    # The facility's coordinates as typed (decimal degrees); None: unchanged.
    latitude: str | None = None
    longitude: str | None = None
    # The letterhead's licence (no. izin klinik / SIP praktik); None: unchanged.
    license_number: str | None = None


@dataclass
class SatusehatInput:
    """The SATUSEHAT part of the form. `new_secret` is write-only: empty keeps the stored one."""

    environment: str = SatusehatEnvironment.SIMULATOR
    organization_id: str = ""
    client_id: str = ""
    auth_url: str = ""
    fhir_url: str = ""
    new_secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class SatusehatView:
    """What the form may show of a branch's connection: never the secret, only whether one is
    stored."""

    environment: str
    organization_id: str
    client_id: str
    auth_url: str
    fhir_url: str
    secret_saved: bool
    destination: str  # where a kept secret may go (compare with `input_destination`)


def validate_branch_input(
    session: Session, data: BranchInput, *, branch_id: int | None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    name = take_text(errors, "name", data.name, label="Nama cabang", max_length=120, required=True)
    if name:
        clash = session.exec(select(Branch).where(Branch.name == name)).first()
        if clash is not None and clash.id != branch_id:
            errors["name"] = f"Nama cabang '{name}' sudah dipakai."
    if data.facility_type not in {f.value for f in FacilityType}:
        errors["facility_type"] = "Pilih jenis fasilitas."
    if data.timezone not in {z.value for z in BranchTimeZone}:
        errors["timezone"] = "Pilih zona waktu WIB, WITA atau WIT."
    phone = data.phone.strip()
    if phone and not all(ascii_digits(c) or c in "+-() " for c in phone):
        errors["phone"] = "Nomor telepon hanya boleh berisi angka, spasi, +, -, ( dan )."
    elif len(phone) > 32:
        errors["phone"] = "Nomor telepon terlalu panjang."
    take_text(errors, "address", data.address, label="Alamat", max_length=300, multiline=True)
    if data.license_number is not None:
        take_text(
            errors,
            "license_number",
            data.license_number,
            label="No. izin",
            max_length=80,
            collapse_spaces=True,
        )
    if data.mrn_format is not None:
        problem = mrn.format_problem(data.mrn_format.strip())
        if problem:
            errors["mrn_format"] = problem
    if data.latitude is not None or data.longitude is not None:
        errors |= parse_coordinates(data.latitude or "", data.longitude or "").errors
    return errors


def _apply_position(branch: Branch, data: BranchInput) -> bool:
    """Write the coordinates; returns whether they changed."""
    if data.latitude is None and data.longitude is None:
        return False
    parsed = parse_coordinates(data.latitude or "", data.longitude or "")
    before = (branch.latitude, branch.longitude)
    branch.latitude, branch.longitude = parsed.latitude, parsed.longitude
    return before != (branch.latitude, branch.longitude)


def is_http_url(value: str) -> bool:
    parsed = urlparse(value.strip())
    return parsed.scheme in {"http", "https"} and bool(parsed.netloc) and " " not in value.strip()


def validate_satusehat_input(data: SatusehatInput) -> dict[str, str]:
    """Field errors (keys `ss_*`), in words for the admin."""
    errors: dict[str, str] = {}
    if data.environment not in {e.value for e in SatusehatEnvironment}:
        errors["ss_environment"] = "Pilih lingkungan SATUSEHAT."
    org = data.organization_id.strip()
    if org and not (org.isascii() and org.isdigit()):
        errors["ss_organization_id"] = "Organization ID hanya berisi angka, misalnya 10000004."
    elif len(org) > 64:
        errors["ss_organization_id"] = "Organization ID maksimal 64 angka."
    client_id = data.client_id.strip()
    if len(client_id) > 200:
        errors["ss_client_id"] = "Client ID maksimal 200 karakter."
    elif any(c.isspace() for c in client_id):
        errors["ss_client_id"] = "Client ID tidak boleh berisi spasi."
    secret = data.new_secret.strip()
    if len(secret) > _SECRET_MAX:
        errors["ss_secret"] = f"Secret Key maksimal {_SECRET_MAX} karakter."
    elif any(c.isspace() for c in secret):
        errors["ss_secret"] = "Secret Key tidak boleh berisi spasi."
    if data.environment == SatusehatEnvironment.CUSTOM:
        for key, value, label in (
            ("ss_auth_url", data.auth_url, "URL autentikasi"),
            ("ss_fhir_url", data.fhir_url, "URL FHIR"),
        ):
            if not value.strip():
                errors[key] = f"{label} wajib diisi untuk URL khusus."
            elif len(value.strip()) > 300:
                errors[key] = f"{label} maksimal 300 karakter."
            elif not is_http_url(value):
                errors[key] = f"{label} harus diawali https://, misalnya " + (
                    "https://contoh.id/oauth2/v1"
                    if key == "ss_auth_url"
                    else "https://contoh.id/fhir-r4/v1"
                )
            elif not is_safe_server_url(value):
                errors[key] = (
                    f"{label} harus memakai https:// (http:// hanya untuk 127.0.0.1 atau "
                    "localhost), agar Secret Key tidak terkirim tanpa enkripsi."
                )
    return errors


def input_destination(data: SatusehatInput) -> str:
    """Where the form's settings would send a branch's data (and its secret)."""
    return destination_of(data.environment, data.auth_url, data.fhir_url)


def destination_changed(branch: Branch, data: SatusehatInput) -> bool:
    """Whether `data` names another environment or other URLs than the saved ones."""
    return input_destination(data) != branch_destination(branch)


def _secret_errors(branch: Branch, data: SatusehatInput) -> dict[str, str]:
    """A stored secret never follows new server addresses: they need it typed again."""
    if (
        branch.ss_secret_encrypted
        and not data.new_secret.strip()
        and destination_changed(branch, data)
    ):
        return {"ss_secret": DESTINATION_CHANGED}
    return {}


def _apply_satusehat(branch: Branch, data: SatusehatInput) -> bool:
    """Write the SATUSEHAT fields; returns whether the secret was replaced."""
    branch.ss_environment = data.environment
    branch.ss_organization_id = data.organization_id.strip()
    branch.ss_client_id = data.client_id.strip()
    custom = data.environment == SatusehatEnvironment.CUSTOM
    branch.ss_auth_url = data.auth_url.strip().rstrip("/") if custom else ""
    branch.ss_fhir_url = data.fhir_url.strip().rstrip("/") if custom else ""
    secret = data.new_secret.strip()
    if not secret:
        return False  # an empty field keeps the stored secret (same destination only)
    branch.ss_secret_encrypted = encrypt_secret(secret, bound_to=branch_destination(branch))
    return True


def _apply_general(branch: Branch, data: BranchInput) -> None:
    branch.name = normalize_text(data.name)
    branch.facility_type = data.facility_type
    branch.address = normalize_text(data.address, multiline=True)
    branch.phone = data.phone.strip()
    branch.timezone = data.timezone
    if data.mrn_format is not None:
        branch.mrn_format = data.mrn_format.strip()
    if data.license_number is not None:
        branch.license_number = take_text(
            {}, "license_number", data.license_number, label="", max_length=80, collapse_spaces=True
        )


def _after(branch: Branch, secret_replaced: bool) -> dict:
    after = audit.snapshot(branch) or {}
    if secret_replaced:
        # Both sides show "***": say in words that the secret itself changed.
        after["ss_secret_encrypted"] = "*** (diganti)"
    return after


def update_branch(
    session: Session,
    actor: audit.Actor,
    branch_id: int,
    data: BranchInput,
    satusehat: SatusehatInput | None = None,
    *,
    expected_version: int | None = None,
) -> Branch:
    """Save a branch granted to `actor`; `satusehat=None` leaves its SATUSEHAT connection
    as it is. New server addresses are saved only with a newly typed secret.
    `expected_version`: the version the form loaded (services/versions.py)."""
    require(actor.duty, Action.BRANCH_SETTINGS)
    require(actor.duty, Action.RECORD_EDIT)
    # Locked: the addresses compared here are the ones the kept secret stays with.
    branch = managed_branch(session, actor, branch_id, lock=True)
    versions.check(session, branch, expected_version, entity="branch", branch_id=actor.branch_id)
    errors = validate_branch_input(session, data, branch_id=branch_id)
    if satusehat is not None:
        errors |= validate_satusehat_input(satusehat) | _secret_errors(branch, satusehat)
    if errors:
        raise ValidationFailed(errors)
    before = audit.snapshot(branch)
    _apply_general(branch, data)
    moved = _apply_position(branch, data)
    keys_before = (branch.ss_client_id, branch.ss_organization_id, branch_destination(branch))
    replaced = _apply_satusehat(branch, satusehat) if satusehat is not None else False
    keys_after = (branch.ss_client_id, branch.ss_organization_id, branch_destination(branch))
    branch.updated_at = utcnow()
    if replaced or keys_after != keys_before:
        retry_with_new_keys(session, branch)
    versions.save(session, branch, entity="branch", branch_id=actor.branch_id)
    if moved:
        facility.send_room_positions(session, branch.id)
    audit.record(
        session,
        actor,
        "update",
        "branch",
        branch.id,
        before=before,
        after=_after(branch, replaced),
        branch_id=branch.id,
    )
    return branch


def retry_with_new_keys(session: Session, branch: Branch) -> None:
    """New keys were saved: forget SATUSEHAT's last refusal and make the branch's waiting
    sends due now instead of after their refusal delay (in the caller's transaction)."""
    branch.ss_key_refused_at = None
    branch.ss_key_refusal = None
    session.connection().execute(
        update(SyncJob)
        .where(SyncJob.branch_id == branch.id, SyncJob.status == JobStatus.PENDING)
        .values(next_attempt_at=utcnow())
    )


def create_branch(
    session: Session, actor: audit.Actor, data: BranchInput, satusehat: SatusehatInput
) -> Branch:
    """Tambah cabang. It is granted to the creating admin, who may work in it at once."""
    require(actor.duty, Action.BRANCH_SETTINGS)
    errors = validate_branch_input(session, data, branch_id=None)
    errors |= validate_satusehat_input(satusehat)
    if errors:
        raise ValidationFailed(errors)
    branch = Branch(name="")
    _apply_general(branch, data)
    _apply_position(branch, data)
    replaced = _apply_satusehat(branch, satusehat)
    session.add(branch)
    session.flush()
    session.add(UserBranch(user_id=actor.user_id, branch_id=branch.id))
    audit.record(
        session,
        actor,
        "create",
        "branch",
        branch.id,
        after=_after(branch, replaced),
        branch_id=branch.id,
    )
    return branch


def satusehat_view(branch: Branch) -> SatusehatView:
    return SatusehatView(
        environment=branch.ss_environment,
        organization_id=branch.ss_organization_id,
        client_id=branch.ss_client_id,
        auth_url=branch.ss_auth_url,
        fhir_url=branch.ss_fhir_url,
        secret_saved=bool(branch.ss_secret_encrypted),
        destination=branch_destination(branch),
    )


def managed_branch(
    session: Session, actor: audit.Actor, branch_id: int, *, lock: bool = False
) -> Branch:
    """A branch granted to `actor`; any other reads as missing (NotFound)."""
    branch = None
    if branch_id in actor_branch_ids(session, actor):
        branch = session.get(Branch, branch_id, with_for_update=lock)
    if branch is None:
        raise NotFound("Cabang tidak ditemukan.")
    return branch


def page_of_branches(
    session: Session, actor: audit.Actor, page: int, size: int
) -> tuple[list[Branch], int]:
    """One page (1-based) of the branches granted to `actor`, and their count."""
    granted = Branch.id.in_(actor_branch_ids(session, actor))
    total = session.exec(select(func.count()).select_from(Branch).where(granted)).one()
    rows = session.exec(
        select(Branch)
        .where(granted)
        .order_by(Branch.id)
        .offset(max(0, page - 1) * size)
        .limit(size)
    ).all()
    return list(rows), int(total)
