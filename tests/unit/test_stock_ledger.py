"""The stock card: every quantity change is a movement, and no batch goes below zero."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from klinikita.models.pharmacy import DrugItem, MovementKind, StockBatch, StockMovement
from klinikita.services.stock_ledger import Move, NotEnoughStock, move, move_many
from tests.factories import make_branch


def _batch(db, quantity: int = 0, *, after: StockBatch | None = None) -> StockBatch:
    """A batch of a new item, or (`after`) the next batch of that batch's item."""
    if after is None:
        branch = make_branch(db)
        item = DrugItem(branch_id=branch.id, name="Paracetamol 500 mg tablet", unit="tablet")
        db.add(item)
        db.flush()
    batch = StockBatch(
        branch_id=after.branch_id if after else branch.id,
        item_id=after.item_id if after else item.id,
        batch_number="B2" if after else "B1",
        expiry_date=date(2029 if after else 2028, 1, 31),
        quantity=quantity,
    )
    db.add(batch)
    db.flush()
    return batch


def test_moves_keep_the_batch_and_the_card_in_step(db):
    batch = _batch(db)
    move(db, batch, 100, MovementKind.RECEIPT, user_id=None)
    move(db, batch, -30, MovementKind.DISPENSE, user_id=None)
    assert batch.quantity == 70
    card = db.exec(select(StockMovement).order_by(StockMovement.id)).all()
    assert [(m.quantity, m.balance_after) for m in card] == [(100, 100), (-30, 70)]


def test_a_batch_never_goes_below_zero(db):
    batch = _batch(db, quantity=0)
    move(db, batch, 5, MovementKind.RECEIPT, user_id=None)
    with pytest.raises(NotEnoughStock):
        move(db, batch, -6, MovementKind.DISPENSE, user_id=None)
    assert batch.quantity == 5
    assert len(db.exec(select(StockMovement)).all()) == 1


def test_many_moves_keep_each_batch_and_the_card_in_step(db):
    first = _batch(db, quantity=50)
    second = _batch(db, 20, after=first)
    card = move_many(
        db,
        [Move(first, -10, reason="a"), Move(second, -5), Move(first, -15, reason="b")],
        MovementKind.DISPENSE,
        user_id=None,
    )
    assert (first.quantity, second.quantity) == (25, 15)
    # In the order given, each with the balance of its own batch after it.
    assert [(m.batch_id, m.quantity, m.balance_after, m.reason) for m in card] == [
        (first.id, -10, 40, "a"),
        (second.id, -5, 15, ""),
        (first.id, -15, 25, "b"),
    ]
    assert all(m.id for m in card)


def test_many_moves_refuse_a_batch_going_below_zero(db):
    first = _batch(db, quantity=50)
    second = _batch(db, 4, after=first)
    with pytest.raises(NotEnoughStock, match="B2"):
        move_many(
            db,
            [Move(first, -10), Move(second, -3), Move(second, -2)],
            MovementKind.DISPENSE,
            user_id=None,
        )
    assert db.exec(select(StockMovement)).all() == []
