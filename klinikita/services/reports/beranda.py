"""Beranda: today's numbers of the logged-in person's work in the active branch, by duty,
each with the page that lists them; for admins the branch's readiness and this week's
SATUSEHAT compliance.

Counts only (no patient, no diagnosis): every duty with Beranda may see the numbers of its
own work. Which groups a duty gets follows the permission table:
- the desk (VISIT_REGISTER): registered today, waiting, cancelled;
- the examination rooms (VIEW_PEMERIKSAAN): waiting for the examination, in examination,
  done today; a doctor linked to an employee gets their own patients first;
- the pharmacy (DISPENSE_RECORD): completed visits of today with prescriptions;
- the cashier (PAYMENT_RECORD): completed visits of today;
- every clinical duty (VIEW_CLINICAL): today's visits sent to SATUSEHAT, and failed;
- admins (BRANCH_SETTINGS): `services/readiness.py`'s blockers and this week's row of the
  SATUSEHAT dashboard with the failed and stopped jobs.
Today's visit figures are one statement; the admin's part reuses the readiness and dashboard
services.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, exists, func
from sqlmodel import Session, select

from klinikita import routes
from klinikita.models import Branch, SyncJob, User, Visit
from klinikita.models.clinical import Prescription, VisitStatus
from klinikita.models.enums import Duty, SyncStatus
from klinikita.models.satusehat import JobStatus
from klinikita.services.audit import Actor
from klinikita.services.permissions import Action, allows, require
from klinikita.services.readiness import ReadinessItem, branch_readiness
from klinikita.services.reports.dashboard import WeekCount, weekly_counts
from klinikita.services.visit_queue import local_today

DOCTOR_DUTIES = frozenset(
    {Duty.DOKTER_UMUM, Duty.DOKTER_SPESIALIS, Duty.DOKTER_GIGI, Duty.DOKTER_MCU}
)


@dataclass(frozen=True)
class Figure:
    key: str  # stable id for the page and the tests: 'desk_waiting', 'own_in_exam', ...
    label: str
    value: int
    link: str  # the page that lists them
    tone: str = "gray"  # a Radix colour: what needs attention is orange or red


@dataclass(frozen=True)
class FigureGroup:
    key: str  # desk, own, exam, pharmacy, cashier, satusehat
    title: str
    figures: list[Figure]


@dataclass(frozen=True)
class Compliance:
    week: WeekCount  # this week (Monday to Sunday, branch local)
    failed_jobs: int
    dead_jobs: int

    @property
    def share(self) -> str:
        """'75%' of the completed visits with an encounter id; '-' with none completed."""
        done = self.week.visits_completed
        return f"{round(100 * self.week.encounters_accepted / done)}%" if done else "-"


@dataclass(frozen=True)
class Beranda:
    groups: list[FigureGroup]
    readiness: list[ReadinessItem] = field(default_factory=list)  # admins; empty: ready
    compliance: Compliance | None = None  # admins only
    is_admin: bool = False


def _sum(condition) -> object:  # noqa: ANN001
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _today_counts(session: Session, actor: Actor, day) -> dict[str, int]:  # noqa: ANN001
    """Today's visits of the branch counted every way the groups need, in one statement."""
    status = Visit.status
    done = status == VisitStatus.COMPLETE
    own = Visit.doctor_id == (
        select(User.employee_id).where(User.id == actor.user_id).scalar_subquery()
    )
    with_rx = exists().where(Prescription.visit_id == Visit.id)
    columns = {
        "open": _sum(status != VisitStatus.CANCELLED),
        "registered": _sum(status == VisitStatus.REGISTERED),
        "in_exam": _sum(status == VisitStatus.IN_EXAMINATION),
        "done": _sum(done),
        "cancelled": _sum(status == VisitStatus.CANCELLED),
        "own_registered": _sum(and_(own, status == VisitStatus.REGISTERED)),
        "own_in_exam": _sum(and_(own, status == VisitStatus.IN_EXAMINATION)),
        "own_done": _sum(and_(own, done)),
        "done_with_rx": _sum(and_(done, with_rx)),
        "sent": _sum(and_(done, Visit.encounter_id.is_not(None))),
        "failed": _sum(Visit.sync_status == SyncStatus.FAILED),
    }
    row = session.exec(
        select(*columns.values()).where(Visit.branch_id == actor.branch_id, Visit.visit_date == day)
    ).one()
    return {key: int(value) for key, value in zip(columns, row, strict=True)}


def beranda(session: Session, actor: Actor, now: datetime | None = None) -> Beranda:
    """The figures of the actor's active duty and branch (see the module's docstring)."""
    require(actor.duty, Action.VIEW_BERANDA)
    duty = actor.duty
    branch = session.get(Branch, actor.branch_id)
    counts = _today_counts(session, actor, local_today(branch, now))
    groups: list[FigureGroup] = []
    if allows(duty, Action.VISIT_REGISTER):
        desk = routes.PENDAFTARAN
        groups.append(
            FigureGroup(
                "desk",
                "Pendaftaran hari ini",
                [
                    Figure("desk_registered", "Terdaftar", counts["open"], desk, "teal"),
                    Figure("desk_waiting", "Menunggu", counts["registered"], desk, "orange"),
                    Figure("desk_cancelled", "Dibatalkan", counts["cancelled"], desk),
                ],
            )
        )
    if allows(duty, Action.VIEW_PEMERIKSAAN):
        exam = routes.PEMERIKSAAN
        if duty in DOCTOR_DUTIES:
            groups.append(
                FigureGroup(
                    "own",
                    "Pasien saya hari ini",
                    [
                        Figure("own_waiting", "Menunggu", counts["own_registered"], exam, "orange"),
                        Figure("own_in_exam", "Sedang diperiksa", counts["own_in_exam"], exam),
                        Figure("own_done", "Selesai", counts["own_done"], exam, "green"),
                    ],
                )
            )
        groups.append(
            FigureGroup(
                "exam",
                "Pemeriksaan hari ini (semua dokter)",
                [
                    Figure("exam_waiting", "Menunggu", counts["registered"], exam, "orange"),
                    Figure("exam_in_exam", "Sedang diperiksa", counts["in_exam"], exam, "blue"),
                    Figure("exam_done", "Selesai", counts["done"], exam, "green"),
                ],
            )
        )
    if allows(duty, Action.DISPENSE_RECORD):
        groups.append(
            FigureGroup(
                "pharmacy",
                "Farmasi hari ini",
                [
                    Figure(
                        "pharmacy_with_rx",
                        "Kunjungan selesai dengan resep",
                        counts["done_with_rx"],
                        routes.RESUME,
                        "teal",
                    )
                ],
            )
        )
    if allows(duty, Action.PAYMENT_RECORD):
        groups.append(
            FigureGroup(
                "cashier",
                "Kasir hari ini",
                [
                    Figure(
                        "cashier_done",
                        "Kunjungan selesai",
                        counts["done"],
                        routes.PENDAFTARAN,
                        "teal",
                    )
                ],
            )
        )
    if allows(duty, Action.VIEW_CLINICAL):
        board = (
            routes.LAPORAN_DASHBOARD if allows(duty, Action.VIEW_LAPORAN) else routes.PEMERIKSAAN
        )
        groups.append(
            FigureGroup(
                "satusehat",
                "SATUSEHAT hari ini",
                [
                    Figure("ss_sent", "Terkirim", counts["sent"], board, "green"),
                    Figure(
                        "ss_failed",
                        "Gagal",
                        counts["failed"],
                        board,
                        "red" if counts["failed"] else "gray",
                    ),
                ],
            )
        )
    if not allows(duty, Action.BRANCH_SETTINGS):
        return Beranda(groups)
    jobs = dict(
        session.exec(
            select(SyncJob.status, func.count())
            .where(
                SyncJob.branch_id == actor.branch_id,
                SyncJob.status.in_((JobStatus.FAILED, JobStatus.DEAD)),
            )
            .group_by(SyncJob.status)
        ).all()
    )
    compliance = Compliance(
        weekly_counts(session, actor.branch_id, now)[-1],
        int(jobs.get(JobStatus.FAILED, 0)),
        int(jobs.get(JobStatus.DEAD, 0)),
    )
    return Beranda(groups, branch_readiness(session, actor.branch_id), compliance, True)
