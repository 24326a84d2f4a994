"""Laporan Dinkes: visits per day, unit and payer; the ten most common diagnoses of a month;
new and returning patients. The monthly morbidity report (LB1) is in `lb1`.

Every figure is of the actor's active branch, days are the branch's local days (a visit's
`visit_date` is already its local date), cancelled visits are never counted. Counts only:
no patient is named. The diagnosis reports need VIEW_CLINICAL besides VIEW_LAPORAN (a
diagnosis is clinical content, even counted).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from klinikita.models import ServiceUnit, Visit
from klinikita.models.clinical import Diagnosis, Payer, VisitStatus
from klinikita.services.audit import Actor
from klinikita.services.errors import ValidationFailed
from klinikita.services.patients import format_date
from klinikita.services.permissions import Action, require
from klinikita.services.report_csv import to_csv
from klinikita.services.reports.days import (
    FIRST_DAY,
    LAST_DAY,
    CsvFile,
    check_range,
    csv_file,
)
from klinikita.terminology.icd10_codes import describe

MAX_DAYS = 366  # a range longer than a year is refused (the day chart would be unreadable)
TOP_N = 10
PAYER_LABELS = {Payer.UMUM: "Umum", Payer.BPJS: "BPJS", Payer.ASURANSI: "Asuransi"}
MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


# ----- the filters ---------------------------------------------------------------------
@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def label(self) -> str:
        """'November 2026'."""
        return f"{MONTHS[self.month - 1]} {self.year}"

    @property
    def text(self) -> str:
        """'2026-11', as <input type=month> gives it."""
        return f"{self.year:04d}-{self.month:02d}"


def parse_month(text: str, field: str = "month") -> Month:
    """A month from an <input type=month> ('2026-11'). Raises ValidationFailed otherwise."""
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        raise ValidationFailed({field: "Pilih bulan."})
    try:
        year_text, month_text = text.split("-")
        month = Month(int(year_text), int(month_text))
        month.first  # noqa: B018  (raises for month 13)
    except ValueError:
        raise ValidationFailed({field: "Bulan tidak valid."}) from None
    if not FIRST_DAY <= month.first <= LAST_DAY:
        raise ValidationFailed({field: "Bulan di luar rentang."})
    return month


def require_range(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    """Both ends given, in order, at most MAX_DAYS days. Raises ValidationFailed."""
    errors = {}
    if date_from is None:
        errors["date_from"] = "Isi tanggal awal."
    if date_to is None:
        errors["date_to"] = "Isi tanggal akhir."
    if errors:
        raise ValidationFailed(errors)
    check_range(date_from, date_to)
    if (date_to - date_from).days + 1 > MAX_DAYS:
        raise ValidationFailed({"date_to": f"Rentang paling lama {MAX_DAYS} hari."})
    return date_from, date_to


def _counted(branch_id: int, date_from: date, date_to: date) -> tuple:
    return (
        Visit.branch_id == branch_id,
        Visit.visit_date >= date_from,
        Visit.visit_date <= date_to,
        Visit.status != VisitStatus.CANCELLED,
    )


def diagnosis_display(code: str, stored: str) -> str:
    """What a diagnosis is shown as: its display as stored, else the ICD-10 table's."""
    return stored or describe(code) or ""


# ----- visits per day, unit and payer ---------------------------------------------------
@dataclass(frozen=True)
class Count:
    key: str  # '2026-11-25', the unit's id, the payer
    label: str  # '25 Nov 2026', 'Poli Umum', 'BPJS'
    count: int


@dataclass(frozen=True)
class VisitCounts:
    date_from: date
    date_to: date
    total: int
    days: list[Count]  # every day of the range, zeros included
    units: list[Count]  # most visits first
    payers: list[Count]  # most visits first


def visit_counts(
    session: Session, actor: Actor, date_from: date | None, date_to: date | None
) -> VisitCounts:
    """Visits (not cancelled) of the branch per local day, per unit and per payer."""
    require(actor.duty, Action.VIEW_LAPORAN)
    date_from, date_to = require_range(date_from, date_to)
    where = _counted(actor.branch_id, date_from, date_to)
    per_day = dict(
        session.exec(
            select(Visit.visit_date, func.count()).where(*where).group_by(Visit.visit_date)
        ).all()
    )
    days = []
    day = date_from
    while day <= date_to:
        days.append(Count(day.isoformat(), format_date(day), int(per_day.get(day, 0))))
        day += timedelta(days=1)
    units = [
        Count(str(uid), name, int(n))
        for uid, name, n in session.exec(
            select(ServiceUnit.id, ServiceUnit.name, func.count(Visit.id))
            .join(ServiceUnit, ServiceUnit.id == Visit.unit_id)
            .where(*where)
            .group_by(ServiceUnit.id, ServiceUnit.name)
        ).all()
    ]
    payers = [
        Count(payer, PAYER_LABELS.get(payer, payer), int(n))
        for payer, n in session.exec(
            select(Visit.payer, func.count()).where(*where).group_by(Visit.payer)
        ).all()
    ]
    return VisitCounts(
        date_from,
        date_to,
        sum(d.count for d in days),
        days,
        sorted(units, key=lambda c: (-c.count, c.label)),
        sorted(payers, key=lambda c: (-c.count, c.label)),
    )


VISIT_CSV_HEADERS = ("Bagian", "Tanggal / unit / penjamin", "Jumlah kunjungan")


def visit_counts_csv(
    session: Session, actor: Actor, date_from: date | None, date_to: date | None
) -> CsvFile:
    """The three tables one after the other, each row naming its table."""
    found = visit_counts(session, actor, date_from, date_to)
    rows = [("Per hari", d.key, d.count) for d in found.days]
    rows += [("Per unit", u.label, u.count) for u in found.units]
    rows += [("Per penjamin", p.label, p.count) for p in found.payers]
    rows.append(("Total", f"{found.date_from} s.d. {found.date_to}", found.total))
    text = to_csv(VISIT_CSV_HEADERS, rows)
    return csv_file(session, actor.branch_id, "kunjungan-per-hari-unit-penjamin", text, len(rows))


# ----- ten most common diagnoses of a month ----------------------------------------------
@dataclass(frozen=True)
class DiagnosisCount:
    rank: int
    code: str
    display: str
    count: int  # visits with this diagnosis (any rank) in the month


@dataclass(frozen=True)
class TopDiagnoses:
    month: Month
    rows: list[DiagnosisCount]
    visits: int  # completed visits of the month with at least one diagnosis


def top_diagnoses(session: Session, actor: Actor, month: Month, n: int = TOP_N) -> TopDiagnoses:
    """The `n` diagnoses found in most of the month's completed visits; a tie is broken by
    the code. A code counts once per visit."""
    require(actor.duty, Action.VIEW_LAPORAN)
    require(actor.duty, Action.VIEW_CLINICAL)
    where = (
        *_counted(actor.branch_id, month.first, month.last),
        Visit.status == VisitStatus.COMPLETE,
    )
    cases = func.count(func.distinct(Diagnosis.visit_id))
    found = session.exec(
        select(Diagnosis.icd10_code, func.max(Diagnosis.display), cases)
        .join(Visit, Visit.id == Diagnosis.visit_id)
        .where(*where)
        .group_by(Diagnosis.icd10_code)
        .order_by(cases.desc(), Diagnosis.icd10_code)
        .limit(n)
    ).all()
    visits = session.exec(
        select(func.count(func.distinct(Diagnosis.visit_id)))
        .join(Visit, Visit.id == Diagnosis.visit_id)
        .where(*where)
    ).one()
    rows = [
        DiagnosisCount(i, code, diagnosis_display(code, display or ""), int(count))
        for i, (code, display, count) in enumerate(found, start=1)
    ]
    return TopDiagnoses(month, rows, int(visits))


TOP_CSV_HEADERS = ("Peringkat", "Kode ICD-10", "Diagnosis", "Jumlah kunjungan")


def top_diagnoses_csv(session: Session, actor: Actor, month: Month) -> CsvFile:
    found = top_diagnoses(session, actor, month)
    rows = [(r.rank, r.code, r.display, r.count) for r in found.rows]
    text = to_csv(TOP_CSV_HEADERS, rows)
    return csv_file(session, actor.branch_id, f"10-besar-diagnosis-{month.text}", text, len(rows))


# ----- new and returning patients ------------------------------------------------------
@dataclass(frozen=True)
class NewReturningDay:
    day: date
    label: str
    new: int  # visits that were the patient's first ever at the branch
    returning: int  # visits of patients seen at the branch before


@dataclass(frozen=True)
class NewReturning:
    date_from: date
    date_to: date
    new_patients: int  # patients whose first visit at the branch falls in the range
    returning_patients: int  # patients of the range seen at the branch before it
    days: list[NewReturningDay]


def new_and_returning(
    session: Session, actor: Actor, date_from: date | None, date_to: date | None
) -> NewReturning:
    """Per day, the range's visits that were a patient's first at the branch (new) and the
    others (returning); and the patients of each kind. A patient's first visit is their
    earliest not cancelled visit at the branch (by arrival)."""
    require(actor.duty, Action.VIEW_LAPORAN)
    date_from, date_to = require_range(date_from, date_to)
    first = (
        select(Visit.patient_id, func.min(Visit.arrived_at).label("first_at"))
        .where(Visit.branch_id == actor.branch_id, Visit.status != VisitStatus.CANCELLED)
        .group_by(Visit.patient_id)
        .subquery()
    )
    rows = session.exec(
        select(Visit.visit_date, Visit.patient_id, Visit.arrived_at == first.c.first_at)
        .join(first, first.c.patient_id == Visit.patient_id)
        .where(*_counted(actor.branch_id, date_from, date_to))
    ).all()
    per_day: dict[date, list[int]] = {}
    new_patients: set[int] = set()
    seen: set[int] = set()
    for day, patient_id, is_first in rows:
        counts = per_day.setdefault(day, [0, 0])
        counts[0 if is_first else 1] += 1
        seen.add(patient_id)
        if is_first:
            new_patients.add(patient_id)
    days = []
    day = date_from
    while day <= date_to:
        new, returning = per_day.get(day, (0, 0))
        days.append(NewReturningDay(day, format_date(day), new, returning))
        day += timedelta(days=1)
    return NewReturning(date_from, date_to, len(new_patients), len(seen - new_patients), days)


NEW_CSV_HEADERS = ("Tanggal", "Kunjungan pasien baru", "Kunjungan pasien lama")


def new_and_returning_csv(
    session: Session, actor: Actor, date_from: date | None, date_to: date | None
) -> CsvFile:
    found = new_and_returning(session, actor, date_from, date_to)
    rows: list[tuple] = [(d.day.isoformat(), d.new, d.returning) for d in found.days]
    rows.append(("Jumlah pasien (orang)", found.new_patients, found.returning_patients))
    text = to_csv(NEW_CSV_HEADERS, rows)
    return csv_file(session, actor.branch_id, "pasien-baru-dan-lama", text, len(rows))
