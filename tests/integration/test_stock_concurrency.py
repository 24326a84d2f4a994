"""Pharmacists correcting the same batch at the same moment never take it below zero, and
two deliveries of a new batch at once end in one batch holding both (real databases).

Each desk is a thread with its own connection and session; a barrier starts them together.
PostgreSQL is the production database; the SQLite file database is checked the same way.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

import klinikita.models  # noqa: F401
from klinikita.db import make_engine
from klinikita.models import Branch
from klinikita.models.enums import Duty
from klinikita.models.pharmacy import DrugItem, StockBatch, StockMovement
from klinikita.services import stock
from klinikita.services.audit import Actor
from klinikita.services.dates import typed_date
from klinikita.services.errors import ValidationFailed
from klinikita.services.stock import ReceiptInput, ReceiptLineInput
from tests.factories import make_user
from tests.pg import require_pg, temporary_pg_database

DESKS = 8


def _setup(engine: Engine, quantity: int) -> tuple[Actor, int, int]:
    """A branch, an apoteker, one item and (when `quantity`) one batch holding it."""
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as s:
        branch = Branch(name="Apotek Ramai")
        s.add(branch)
        s.flush()
        item = DrugItem(branch_id=branch.id, name="Paracetamol 500 mg tablet", unit="tablet")
        s.add(item)
        s.commit()
        user = make_user(s, "apoteker", branches=[branch], main_duty=Duty.APOTEKER)
        actor = Actor(user.id, user.username, user.full_name, Duty.APOTEKER, branch.id)
        batch_id = 0
        if quantity:
            receipt = ReceiptInput(
                supplier="PBF",
                lines=[
                    ReceiptLineInput(
                        item.id, "B1", typed_date(date.today() + timedelta(days=400)), str(quantity)
                    )
                ],
            )
            stock.receive_goods(s, actor, receipt)
            s.commit()
            batch_id = s.exec(select(StockBatch.id)).one()
    return actor, item.id, batch_id


def _race(engine: Engine, desks: int, act) -> tuple[int, list[dict]]:  # noqa: ANN001
    """`act(session)` at `desks` desks at once; returns (how many committed, refusals)."""
    barrier = threading.Barrier(desks)
    done: list[int] = []
    refusals: list[dict] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    postgresql = engine.dialect.name == "postgresql"

    def desk() -> None:
        try:
            if not postgresql:  # SQLite's transaction begins with the write lock
                barrier.wait()
            with Session(engine, expire_on_commit=False) as session:
                if postgresql:  # each desk has its connection open at the start
                    session.connection()
                    barrier.wait()
                act(session)
                session.commit()
            with lock:
                done.append(1)
        except ValidationFailed as refused:
            with lock:
                refusals.append(refused.errors)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=desk) for _ in range(desks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return len(done), refusals


def _card_agrees(engine: Engine, batch_id: int) -> int:
    """The batch's quantity, after checking it is the sum of its stock card."""
    with Session(engine) as s:
        batch = s.get(StockBatch, batch_id)
        moves = s.exec(select(StockMovement).where(StockMovement.batch_id == batch_id)).all()
        assert batch.quantity == sum(m.quantity for m in moves)
        assert batch.quantity >= 0
        return batch.quantity


def _check_last_units(engine: Engine) -> None:
    actor, _, batch_id = _setup(engine, 5)

    def take_three(session: Session) -> None:
        stock.adjust_batch(session, actor, batch_id, "-3", "hilang")

    done, refusals = _race(engine, 2, take_three)
    assert done == 1
    [refused] = refusals
    assert "hanya 2" in refused["quantity"]
    assert _card_agrees(engine, batch_id) == 2
    # Many desks taking one unit each of the 2 left: exactly two succeed.
    done, refusals = _race(
        engine, DESKS, lambda s: stock.adjust_batch(s, actor, batch_id, "-1", "rusak")
    )
    assert (done, len(refusals)) == (2, DESKS - 2)
    assert _card_agrees(engine, batch_id) == 0


def _check_same_new_batch(engine: Engine) -> None:
    actor, item_id, _ = _setup(engine, 0)
    expiry = typed_date(date.today() + timedelta(days=300))

    def deliver(session: Session) -> None:
        line = ReceiptLineInput(item_id, "NEW-1", expiry, "10")
        stock.receive_goods(session, actor, ReceiptInput(supplier="PBF", lines=[line]))

    done, refusals = _race(engine, 4, deliver)
    assert (done, refusals) == (4, [])
    with Session(engine) as s:
        [batch] = s.exec(select(StockBatch)).all()
    assert _card_agrees(engine, batch.id) == 40


@pytest.fixture
def pg_engine():
    require_pg()
    with temporary_pg_database() as url:
        engine = create_engine(url, pool_size=DESKS + 2, max_overflow=0)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'stock.db'}")
    yield engine
    engine.dispose()


@pytest.mark.postgres
def test_two_desks_taking_the_last_units_on_postgresql(pg_engine):
    _check_last_units(pg_engine)


@pytest.mark.postgres
def test_the_same_new_batch_delivered_twice_at_once_on_postgresql(pg_engine):
    _check_same_new_batch(pg_engine)


def test_two_desks_taking_the_last_units_on_sqlite(sqlite_engine):
    _check_last_units(sqlite_engine)


def test_the_same_new_batch_delivered_twice_at_once_on_sqlite(sqlite_engine):
    _check_same_new_batch(sqlite_engine)
