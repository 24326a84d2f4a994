"""/health, /ready and /metrics as the backend mounts them (`klinikita.health_api`), on a
database migrated with Alembic (SQLite and PostgreSQL), with a real simulator for the
SATUSEHAT token check."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import pytest
from alembic import command
from sqlmodel import Session
from starlette.testclient import TestClient

from klinikita.db import make_engine, session_scope
from klinikita.health_api import health_api
from klinikita.integrations.satusehat.tokens import TokenCache
from klinikita.migrations import alembic_config, upgrade_to_head
from klinikita.models import SyncJob
from klinikita.models.base import utcnow
from klinikita.services import health, worker_heartbeat
from klinikita.settings import get_settings
from tests.factories import make_branch, make_clinic
from tests.pg import require_pg, temporary_pg_database
from tests.support.simulator import start_simulator

SECRET = "rahasia-cabang-uji-7f3a"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> Iterator[str]:
    """An empty database URL (SQLite file or a throw-away PostgreSQL database)."""
    health.forget_satusehat_check()
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ready.db'}"
    else:
        require_pg()
        with temporary_pg_database() as url:
            yield url
    health.forget_satusehat_check()


@pytest.fixture
def simulator():
    with start_simulator() as running:
        yield running


def _client(url: str, simulator_base: str = "http://127.0.0.1:9") -> TestClient:
    return TestClient(health_api(simulator_base=lambda: simulator_base, db_url=url))


def _beat(url: str, seconds_ago: float = 0) -> None:
    with session_scope(url) as session:
        worker_heartbeat.beat(session, "worker-uji", utcnow() - timedelta(seconds=seconds_ago))


def test_health_answers_without_login(db_url):
    response = _client(db_url).get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_on_a_migrated_database_with_a_fresh_heartbeat(db_url):
    upgrade_to_head(db_url)
    _beat(db_url)
    response = _client(db_url).get("/ready")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    checks = body["checks"]
    assert {name: c["ok"] for name, c in checks.items()} == {
        "database": True,
        "migrations": True,
        "worker": True,
        "outbox": True,
        "satusehat": True,
    }
    assert checks["outbox"]["detail"] == {"waiting": 0, "oldest_waiting_seconds": None}
    assert checks["migrations"]["detail"]["current"] == checks["migrations"]["detail"]["head"]


def test_not_ready_when_the_database_is_behind_head(db_url):
    command.upgrade(alembic_config(db_url), "0012")
    response = _client(db_url).get("/ready")
    assert response.status_code == 503
    migrations = response.json()["checks"]["migrations"]
    assert migrations["ok"] is False
    assert migrations["reason"] == "schema is not at the newest migration"
    assert migrations["detail"]["current"] == ["0012"]
    # The heartbeat table does not exist yet: a failed check, not a server error.
    assert response.json()["checks"]["worker"]["ok"] is False


def test_not_ready_without_a_worker_or_with_a_stale_heartbeat(db_url):
    upgrade_to_head(db_url)
    client = _client(db_url)
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["reason"] == "no outbox worker has reported"

    stale = get_settings().ready_heartbeat_seconds + 30
    _beat(db_url, seconds_ago=stale)
    response = client.get("/ready")
    assert response.status_code == 503
    worker = response.json()["checks"]["worker"]
    assert worker == {
        "ok": False,
        "reason": "outbox worker heartbeat is stale",
        "required": True,
        "detail": {"last_beat_seconds_ago": pytest.approx(stale, abs=5)},
    }

    _beat(db_url)  # the same worker beats again
    assert client.get("/ready").status_code == 200


def test_not_ready_when_the_oldest_waiting_job_is_too_old(db_url):
    upgrade_to_head(db_url)
    _beat(db_url)
    engine = make_engine(db_url)
    too_old = get_settings().ready_oldest_job_seconds + 60
    with Session(engine) as session:
        branch = make_branch(session)
        jobs = ((1, too_old, "pending"), (2, 5, "in_progress"), (3, 0, "done"))
        for subject, age, status in jobs:
            session.add(
                SyncJob(
                    kind="visit_send",
                    branch_id=branch.id,
                    subject_type="visit",
                    subject_id=subject,
                    status=status,
                    created_at=utcnow() - timedelta(seconds=age),
                )
            )
        session.commit()
    engine.dispose()
    response = _client(db_url).get("/ready")
    assert response.status_code == 503
    outbox = response.json()["checks"]["outbox"]
    assert outbox["ok"] is False
    assert outbox["reason"] == "the oldest waiting job is too old"
    assert outbox["detail"]["waiting"] == 2
    assert outbox["detail"]["oldest_waiting_seconds"] == pytest.approx(too_old, abs=5)


def test_satusehat_tokens_per_branch_without_revealing_anything(db_url, simulator):
    upgrade_to_head(db_url)
    _beat(db_url)
    engine = make_engine(db_url)
    with Session(engine) as session:
        good, *_ = make_clinic(session)
        bad, *_ = make_clinic(
            session, name="Klinik Salah", client_id="tidak-dikenal", secret=SECRET
        )
        ids = (good.id, bad.id)
    engine.dispose()
    tokens = TokenCache()
    app = health_api(simulator_base=lambda: simulator.base_url, db_url=db_url, tokens=tokens)
    client = TestClient(app)
    response = client.get("/ready")
    # SATUSEHAT's answer is reported; by default it does not take the backend out.
    assert response.status_code == 200
    check = response.json()["checks"]["satusehat"]
    assert check["ok"] is False and check["required"] is False
    assert check["detail"]["branches"] == {
        str(ids[0]): {"ok": True, "reason": "token obtained"},
        str(ids[1]): {"ok": False, "reason": "token refused"},
    }
    text = response.text
    assert SECRET not in text and "demo-klinik-secret" not in text
    assert tokens.requests_made == 2
    cached = next(e.token for e in tokens._entries.values() if e.token)
    assert cached not in text

    # Probes within a minute reuse the answer: SATUSEHAT is not asked again.
    for _ in range(3):
        client.get("/ready")
    assert tokens.requests_made == 2


def test_metrics_need_the_token(db_url, monkeypatch):
    upgrade_to_head(db_url)
    client = _client(db_url)
    monkeypatch.delenv("KLINIKITA_METRICS_TOKEN", raising=False)
    get_settings.cache_clear()
    try:
        assert client.get("/metrics").status_code == 404
        monkeypatch.setenv("KLINIKITA_METRICS_TOKEN", "token-metrik-uji")
        get_settings.cache_clear()
        assert client.get("/metrics").status_code == 401
        wrong = {"Authorization": "Bearer salah"}
        assert client.get("/metrics", headers=wrong).status_code == 401
        right = {"Authorization": "Bearer token-metrik-uji"}
        response = client.get("/metrics", headers=right)
        assert response.status_code == 200
        assert 'klinikita_outbox_jobs{state="pending"} 0.0' in response.text
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


async def test_a_running_worker_beats_and_its_row_goes_when_it_stops(db_url, simulator):
    from klinikita.db import read_scope
    from klinikita.outbox_worker.worker import OutboxWorker

    upgrade_to_head(db_url)
    worker = OutboxWorker(simulator_base=simulator.base_url, db_url=db_url, poll_interval=0.05)

    def latest():
        with read_scope(db_url) as session:
            return worker_heartbeat.latest_beat(session)

    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        for _ in range(100):
            if await asyncio.to_thread(latest) is not None:
                break
            await asyncio.sleep(0.05)
        beat = await asyncio.to_thread(latest)
        assert beat is not None
        response = await asyncio.to_thread(_client(db_url).get, "/ready")
        assert response.json()["checks"]["worker"]["ok"] is True
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
    assert await asyncio.to_thread(latest) is None
