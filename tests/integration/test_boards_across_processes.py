"""Production runs several backend processes sharing Redis: a registration at a desk served by
one of them appears live on a Pemeriksaan tab served by another (real processes, real Redis,
the app's own websocket)."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlmodel import Session, SQLModel

from bench.processes import start_backend
from bench.ws_client import WsSession, var
from klinikita.db import make_engine
from klinikita.models.enums import Duty
from klinikita.state.examination import ExaminationState as Exam
from klinikita.state.registration import RegistrationState as Reg
from tests.factories import GOOD_PASSWORD, make_clinic, make_user
from tests.support.redis_server import redis_or_skip

pytestmark = pytest.mark.processes

REDIS_URL = "redis://127.0.0.1:6379/9"  # a database of its own, emptied afterwards


@pytest.fixture
def redis_db():
    client = redis_or_skip(REDIS_URL)
    yield REDIS_URL
    client.flushdb()


def test_a_registration_on_one_backend_reaches_a_tab_on_another(tmp_path, redis_db):
    db_url = f"sqlite:///{tmp_path / 'boards.db'}"
    engine = make_engine(db_url)
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        branch, unit, room, doctor, patient = make_clinic(session)
        make_user(session, "meja", branches=[branch], main_duty=Duty.PENDAFTARAN)
        make_user(session, "perawat", branches=[branch], main_duty=Duty.PERAWAT)
    engine.dispose()
    procs = []
    try:
        for name in ("a", "b"):
            proc, base = start_backend(
                tmp_path / f"{name}.log",
                REFLEX_DB_URL=db_url,
                REFLEX_REDIS_URL=redis_db,
                KLINIKITA_RUN_WORKER="0",
                KLINIKITA_MOUNT_SIMULATOR="0",
            )
            procs.append((proc, base))
        (_, a), (_, b) = procs

        async def run() -> list[str]:
            desk, nurse = WsSession(a), WsSession(b)
            await desk.connect()
            await nurse.connect()
            try:
                await desk.login("meja", GOOD_PASSWORD)
                await nurse.login("perawat", GOOD_PASSWORD)
                nurse.path = "/pemeriksaan"
                _, shown = await nurse.call(
                    Exam, "load", until=lambda d: var(d, Exam, "can_vitals") is not None
                )
                assert var(shown, Exam, "rows") in (None, [])  # nobody registered yet
                desk.path = "/pendaftaran"
                await desk.call(Reg, "load", until=lambda d: var(d, Reg, "can_register"))
                await desk.call(
                    Reg,
                    "pick_patient",
                    until=lambda d: bool(var(d, Reg, "patient")),
                    patient_id=str(patient.id),
                )
                await desk.call(
                    Reg,
                    "pick_unit",
                    until=lambda d: bool(var(d, Reg, "choice")),
                    unit_id=str(unit.id),
                )
                for field, value in (("room_id", room.id), ("doctor_id", doctor.id)):
                    await desk.call(
                        Reg,
                        "set_choice",
                        until=lambda d: bool(var(d, Reg, "choice")),
                        field=field,
                        value=str(value),
                    )
                started = time.perf_counter()
                await desk.call(Reg, "register", until=lambda d: bool(var(d, Reg, "last_number")))
                # Nothing asked by the nurse's tab: the row is pushed from the other process.
                _, pushed = await nurse.wait_for(lambda d: bool(var(d, Exam, "rows")), timeout=10)
                assert time.perf_counter() - started < 5
                return [r["patient_name"] for r in var(pushed, Exam, "rows")]
            finally:
                await desk.close()
                await nurse.close()

        assert asyncio.run(run()) == [patient.name]
    finally:
        for proc, _ in procs:
            proc.terminate()
            proc.wait(15)
