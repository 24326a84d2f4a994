"""Laporan pendapatan: the cashier's money of a date range, the shift reports and the bills
still unpaid, for the actor's active branch.

Rules:
- A bill counts on the branch's local day it was paid (`paid_at`, stored in UTC), never on
  the day it was made: the day's revenue is what the drawer and the accounts took that day.
- Only paid bills count. A voided (batal) bill is left out of every figure and listed on
  its own, on the day it was paid (a bill voided before payment: the day it was voided).
- "Dibayar pasien" is what the patient paid (the bill's `patient_total`, equal to its
  payments); "ditanggung penjamin" is BPJS's or the insurer's share (`covered_total`), a
  claim still to be collected; their sum is the revenue. Money is integer rupiah.
- Per payment method the figures are the payments' own amounts (a split bill counts in
  each of its methods).
- Every figure is a SQL aggregate; a day or month of the range is found with one CASE over
  the branch's local day bounds, so a zone's midnight is exact on SQLite and PostgreSQL.

Who reads it: VIEW_LAPORAN and VIEW_PENDAPATAN (cashiers and admin, not the clinical staff).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, exists, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from klinikita.models import Branch, Employee, Patient, ServiceUnit, User, Visit
from klinikita.models.billing import Bill, BillStatus, CashierShift, Insurer, Payment, PaymentMethod
from klinikita.models.clinical import VisitStatus
from klinikita.services.audit import Actor
from klinikita.services.patients import format_date
from klinikita.services.permissions import Action, require
from klinikita.services.report_csv import to_csv
from klinikita.services.reports.days import CsvFile, csv_file, day_start_utc, export_day
from klinikita.services.reports.dinkes import MONTHS, PAYER_LABELS, Month, require_range
from klinikita.services.visit_queue import branch_zone, zone_time_text

CHART_DAYS = 62  # a longer range is charted per month (62 daily bars are still readable)
LIST_LIMIT = 500  # voided and unpaid lists: the oldest first, at most this many
COUNTER_SALE = "Penjualan bebas"
TIME_FORMAT = "%d/%m/%Y %H:%M"


def require_revenue(actor: Actor) -> None:
    """Raises PermissionDenied unless the actor's duty reads the revenue reports."""
    require(actor.duty, Action.VIEW_LAPORAN)
    require(actor.duty, Action.VIEW_PENDAPATAN)


# ----- the range's bounds ------------------------------------------------------------------
def _month_starts(date_from: date, date_to: date) -> list[date]:
    """The first day of each month the range touches, the range's first day first."""
    starts, day = [date_from], date(date_from.year, date_from.month, 1)
    while True:
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        if day > date_to:
            return starts
        starts.append(day)


def _bucket(column, bounds: list[datetime]):  # noqa: ANN001, ANN202
    """The index i of the period [bounds[i], bounds[i+1]) `column` falls in (it is already
    kept within bounds[0]..bounds[-1])."""
    return case(*[(column < bounds[i + 1], i) for i in range(len(bounds) - 1)], else_=-1)


def _paid_in(branch: Branch, bounds: list[datetime]) -> tuple:
    return (
        Bill.branch_id == branch.id,
        Bill.status == BillStatus.PAID,
        Bill.paid_at >= bounds[0],
        Bill.paid_at < bounds[-1],
    )


def _sums():  # noqa: ANN202
    """Bills, paid by patients, covered by payers, discounts: the four figures of a row."""
    return (
        func.count(Bill.id),
        func.coalesce(func.sum(Bill.patient_total), 0),
        func.coalesce(func.sum(Bill.covered_total), 0),
        func.coalesce(func.sum(Bill.discount_amount), 0),
    )


# ----- revenue -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Money:
    """One row: `key` names it (a day '2026-11-25', a method, 'asuransi:3', a unit id)."""

    key: str
    label: str
    bills: int
    paid: int  # dibayar pasien
    covered: int  # ditanggung penjamin
    discount: int = 0

    @property
    def total(self) -> int:
        return self.paid + self.covered


@dataclass(frozen=True)
class MethodRow:
    method: str  # PaymentMethod value
    label: str
    payments: int
    amount: int


@dataclass(frozen=True)
class VoidedRow:
    bill_id: int
    nota_number: str
    name: str  # the patient or the over-the-counter buyer
    paid_at: str
    voided_at: str
    voided_by: str
    reason: str
    paid: int
    covered: int


@dataclass(frozen=True)
class Revenue:
    date_from: date
    date_to: date
    total: Money
    days: list[Money]  # every day of the range, zeros included
    months: list[Money]  # every month the range touches (clipped to the range)
    methods: list[MethodRow]  # every method, zeros included, in PaymentMethod's order
    payers: list[Money]  # most revenue first
    units: list[Money]
    doctors: list[Money]
    voided: list[VoidedRow]

    @property
    def chart(self) -> list[Money]:
        """The periods the chart shows: the days, or the months of a long range."""
        return self.days if len(self.days) <= CHART_DAYS else self.months


def _money(key: object, label: str, row: tuple) -> Money:
    bills, paid, covered, discount = row
    return Money(str(key), label, int(bills), int(paid), int(covered), int(discount))


def _ranked(rows: list[Money]) -> list[Money]:
    return sorted(rows, key=lambda m: (-m.total, m.label))


def _periods(session: Session, branch: Branch, starts: list[date], end: date, label) -> list[Money]:  # noqa: ANN001
    """One row per period beginning at each of `starts` (the last ending before `end`)."""
    bounds = [day_start_utc(branch, d) for d in [*starts, end]]
    inner = select(_bucket(Bill.paid_at, bounds).label("period"), Bill.id.label("bill_id")).where(
        *_paid_in(branch, bounds)
    )
    sub = inner.subquery()
    found = {
        int(period): tuple(rest)
        for period, *rest in session.exec(
            select(sub.c.period, *_sums())
            .join(Bill, Bill.id == sub.c.bill_id)
            .group_by(sub.c.period)
        ).all()
    }
    return [
        _money(start.isoformat(), label(start), found.get(i, (0, 0, 0, 0)))
        for i, start in enumerate(starts)
    ]


def _month_label(start: date) -> str:
    return f"{MONTHS[start.month - 1]} {start.year}"


def revenue(
    session: Session, actor: Actor, date_from: date | None, date_to: date | None
) -> Revenue:
    """The branch's revenue of the local days date_from..date_to (at most a year): per day,
    per month, per payment method, payer, unit and doctor, and the voided notas."""
    require_revenue(actor)
    date_from, date_to = require_range(date_from, date_to)
    branch = session.get(Branch, actor.branch_id)
    end = date_to + timedelta(days=1)
    bounds = [day_start_utc(branch, date_from), day_start_utc(branch, end)]
    where = _paid_in(branch, bounds)
    total = _money("total", "Total", session.exec(select(*_sums()).where(*where)).one())
    day_starts = [date_from + timedelta(days=n) for n in range((end - date_from).days)]
    days = _periods(session, branch, day_starts, end, format_date)
    months = _periods(session, branch, _month_starts(date_from, date_to), end, _month_label)

    per_method = {
        method: (int(n), int(amount))
        for method, n, amount in session.exec(
            select(Payment.method, func.count(Payment.id), func.sum(Payment.amount))
            .join(Bill, Bill.id == Payment.bill_id)
            .where(*where)
            .group_by(Payment.method)
        ).all()
    }
    methods = [MethodRow(m.value, m.label, *per_method.get(m.value, (0, 0))) for m in PaymentMethod]

    payers = []
    for payer, insurer_id, insurer_name, *sums in session.exec(
        select(Bill.payer, Bill.insurer_id, Insurer.name, *_sums())
        .outerjoin(Insurer, Insurer.id == Bill.insurer_id)
        .where(*where)
        .group_by(Bill.payer, Bill.insurer_id, Insurer.name)
    ).all():
        label = PAYER_LABELS.get(payer, payer)
        key = payer
        if payer == "asuransi":
            key = f"asuransi:{insurer_id or ''}"
            label = f"Asuransi {insurer_name}" if insurer_name else "Asuransi (belum dipilih)"
        payers.append(_money(key, label, tuple(sums)))

    units = [
        _money(uid or "bebas", name or COUNTER_SALE, tuple(sums))
        for uid, name, *sums in session.exec(
            select(ServiceUnit.id, ServiceUnit.name, *_sums())
            .select_from(Bill)
            .outerjoin(Visit, Visit.id == Bill.visit_id)
            .outerjoin(ServiceUnit, ServiceUnit.id == Visit.unit_id)
            .where(*where)
            .group_by(ServiceUnit.id, ServiceUnit.name)
        ).all()
    ]
    doctors = [
        _money(eid or "bebas", name or COUNTER_SALE, tuple(sums))
        for eid, name, *sums in session.exec(
            select(Employee.id, Employee.name, *_sums())
            .select_from(Bill)
            .outerjoin(Visit, Visit.id == Bill.visit_id)
            .outerjoin(Employee, Employee.id == Visit.doctor_id)
            .where(*where)
            .group_by(Employee.id, Employee.name)
        ).all()
    ]
    return Revenue(
        date_from,
        date_to,
        total,
        days,
        months,
        methods,
        _ranked(payers),
        _ranked(units),
        _ranked(doctors),
        _voided(session, branch, bounds),
    )


def _voided(session: Session, branch: Branch, bounds: list[datetime]) -> list[VoidedRow]:
    zone = branch_zone(branch)
    when = func.coalesce(Bill.paid_at, Bill.voided_at)
    rows = session.exec(
        select(Bill, Patient.name, User.full_name)
        .outerjoin(Patient, Patient.id == Bill.patient_id)
        .outerjoin(User, User.id == Bill.voided_by_user_id)
        .where(
            Bill.branch_id == branch.id,
            Bill.status == BillStatus.VOID,
            when >= bounds[0],
            when < bounds[1],
        )
        .order_by(when, Bill.id)
        .limit(LIST_LIMIT)
    ).all()
    return [
        VoidedRow(
            bill_id=bill.id,
            nota_number=bill.nota_number or "",
            name=patient or bill.customer_name,
            paid_at=zone_time_text(bill.paid_at, zone, TIME_FORMAT),
            voided_at=zone_time_text(bill.voided_at, zone, TIME_FORMAT),
            voided_by=who or "",
            reason=bill.void_reason,
            paid=bill.patient_total,
            covered=bill.covered_total,
        )
        for bill, patient, who in rows
    ]


REVENUE_CSV_HEADERS = (
    "Bagian",
    "Uraian",
    "Jumlah nota",
    "Dibayar pasien (Rp)",
    "Ditanggung penjamin (Rp)",
    "Pendapatan (Rp)",
    "Diskon (Rp)",
)


def revenue_csv(
    session: Session, actor: Actor, date_from: date | None, date_to: date | None
) -> CsvFile:
    """Every table of the revenue report one after the other, each row naming its table;
    the amounts are numbers (whole rupiah)."""
    found = revenue(session, actor, date_from, date_to)

    def money_rows(part: str, rows: list[Money]) -> list[tuple]:
        return [(part, m.label, m.bills, m.paid, m.covered, m.total, m.discount) for m in rows]

    rows = money_rows("Per hari", found.days) + money_rows("Per bulan", found.months)
    rows += [
        ("Per cara bayar", m.label, m.payments, m.amount, 0, m.amount, "") for m in found.methods
    ]
    rows += money_rows("Per penjamin", found.payers)
    rows += money_rows("Per unit", found.units)
    rows += money_rows("Per dokter", found.doctors)
    rows += [
        ("Nota batal", f"{v.nota_number or '-'} {v.name}: {v.reason}".strip(), 1, v.paid,
         v.covered, v.paid + v.covered, "")
        for v in found.voided
    ]  # fmt: skip
    t = found.total
    rows.append(
        ("Total", f"{found.date_from} s.d. {found.date_to}", t.bills, t.paid, t.covered, t.total,
         t.discount)
    )  # fmt: skip
    text = to_csv(REVENUE_CSV_HEADERS, rows)
    return csv_file(session, actor.branch_id, "laporan-pendapatan", text, len(rows))


# ----- shift reports -----------------------------------------------------------------------
@dataclass(frozen=True)
class ShiftMethod:
    method: str
    label: str
    expected: int
    counted: int

    @property
    def difference(self) -> int:
        return self.counted - self.expected


@dataclass(frozen=True)
class ClosedShift:
    id: int
    cashier: str
    opened: str
    closed: str
    opening_cash: int
    bills: int  # paid (not voided) bills of the shift
    methods: list[ShiftMethod]  # every method, in PaymentMethod's order
    note: str

    @property
    def expected(self) -> int:
        return sum(m.expected for m in self.methods)

    @property
    def counted(self) -> int:
        return sum(m.counted for m in self.methods)

    @property
    def difference(self) -> int:
        return self.counted - self.expected


def closed_shifts(
    session: Session, actor: Actor, date_from: date | None, date_to: date | None
) -> list[ClosedShift]:
    """The branch's shifts closed on the local days date_from..date_to, oldest first, with
    what the close recorded: expected and counted per method."""
    require_revenue(actor)
    date_from, date_to = require_range(date_from, date_to)
    branch = session.get(Branch, actor.branch_id)
    zone = branch_zone(branch)
    paid = (
        select(Bill.shift_id, func.count(Bill.id).label("bills"))
        .where(Bill.branch_id == branch.id, Bill.status == BillStatus.PAID)
        .group_by(Bill.shift_id)
        .subquery()
    )
    rows = session.exec(
        select(CashierShift, User.full_name, func.coalesce(paid.c.bills, 0))
        .join(User, User.id == CashierShift.user_id)
        .outerjoin(paid, paid.c.shift_id == CashierShift.id)
        .where(
            CashierShift.branch_id == branch.id,
            CashierShift.closed_at >= day_start_utc(branch, date_from),
            CashierShift.closed_at < day_start_utc(branch, date_to + timedelta(days=1)),
        )
        .order_by(CashierShift.closed_at, CashierShift.id)
    ).all()
    out = []
    for shift, cashier, bills in rows:
        expected, counted = shift.expected or {}, shift.counted or {}
        methods = [
            ShiftMethod(
                m.value, m.label, int(expected.get(m.value, 0)), int(counted.get(m.value, 0))
            )
            for m in PaymentMethod
        ]
        out.append(
            ClosedShift(
                id=shift.id,
                cashier=cashier,
                opened=zone_time_text(shift.opened_at, zone, TIME_FORMAT),
                closed=zone_time_text(shift.closed_at, zone, TIME_FORMAT),
                opening_cash=shift.opening_cash,
                bills=int(bills),
                methods=methods,
                note=shift.close_note,
            )
        )
    return out


SHIFT_CSV_HEADERS = (
    "No. shift",
    "Kasir",
    "Dibuka",
    "Ditutup",
    "Cara bayar",
    "Diharapkan (Rp)",
    "Dihitung (Rp)",
    "Selisih (Rp)",
    "Catatan",
)


def shifts_csv(
    session: Session, actor: Actor, date_from: date | None, date_to: date | None
) -> CsvFile:
    """One row per shift and payment method, then the shift's total."""
    rows: list[tuple] = []
    for s in closed_shifts(session, actor, date_from, date_to):
        for m in s.methods:
            rows.append(
                (s.id, s.cashier, s.opened, s.closed, m.label, m.expected, m.counted,
                 m.difference, "")
            )  # fmt: skip
        rows.append(
            (s.id, s.cashier, s.opened, s.closed, "Total", s.expected, s.counted, s.difference,
             s.note)
        )  # fmt: skip
    text = to_csv(SHIFT_CSV_HEADERS, rows)
    return csv_file(session, actor.branch_id, "laporan-shift-kasir", text, len(rows))


# ----- unpaid bills ------------------------------------------------------------------------
@dataclass(frozen=True)
class UnpaidRow:
    key: str  # 'kunjungan-12' or 'tagihan-7'
    day: date  # the visit's date, or the counter sale's
    age_days: int  # days since `day`, on the branch's today
    name: str
    mrn: str
    unit: str
    doctor: str
    payer: str
    state: str  # 'Belum ada tagihan' or 'Tagihan terbuka'
    amount: int | None  # the open bill's patient total; None before a bill is made

    @property
    def age(self) -> str:
        return "hari ini" if self.age_days == 0 else f"{self.age_days} hari"


@dataclass(frozen=True)
class Unpaid:
    rows: list[UnpaidRow]  # oldest first
    total: int  # rupiah of the open bills listed
    limited: bool  # more than LIST_LIMIT of a kind: the oldest are listed


NO_BILL, OPEN_BILL = "Belum ada tagihan", "Tagihan terbuka"


def unpaid(session: Session, actor: Actor, date_from: date | None, date_to: date | None) -> Unpaid:
    """Completed visits of the range without a paid bill (with their open bill if any), and
    the range's open over-the-counter sales, with their age on the branch's today."""
    require_revenue(actor)
    date_from, date_to = require_range(date_from, date_to)
    today = export_day(session, actor.branch_id)
    paid_bill = aliased(Bill)
    paid = (
        exists()
        .where(paid_bill.visit_id == Visit.id, paid_bill.status == BillStatus.PAID)
        .correlate(Visit)
    )
    open_bill = and_(Bill.visit_id == Visit.id, Bill.status == BillStatus.OPEN)
    visits = session.exec(
        select(
            Visit.id,
            Visit.visit_date,
            Visit.payer,
            Patient.name,
            Patient.mrn,
            ServiceUnit.name,
            Employee.name,
            Bill.id,
            Bill.patient_total,
        )
        .join(Patient, Patient.id == Visit.patient_id)
        .outerjoin(ServiceUnit, ServiceUnit.id == Visit.unit_id)
        .outerjoin(Employee, Employee.id == Visit.doctor_id)
        .outerjoin(Bill, open_bill)
        .where(
            Visit.branch_id == actor.branch_id,
            Visit.status == VisitStatus.COMPLETE,
            Visit.visit_date >= date_from,
            Visit.visit_date <= date_to,
            ~paid,
        )
        .order_by(Visit.visit_date, Visit.id)
        .limit(LIST_LIMIT + 1)
    ).all()
    sales = session.exec(
        select(Bill.id, Bill.bill_date, Bill.customer_name, Bill.payer, Bill.patient_total)
        .where(
            Bill.branch_id == actor.branch_id,
            Bill.visit_id.is_(None),
            Bill.status == BillStatus.OPEN,
            Bill.bill_date >= date_from,
            Bill.bill_date <= date_to,
        )
        .order_by(Bill.bill_date, Bill.id)
        .limit(LIST_LIMIT + 1)
    ).all()
    limited = len(visits) > LIST_LIMIT or len(sales) > LIST_LIMIT
    rows = [
        UnpaidRow(
            key=f"kunjungan-{vid}",
            day=day,
            age_days=(today - day).days,
            name=name,
            mrn=mrn,
            unit=unit or "",
            doctor=doctor or "",
            payer=PAYER_LABELS.get(payer, payer),
            state=OPEN_BILL if bill_id else NO_BILL,
            amount=int(amount) if bill_id else None,
        )
        for vid, day, payer, name, mrn, unit, doctor, bill_id, amount in visits[:LIST_LIMIT]
    ]
    rows += [
        UnpaidRow(
            key=f"tagihan-{bid}",
            day=day,
            age_days=(today - day).days,
            name=name or "-",
            mrn="",
            unit=COUNTER_SALE,
            doctor="",
            payer=PAYER_LABELS.get(payer, payer),
            state=OPEN_BILL,
            amount=int(amount),
        )
        for bid, day, name, payer, amount in sales[:LIST_LIMIT]
    ]
    rows.sort(key=lambda r: (r.day, r.key))
    return Unpaid(rows, sum(r.amount or 0 for r in rows), limited)


UNPAID_CSV_HEADERS = (
    "Tanggal",
    "Umur (hari)",
    "Nama",
    "No. RM",
    "Unit",
    "Dokter",
    "Penjamin",
    "Keadaan",
    "Tagihan pasien (Rp)",
)


def unpaid_csv(
    session: Session, actor: Actor, date_from: date | None, date_to: date | None
) -> CsvFile:
    found = unpaid(session, actor, date_from, date_to)
    rows = [
        (r.day.isoformat(), r.age_days, r.name, r.mrn, r.unit, r.doctor, r.payer, r.state,
         r.amount)
        for r in found.rows
    ]  # fmt: skip
    text = to_csv(UNPAID_CSV_HEADERS, rows)
    return csv_file(session, actor.branch_id, "tagihan-belum-dibayar", text, len(rows))


# ----- the page ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Pendapatan:
    """What the Pendapatan tab shows for a range: one call per page action."""

    date_from: date
    date_to: date
    month: Month
    revenue: Revenue
    shifts: list[ClosedShift]
    unpaid: Unpaid


def pendapatan(
    session: Session, actor: Actor, date_from: date | None, date_to: date | None
) -> Pendapatan:
    """The three reports of one range; raises ValidationFailed for a missing, reversed or
    long range, PermissionDenied for a duty that does not read revenue."""
    found = revenue(session, actor, date_from, date_to)
    return Pendapatan(
        found.date_from,
        found.date_to,
        Month(found.date_from.year, found.date_from.month),
        found,
        closed_shifts(session, actor, date_from, date_to),
        unpaid(session, actor, date_from, date_to),
    )


def opening(session: Session, actor: Actor) -> Pendapatan:
    """The tab as it opens: today, in the branch's zone."""
    require_revenue(actor)
    today = export_day(session, actor.branch_id)
    return pendapatan(session, actor, today, today)


def month_range(month: Month) -> tuple[date, date]:
    """The month's first and last day (the page's month picker sets the range)."""
    return month.first, month.last
