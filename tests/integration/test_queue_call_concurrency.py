"""Rooms pressing "Panggil berikutnya" at the same moment call different patients (real
PostgreSQL, each room a thread with its own session; SQLite takes writes in turn)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, SQLModel

import klinikita.models  # noqa: F401
from klinikita.db import make_engine
from klinikita.models import Visit
from klinikita.models.enums import Duty
from klinikita.services import queue_calls
from klinikita.services.audit import Actor
from klinikita.services.errors import ServiceError
from klinikita.services.visit_queue import local_today
from tests.factories import make_clinic, make_patient, make_user
from tests.pg import require_pg, temporary_pg_database

ROOMS = 6


def _race(db_url: str) -> tuple[list[int], list[str]]:
    engine = make_engine(db_url)
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as s:
        branch, unit, room, doctor, patient = make_clinic(s)
        nurse = make_user(s, "perawat", branches=[branch], main_duty=Duty.PERAWAT)
        people = [patient] + [make_patient(s, branch, i) for i in range(1, ROOMS - 2)]
        for n, person in enumerate(people, start=1):  # fewer waiting than rooms calling
            s.add(
                Visit(
                    branch_id=branch.id,
                    patient_id=person.id,
                    unit_id=unit.id,
                    room_id=room.id,
                    doctor_id=doctor.id,
                    visit_date=local_today(branch),
                    queue_number=n,
                    status="registered",
                    arrived_at=datetime.now(UTC) - timedelta(minutes=60 - n),
                )
            )
        s.commit()
        actor = Actor(nurse.id, "perawat", "Perawat", Duty.PERAWAT, branch.id)
    barrier = threading.Barrier(ROOMS)
    called: list[int] = []
    refused: list[str] = []
    lock = threading.Lock()

    def room_calls() -> None:
        barrier.wait()
        try:
            with Session(engine) as s:
                done = queue_calls.call_next(s, actor)
                s.commit()
            with lock:
                called.append(done.visit_id)
        except ServiceError as refusal:
            with lock:
                refused.append(refusal.message)

    threads = [threading.Thread(target=room_calls) for _ in range(ROOMS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    engine.dispose()
    return called, refused


def _check(called: list[int], refused: list[str]) -> None:
    assert len(called) == ROOMS - 2 and len(set(called)) == len(called)  # each once
    assert refused == [queue_calls.NOBODY_WAITING] * 2


def test_rooms_calling_at_once_call_different_patients_postgresql():
    require_pg()
    with temporary_pg_database() as url:
        _check(*_race(url))


def test_rooms_calling_at_once_call_different_patients_sqlite(tmp_path):
    _check(*_race(f"sqlite:///{tmp_path / 'calls.db'}"))
