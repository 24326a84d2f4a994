"""Cashiers paying at the same moment never share a nota number, and one bill is paid once
(real databases: PostgreSQL, production, and the SQLite file database).

Each cashier is a thread with its own connection, session and open shift; a barrier starts
them together, as in tests/integration/test_queue_concurrency.py."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

import klinikita.models  # noqa: F401
from klinikita.db import make_engine
from klinikita.models import Branch
from klinikita.models.billing import Bill, BillLine, BillStatus, Payment
from klinikita.models.enums import Duty
from klinikita.services import payments, shifts
from klinikita.services.accounts import UserInput, create_user
from klinikita.services.audit import Actor
from klinikita.services.billing import BillLocked
from klinikita.services.payments import PaymentPart
from klinikita.services.visit_queue import local_today
from tests.factories import GOOD_PASSWORD
from tests.pg import require_pg, temporary_pg_database

CASHIERS = 12
DAY = date(2026, 12, 8)


def _setup(engine: Engine, bills: int) -> tuple[list[Actor], list[int]]:
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as s:
        branch = Branch(name="Klinik Ramai")
        s.add(branch)
        s.flush()
        actors = []
        for n in range(CASHIERS):
            user = create_user(
                s,
                UserInput(
                    username=f"kasir{n}",
                    full_name=f"Kasir {n}",
                    password=GOOD_PASSWORD,
                    main_duty=Duty.KASIR,
                    extra_duties=[],
                    branch_ids=[branch.id],
                ),
                actor=None,
            )
            s.flush()
            actor = Actor(user.id, f"kasir{n}", f"Kasir {n}", Duty.KASIR, branch.id)
            shifts.open_shift(s, actor, "0")
            actors.append(actor)
        ids = []
        for n in range(bills):
            bill = Bill(
                branch_id=branch.id,
                customer_name=f"Pembeli {n}",
                bill_date=DAY,
                subtotal=10000,
                patient_total=10000,
            )
            s.add(bill)
            s.flush()
            s.add(
                BillLine(
                    bill_id=bill.id,
                    source="manual",
                    description="Jasa",
                    quantity=1,
                    unit_price=10000,
                    amount=10000,
                    patient_amount=10000,
                )
            )
            ids.append(bill.id)
        s.commit()
    return actors, ids


def _race(engine: Engine, jobs: list[tuple[Actor, int]]) -> tuple[list[str], list[str]]:
    """Every cashier pays its bill at once; returns (nota numbers, refusals)."""
    barrier = threading.Barrier(len(jobs))
    numbers: list[str] = []
    refusals: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def cashier(actor: Actor, bill_id: int) -> None:
        postgresql = engine.dialect.name == "postgresql"
        try:
            if not postgresql:  # SQLite's transaction begins with the write lock
                barrier.wait()
            with Session(engine, expire_on_commit=False) as session:
                if postgresql:
                    session.connection()
                    barrier.wait()
                paid = payments.pay(
                    session, actor, bill_id, [PaymentPart("tunai", "10000", "20000")]
                )
                session.commit()
            with lock:
                numbers.append(paid.nota_number)
        except BillLocked as refused:
            with lock:
                refusals.append(refused.message)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=cashier, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return numbers, refusals


def _check_many_cashiers(engine: Engine) -> None:
    actors, bill_ids = _setup(engine, CASHIERS + 1)
    numbers, refusals = _race(engine, list(zip(actors, bill_ids, strict=False)))
    assert refusals == []
    day = f"{local_today(None):%Y%m%d}"  # the branch's day (WIB) when it is paid
    expected = [f"{day}-{n:04d}" for n in range(1, CASHIERS + 1)]
    assert sorted(numbers) == expected
    with Session(engine) as s:
        stored = sorted(b.nota_number for b in s.exec(select(Bill)).all() if b.nota_number)
    assert stored == expected
    # Two cashiers pay the last bill at the same moment: it is paid once.
    numbers, refusals = _race(engine, [(actors[0], bill_ids[-1]), (actors[1], bill_ids[-1])])
    assert numbers == [f"{day}-{CASHIERS + 1:04d}"]
    assert len(refusals) == 1 and "sudah lunas" in refusals[0]
    with Session(engine) as s:
        assert len(s.exec(select(Payment).where(Payment.bill_id == bill_ids[-1])).all()) == 1
        assert s.get(Bill, bill_ids[-1]).status == BillStatus.PAID


@pytest.fixture
def pg_engine():
    require_pg()
    with temporary_pg_database() as url:
        engine = create_engine(url, pool_size=CASHIERS + 2, max_overflow=0)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.mark.postgres
def test_concurrent_payments_get_distinct_nota_numbers_on_postgresql(pg_engine):
    _check_many_cashiers(pg_engine)


def test_concurrent_payments_get_distinct_nota_numbers_on_sqlite(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'nota.db'}")
    try:
        _check_many_cashiers(engine)
    finally:
        engine.dispose()
