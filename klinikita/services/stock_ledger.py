"""The one way a batch's quantity changes: a signed movement on the stock card.

Receipts, adjustments, stock-take and dispensing all call `move`; it keeps the batch's
quantity and the stock card (StockMovement) in step in the caller's transaction."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session

from klinikita.models.base import utcnow
from klinikita.models.pharmacy import MovementKind, StockBatch, StockMovement
from klinikita.services.errors import ServiceError


class NotEnoughStock(ServiceError):
    """A movement would take a batch below zero."""


def move(
    session: Session,
    batch: StockBatch,
    quantity: int,
    kind: MovementKind,
    *,
    user_id: int | None,
    reason: str = "",
    receipt_id: int | None = None,
    dispense_line_id: int | None = None,
) -> StockMovement:
    """Add `quantity` (negative: take) to `batch` and write its stock-card row.

    The change is one conditional UPDATE (`quantity + n >= 0`), so two desks taking the last
    units at the same moment cannot both succeed: the second finds too little and gets
    NotEnoughStock, on SQLite and PostgreSQL alike; the table's CHECK refuses it as well."""
    if quantity == 0:
        raise ServiceError("Jumlah tidak boleh nol.")
    now = utcnow()
    balance = session.execute(
        update(StockBatch)
        .where(StockBatch.id == batch.id, StockBatch.quantity + quantity >= 0)
        .values(quantity=StockBatch.quantity + quantity, updated_at=now)
        .returning(StockBatch.quantity)
    ).scalar_one_or_none()
    if balance is None:
        raise NotEnoughStock(f"Stok batch {batch.batch_number} tidak cukup.")
    session.expire(batch, ["quantity", "updated_at"])
    movement = StockMovement(
        branch_id=batch.branch_id,
        item_id=batch.item_id,
        batch_id=batch.id,
        kind=kind,
        quantity=quantity,
        balance_after=balance,
        reason=reason,
        receipt_id=receipt_id,
        dispense_line_id=dispense_line_id,
        user_id=user_id,
        created_at=now,
    )
    session.add(movement)
    session.flush()
    return movement
