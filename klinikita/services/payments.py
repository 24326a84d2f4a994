"""Kasir: paying a bill, its nota number, voiding (batal) and printing the nota.

Paying is one transaction: the bill's row is locked (FOR UPDATE on PostgreSQL; SQLite's
write lock), the parts are checked (their sum is exactly the patient's total; one cash part
at most, whose change is what was handed over less its amount; QRIS needs its reference),
items sold at the desk leave stock first expiry first (services/stock_ledger.move), the
branch's next nota number of the day is taken from `nota_counter` with one upsert (the
counter's row stays locked until the commit, so two cashiers never share a number; the
unique (branch, nota) constraint is the backstop), and the bill is locked as paid. A bill
is paid in the cashier's open shift, and only for the total the cashier saw (the version of
the page's view, and the visit's changes checked under the row lock).

A void (batal) is admin work with a reason, a financial cancellation: the bill, its lines and
payments stay as they were, it is marked void, items sold at the desk go back to their
batches, and the visit waits for payment again (its next bill is built from what happened).
Drugs the pharmacy handed over stay out with the patient unless the pharmacy records their
return (services/dispensing.return_handed_over). Every print after the first is a copy
("SALINAN"), and every print is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from klinikita.models.base import utcnow
from klinikita.models.billing import (
    Bill,
    BillLine,
    BillStatus,
    NotaCounter,
    Payment,
    PaymentMethod,
)
from klinikita.models.pharmacy import MovementKind, StockBatch
from klinikita.services import audit, stock_ledger
from klinikita.services.audit import Actor
from klinikita.services.billing import bill_as_seen, local_day, locked_open_bill
from klinikita.services.errors import NotFound, ServiceError, ValidationFailed
from klinikita.services.money import MAX_AMOUNT, rupiah, take_rupiah
from klinikita.services.permissions import Action, require
from klinikita.services.shifts import open_shift_of
from klinikita.services.text_input import normalize_text, take_text

_COUNTER = NotaCounter.__table__
_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
METHODS = {m.value for m in PaymentMethod}
ENTITY = "bill"


def next_nota_number(session: Session, branch_id: int, day: date) -> str:
    """The branch's next nota number of `day` ("20261208-0001"), in the caller's
    transaction: the counter row stays locked until it ends."""
    insert = _INSERT[session.get_bind().dialect.name]
    stmt = (
        insert(_COUNTER)
        .values(branch_id=branch_id, day=day, last_number=1)
        .on_conflict_do_update(
            index_elements=[_COUNTER.c.branch_id, _COUNTER.c.day],
            set_={"last_number": _COUNTER.c.last_number + 1},
        )
        .returning(_COUNTER.c.last_number)
    )
    number = session.execute(stmt).scalar_one()
    return f"{day:%Y%m%d}-{number:04d}"


@dataclass(frozen=True)
class PaymentPart:
    """One part of a payment as typed: method, amount, the cash handed over (cash only,
    empty: exact), and the reference (QRIS, transfer, card approval code)."""

    method: str
    amount: str
    cash_received: str = ""
    reference: str = ""


@dataclass(frozen=True)
class Paid:
    bill_id: int
    nota_number: str
    change: int


def _clean_parts(parts: list[PaymentPart], total: int) -> list[Payment]:
    errors: dict[str, str] = {}
    payments: list[Payment] = []
    for i, part in enumerate(parts):
        method = normalize_text(part.method).lower()
        if method not in METHODS:
            errors[f"method_{i}"] = "Pilih cara bayar."
            continue
        amount = take_rupiah(errors, f"amount_{i}", part.amount, label="Jumlah", required=True)
        if f"amount_{i}" not in errors and amount < 1:
            errors[f"amount_{i}"] = "Jumlah harus lebih dari 0."
        reference = take_text(
            errors, f"reference_{i}", part.reference, label="Nomor referensi", max_length=80
        )
        if method == PaymentMethod.QRIS and not reference and f"reference_{i}" not in errors:
            errors[f"reference_{i}"] = "Isi nomor referensi QRIS dari struk/aplikasi."
        received = change = 0
        if method == PaymentMethod.TUNAI:
            received = (
                take_rupiah(
                    errors,
                    f"cash_{i}",
                    part.cash_received,
                    label="Uang diterima",
                    maximum=MAX_AMOUNT,
                )
                or amount
            )
            if received < amount and f"cash_{i}" not in errors:
                errors[f"cash_{i}"] = f"Uang diterima kurang dari {rupiah(amount)}."
            change = received - amount
        payments.append(
            Payment(
                bill_id=0,
                shift_id=0,
                method=method,
                amount=amount,
                cash_received=received,
                change_given=change,
                reference=reference,
            )
        )
    if sum(1 for p in payments if p.method == PaymentMethod.TUNAI) > 1:
        errors["payments"] = "Tunai cukup satu baris."
    if not errors and sum(p.amount for p in payments) != total:
        paid = sum(p.amount for p in payments)
        errors["payments"] = (
            f"Jumlah pembayaran {rupiah(paid)} harus sama dengan tagihan {rupiah(total)}."
        )
    if errors:
        raise ValidationFailed(errors)
    return payments


def _take_stock(session: Session, actor: Actor, line: BillLine, nota: str, day: date) -> None:
    """Take a desk-sold line's units from its item's batches, first expiry first."""
    batches = session.exec(
        select(StockBatch)
        .where(
            StockBatch.item_id == line.item_id,
            StockBatch.quantity > 0,
            StockBatch.expiry_date >= day,
        )
        .order_by(StockBatch.expiry_date, StockBatch.id)
        .with_for_update()
    ).all()
    need, taken = line.quantity, []
    for batch in batches:
        if need == 0:
            break
        take = min(need, batch.quantity)
        stock_ledger.move(
            session,
            batch,
            -take,
            MovementKind.DISPENSE,
            user_id=actor.user_id,
            reason=f"Penjualan nota {nota}",
        )
        taken.append({"batch_id": batch.id, "quantity": take})
        need -= take
    if need:
        raise stock_ledger.NotEnoughStock(f"Stok {line.description} tidak cukup.")
    line.taken = taken
    session.add(line)


def pay(
    session: Session,
    actor: Actor,
    bill_id: int,
    parts: list[PaymentPart],
    *,
    expected_version: int | None = None,
) -> Paid:
    """Pay an open bill of the active branch in the cashier's open shift, give it the next
    nota number and lock it; audited. Nothing is written when any rule refuses. Money is
    only taken for the total the cashier saw: refused (billing.BillChanged) when the bill's
    version is not `expected_version`, the one the cashier's view showed (None: a script
    with no view), or when the visit has changed since in a way the bill does not hold yet
    (drugs handed over or returned)."""
    require(actor.duty, Action.PAYMENT_RECORD)
    bill = locked_open_bill(session, actor, bill_id)
    bill_as_seen(session, bill, expected_version)
    shift = open_shift_of(session, actor)
    if shift is None:
        raise ServiceError("Buka shift kasir dulu (Kasir → Shift) sebelum menerima pembayaran.")
    lines = session.exec(
        select(BillLine).where(BillLine.bill_id == bill.id, BillLine.removed.is_(False))
    ).all()
    if not lines:
        raise ServiceError("Tagihan belum berisi baris apa pun.")
    payments = _clean_parts(parts, bill.patient_total)
    now = utcnow()
    # The nota counts the days it is paid on (a bill made yesterday and paid today is
    # numbered with today's).
    day = local_day(session, bill.branch_id)
    nota = next_nota_number(session, bill.branch_id, day)
    for line in lines:
        if line.takes_stock:
            _take_stock(session, actor, line, nota, day)
    for payment in payments:
        payment.bill_id, payment.shift_id, payment.user_id = bill.id, shift.id, actor.user_id
        payment.created_at = now
        session.add(payment)
    bill.status, bill.nota_number, bill.paid_at = BillStatus.PAID, nota, now
    bill.paid_by_user_id, bill.shift_id = actor.user_id, shift.id
    session.add(bill)
    session.flush()
    audit.record(
        session,
        actor,
        "bill_pay",
        ENTITY,
        bill.id,
        after={
            "nota_number": nota,
            "patient_total": bill.patient_total,
            "payments": [
                {"method": p.method, "amount": p.amount, "reference": p.reference} for p in payments
            ],
        },
    )
    change = sum(p.change_given for p in payments)
    return Paid(bill.id, nota, change)


def void_bill(session: Session, actor: Actor, bill_id: int, reason_text: str) -> None:
    """Void (batal) a bill of the active branch, with a reason (admin): it stays as it was,
    marked void; items sold at the desk go back to their batches, and a visit's bill may be
    built again. Audited."""
    require(actor.duty, Action.BILL_VOID)
    bill = session.exec(select(Bill).where(Bill.id == bill_id).with_for_update()).first()
    if bill is None or bill.branch_id != actor.branch_id:
        raise NotFound("Tagihan tidak ditemukan.")
    if bill.status == BillStatus.VOID:
        raise ServiceError("Tagihan ini sudah dibatalkan.")
    errors: dict[str, str] = {}
    reason = take_text(
        errors,
        "void_reason",
        reason_text,
        label="Alasan pembatalan",
        max_length=300,
        required=True,
    )
    if errors:
        raise ValidationFailed(errors)
    for line in session.exec(select(BillLine).where(BillLine.bill_id == bill.id)).all():
        for part in line.taken or []:
            batch = session.get(StockBatch, part["batch_id"])
            stock_ledger.move(
                session,
                batch,
                int(part["quantity"]),
                MovementKind.RETURN,
                user_id=actor.user_id,
                reason=f"Nota {bill.nota_number} dibatalkan",
            )
    before = {"status": bill.status, "nota_number": bill.nota_number}
    bill.status, bill.void_reason = BillStatus.VOID, reason
    bill.voided_at, bill.voided_by_user_id = utcnow(), actor.user_id
    session.add(bill)
    audit.record(
        session,
        actor,
        "bill_void",
        ENTITY,
        bill.id,
        before=before,
        after={"status": bill.status, "reason": reason, "patient_total": bill.patient_total},
    )


def record_print(
    session: Session, actor: Actor, bill_id: int, paper: str, *, pdf: bool = False
) -> bool:
    """Count a print (or a PDF download) of a paid (or voided) nota and audit it; True when
    it is a copy (SALINAN): every print after the first."""
    require(actor.duty, Action.VIEW_KASIR)
    bill = session.exec(select(Bill).where(Bill.id == bill_id).with_for_update()).first()
    if bill is None or bill.branch_id != actor.branch_id:
        raise NotFound("Tagihan tidak ditemukan.")
    if bill.status == BillStatus.OPEN:
        raise ServiceError("Nota dicetak setelah tagihan dibayar.")
    bill.print_count += 1
    session.add(bill)
    copy = bill.print_count > 1
    audit.record(
        session,
        actor,
        "nota_reprint" if copy else "nota_print",
        ENTITY,
        bill.id,
        after={
            "nota_number": bill.nota_number,
            "print_count": bill.print_count,
            "paper": paper,
            "pdf": pdf,
        },
    )
    return copy
