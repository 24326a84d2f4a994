"""Apotek -> Stok handlers, called directly as a browser could."""

from __future__ import annotations

from datetime import timedelta

import pytest
from reflex.istate.data import RouterData, SessionData
from sqlmodel import select

from klinikita.models.enums import Duty
from klinikita.models.pharmacy import DrugItem, GoodsReceipt, StockBatch, StockMovement
from klinikita.services.dates import typed_date
from klinikita.services.errors import NotFound, PermissionDenied
from klinikita.services.visit_queue import local_today
from klinikita.state.stock import StockState
from tests.factories import make_branch, make_user
from tests.state.conftest import logged_in

TAB = "tab-stock-7"


@pytest.fixture
def pharmacy(db):
    a = make_branch(db, "Klinik A")
    b = make_branch(db, "Klinik B")
    make_user(db, "apoteker", branches=[a, b], main_duty=Duty.APOTEKER)
    make_user(db, "asisten", branches=[a], main_duty=Duty.ASISTEN_APOTEKER)
    make_user(db, "perawat", branches=[a], main_duty=Duty.PERAWAT)
    para = DrugItem(branch_id=a.id, name="Paracetamol 500 mg tablet", unit="tablet", min_stock=20)
    amox = DrugItem(branch_id=a.id, name="Amoksisilin 500 mg kapsul", unit="kapsul")
    other = DrugItem(branch_id=b.id, name="Paracetamol sirup", unit="botol")
    db.add_all([para, amox, other])
    db.commit()
    return {"a": a, "b": b, "para": para, "amox": amox, "other": other}


def _open(db, root, username):
    state = logged_in(db, root, StockState, username)
    root.router = RouterData(session=SessionData(client_token=TAB))
    state.load()
    return state


def _receive(state, item, batch="P1", quantity="30", days=200, today=None):
    state.set_tab("penerimaan")
    state.search_items(item.name[:6])
    assert str(item.id) in [o["id"] for o in state.item_options]
    state.add_line(str(item.id))
    n = len(state.lines) - 1
    state.set_line_field(n, "batch_number", batch)
    state.set_line_field(n, "expiry_date", typed_date(today + timedelta(days=days)))
    state.set_line_field(n, "quantity", quantity)


def test_the_stock_list_of_the_branch(db, root, pharmacy):
    state = _open(db, root, "apoteker")
    assert state.page_allowed and state.can_receive and state.can_adjust
    assert [r["name"] for r in state.rows] == [
        "Amoksisilin 500 mg kapsul",
        "Paracetamol 500 mg tablet",
    ]
    assert {r["name"]: r["low"] for r in state.rows} == {
        "Amoksisilin 500 mg kapsul": "0",
        "Paracetamol 500 mg tablet": "1",
    }
    state.set_search("amok")
    assert [r["name"] for r in state.rows] == ["Amoksisilin 500 mg kapsul"]


def test_a_duty_without_apotek_sees_nothing(db, root, pharmacy):
    state = _open(db, root, "perawat")
    assert not state.page_allowed
    assert state.rows == []
    with pytest.raises(PermissionDenied):
        state.search_items("para")


def test_a_receipt_with_two_lines_then_the_lists_and_card(db, root, pharmacy):
    today = local_today(pharmacy["a"])
    state = _open(db, root, "asisten")
    assert state.can_receive and not state.can_adjust
    state.set_receipt_field("supplier", "PBF Sehat")
    state.set_receipt_field("invoice_number", "F-77")
    _receive(state, pharmacy["para"], "P1", "10", 30, today)
    _receive(state, pharmacy["amox"], "A1", "40", 400, today)
    views = state.line_views
    assert [(v["number"], v["name"]) for v in views] == [
        ("1", "Paracetamol 500 mg tablet"),
        ("2", "Amoksisilin 500 mg kapsul"),
    ]
    state.save_receipt()
    assert state.errors == {} and state.lines == []
    receipt = db.exec(select(GoodsReceipt)).one()
    assert (receipt.supplier, receipt.invoice_number, receipt.received_on) == (
        "PBF Sehat",
        "F-77",
        today,
    )
    db.rollback()
    state.set_tab("menipis")
    assert [r["name"] for r in state.low_rows] == ["Paracetamol 500 mg tablet"]
    state.set_tab("kedaluwarsa")
    assert [(r["batch_number"], r["status"]) for r in state.expiry_rows] == [("P1", "30 hari lagi")]
    state.open_item(str(pharmacy["para"].id), "kartu")
    assert state.tab == "kartu" and state.item_name == "Paracetamol 500 mg tablet"
    assert [(r["kind"], r["quantity"], r["item_balance"]) for r in state.card_rows] == [
        ("Penerimaan", "+10", "10")
    ]
    assert state.card_rows[0]["user"] == "Asisten"


def test_a_receipt_error_stays_at_its_line_and_nothing_is_written(db, root, pharmacy):
    today = local_today(pharmacy["a"])
    state = _open(db, root, "apoteker")
    state.set_receipt_field("supplier", "PBF")
    _receive(state, pharmacy["para"], "P1", "10", 100, today)
    _receive(state, pharmacy["amox"], "A1", "5", -1, today)  # expired
    state.save_receipt()
    assert "kedaluwarsa" in state.line_views[1]["error_expiry_date"]
    assert state.line_views[0]["error_expiry_date"] == ""
    assert len(state.lines) == 2  # what was typed stays
    assert db.exec(select(StockBatch)).all() == []
    db.rollback()  # the test's session holds SQLite's write lock from its first read
    state.set_line_field(1, "expiry_date", typed_date(today + timedelta(days=100)))
    assert state.line_views[1]["error_expiry_date"] == ""
    state.remove_line(0)
    state.save_receipt()
    assert [b.batch_number for b in db.exec(select(StockBatch)).all()] == ["A1"]


def test_an_item_of_another_branch_cannot_be_added(db, root, pharmacy):
    state = _open(db, root, "apoteker")
    with pytest.raises(NotFound):
        state.add_line(str(pharmacy["other"].id))
    assert state.lines == []


def test_adjustment_and_stock_take(db, root, pharmacy):
    today = local_today(pharmacy["a"])
    state = _open(db, root, "apoteker")
    state.set_receipt_field("supplier", "PBF")
    _receive(state, pharmacy["para"], "P1", "10", 100, today)
    _receive(state, pharmacy["para"], "P2", "5", 200, today)
    state.save_receipt()
    state.set_tab("stok")
    state.open_item(str(pharmacy["para"].id), "penyesuaian")
    assert [b["batch_number"] for b in state.batch_views] == ["P1", "P2"]
    p1, p2 = (b["id"] for b in state.batches)
    state.set_adjust_field("batch_id", p1)
    state.set_adjust_field("quantity", "3")
    state.set_adjust_field("reason", "rusak")
    state.save_adjustment()
    assert "quantity" in state.errors  # rusak only takes away
    state.set_adjust_field("quantity", "-3")
    state.save_adjustment()
    assert state.errors == {}
    assert [b["quantity"] for b in state.batches] == ["7", "5"]
    state.set_count(p1, "7")
    state.set_count(p2, "2")
    state.save_stock_take()
    assert "reason" in state.errors
    state.set_adjust_field("take_reason", "Opname bulanan")
    state.save_stock_take()
    assert state.errors == {}
    assert [b["quantity"] for b in state.batches] == ["7", "2"]
    moves = db.exec(select(StockMovement).order_by(StockMovement.id)).all()
    assert [(m.kind, m.quantity) for m in moves][-2:] == [("adjustment", -3), ("stock_take", -3)]


def test_the_assistant_cannot_adjust(db, root, pharmacy):
    state = _open(db, root, "asisten")
    with pytest.raises(PermissionDenied):
        state.save_adjustment()
    with pytest.raises(PermissionDenied):
        state.save_stock_take()


def test_switching_branch_forgets_the_other_branchs_rows(db, root, pharmacy):
    from klinikita.services import auth
    from klinikita.services.actor_cache import forget_actors

    state = _open(db, root, "apoteker")
    state.open_item(str(pharmacy["para"].id), "kartu")
    assert state.item_id == pharmacy["para"].id
    auth.switch_branch(db, state.auth_token, pharmacy["b"].id)
    db.commit()
    forget_actors()
    state.set_tab("stok")
    assert state.item_id == 0 and state.card_rows == []
    assert [r["name"] for r in state.rows] == ["Paracetamol sirup"]
