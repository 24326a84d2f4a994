"""Two pharmacists dispensing the last units of an item at the same moment: exactly one
succeeds, the other is told what is left, and stock never goes below zero (real databases,
one thread and connection per pharmacist, a barrier starting them together)."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlmodel import Session, SQLModel, select

import klinikita.models  # noqa: F401
from klinikita.db import make_engine
from klinikita.models import DispenseLine, StockBatch, StockMovement
from klinikita.models.enums import Duty
from klinikita.models.pharmacy import Dispense, DispenseStatus
from klinikita.services import dispensing
from klinikita.services.dispensing import Shortage
from tests.factories import make_clinic, make_completed_visit, make_patient, make_user
from tests.pg import require_pg, temporary_pg_database
from tests.support import pharmacy_data as ph

ROUNDS = 4


@pytest.fixture(params=["postgresql", "sqlite"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'race.db'}")
        SQLModel.metadata.create_all(engine)
        yield engine
        engine.dispose()
        return
    require_pg()
    with temporary_pg_database() as url:
        engine = make_engine(url)
        SQLModel.metadata.create_all(engine)
        yield engine
        engine.dispose()


def _setup(engine, stock: tuple[int, int], wanted: int):
    """Two waiting prescriptions of `wanted` units each of one item held in two batches."""
    with Session(engine, expire_on_commit=False) as s:
        branch, unit, room, doctor, patient = make_clinic(s)
        user = make_user(s, "apt.rina", branches=[branch], main_duty=Duty.APOTEKER)
        drug = ph.item(s, branch, "Amoxicillin 500 mg kapsul", unit="kapsul")
        today = date.today()
        ph.batch(s, drug, "A-EARLY", stock[0], today + timedelta(days=20))
        ph.batch(s, drug, "A-LATE", stock[1], today + timedelta(days=200))
        ids = []
        for n, person in enumerate([patient, make_patient(s, branch, 1)]):
            visit = make_completed_visit(s, branch, unit, room, doctor, person, queue_number=n + 1)
            rx = ph.prescription(s, visit, [(drug, wanted, "3 x sehari", "1 kapsul", "")])
            ids.append(rx.dispense.id)
        s.commit()
        return ph.actor_for(user, branch), ids, drug.id


def _race(engine, actor, ids):
    barrier = threading.Barrier(len(ids))
    done, refused, errors = [], [], []

    def pharmacist(dispense_id: int) -> None:
        with Session(engine, expire_on_commit=False) as s:
            barrier.wait()
            try:
                dispensing.dispense(s, actor, dispense_id, expected_version=1)
                s.commit()
                done.append(dispense_id)
            except Shortage as short:
                s.rollback()
                refused.append(short.message)
            except BaseException as exc:  # noqa: BLE001
                s.rollback()
                errors.append(exc)

    threads = [threading.Thread(target=pharmacist, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return done, refused


def test_two_pharmacists_taking_the_last_units_at_once(engine):
    for _ in range(ROUNDS):
        SQLModel.metadata.drop_all(engine)
        SQLModel.metadata.create_all(engine)
        actor, ids, item_id = _setup(engine, stock=(4, 8), wanted=10)
        done, refused = _race(engine, actor, ids)
        assert len(done) == 1 and len(refused) == 1
        assert "tersedia 2 kapsul" in refused[0]
        with Session(engine) as s:
            quantities = s.exec(select(StockBatch.quantity).where(StockBatch.item_id == item_id))
            assert sorted(quantities.all()) == [0, 2]
            assert sum(line.quantity for line in s.exec(select(DispenseLine)).all()) == 10
            assert sum(m.quantity for m in s.exec(select(StockMovement)).all()) == -10
            statuses = {d.id: d.status for d in s.exec(select(Dispense)).all()}
            assert statuses[done[0]] == DispenseStatus.DISPENSED
            loser = next(i for i in ids if i != done[0])
            assert statuses[loser] == DispenseStatus.WAITING


def test_both_succeed_when_stock_covers_both(engine):
    actor, ids, item_id = _setup(engine, stock=(4, 16), wanted=10)
    done, refused = _race(engine, actor, ids)
    assert sorted(done) == sorted(ids) and not refused
    with Session(engine) as s:
        quantities = s.exec(select(StockBatch.quantity).where(StockBatch.item_id == item_id))
        assert sorted(quantities.all()) == [0, 0]
