"""The drug master: validation at the field, versions, audit, search at 20,000 items, CSV import."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import insert
from sqlmodel import select

from klinikita.models import AuditLog
from klinikita.models.enums import Duty
from klinikita.models.pharmacy import DrugItem
from klinikita.services import drug_master as dm
from klinikita.services.audit import Actor
from klinikita.services.errors import NotFound, PermissionDenied, StaleEdit, ValidationFailed
from klinikita.terminology.pharmacy_codes import medication_forms
from tests.factories import make_branch, make_user


def _actor(db, duty: Duty = Duty.APOTEKER, name: str = "apt") -> Actor:
    branch = make_branch(db, name=f"Klinik {name}")
    user = make_user(db, name, branches=[branch], main_duty=duty)
    return Actor(user.id, user.username, user.username, duty, branch.id)


def _paracetamol(**more) -> dm.DrugInput:
    fields = {
        "name": "Paracetamol 500 mg tablet",
        "form": "Tablet",
        "strength": "500 mg",
        "unit": "Tablet",
        "kfa_code": "93011120",
        "kfa_display": "Paracetamol 500 mg Tablet (KIMIA FARMA)",
        "price": "Rp 1.500",
        "min_stock": "100",
    }
    return dm.DrugInput(**{**fields, **more})


def test_create_stores_the_form_code_price_and_audits(db):
    actor = _actor(db)
    item = dm.create_item(db, actor, _paracetamol())
    assert (item.form_code, item.form_name, item.unit) == ("BS066", "Tablet", "tablet")
    assert (item.price, item.min_stock, item.kfa_code) == (1500, 100, "93011120")
    assert item.branch_id == actor.branch_id
    log = db.exec(select(AuditLog).where(AuditLog.entity == "drug_item")).one()
    assert (log.action, log.entity_id) == ("create", str(item.id))


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": "  "}, "name", "wajib diisi"),
        ({"unit": ""}, "unit", "wajib diisi"),
        ({"form": "Pil ajaib"}, "form", "tidak ada di daftar"),
        ({"form": ""}, "form", "wajib diisi untuk obat"),
        ({"kfa_code": "91000101"}, "kfa_code", "diawali 92"),
        ({"kfa_code": "9300101"}, "kfa_code", "8 angka"),
        ({"price": "-5"}, "price", "bilangan bulat"),
        ({"price": "1500,50"}, "price", "tanpa koma"),
        ({"price": "99999999999"}, "price", "paling besar"),
        ({"min_stock": "sepuluh"}, "min_stock", "bilangan bulat"),
        ({"category": "jamu"}, "category", "Obat atau BHP"),
        ({"name": "Obat\u200b baru"}, "name", "tak terlihat"),
    ],
)
def test_refusals_are_at_the_field_in_indonesian(db, changes, field, words):
    actor = _actor(db)
    with pytest.raises(ValidationFailed) as refused:
        dm.create_item(db, actor, _paracetamol(**changes))
    assert words in refused.value.errors[field]
    assert db.exec(select(DrugItem)).all() == []


def test_a_medicine_may_be_saved_without_kfa_and_is_flagged(db):
    actor = _actor(db)
    item = dm.create_item(db, actor, _paracetamol(kfa_code="", kfa_display=""))
    assert item.kfa_code is None and dm.needs_kfa(item)
    bhp = dm.create_item(
        db, actor, dm.DrugInput(name="Spuit 3 ml", category="bhp", unit="pcs", price="2500")
    )
    assert not dm.needs_kfa(bhp) and bhp.form_code == ""


def test_form_accepts_code_or_name_and_the_list_is_the_ministrys():
    forms = medication_forms()
    assert forms["BS023"] == "Kaplet Salut Selaput" and forms["BS066"] == "Tablet"
    assert len(forms) >= 90


def test_names_are_unique_per_branch(db):
    actor = _actor(db)
    dm.create_item(db, actor, _paracetamol())
    with pytest.raises(ValidationFailed) as refused:
        dm.create_item(db, actor, _paracetamol(name="Paracetamol  500 mg tablet"))
    assert "sudah dipakai" in refused.value.errors["name"]
    other = _actor(db, name="apt2")
    dm.create_item(db, other, _paracetamol())  # another branch may use the name


def test_edit_is_versioned_and_stale_edits_are_refused(db):
    actor = _actor(db)
    item = dm.create_item(db, actor, _paracetamol())
    db.commit()
    saved = dm.update_item(db, actor, item.id, _paracetamol(price="2000"), expected_version=1)
    assert (saved.price, saved.version) == (2000, 2)
    with pytest.raises(StaleEdit):
        dm.update_item(db, actor, item.id, _paracetamol(price="2500"), expected_version=1)


def test_other_branches_and_duties_are_refused(db):
    actor = _actor(db)
    item = dm.create_item(db, actor, _paracetamol())
    stranger = _actor(db, name="apt-lain")
    with pytest.raises(NotFound):
        dm.update_item(db, stranger, item.id, _paracetamol())
    assistant = Actor(actor.user_id, "asisten", "Asisten", Duty.ASISTEN_APOTEKER, actor.branch_id)
    with pytest.raises(PermissionDenied):
        dm.set_item_active(db, assistant, item.id, False)


def test_map_kfa_and_deactivate_are_audited(db):
    actor = _actor(db)
    item = dm.create_item(db, actor, _paracetamol(kfa_code="", kfa_display=""))
    dm.map_kfa(db, actor, item.id, "93002785", "Paracetamol 500 mg Tablet (PANADOL)")
    assert (item.kfa_code, item.kfa_display) == ("93002785", "Paracetamol 500 mg Tablet (PANADOL)")
    with pytest.raises(ValidationFailed):
        dm.map_kfa(db, actor, item.id, "12345678", "x")
    dm.set_item_active(db, actor, item.id, False)
    actions = db.exec(select(AuditLog.action).where(AuditLog.entity == "drug_item")).all()
    assert actions == ["create", "map_kfa", "deactivate"]
    assert dm.search_items(db, actor.branch_id, "paracetamol") == []  # inactive


def test_search_by_name_words_strength_and_kfa_code(db):
    actor = _actor(db)
    dm.create_item(db, actor, _paracetamol())
    dm.create_item(
        db,
        actor,
        dm.DrugInput(
            name="Amoxicillin sirup kering",
            form="Sirup Kering",
            strength="125 mg/5 mL",
            unit="botol",
            kfa_code="93006387",
        ),
    )
    names = lambda text: [i.name for i in dm.search_items(db, actor.branch_id, text)]  # noqa: E731
    assert names("PARACET") == ["Paracetamol 500 mg tablet"]
    assert names("sirup 125") == ["Amoxicillin sirup kering"]
    assert names("9300638") == ["Amoxicillin sirup kering"]
    assert names("500 tablet") == ["Paracetamol 500 mg tablet"]
    assert names("%") == [] and names("") == []
    assert dm.search_items(db, actor.branch_id + 99, "paracetamol") == []


def test_search_at_20000_items_is_right_and_quick(db):
    actor = _actor(db)
    rows = [
        {
            "branch_id": actor.branch_id,
            "name": f"Obat Uji {n:05d} {'kapsul' if n % 2 else 'tablet'}",
            "category": "obat",
            "form_code": "BS066",
            "form_name": "Tablet",
            "strength": f"{n % 50} mg",
            "unit": "tablet",
            "kfa_code": f"93{n:06d}",
            "kfa_display": "",
            "price": n,
            "min_stock": 0,
            "active": n % 10 != 0,
            "version": 1,
        }
        for n in range(20_000)
    ]
    db.execute(insert(DrugItem), rows)
    db.commit()
    expected = sorted(r["name"] for r in rows if "1234" in r["name"] and r["active"])
    assert len(expected) == 11
    started = time.perf_counter()
    found = dm.search_items(db, actor.branch_id, "uji 1234", limit=20)
    elapsed = time.perf_counter() - started
    assert [i.name for i in found] == expected
    by_code = dm.search_items(db, actor.branch_id, "93012345")
    assert [i.kfa_code for i in by_code] == ["93012345"]
    assert len(dm.search_items(db, actor.branch_id, "tablet", limit=20)) == 20
    assert elapsed < 0.5, f"search took {elapsed:.3f} s"  # bench/drug_search.py measures p95


def test_csv_import_creates_updates_and_reports_per_row(db):
    actor = _actor(db)
    dm.create_item(db, actor, _paracetamol(price="1000"))
    content = (
        "Nama;Sediaan;Kekuatan;Satuan;Harga;Kode_KFA;Jenis\n"
        "Paracetamol 500 mg tablet;Tablet;500 mg;tablet;1.200;;obat\n"
        "Amlodipine 5 mg;Tablet;5 mg;tablet;400;93001357;obat\n"
        "Metformin 500 mg;Tablet;500 mg;tablet;300;;obat\n"
        "Obat Rusak;Pil ajaib;;tablet;abc;123;obat\n"
        ";;;;;;\n"
        "Spuit 3 mL;;;pcs;2500;;BHP\n"
    ).encode("cp1252")
    report = dm.import_csv(db, actor, content)
    assert (report.created, report.updated) == (3, 1)
    assert [(n.line, n.name) for n in report.failed] == [(5, "Obat Rusak")]
    reason = report.failed[0].reason
    assert "Pil ajaib" in reason and "bilangan bulat" in reason and "8 angka" in reason
    assert [(n.line, n.name, n.reason) for n in report.unmapped] == [
        (4, "Metformin 500 mg", dm.UNMAPPED)
    ]
    para = db.exec(select(DrugItem).where(DrugItem.name == "Paracetamol 500 mg tablet")).one()
    assert (para.price, para.kfa_code) == (1200, "93011120")  # the mapping made here stays
    assert "1 gagal" in report.summary and "1 belum dipetakan" in report.summary


def test_csv_import_needs_a_header_with_name_and_unit(db):
    actor = _actor(db)
    with pytest.raises(ValidationFailed) as refused:
        dm.import_csv(db, actor, b"Paracetamol,tablet,500\n")
    assert "judul kolom" in refused.value.errors["file"]
    comma = dm.import_csv(db, actor, b"nama,sediaan,satuan,harga\nCTM 4 mg,Tablet,tablet,100\n")
    assert comma.created == 1
