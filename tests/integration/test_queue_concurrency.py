"""Desks registering at the same moment never get the same queue number (real databases).

Each desk is a thread with its own connection and session; a barrier starts them together.
PostgreSQL is the production database; the SQLite file database is checked the same way.
"""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

import klinikita.models  # noqa: F401
from klinikita.db import make_engine
from klinikita.models import Branch, Employee, Patient, Room, ServiceUnit, Visit
from klinikita.models.enums import Duty
from klinikita.services import registration as reg
from klinikita.services.accounts import UserInput, create_user
from klinikita.services.audit import Actor
from klinikita.services.errors import ValidationFailed
from tests.factories import GOOD_PASSWORD
from tests.pg import require_pg, temporary_pg_database

DESKS = 24


def _setup(engine: Engine, patients: int) -> tuple[Actor, dict]:
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as s:
        branch = Branch(name="Klinik Ramai")
        s.add(branch)
        s.flush()
        unit = ServiceUnit(branch_id=branch.id, name="Poli Umum")
        s.add(unit)
        s.flush()
        room = Room(branch_id=branch.id, unit_id=unit.id, name="Ruang 1")
        doctor = Employee(branch_id=branch.id, name="dr. Sibuk", main_duty=Duty.DOKTER_UMUM)
        s.add_all([room, doctor])
        people = [
            Patient(
                branch_id=branch.id,
                mrn=f"{n:06d}",
                name=f"Pasien {n}",
                sex="female",
                birth_date=date(1990, 1, 1),
            )
            for n in range(1, patients + 1)
        ]
        s.add_all(people)
        user = create_user(
            s,
            UserInput(
                username="daftar",
                full_name="Desk",
                password=GOOD_PASSWORD,
                main_duty=Duty.PENDAFTARAN,
                extra_duties=[],
                branch_ids=[branch.id],
            ),
            actor=None,
        )
        s.commit()
        actor = Actor(user.id, "daftar", "Desk", Duty.PENDAFTARAN, branch.id)
        ids = dict(unit=unit.id, room=room.id, doctor=doctor.id, patients=[p.id for p in people])
    return actor, ids


def _race(engine: Engine, actor: Actor, ids: dict, patient_ids: list[int]) -> tuple[list, list]:
    """Every desk registers its patient at once; returns (numbers, refusals)."""
    barrier = threading.Barrier(len(patient_ids))
    numbers: list[int] = []
    refusals: list[dict] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def desk(patient_id: int) -> None:
        # As the page registers: a session of its own, committed when the visit is in.
        data = reg.VisitInput(
            patient_id=patient_id,
            unit_id=ids["unit"],
            room_id=ids["room"],
            doctor_id=ids["doctor"],
            payer="umum",
        )
        postgresql = engine.dialect.name == "postgresql"
        try:
            if not postgresql:  # SQLite's transaction begins with the write lock: start first
                barrier.wait()
            with Session(engine, expire_on_commit=False) as session:
                if postgresql:  # each desk has its connection open at the start
                    session.connection()
                    barrier.wait()
                visit = reg.register_visit(session, actor, data)
                session.commit()
            with lock:
                numbers.append(visit.queue_number)
        except ValidationFailed as refused:
            with lock:
                refusals.append(refused.errors)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=desk, args=(pid,)) for pid in patient_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return numbers, refusals


def _stored_numbers(engine: Engine) -> list[int]:
    with Session(engine) as s:
        return sorted(v.queue_number for v in s.exec(select(Visit)).all())


def _check_many_desks(engine: Engine) -> None:
    actor, ids = _setup(engine, DESKS)
    numbers, refusals = _race(engine, actor, ids, ids["patients"])
    assert refusals == []
    assert sorted(numbers) == list(range(1, DESKS + 1))
    assert _stored_numbers(engine) == list(range(1, DESKS + 1))
    # A second wave continues where the first stopped, still without a gap or a clash.
    with Session(engine) as s:
        for visit in s.exec(select(Visit)).all():
            visit.status = "complete"
            s.add(visit)
        s.commit()
    numbers, _ = _race(engine, actor, ids, ids["patients"][:8])
    assert sorted(numbers) == list(range(DESKS + 1, DESKS + 9))


def _check_same_patient_twice(engine: Engine) -> None:
    """Two desks register the same patient at once: one gets a number, one is told which."""
    actor, ids = _setup(engine, 1)
    numbers, refusals = _race(engine, actor, ids, ids["patients"] * 2)
    assert numbers == [1]
    [refused] = refusals
    assert "nomor antrean 1" in refused["patient_id"]
    assert _stored_numbers(engine) == [1]


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
    engine = make_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    yield engine
    engine.dispose()


@pytest.mark.postgres
def test_concurrent_registrations_get_numbers_1_to_n_on_postgresql(pg_engine):
    _check_many_desks(pg_engine)


@pytest.mark.postgres
def test_same_patient_at_two_desks_at_once_on_postgresql(pg_engine):
    _check_same_patient_twice(pg_engine)


def test_concurrent_registrations_get_numbers_1_to_n_on_sqlite(sqlite_engine):
    _check_many_desks(sqlite_engine)


def test_same_patient_at_two_desks_at_once_on_sqlite(sqlite_engine):
    _check_same_patient_twice(sqlite_engine)
