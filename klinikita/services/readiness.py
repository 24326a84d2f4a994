"""Kesiapan SATUSEHAT: what blocks a branch from sending, each with where to fix it.

Counts come from SQL (`count(*)`), never from loading rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_
from sqlmodel import Session, func, select

from klinikita import routes
from klinikita.integrations.satusehat.config import missing_settings
from klinikita.models import Branch, Employee, Room, ServiceUnit, SyncJob
from klinikita.models.satusehat import JobStatus
from klinikita.services.audit import Actor
from klinikita.services.branches import page_of_branches
from klinikita.services.employees import PRACTITIONER_DUTIES
from klinikita.services.errors import NotFound
from klinikita.services.paging import Page
from klinikita.services.satusehat_credentials import open_secret
from klinikita.services.satusehat_errors import KEY_REFUSED_MESSAGE


@dataclass(frozen=True)
class ReadinessItem:
    key: str  # credentials, secret, position, units, rooms, doctors (practitioners), jobs
    message: str  # for the admin, Bahasa Indonesia
    link: str  # where to fix it
    count: int = 0


def branch_edit_link(branch_id: int) -> str:
    """The settings page with this branch's edit form open."""
    return f"{routes.PENGATURAN}?cabang={branch_id}"


def _count(session: Session, stmt) -> int:  # noqa: ANN001
    return int(session.exec(stmt).one())


def _no_id(column):  # noqa: ANN001, ANN202
    return or_(column.is_(None), column == "")


def branch_readiness(session: Session, branch_id: int) -> list[ReadinessItem]:
    """Everything that blocks sending for this branch; empty means ready ("Siap mengirim")."""
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise NotFound("Cabang tidak ditemukan.")
    items: list[ReadinessItem] = []
    if branch.ss_key_refused_at is not None:
        items.append(
            ReadinessItem("key_refused", KEY_REFUSED_MESSAGE, branch_edit_link(branch_id), 1)
        )
    missing = missing_settings(branch)
    if missing:
        items.append(
            ReadinessItem(
                "credentials",
                f"Pengaturan SATUSEHAT belum lengkap: {', '.join(missing)}.",
                branch_edit_link(branch_id),
                len(missing),
            )
        )
    elif branch.ss_secret_encrypted:
        try:
            open_secret(branch)
        except ValueError as exc:
            items.append(ReadinessItem("secret", str(exc), branch_edit_link(branch_id), 1))

    if branch.latitude is None or branch.longitude is None:
        # Only rooms without coordinates of their own need the branch's.
        rooms_without = _count(
            session,
            select(func.count())
            .select_from(Room)
            .where(
                Room.branch_id == branch_id,
                Room.is_active.is_(True),
                or_(Room.latitude.is_(None), Room.longitude.is_(None)),
            ),
        )
        if rooms_without:
            items.append(
                ReadinessItem(
                    "position",
                    "Koordinat cabang (lintang dan bujur) belum diisi; SATUSEHAT menolak "
                    f"ruangan tanpa koordinat ({rooms_without} ruangan aktif memakainya).",
                    branch_edit_link(branch_id),
                    rooms_without,
                )
            )
    units = _count(
        session,
        select(func.count())
        .select_from(ServiceUnit)
        .where(
            ServiceUnit.branch_id == branch_id,
            ServiceUnit.is_active.is_(True),
            _no_id(ServiceUnit.ihs_id),
        ),
    )
    if units:
        items.append(
            ReadinessItem(
                "units",
                f"{units} unit layanan belum punya ID SATUSEHAT.",
                routes.REFERENSI_UNIT,
                units,
            )
        )
    rooms = _count(
        session,
        select(func.count())
        .select_from(Room)
        .where(Room.branch_id == branch_id, Room.is_active.is_(True), _no_id(Room.ihs_id)),
    )
    if rooms:
        items.append(
            ReadinessItem(
                "rooms",
                f"{rooms} ruangan belum punya ID SATUSEHAT.",
                routes.REFERENSI_RUANGAN,
                rooms,
            )
        )
    doctors = _count(
        session,
        select(func.count())
        .select_from(Employee)
        .where(
            Employee.branch_id == branch_id,
            Employee.is_active.is_(True),
            Employee.main_duty.in_([d.value for d in PRACTITIONER_DUTIES]),
            _no_id(Employee.ihs_number),
        ),
    )
    if doctors:
        items.append(
            ReadinessItem(
                "doctors",
                f"{doctors} tenaga kesehatan (dokter, perawat, bidan, apoteker) belum punya "
                "nomor IHS: cari lewat NIK (Kirim ulang di Kontak > Karyawan).",
                routes.KONTAK_KARYAWAN,
                doctors,
            )
        )
    jobs = _count(
        session,
        select(func.count())
        .select_from(SyncJob)
        .where(
            SyncJob.branch_id == branch_id,
            SyncJob.status.in_([JobStatus.FAILED.value, JobStatus.DEAD.value]),
        ),
    )
    if jobs:
        items.append(
            ReadinessItem(
                "jobs",
                f"{jobs} pengiriman SATUSEHAT gagal dan menunggu diperbaiki atau dikirim ulang.",
                routes.LAPORAN,
                jobs,
            )
        )
    return items


@dataclass(frozen=True)
class BranchWithReadiness:
    branch: Branch
    blockers: list[ReadinessItem]


def branches_page(
    session: Session, actor: Actor, page: int, page_size: int
) -> Page[BranchWithReadiness]:
    """One page (1-based, clamped) of the branches granted to `actor`, each with what
    blocks it from sending (the Pengaturan list)."""
    rows, total = page_of_branches(session, actor, page, page_size)
    page_count = max(1, -(-total // page_size))
    if page > page_count or page < 1:
        page = min(max(1, page), page_count)
        rows, total = page_of_branches(session, actor, page, page_size)
    shown = [BranchWithReadiness(b, branch_readiness(session, b.id)) for b in rows]
    return Page(shown, page, page_size, total)
