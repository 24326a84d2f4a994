"""The stock card: every quantity change is a movement, and no batch goes below zero."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from klinikita.models.pharmacy import DrugItem, MovementKind, StockBatch, StockMovement
from klinikita.services.stock_ledger import NotEnoughStock, move
from tests.factories import make_branch


def _batch(db, quantity: int = 0) -> StockBatch:
    branch = make_branch(db)
    item = DrugItem(branch_id=branch.id, name="Paracetamol 500 mg tablet", unit="tablet")
    db.add(item)
    db.flush()
    batch = StockBatch(
        branch_id=branch.id,
        item_id=item.id,
        batch_number="B1",
        expiry_date=date(2028, 1, 31),
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
