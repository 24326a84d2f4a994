"""Apotek -> Stok rules: receipts, adjustments, stock-take, the lists and the stock card."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from klinikita.models import AuditLog
from klinikita.models.enums import Duty
from klinikita.models.pharmacy import (
    DrugItem,
    GoodsReceipt,
    MovementKind,
    StockBatch,
    StockMovement,
)
from klinikita.services import stock
from klinikita.services.audit import Actor
from klinikita.services.dates import typed_date
from klinikita.services.errors import NotFound, PermissionDenied, ValidationFailed
from klinikita.services.stock import CountInput, ReceiptInput, ReceiptLineInput
from klinikita.services.visit_queue import local_today
from tests.factories import make_branch, make_user
from tests.pg import sqlite_and_postgresql

# The rules hold on SQLite and on PostgreSQL (production): the lists' aggregates and the
# stock card's running balance are SQL each database runs itself.
db = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)


@pytest.fixture
def world(db):
    branch = make_branch(db, "Klinik Stok")
    other = make_branch(db, "Klinik Lain")
    user = make_user(db, "apoteker", branches=[branch], main_duty=Duty.APOTEKER)
    helper = make_user(db, "asisten", branches=[branch], main_duty=Duty.ASISTEN_APOTEKER)
    items = {}
    for name, branch_id, min_stock in (
        ("Paracetamol 500 mg tablet", branch.id, 50),
        ("Amoksisilin 500 mg kapsul", branch.id, 0),
        ("Paracetamol sirup", other.id, 0),
    ):
        item = DrugItem(branch_id=branch_id, name=name, unit="tablet", min_stock=min_stock)
        db.add(item)
        db.flush()
        items[name] = item
    db.commit()
    today = local_today(branch)
    return {
        "db": db,
        "branch": branch,
        "other": other,
        "actor": Actor(user.id, user.username, user.full_name, Duty.APOTEKER, branch.id),
        "helper": Actor(
            helper.id, helper.username, helper.full_name, Duty.ASISTEN_APOTEKER, branch.id
        ),
        "para": items["Paracetamol 500 mg tablet"],
        "amox": items["Amoksisilin 500 mg kapsul"],
        "foreign": items["Paracetamol sirup"],
        "today": today,
    }


def _line(item, batch="B1", expiry: date | None = None, quantity="100", today=None):
    expiry = expiry or (today or date.today()) + timedelta(days=400)
    return ReceiptLineInput(
        item_id=item.id, batch_number=batch, expiry_date=typed_date(expiry), quantity=quantity
    )


def _receive(w, *lines, supplier="PBF Sehat", actor=None):
    db = w["db"]
    receipt = stock.receive_goods(
        db,
        actor or w["actor"],
        ReceiptInput(supplier=supplier, invoice_number="F-1", lines=list(lines)),
    )
    db.commit()
    return receipt


def _batches(db, item):
    return db.exec(select(StockBatch).where(StockBatch.item_id == item.id)).all()


# ----- receipts ---------------------------------------------------------------------------------
def test_a_receipt_adds_each_line_to_its_batch_and_is_audited(world):
    w, db = world, world["db"]
    receipt = _receive(
        w,
        _line(w["para"], "P1", quantity="100", today=w["today"]),
        _line(w["amox"], "A1", quantity="30", today=w["today"]),
    )
    assert receipt.received_on == w["today"]
    assert [b.quantity for b in _batches(db, w["para"])] == [100]
    moves = db.exec(select(StockMovement).where(StockMovement.receipt_id == receipt.id)).all()
    assert {(m.kind, m.quantity, m.balance_after) for m in moves} == {
        (MovementKind.RECEIPT, 100, 100),
        (MovementKind.RECEIPT, 30, 30),
    }
    assert all(m.user_id == w["actor"].user_id for m in moves)
    log = db.exec(select(AuditLog).where(AuditLog.entity == "goods_receipt")).one()
    assert len(log.after["lines"]) == 2


def test_the_same_batch_is_reused(world):
    w, db = world, world["db"]
    expiry = w["today"] + timedelta(days=300)
    _receive(w, _line(w["para"], "P1", expiry, "100"))
    _receive(w, _line(w["para"], "P1", expiry, "20"), _line(w["para"], "P1", expiry, "5"))
    _receive(w, _line(w["para"], "P1", expiry + timedelta(days=1), "7"))  # another expiry
    batches = sorted((b.expiry_date, b.quantity) for b in _batches(db, w["para"]))
    assert batches == [(expiry, 125), (expiry + timedelta(days=1), 7)]


def test_a_receipt_is_all_or_nothing(world):
    w, db = world, world["db"]
    bad = _line(w["amox"], "A1", quantity="0", today=w["today"])
    with pytest.raises(ValidationFailed) as failed:
        stock.receive_goods(
            db,
            w["actor"],
            ReceiptInput(supplier="PBF", lines=[_line(w["para"], today=w["today"]), bad]),
        )
    db.rollback()
    assert set(failed.value.errors) == {"line-1-quantity"}
    assert db.exec(select(GoodsReceipt)).all() == []
    assert db.exec(select(StockBatch)).all() == []
    assert db.exec(select(StockMovement)).all() == []


@pytest.mark.parametrize("days", [-1, 0])
def test_an_expired_batch_is_refused(world, days):
    w = world
    line = _line(w["para"], expiry=w["today"] + timedelta(days=days))
    with pytest.raises(ValidationFailed) as failed:
        stock.receive_goods(w["db"], w["actor"], ReceiptInput(supplier="PBF", lines=[line]))
    assert "kedaluwarsa" in failed.value.errors["line-0-expiry_date"]


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("quantity", "-5", "line-0-quantity"),
        ("quantity", "2,5", "line-0-quantity"),
        ("quantity", "", "line-0-quantity"),
        ("batch_number", " ", "line-0-batch_number"),
        ("expiry_date", "31/02/2030", "line-0-expiry_date"),
    ],
)
def test_receipt_lines_are_checked(world, field, value, key):
    w = world
    line = _line(w["para"], today=w["today"])
    setattr(line, field, value)
    with pytest.raises(ValidationFailed) as failed:
        stock.receive_goods(w["db"], w["actor"], ReceiptInput(supplier="PBF", lines=[line]))
    assert key in failed.value.errors


def test_receipt_header_is_checked(world):
    w = world
    tomorrow = typed_date(w["today"] + timedelta(days=1))
    with pytest.raises(ValidationFailed) as failed:
        stock.receive_goods(
            w["db"], w["actor"], ReceiptInput(supplier=" ", received_on=tomorrow, lines=[])
        )
    assert set(failed.value.errors) == {"supplier", "received_on", "lines"}


def test_a_receipt_takes_only_items_of_the_active_branch(world):
    w = world
    with pytest.raises(ValidationFailed) as failed:
        _receive(w, _line(w["foreign"], today=w["today"]))
    assert "line-0-item" in failed.value.errors
    w["para"].active = False
    w["db"].add(w["para"])
    w["db"].commit()
    with pytest.raises(ValidationFailed) as failed:
        _receive(w, _line(w["para"], today=w["today"]))
    assert "tidak aktif" in failed.value.errors["line-0-item"]


def test_receiving_needs_the_permission(world):
    w = world
    nurse = Actor(w["actor"].user_id, "x", "X", Duty.PERAWAT, w["branch"].id)
    with pytest.raises(PermissionDenied):
        _receive(w, _line(w["para"], today=w["today"]), actor=nurse)
    _receive(w, _line(w["para"], today=w["today"]), actor=w["helper"])  # asisten may receive


# ----- adjustments ------------------------------------------------------------------------------
def _stocked(w, quantity="10", item=None):
    _receive(w, _line(item or w["para"], "P1", quantity=quantity, today=w["today"]))
    return _batches(w["db"], item or w["para"])[0]


def test_an_adjustment_moves_the_batch_with_its_reason(world):
    w, db = world, world["db"]
    batch = _stocked(w)
    move = stock.adjust_batch(db, w["actor"], batch.id, "-3", "rusak", "botol pecah")
    db.commit()
    assert (move.kind, move.quantity, move.balance_after) == (MovementKind.ADJUSTMENT, -3, 7)
    assert move.reason == "Rusak: botol pecah"
    found = stock.adjust_batch(db, w["actor"], batch.id, "+2", "ditemukan")
    assert (found.balance_after, found.reason) == (9, "Ditemukan")
    log = db.exec(select(AuditLog).where(AuditLog.action == "adjust")).all()
    assert [entry.after["change"] for entry in log] == [-3, 2]


@pytest.mark.parametrize(
    ("quantity", "reason", "detail", "key"),
    [
        ("-1", "", "", "reason"),
        ("-1", "dicuri", "", "reason"),
        ("-1", "lainnya", "", "reason_text"),
        ("2", "rusak", "", "quantity"),
        ("2", "kedaluwarsa", "", "quantity"),
        ("2", "hilang", "", "quantity"),
        ("-2", "ditemukan", "", "quantity"),
        ("0", "lainnya", "koreksi", "quantity"),
        ("-11", "hilang", "", "quantity"),  # more than the batch holds
    ],
)
def test_adjustment_reasons_and_signs(world, quantity, reason, detail, key):
    w, db = world, world["db"]
    batch = _stocked(w)
    with pytest.raises(ValidationFailed) as failed:
        stock.adjust_batch(db, w["actor"], batch.id, quantity, reason, detail)
    assert key in failed.value.errors
    db.rollback()
    assert db.get(StockBatch, batch.id).quantity == 10


def test_lainnya_keeps_the_text(world):
    w, db = world, world["db"]
    batch = _stocked(w)
    move = stock.adjust_batch(db, w["actor"], batch.id, "5", "lainnya", "salah input faktur")
    assert move.reason == "Lainnya: salah input faktur"


def test_adjusting_needs_stock_adjust_and_the_branch(world):
    w, db = world, world["db"]
    batch = _stocked(w)
    with pytest.raises(PermissionDenied):
        stock.adjust_batch(db, w["helper"], batch.id, "-1", "rusak")
    elsewhere = Actor(w["actor"].user_id, "x", "X", Duty.ADMIN, w["other"].id)
    with pytest.raises(NotFound):
        stock.adjust_batch(db, elsewhere, batch.id, "-1", "rusak")
    assert db.get(StockBatch, batch.id).quantity == 10


# ----- stock-take -------------------------------------------------------------------------------
def test_stock_take_moves_the_difference_of_each_batch(world):
    w, db = world, world["db"]
    _receive(
        w,
        _line(w["para"], "P1", w["today"] + timedelta(days=100), "10"),
        _line(w["para"], "P2", w["today"] + timedelta(days=200), "20"),
        _line(w["para"], "P3", w["today"] + timedelta(days=300), "5"),
    )
    p1, p2, p3 = sorted(_batches(db, w["para"]), key=lambda b: b.batch_number)
    moves = stock.stock_take(
        db,
        w["actor"],
        w["para"].id,
        [CountInput(p1.id, "8", 10), CountInput(p2.id, "23", 20), CountInput(p3.id, "5", 5)],
        "Opname akhir bulan",
    )
    db.commit()
    assert [(m.batch_id, m.kind, m.quantity, m.balance_after) for m in moves] == [
        (p1.id, MovementKind.STOCK_TAKE, -2, 8),
        (p2.id, MovementKind.STOCK_TAKE, 3, 23),
    ]
    assert all(m.reason == "Stok opname: Opname akhir bulan" for m in moves)
    log = db.exec(select(AuditLog).where(AuditLog.action == "stock_take")).one()
    assert len(log.after["batches"]) == 3


def test_stock_take_needs_a_reason_and_counts(world):
    w, db = world, world["db"]
    batch = _stocked(w)
    with pytest.raises(ValidationFailed) as failed:
        stock.stock_take(db, w["actor"], w["para"].id, [CountInput(batch.id, "x")], "")
    assert set(failed.value.errors) == {"reason", f"count-{batch.id}"}
    with pytest.raises(ValidationFailed) as failed:
        stock.stock_take(db, w["actor"], w["para"].id, [], "opname")
    assert "counts" in failed.value.errors


def test_stock_take_refuses_a_book_that_changed_since_it_was_shown(world):
    w, db = world, world["db"]
    batch = _stocked(w)
    stock.adjust_batch(db, w["actor"], batch.id, "-1", "rusak")
    db.commit()
    with pytest.raises(ValidationFailed) as failed:
        stock.stock_take(db, w["actor"], w["para"].id, [CountInput(batch.id, "4", 10)], "opname")
    assert "berubah" in failed.value.errors[f"count-{batch.id}"]
    db.rollback()
    assert db.get(StockBatch, batch.id).quantity == 9


def test_stock_take_only_of_the_items_own_batches_and_branch(world):
    w, db = world, world["db"]
    batch = _stocked(w)
    with pytest.raises(NotFound):
        stock.stock_take(db, w["actor"], w["amox"].id, [CountInput(batch.id, "1")], "opname")
    elsewhere = Actor(w["actor"].user_id, "x", "X", Duty.ADMIN, w["other"].id)
    with pytest.raises(NotFound):
        stock.stock_take(db, elsewhere, w["para"].id, [CountInput(batch.id, "1")], "opname")
    with pytest.raises(PermissionDenied):
        stock.stock_take(db, w["helper"], w["para"].id, [CountInput(batch.id, "1")], "opname")


# ----- the lists --------------------------------------------------------------------------------
def test_stock_per_item_sums_batches_and_shows_the_nearest_expiry(world):
    w, db = world, world["db"]
    soon, later = w["today"] + timedelta(days=30), w["today"] + timedelta(days=300)
    _receive(w, _line(w["para"], "P1", later, "10"), _line(w["para"], "P2", soon, "4"))
    p2 = next(b for b in _batches(db, w["para"]) if b.batch_number == "P2")
    stock.adjust_batch(db, w["actor"], p2.id, "-4", "hilang")
    db.commit()
    page = stock.stock_list(db, w["actor"])
    rows = {r.name: r for r in page.rows}
    assert set(rows) == {"Paracetamol 500 mg tablet", "Amoksisilin 500 mg kapsul"}
    assert (
        rows["Paracetamol 500 mg tablet"].total,
        rows["Paracetamol 500 mg tablet"].nearest_expiry,
    ) == (10, later)
    assert (
        rows["Amoksisilin 500 mg kapsul"].total,
        rows["Amoksisilin 500 mg kapsul"].nearest_expiry,
    ) == (0, None)
    assert [r.name for r in stock.stock_list(db, w["actor"], search="amok").rows] == [
        "Amoksisilin 500 mg kapsul"
    ]
    assert stock.stock_list(db, w["actor"], search="%").rows == []


def test_low_stock_lists_items_below_their_minimum(world):
    w, db = world, world["db"]
    assert [r.name for r in stock.low_stock(db, w["actor"])] == ["Paracetamol 500 mg tablet"]
    _receive(w, _line(w["para"], "P1", quantity="49", today=w["today"]))
    assert [r.total for r in stock.low_stock(db, w["actor"])] == [49]
    _receive(w, _line(w["para"], "P1", quantity="1", today=w["today"]))
    assert stock.low_stock(db, w["actor"]) == []  # at the minimum is not below it


def test_near_expiry_lists_batches_in_stock_within_90_days_and_expired(world):
    w, db = world, world["db"]
    today = w["today"]
    _receive(
        w,
        _line(w["para"], "SOON", today + timedelta(days=90), "5"),
        _line(w["para"], "LATER", today + timedelta(days=91), "5"),
        _line(w["amox"], "GONE", today + timedelta(days=10), "5"),
        _line(w["amox"], "OLD", today + timedelta(days=3), "5"),
    )
    gone = next(b for b in _batches(db, w["amox"]) if b.batch_number == "GONE")
    stock.adjust_batch(db, w["actor"], gone.id, "-5", "rusak")
    old = next(b for b in _batches(db, w["amox"]) if b.batch_number == "OLD")
    old.expiry_date = today - timedelta(days=2)  # it expired in the shelf since
    db.add(old)
    db.commit()
    rows = stock.near_expiry(db, w["actor"])
    assert [(r.batch_number, r.days_left, r.expired) for r in rows] == [
        ("OLD", -2, True),
        ("SOON", 90, False),
    ]


def test_the_stock_card_shows_movements_in_order_with_balances(world):
    w, db = world, world["db"]
    _receive(
        w,
        _line(w["para"], "P1", w["today"] + timedelta(days=100), "10"),
        _line(w["para"], "P2", w["today"] + timedelta(days=200), "20"),
    )
    p1 = next(b for b in _batches(db, w["para"]) if b.batch_number == "P1")
    stock.adjust_batch(db, w["actor"], p1.id, "-3", "rusak")
    stock.stock_take(db, w["actor"], w["para"].id, [CountInput(p1.id, "5", 7)], "opname")
    db.commit()
    item, page = stock.stock_card(db, w["actor"], w["para"].id)
    assert item.id == w["para"].id
    assert [
        (r.kind, r.batch_number, r.quantity, r.balance_after, r.item_balance) for r in page.rows
    ] == [
        (MovementKind.RECEIPT, "P1", 10, 10, 10),
        (MovementKind.RECEIPT, "P2", 20, 20, 30),
        (MovementKind.ADJUSTMENT, "P1", -3, 7, 27),
        (MovementKind.STOCK_TAKE, "P1", -2, 5, 25),
    ]
    assert page.rows[0].user == "Apoteker"
    assert page.rows[0].reason == "Penerimaan dari PBF Sehat, faktur F-1"
    assert page.rows[2].reason == "Rusak"
    second = stock.stock_card(db, w["actor"], w["para"].id, page=2, page_size=3)[1]
    assert [r.item_balance for r in second.rows] == [25]


def test_lists_are_of_the_active_branch_only(world):
    w, db = world, world["db"]
    _receive(w, _line(w["para"], "P1", w["today"] + timedelta(days=5), "3"))
    elsewhere = Actor(w["actor"].user_id, "x", "X", Duty.ADMIN, w["other"].id)
    assert [r.name for r in stock.stock_list(db, elsewhere).rows] == ["Paracetamol sirup"]
    assert stock.near_expiry(db, elsewhere) == []
    assert stock.find_items(db, elsewhere, "para")[0].name == "Paracetamol sirup"
    with pytest.raises(NotFound):
        stock.stock_card(db, elsewhere, w["para"].id)
    with pytest.raises(NotFound):
        stock.item_batches(db, elsewhere, w["para"].id)
    nurse = Actor(w["actor"].user_id, "x", "X", Duty.PERAWAT, w["branch"].id)
    with pytest.raises(PermissionDenied):
        stock.stock_list(db, nurse)


def test_item_batches_lists_first_to_expire_first(world):
    w, db = world, world["db"]
    _receive(
        w,
        _line(w["para"], "LATE", w["today"] + timedelta(days=200), "1"),
        _line(w["para"], "EARLY", w["today"] + timedelta(days=20), "1"),
    )
    item, rows = stock.item_batches(db, w["actor"], w["para"].id)
    assert [r.batch_number for r in rows] == ["EARLY", "LATE"]


# ----- the demo's opening stock -----------------------------------------------------------------
def test_demo_stock_fills_every_item_without_a_batch_once(world):
    from klinikita.services.seed import seed_demo_stock

    w, db = world, world["db"]
    _receive(w, _line(w["amox"], "A1", quantity="3", today=w["today"]))
    assert seed_demo_stock(db) == 2  # Paracetamol of both branches; Amoksisilin had stock
    db.commit()
    assert seed_demo_stock(db) == 0
    para = _batches(db, w["para"])
    assert [(b.batch_number, b.quantity > 0, b.expiry_date > w["today"]) for b in para] == [
        (f"DEMO{w['para'].id:04d}", True, True)
    ]
    receipts = db.exec(select(GoodsReceipt).where(GoodsReceipt.note == "Stok awal demo")).all()
    assert {r.branch_id for r in receipts} == {w["branch"].id, w["other"].id}
    card = stock.stock_card(db, w["actor"], w["para"].id)[1].rows
    assert [(r.kind, r.reason) for r in card] == [(MovementKind.RECEIPT, "Stok awal demo")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12", 12), ("1.000", 1000), (" 25 ", 25), ("2.5", 0), ("2,5", 0), ("1.00", 0), ("0", 0)],
)
def test_quantities_are_whole_units_with_dotted_thousands(text, expected):
    errors: dict[str, str] = {}
    assert stock.parse_quantity(errors, "q", text) == expected
    assert ("q" in errors) == (expected == 0)
    assert stock.parse_quantity({}, "q", "-1.200", signed=True) == -1200
