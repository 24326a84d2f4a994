"""Apotek -> Obat & BHP handlers, called directly as a browser could."""

from __future__ import annotations

import asyncio
import io

import pytest
import reflex as rx
from sqlmodel import select

from klinikita.models.enums import Duty
from klinikita.models.pharmacy import DrugItem
from klinikita.services.errors import PermissionDenied
from klinikita.state.drugs import DrugState
from tests.factories import make_branch, make_user
from tests.state.conftest import logged_in


def _clinic(db):
    a = make_branch(db, "Klinik A")
    make_user(db, "apoteker", branches=[a], main_duty=Duty.APOTEKER)
    make_user(db, "asisten", branches=[a], main_duty=Duty.ASISTEN_APOTEKER)
    return a


def test_pharmacist_adds_edits_and_filters_unmapped(db, root):
    _clinic(db)
    state = logged_in(db, root, DrugState, "apoteker")
    state.load()
    assert state.can_edit and state.rows == []
    state.start_create()
    for field, value in {
        "name": "Amlodipine 5 mg tablet",
        "form": "tablet",
        "strength": "5 mg",
        "unit": "tablet",
        "price": "400",
    }.items():
        state.set_field(field, value)
    state.save()
    assert not state.form_open
    row = state.rows[0]
    assert (row["name"], row["price"], row["unmapped"]) == ("Amlodipine 5 mg tablet", "Rp 400", "1")
    state.set_unmapped_only(True)
    assert len(state.rows) == 1
    state.start_edit(row["id"])
    state.set_field("kfa_code", "93001357")
    state.save()
    assert state.rows == []  # mapped: no longer in the unmapped filter
    state.set_unmapped_only(False)
    assert state.rows[0]["kfa_code"] == "93001357"


def test_field_errors_stay_in_the_form(db, root):
    _clinic(db)
    state = logged_in(db, root, DrugState, "apoteker")
    state.load()
    state.start_create()
    state.set_field("name", "Obat X")
    state.set_field("price", "12,5")
    state.save()
    assert state.form_open and "price" in state.errors and "unit" in state.errors
    assert db.exec(select(DrugItem)).all() == []


def test_assistant_reads_but_cannot_import(db, root):
    branch = _clinic(db)
    db.add(DrugItem(branch_id=branch.id, name="Paracetamol 500 mg", unit="tablet"))
    db.commit()
    state = logged_in(db, root, DrugState, "asisten")
    state.load()
    assert not state.can_edit and [r["name"] for r in state.rows] == ["Paracetamol 500 mg"]
    upload = rx.UploadFile(file=io.BytesIO(b"nama;jenis;satuan\nKasa;bhp;lembar\n"))
    with pytest.raises(PermissionDenied, match="tidak berwenang"):
        asyncio.run(DrugState.event_handlers["handle_upload"].fn(state, [upload]))
    assert len(db.exec(select(DrugItem)).all()) == 1


def test_import_report_reaches_the_page(db, root):
    _clinic(db)
    state = logged_in(db, root, DrugState, "apoteker")
    state.load()
    content = b"nama;sediaan;satuan;harga\nCTM 4 mg;Tablet;tablet;100\nRusak;;tablet;x\n"
    asyncio.run(
        DrugState.event_handlers["handle_upload"].fn(
            state, [rx.UploadFile(file=io.BytesIO(content))]
        )
    )
    assert "1 ditambahkan" in state.import_summary
    assert [r["line"] for r in state.import_failed] == ["3"]
    assert [r["name"] for r in state.import_unmapped] == ["CTM 4 mg"]
    assert [r["name"] for r in state.rows] == ["CTM 4 mg"]
