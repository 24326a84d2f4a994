"""Dispensing: the queue, FEFO over batches, quantity changes with a reason, shortages
that write nothing, hand-over, cancellation returning the units, labels, permissions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from klinikita.models import AuditLog, DispenseLine, PatientAllergy, StockBatch, StockMovement
from klinikita.models.allergies import AllergyKind
from klinikita.models.base import utcnow
from klinikita.models.enums import Duty, SyncStatus
from klinikita.models.pharmacy import DispenseStatus, MovementKind
from klinikita.models.satusehat import JobKind, SyncJob
from klinikita.services import billing, dispensing, payments, shifts, stock
from klinikita.services.dispensing import Change, Shortage, fefo
from klinikita.services.errors import (
    NotFound,
    PermissionDenied,
    ServiceError,
    StaleEdit,
    ValidationFailed,
)
from klinikita.services.payments import PaymentPart
from tests.factories import make_branch, make_clinic, make_completed_visit, make_user
from tests.support import pharmacy_data as ph


@pytest.fixture
def clinic(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    visit = make_completed_visit(db, branch, unit, room, doctor, patient)
    user = make_user(db, "apt.rina", branches=[branch], main_duty=Duty.APOTEKER)
    para = ph.item(db, branch, "Paracetamol 500 mg tablet")
    amox = ph.item(db, branch, "Amoxicillin 500 mg kapsul", unit="kapsul", kfa="93000002")
    ctm = ph.item(db, branch, "CTM 4 mg tablet", kfa="93000003")
    today = date.today()
    batches = {
        "late": ph.batch(db, para, "P-LATE", 50, today + timedelta(days=400)),
        "early": ph.batch(db, para, "P-EARLY", 4, today + timedelta(days=30)),
        "expired": ph.batch(db, para, "P-OLD", 100, today - timedelta(days=1)),
        "amox": ph.batch(db, amox, "A-1", 15),
        "ctm": ph.batch(db, ctm, "C-1", 20),
    }
    rx = ph.prescription(
        db,
        visit,
        [
            (para, 10, "3 x sehari", "1 tablet", "sesudah makan"),
            (amox, 15, "3 x sehari", "1 kapsul", "dihabiskan"),
        ],
        compounds=[("Puyer batuk anak", 10, [(ctm, 5, "2 mg"), (para, 3, "150 mg")])],
    )
    db.commit()
    return {
        "branch": branch,
        "visit": visit,
        "patient": patient,
        "actor": ph.actor_for(user, branch),
        "user": user,
        "items": {"para": para, "amox": amox, "ctm": ctm},
        "batches": batches,
        "rx": rx,
    }


def _qty(db, batch) -> int:
    db.expire_all()
    return db.get(StockBatch, batch.id).quantity


def test_fefo_takes_the_first_expiry_first():
    assert fefo([(1, 4), (2, 50)], 10) == ([(1, 4), (2, 6)], 0)
    assert fefo([(1, 4)], 10) == ([(1, 4)], 6)
    assert fefo([], 3) == ([], 3)


def test_queue_lists_waiting_first_with_patient_and_lines(db, clinic):
    queue = dispensing.todays_queue(db, clinic["actor"])
    assert len(queue) == 1
    row = queue[0]
    assert (row.patient_name, row.mrn, row.lines) == ("Ardianto Putra", "000001", 3)
    assert row.status == DispenseStatus.WAITING and row.status_label == "Menunggu"
    assert row.doctor_name == "dr. Alexander" and row.unit_name == "Poli Umum"


def _allergic_to_amoxicillin(db, clinic) -> None:
    db.add(
        PatientAllergy(
            patient_id=clinic["patient"].id,
            branch_id=clinic["branch"].id,
            kind=AllergyKind.DRUG,
            display="Amoxicillin",
            item_id=clinic["items"]["amox"].id,
            reaction="ruam kulit",
            recorded_at=utcnow(),
        )
    )
    db.commit()


def test_detail_plans_fefo_skipping_expired_batches_and_shows_allergies(db, clinic):
    _allergic_to_amoxicillin(db, clinic)
    seen = dispensing.detail(db, clinic["actor"], clinic["rx"].dispense.id)
    assert [a.display for a in seen.allergies] == ["Amoxicillin"]
    para_line, amox_line, puyer = seen.lines
    assert amox_line.allergy_match and not para_line.allergy_match
    assert para_line.signa == "3 x sehari 1 tablet sesudah makan"
    plan = seen.batches[para_line.needs[0].key]
    # 4 from the batch expiring first, the rest from the later one; the expired one untouched.
    assert [(t.batch_number, t.quantity) for t in plan] == [("P-EARLY", 4), ("P-LATE", 6)]
    # The racikan's paracetamol shares the same pool after the single line.
    para_in_puyer = next(n for n in puyer.needs if n.item_name.startswith("Paracetamol"))
    assert [(t.batch_number, t.quantity) for t in seen.batches[para_in_puyer.key]] == [
        ("P-LATE", 3)
    ]
    assert [i.name for i in puyer.ingredients] == ["CTM 4 mg tablet", "Paracetamol 500 mg tablet"]
    assert not seen.shortages


def test_dispense_takes_stock_writes_lines_card_audit_and_queues_the_job(db, clinic):
    d = clinic["rx"].dispense
    dispensing.dispense(db, clinic["actor"], d.id, expected_version=d.version)
    db.commit()
    b = clinic["batches"]
    assert _qty(db, b["early"]) == 0
    assert _qty(db, b["late"]) == 50 - 6 - 3
    assert _qty(db, b["expired"]) == 100
    assert _qty(db, b["amox"]) == 0 and _qty(db, b["ctm"]) == 15
    lines = db.exec(select(DispenseLine)).all()
    assert sum(line.quantity for line in lines) == 10 + 15 + 5 + 3
    card = db.exec(select(StockMovement)).all()
    assert {m.kind for m in card} == {MovementKind.DISPENSE}
    assert all(m.dispense_line_id for m in card)
    row = db.get(type(d), d.id)
    assert row.status == DispenseStatus.DISPENSED and row.dispensed_by_user_id
    assert row.sync_status == SyncStatus.SENDING
    job = db.exec(select(SyncJob).where(SyncJob.kind == JobKind.DISPENSE_SEND)).one()
    assert job.subject_id == d.id and job.subject_type == "dispense"
    assert db.exec(select(AuditLog).where(AuditLog.entity == "dispense")).one().action == (
        "dispense"
    )


def test_shortage_names_the_item_and_writes_nothing(db, clinic):
    b = clinic["batches"]
    db.get(StockBatch, b["amox"].id).quantity = 6
    db.commit()
    d = clinic["rx"].dispense
    with pytest.raises(Shortage) as refused:
        dispensing.dispense(db, clinic["actor"], d.id, expected_version=d.version)
    db.rollback()
    assert "Amoxicillin 500 mg kapsul" in refused.value.message
    assert "tersedia 6 kapsul" in refused.value.message
    assert db.exec(select(DispenseLine)).all() == []
    assert db.exec(select(StockMovement)).all() == []
    assert _qty(db, b["late"]) == 50
    assert db.get(type(d), d.id).status == DispenseStatus.WAITING


def test_a_changed_quantity_needs_a_reason(db, clinic):
    d = clinic["rx"].dispense
    seen = dispensing.detail(db, clinic["actor"], d.id)
    amox_key = seen.lines[1].needs[0].key
    with pytest.raises(ValidationFailed) as refused:
        dispensing.dispense(
            db, clinic["actor"], d.id, expected_version=d.version, changes={amox_key: Change(6)}
        )
    db.rollback()
    assert f"reason:{amox_key}" in refused.value.errors
    with pytest.raises(ValidationFailed):
        dispensing.dispense(
            db, clinic["actor"], d.id, expected_version=d.version, changes={amox_key: Change(-1)}
        )
    db.rollback()
    dispensing.dispense(
        db,
        clinic["actor"],
        d.id,
        expected_version=d.version,
        changes={amox_key: Change(6, "stok pasien masih ada")},
    )
    db.commit()
    assert _qty(db, clinic["batches"]["amox"]) == 9
    after = dispensing.detail(db, clinic["actor"], d.id)
    assert after.dispensed[amox_key] == (6, "stok pasien masih ada")


def test_dispensing_answers_the_review_as_it_reads_afterwards(db, clinic):
    _allergic_to_amoxicillin(db, clinic)
    d = clinic["rx"].dispense
    seen = dispensing.detail(db, clinic["actor"], d.id)
    para_key, amox_key = seen.lines[0].needs[0].key, seen.lines[1].needs[0].key
    changes = {amox_key: Change(6, "sisa di rumah"), para_key: Change(0, "tidak perlu")}
    answered = dispensing.dispense_for_review(
        db, clinic["actor"], d.id, expected_version=d.version, changes=changes
    )
    db.commit()
    db.expire_all()
    assert answered == dispensing.detail(db, clinic["actor"], d.id)
    assert answered.status == DispenseStatus.DISPENSED and answered.lines[1].allergy_match
    assert (
        answered.dispensed[amox_key] == (6, "sisa di rumah") and para_key not in answered.dispensed
    )


def test_hand_over_and_stale_and_status_rules(db, clinic):
    d = clinic["rx"].dispense
    with pytest.raises(Exception, match="sudah disiapkan"):
        dispensing.hand_over(db, clinic["actor"], d.id, expected_version=d.version)
    db.rollback()
    dispensing.dispense(db, clinic["actor"], d.id, expected_version=1)
    db.commit()
    with pytest.raises(StaleEdit):
        dispensing.hand_over(db, clinic["actor"], d.id, expected_version=1)
    db.rollback()
    dispensing.hand_over(db, clinic["actor"], d.id, expected_version=2)
    db.commit()
    row = db.get(type(d), d.id)
    assert row.status == DispenseStatus.HANDED_OVER and row.handed_over_at
    with pytest.raises(Exception, match="sudah berstatus"):
        dispensing.dispense(db, clinic["actor"], d.id, expected_version=None)
    db.rollback()


def test_cancel_returns_the_units_and_needs_apoteker_and_a_reason(db, clinic):
    d = clinic["rx"].dispense
    dispensing.dispense(db, clinic["actor"], d.id, expected_version=1)
    db.commit()
    assistant = ph.actor_for(clinic["user"], clinic["branch"], Duty.ASISTEN_APOTEKER)
    with pytest.raises(PermissionDenied):
        dispensing.cancel(db, assistant, d.id, expected_version=2, reason="salah resep")
    with pytest.raises(ValidationFailed):
        dispensing.cancel(db, clinic["actor"], d.id, expected_version=2, reason="  ")
    dispensing.cancel(db, clinic["actor"], d.id, expected_version=2, reason="resep diganti dokter")
    db.commit()
    b = clinic["batches"]
    assert _qty(db, b["early"]) == 4 and _qty(db, b["late"]) == 50 and _qty(db, b["amox"]) == 15
    returns = db.exec(select(StockMovement).where(StockMovement.kind == MovementKind.RETURN)).all()
    assert sum(m.quantity for m in returns) == 33
    row = db.get(type(d), d.id)
    assert row.status == DispenseStatus.CANCELLED and row.note == "resep diganti dokter"


def test_a_return_of_handed_over_drugs_puts_each_unit_back_while_the_visit_is_unpaid(db, clinic):
    d, b, items = clinic["rx"].dispense, clinic["batches"], clinic["items"]
    actor = clinic["actor"]
    for item, price in ((items["para"], 500), (items["amox"], 1000), (items["ctm"], 200)):
        item.price = price
        db.add(item)
    db.commit()
    dispensing.dispense(db, actor, d.id, expected_version=1)
    db.commit()
    with pytest.raises(ServiceError, match="diserahkan"):
        dispensing.return_handed_over(db, actor, d.id, expected_version=2, reason="x")
    db.rollback()
    dispensing.hand_over(db, actor, d.id, expected_version=2)
    db.commit()
    with pytest.raises(ServiceError, match="Diserahkan"):
        dispensing.cancel(db, actor, d.id, expected_version=3, reason="x")
    db.rollback()
    # The visit's bill is paid: the return waits for the admin's void.
    cashier = make_user(db, "kasir.ani", branches=[clinic["branch"]], main_duty=Duty.KASIR)
    kasir = ph.actor_for(cashier, clinic["branch"], Duty.KASIR)
    admin = ph.actor_for(clinic["user"], clinic["branch"], Duty.ADMIN)
    shifts.open_shift(db, kasir, "0")
    bill, _ = billing.open_visit_bill(db, kasir, clinic["visit"].id)
    db.commit()
    assert bill.patient_total == 13 * 500 + 15 * 1000 + 5 * 200
    payments.pay(db, kasir, bill.id, [PaymentPart("tunai", str(bill.patient_total))])
    db.commit()
    with pytest.raises(ServiceError) as refused:
        dispensing.return_handed_over(db, actor, d.id, expected_version=3, reason="alergi")
    assert refused.value.message == dispensing.PAID_VISIT
    db.rollback()
    assert _qty(db, b["amox"]) == 0
    payments.void_bill(db, admin, bill.id, "Obat dikembalikan pasien")
    db.commit()
    assert _qty(db, b["amox"]) == 0  # a void alone leaves the drugs with the patient
    assistant = ph.actor_for(clinic["user"], clinic["branch"], Duty.ASISTEN_APOTEKER)
    with pytest.raises(PermissionDenied):
        dispensing.return_handed_over(db, assistant, d.id, expected_version=3, reason="alergi")
    with pytest.raises(ValidationFailed) as refused:
        dispensing.return_handed_over(db, actor, d.id, expected_version=3, reason=" ")
    assert "Alasan retur" in refused.value.errors["reason"]
    dispensing.return_handed_over(
        db, actor, d.id, expected_version=3, reason="ruam setelah minum amoxicillin"
    )
    db.commit()
    # Every unit back to the batch it came from.
    assert _qty(db, b["early"]) == 4 and _qty(db, b["late"]) == 50
    assert _qty(db, b["amox"]) == 15 and _qty(db, b["ctm"]) == 20
    row = db.get(type(d), d.id)
    assert row.status == DispenseStatus.CANCELLED and row.note.startswith("Retur: ruam")
    # The stock card: one RETURN row per batch line taken, tied to its dispensing line.
    _item, card = stock.stock_card(db, actor, items["amox"].id)
    assert [(r.kind, r.quantity, r.balance_after) for r in card.rows] == [
        ("dispense", -15, 0),
        ("return", 15, 15),
    ]
    assert card.rows[1].reason.startswith("Retur obat: ruam")
    returns = db.exec(select(StockMovement).where(StockMovement.kind == MovementKind.RETURN)).all()
    assert sum(m.quantity for m in returns) == 33 and all(m.dispense_line_id for m in returns)
    trail = db.exec(select(AuditLog).where(AuditLog.action == "dispense_return")).one()
    assert trail.after["reason"] == "ruam setelah minum amoxicillin"
    assert sum(r["quantity"] for r in trail.after["returned"]) == 33
    # Not sent to SATUSEHAT yet: nothing to cancel there.
    jobs = db.exec(select(SyncJob).where(SyncJob.kind == JobKind.DISPENSE_SEND)).all()
    assert len(jobs) == 1  # the dispensing's own (the hand-over's joined it)
    # The visit's next bill no longer holds the returned drugs.
    again, _ = billing.open_visit_bill(db, kasir, clinic["visit"].id)
    db.commit()
    assert again.id != bill.id and billing.bill_lines_by_source(db, again.id).get("drug") is None


def test_a_return_sends_the_medication_dispenses_again_as_cancelled(db, clinic):
    d, actor = clinic["rx"].dispense, clinic["actor"]
    dispensing.dispense(db, actor, d.id, expected_version=1)
    dispensing.hand_over(db, actor, d.id, expected_version=2)
    for line in clinic["rx"].lines:
        line.medication_dispense_id = f"md-{line.line_no}"  # SATUSEHAT holds them
        db.add(line)
    db.commit()
    for job in db.exec(select(SyncJob)).all():
        db.delete(job)
    db.commit()
    dispensing.return_handed_over(db, actor, d.id, expected_version=3, reason="tidak jadi")
    db.commit()
    job = db.exec(select(SyncJob).where(SyncJob.kind == JobKind.DISPENSE_SEND)).one()
    assert job.subject_id == d.id


def test_permissions_and_branches(db, clinic):
    d = clinic["rx"].dispense
    nurse = ph.actor_for(clinic["user"], clinic["branch"], Duty.PENDAFTARAN)
    with pytest.raises(PermissionDenied):
        dispensing.todays_queue(db, nurse)
    with pytest.raises(PermissionDenied):
        dispensing.dispense(db, nurse, d.id, expected_version=None)
    doctor = ph.actor_for(clinic["user"], clinic["branch"], Duty.DOKTER_UMUM)
    dispensing.detail(db, doctor, d.id)  # doctors read prescriptions
    with pytest.raises(PermissionDenied):
        dispensing.dispense(db, doctor, d.id, expected_version=None)
    other = make_branch(db, "Cabang Lain")
    elsewhere = ph.actor_for(clinic["user"], other)
    assert dispensing.todays_queue(db, elsewhere) == []
    with pytest.raises(NotFound):
        dispensing.detail(db, elsewhere, d.id)
    with pytest.raises(NotFound):
        dispensing.dispense(db, elsewhere, d.id, expected_version=None)
    with pytest.raises(NotFound):
        dispensing.labels(db, elsewhere, d.id)


def test_labels_one_per_line_with_signa_and_quantity(db, clinic):
    d = clinic["rx"].dispense
    dispensing.dispense(db, clinic["actor"], d.id, expected_version=1)
    db.commit()
    labels = dispensing.labels(db, clinic["actor"], d.id)
    assert len(labels) == 3
    first = labels[0]
    assert first.patient_name == "Ardianto Putra" and first.mrn == "000001"
    assert first.item == "Paracetamol 500 mg tablet"
    assert first.instructions == "3 x sehari 1 tablet sesudah makan"
    assert first.quantity == "10 tablet"
    assert first.branch_name == "Klinik Simulator"
    assert labels[2].quantity == "10 puyer"
