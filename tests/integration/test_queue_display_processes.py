"""The waiting-room TV across backend processes (production with Redis): "Panggil" pressed on
a tablet served by one process reaches the TV served by another, through the same board
channel as the queues (real processes, real Redis, the app's own websocket)."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlmodel import Session, SQLModel

from bench.processes import start_backend
from bench.ws_client import WsSession, var
from klinikita import routes
from klinikita.db import make_engine
from klinikita.models.enums import Duty
from klinikita.services import display_tokens
from klinikita.services.audit import Actor
from klinikita.state.examination import ExaminationState as Exam
from klinikita.state.queue_display import QueueDisplayState as TV
from tests.factories import GOOD_PASSWORD, make_clinic, make_user, make_visit
from tests.support.redis_server import redis_or_skip

pytestmark = pytest.mark.processes

REDIS_URL = "redis://127.0.0.1:6379/10"  # a database of its own, emptied afterwards


@pytest.fixture
def redis_db():
    client = redis_or_skip(REDIS_URL)
    yield REDIS_URL
    client.flushdb()


def test_a_call_on_one_backend_reaches_the_tv_on_another(tmp_path, redis_db):
    db_url = f"sqlite:///{tmp_path / 'tv.db'}"
    engine = make_engine(db_url)
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        branch, unit, room, doctor, patient = make_clinic(session)
        make_user(session, "perawat", branches=[branch], main_duty=Duty.PERAWAT)
        admin = make_user(session, "admin", branches=[branch], main_duty=Duty.ADMIN)
        visit = make_visit(session, branch, unit, room, doctor, patient, queue_number=4)
        actor = Actor(admin.id, "admin", "Admin", Duty.ADMIN, branch.id)
        token = display_tokens.create_token(session, actor, "TV", "").token
        session.commit()
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

        async def run() -> dict:
            nurse, tv = WsSession(a), WsSession(b)
            await nurse.connect()
            await tv.connect()
            try:
                await nurse.login("perawat", GOOD_PASSWORD)
                tv.path = f"{routes.ANTREAN_TAMPIL}?token={token}"
                _, shown = await tv.call(TV, "load", until=lambda d: var(d, TV, "valid"))
                assert var(shown, TV, "current") in (None, {})  # no call yet
                nurse.path = routes.PEMERIKSAAN
                await nurse.call(
                    Exam, "load", until=lambda d: var(d, Exam, "can_vitals") is not None
                )
                started = time.perf_counter()
                await nurse.call(
                    Exam,
                    "call_visit",
                    until=lambda d: bool(var(d, Exam, "called_ids")),
                    visit_id=str(visit.id),
                )
                # Nothing asked by the TV: the call is pushed from the other process.
                _, pushed = await tv.wait_for(lambda d: bool(var(d, TV, "current")), timeout=10)
                assert time.perf_counter() - started < 5
                return var(pushed, TV, "current")
            finally:
                await nurse.close()
                await tv.close()

        current = asyncio.run(run())
        assert (current["label"], current["room_name"]) == ("A 4", "Ruang Periksa 1")
        assert current["speech"] == "Nomor antrean A 4, silakan ke Ruang Periksa 1"
    finally:
        for proc, _ in procs:
            proc.terminate()
            proc.wait(15)
