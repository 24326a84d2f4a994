"""Whatever staff type into the receipt and adjustment forms, the stock rules either store
clean values or refuse with a message at the field, and write nothing when they refuse."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import select

from klinikita.models.enums import Duty
from klinikita.models.pharmacy import DrugItem, GoodsReceipt, StockBatch, StockMovement
from klinikita.services import stock
from klinikita.services.audit import Actor
from klinikita.services.errors import ValidationFailed
from klinikita.services.stock import ReceiptInput, ReceiptLineInput
from klinikita.services.text_input import invisible_problem
from tests.factories import make_branch, make_user

TEXTS = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "\u200bB1",
            "B1\x00",
            "\u202eB1",
            "١٢",  # Arabic-Indic digits
            "１０",  # full-width digits
            "-0",
            "+5",
            "1e3",
            "10.000",
            "99999999999999999999",
            "31/02/2030",
            "01/01/2099",
            "2099-12-31",
            "x" * 500,
        ]
    ),
    st.text(max_size=60),
)


@pytest.fixture
def world(db):
    branch = make_branch(db)
    user = make_user(db, "apoteker", branches=[branch], main_duty=Duty.APOTEKER)
    item = DrugItem(branch_id=branch.id, name="Paracetamol 500 mg tablet", unit="tablet")
    db.add(item)
    db.commit()
    batch = StockBatch(
        branch_id=branch.id,
        item_id=item.id,
        batch_number="B0",
        expiry_date=date(2099, 1, 1),
        quantity=5,
    )
    db.add(batch)
    db.commit()
    actor = Actor(user.id, user.username, user.full_name, Duty.APOTEKER, branch.id)
    return db, actor, item, batch


def _counts(db) -> tuple[int, ...]:
    return tuple(
        db.exec(select(func.count()).select_from(model)).one()
        for model in (GoodsReceipt, StockBatch, StockMovement)
    )


_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_SETTINGS
@given(supplier=TEXTS, batch=TEXTS, expiry=TEXTS, quantity=TEXTS, received=TEXTS)
def test_any_receipt_typed_is_stored_clean_or_refused_at_its_field(
    world, supplier, batch, expiry, quantity, received
):
    db, actor, item, _ = world
    before = _counts(db)
    data = ReceiptInput(
        supplier=supplier,
        received_on=received,
        lines=[ReceiptLineInput(item.id, batch, expiry, quantity)],
    )
    try:
        stock.receive_goods(db, actor, data)
    except ValidationFailed as refused:
        db.rollback()
        assert refused.errors and all(m.strip() for m in refused.errors.values())
        assert set(refused.errors) <= {
            "supplier",
            "received_on",
            "line-0-batch_number",
            "line-0-expiry_date",
            "line-0-quantity",
        }
        assert _counts(db) == before
        return
    stored = db.exec(select(StockBatch).order_by(StockBatch.id.desc())).first()
    receipt = db.exec(select(GoodsReceipt).order_by(GoodsReceipt.id.desc())).first()
    for text in (stored.batch_number, receipt.supplier):
        assert text == text.strip() and text and invisible_problem(text, "x") is None
    assert stored.quantity > 0
    db.rollback()


@_SETTINGS
@given(quantity=TEXTS, reason=st.one_of(TEXTS, st.sampled_from(list(stock.ADJUST_REASONS))))
def test_any_adjustment_typed_is_stored_or_refused(world, quantity, reason):
    db, actor, _, batch = world
    before = _counts(db)
    try:
        move = stock.adjust_batch(db, actor, batch.id, quantity, reason, "catatan")
    except ValidationFailed as refused:
        db.rollback()
        assert all(m.strip() for m in refused.errors.values())
        assert _counts(db) == before
        return
    assert move.balance_after >= 0 and move.quantity != 0
    db.rollback()
