"""The one way a batch's quantity changes: a signed movement on the stock card.

Receipts, adjustments, stock-take and dispensing all call `move` (or `move_many` for several
batches at once); it keeps the batch's quantity and the stock card (StockMovement) in step in
the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, update
from sqlmodel import Session

from klinikita.models.base import utcnow
from klinikita.models.pharmacy import MovementKind, StockBatch, StockMovement
from klinikita.services.errors import ServiceError


class NotEnoughStock(ServiceError):
    """A movement would take a batch below zero."""


@dataclass(frozen=True)
class Move:
    """One signed change of a batch, for `move_many`."""

    batch: StockBatch
    quantity: int
    reason: str = ""
    receipt_id: int | None = None
    dispense_line_id: int | None = None


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
    change = Move(batch, quantity, reason, receipt_id, dispense_line_id)
    return move_many(session, [change], kind, user_id=user_id)[0]


def move_many(
    session: Session, moves: Sequence[Move], kind: MovementKind, *, user_id: int | None
) -> list[StockMovement]:
    """`move` for several changes at once (one batch may appear more than once): one
    conditional UPDATE of all their batches and one INSERT of their stock-card rows, in the
    order given, each with the balance after it. NotEnoughStock, naming a batch, when any
    batch would go below zero; the caller's transaction must then be rolled back (as it is
    on any error)."""
    if any(m.quantity == 0 for m in moves):
        raise ServiceError("Jumlah tidak boleh nol.")
    if not moves:
        return []
    batches = {m.batch.id: m.batch for m in moves}
    totals: dict[int, int] = dict.fromkeys(batches, 0)
    for m in moves:
        totals[m.batch.id] += m.quantity
    now = utcnow()
    change = case(totals, value=StockBatch.id)
    balances = dict(
        session.execute(
            update(StockBatch)
            .where(StockBatch.id.in_(list(totals)), StockBatch.quantity + change >= 0)
            .values(quantity=StockBatch.quantity + change, updated_at=now)
            .returning(StockBatch.id, StockBatch.quantity)
            .execution_options(synchronize_session=False)
        ).all()
    )
    for batch_id, batch in batches.items():
        session.expire(batch, ["quantity", "updated_at"])
        if batch_id not in balances:
            raise NotEnoughStock(f"Stok batch {batch.batch_number} tidak cukup.")
    # Each row's balance after it: from the batch's quantity before this call, in order.
    running = {batch_id: balances[batch_id] - total for batch_id, total in totals.items()}
    movements = []
    for m in moves:
        running[m.batch.id] += m.quantity
        movements.append(
            StockMovement(
                branch_id=m.batch.branch_id,
                item_id=m.batch.item_id,
                batch_id=m.batch.id,
                kind=kind,
                quantity=m.quantity,
                balance_after=running[m.batch.id],
                reason=m.reason,
                receipt_id=m.receipt_id,
                dispense_line_id=m.dispense_line_id,
                user_id=user_id,
                created_at=now,
            )
        )
    session.add_all(movements)
    session.flush()
    return movements
