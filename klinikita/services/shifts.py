"""Kasir -> Shift: a cashier's shift at the active branch.

A shift opens with the cash in the drawer; every payment is taken in the cashier's open
shift. It closes with a count per payment method. What was expected per method: the
payments of the shift's bills that are not void, plus the opening cash for tunai (the
change handed back never stayed in the drawer: a cash part's amount is what the bill kept).
The close report shows expected, counted and the difference per method.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from klinikita.models import Branch, User
from klinikita.models.base import utcnow
from klinikita.models.billing import Bill, BillStatus, CashierShift, Payment, PaymentMethod
from klinikita.services import audit
from klinikita.services.audit import Actor
from klinikita.services.errors import NotFound, ServiceError, ValidationFailed
from klinikita.services.money import rupiah, take_rupiah
from klinikita.services.permissions import Action, require
from klinikita.services.text_input import take_text
from klinikita.services.visit_queue import branch_zone, zone_time_text

ENTITY = "cashier_shift"


def open_shift_of(session: Session, actor: Actor) -> CashierShift | None:
    """The actor's open shift at the active branch, if any."""
    return session.exec(
        select(CashierShift).where(
            CashierShift.branch_id == actor.branch_id,
            CashierShift.user_id == actor.user_id,
            CashierShift.closed_at.is_(None),
        )
    ).first()


def open_shift(session: Session, actor: Actor, opening_cash_text: str) -> CashierShift:
    """Open the actor's shift with the cash in the drawer; one open shift at a time."""
    require(actor.duty, Action.PAYMENT_RECORD)
    errors: dict[str, str] = {}
    cash = take_rupiah(errors, "opening_cash", opening_cash_text, label="Modal kas awal")
    if errors:
        raise ValidationFailed(errors)
    if open_shift_of(session, actor) is not None:
        raise ServiceError("Shift Anda masih terbuka: tutup dulu sebelum membuka yang baru.")
    shift = CashierShift(
        branch_id=actor.branch_id, user_id=actor.user_id, opened_at=utcnow(), opening_cash=cash
    )
    session.add(shift)
    session.flush()
    audit.record(session, actor, "shift_open", ENTITY, shift.id, after={"opening_cash": cash})
    return shift


def expected_per_method(session: Session, shift: CashierShift) -> dict[str, int]:
    """Rupiah each method should hold at the end of `shift`."""
    sums = dict(
        session.exec(
            select(Payment.method, func.sum(Payment.amount))
            .join(Bill, Bill.id == Payment.bill_id)
            .where(Payment.shift_id == shift.id, Bill.status != BillStatus.VOID)
            .group_by(Payment.method)
        ).all()
    )
    out = {m.value: int(sums.get(m.value) or 0) for m in PaymentMethod}
    out[PaymentMethod.TUNAI.value] += shift.opening_cash
    return out


def close_shift(
    session: Session, actor: Actor, counted_text: dict[str, str], note_text: str = ""
) -> CashierShift:
    """Close the actor's open shift with the count per method (empty: 0); audited."""
    require(actor.duty, Action.PAYMENT_RECORD)
    shift = open_shift_of(session, actor)
    if shift is None:
        raise NotFound("Tidak ada shift yang terbuka.")
    errors: dict[str, str] = {}
    counted = {
        m.value: take_rupiah(
            errors, f"count_{m.value}", counted_text.get(m.value, ""), label=m.label
        )
        for m in PaymentMethod
    }
    note = take_text(errors, "close_note", note_text, label="Catatan", max_length=300)
    if errors:
        raise ValidationFailed(errors)
    shift.expected = expected_per_method(session, shift)
    shift.counted, shift.close_note, shift.closed_at = counted, note, utcnow()
    session.add(shift)
    audit.record(
        session,
        actor,
        "shift_close",
        ENTITY,
        shift.id,
        after={"expected": shift.expected, "counted": counted, "note": note},
    )
    return shift


@dataclass(frozen=True)
class ReportRow:
    method: str
    expected: str
    counted: str
    difference: str
    short: bool  # less counted than expected


@dataclass(frozen=True)
class ShiftReport:
    id: int
    cashier: str
    opened: str
    closed: str
    opening_cash: str
    bills: int
    rows: list[ReportRow]
    note: str


def shift_report(session: Session, actor: Actor, shift_id: int) -> ShiftReport:
    """Expected against counted per method of a shift of the active branch (an open shift:
    so far, nothing counted)."""
    require(actor.duty, Action.VIEW_KASIR)
    shift = session.get(CashierShift, shift_id)
    if shift is None or shift.branch_id != actor.branch_id:
        raise NotFound("Shift tidak ditemukan.")
    user = session.get(User, shift.user_id)
    zone = branch_zone(session.get(Branch, shift.branch_id))
    expected = shift.expected or expected_per_method(session, shift)
    counted = shift.counted or {}
    rows = []
    for m in PaymentMethod:
        exp, cnt = int(expected.get(m.value, 0)), int(counted.get(m.value, 0))
        diff = cnt - exp
        rows.append(
            ReportRow(
                method=m.label,
                expected=rupiah(exp),
                counted=rupiah(cnt) if shift.closed_at else "-",
                difference=rupiah(diff) if shift.closed_at else "-",
                short=bool(shift.closed_at) and diff < 0,
            )
        )
    bills = session.exec(
        select(func.count(Bill.id)).where(Bill.shift_id == shift.id, Bill.status == BillStatus.PAID)
    ).one()
    return ShiftReport(
        id=shift.id,
        cashier=user.full_name if user else "",
        opened=zone_time_text(shift.opened_at, zone, "%d/%m/%Y %H:%M"),
        closed=zone_time_text(shift.closed_at, zone, "%d/%m/%Y %H:%M") if shift.closed_at else "",
        opening_cash=rupiah(shift.opening_cash),
        bills=int(bills),
        rows=rows,
        note=shift.close_note,
    )


def recent_shifts(session: Session, actor: Actor, limit: int = 20) -> list[dict[str, str]]:
    """The active branch's latest shifts, newest first, as the Shift page lists them."""
    require(actor.duty, Action.VIEW_KASIR)
    zone = branch_zone(session.get(Branch, actor.branch_id))
    rows = session.exec(
        select(CashierShift, User.full_name)
        .join(User, User.id == CashierShift.user_id)
        .where(CashierShift.branch_id == actor.branch_id)
        .order_by(CashierShift.opened_at.desc())
        .limit(limit)
    ).all()
    return [
        {
            "id": str(s.id),
            "cashier": name,
            "opened": zone_time_text(s.opened_at, zone, "%d/%m/%Y %H:%M"),
            "closed": zone_time_text(s.closed_at, zone, "%d/%m/%Y %H:%M") if s.closed_at else "",
            "opening_cash": rupiah(s.opening_cash),
            "state": "ditutup" if s.closed_at else "terbuka",
        }
        for s, name in rows
    ]
