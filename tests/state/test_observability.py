"""The backend's health routes as the app mounts them, and every event timed, counted and
logged (one JSON line, ids only) by the app's middleware."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

import klinikita.klinikita as the_app
from klinikita.logs import configure_logging
from klinikita.settings import get_settings
from klinikita.state.auth import AuthState
from klinikita.state.event_timing import EventTiming, handler_label
from tests.factories import make_branch, make_user
from tests.state.conftest import logged_in

METRICS_TOKEN = "token-metrik-uji"


def _mounted_health() -> Starlette:
    """The Starlette app with /health among its routes in the app's `api_transformer`."""
    (found,) = [
        t
        for t in the_app.app.api_transformer
        if isinstance(t, Starlette) and {"/health", "/ready"} <= {r.path for r in t.routes}
    ]
    return found


@pytest.fixture
def metrics_token(monkeypatch):
    monkeypatch.setenv("KLINIKITA_METRICS_TOKEN", METRICS_TOKEN)
    get_settings.cache_clear()
    yield METRICS_TOKEN
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def log_lines():
    """What the process logs, as configured for production (JSON lines)."""
    out = io.StringIO()
    configure_logging(json=True, stream=out)
    yield out
    configure_logging()


def test_the_app_mounts_health_and_ready(db):
    client = TestClient(_mounted_health())
    health = client.get("/health")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    # The test schema is made without Alembic: not at the newest migration, no worker.
    ready = client.get("/ready")
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["database"]["ok"] is True
    assert checks["migrations"]["ok"] is False
    assert checks["worker"]["reason"] == "no outbox worker has reported"


async def test_an_event_is_timed_logged_and_counted(db, root, log_lines, metrics_token):
    branch = make_branch(db)
    user = make_user(db, "suster.wulan", branches=[branch])
    auth = logged_in(db, root, AuthState, "suster.wulan")
    event_name = f"{AuthState.get_full_name()}.check_login"
    handler = handler_label(event_name)
    assert handler.endswith("auth_state.check_login")

    async def one_event() -> None:
        # As Reflex runs an event: the middleware first, then the handler, in one task.
        from reflex.event import Event

        await EventTiming().preprocess(the_app.app, root, Event(name=event_name, payload={}))
        auth.check_login()

    await asyncio.create_task(one_event())
    await asyncio.sleep(0)  # the task's done callbacks run

    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    (line,) = [entry for entry in lines if entry["event"] == "event_handled"]
    assert line["handler"] == handler
    assert line["user_id"] == user.id
    assert line["branch_id"] == branch.id
    assert line["duration_ms"] >= 0
    assert len(line["request_id"]) == 16
    assert {"level", "logger", "timestamp"} <= set(line)
    text = log_lines.getvalue()
    for personal in ("suster.wulan", user.full_name, auth.auth_token):
        assert personal not in text

    client = TestClient(_mounted_health())
    assert client.get("/metrics").status_code == 401
    response = client.get("/metrics", headers={"Authorization": f"Bearer {metrics_token}"})
    assert response.status_code == 200
    assert f'klinikita_event_seconds_count{{handler="{handler}"}}' in response.text
    assert "klinikita_outbox_jobs" in response.text


def test_standard_library_logs_come_out_as_json_without_personal_fields(log_lines):
    import logging

    logging.getLogger("klinikita.uji").warning(
        "Pasien %s didaftarkan", 42, extra={"branch_id": 3, "nik": "3171", "full_name": "Budi"}
    )
    (line,) = [json.loads(x) for x in log_lines.getvalue().splitlines()]
    assert line["event"] == "Pasien 42 didaftarkan"
    assert line["branch_id"] == 3 and line["level"] == "warning"
    assert "nik" not in line and "full_name" not in line and "Budi" not in log_lines.getvalue()


async def test_request_urls_of_httpx_stay_out_of_the_log(log_lines):
    """A SATUSEHAT lookup's URL carries a NIK: httpx's per-request INFO line is not written."""
    import httpx

    from tests.support.simulator import start_simulator

    with start_simulator() as sim:
        async with httpx.AsyncClient() as http:
            await http.get(f"{sim.fhir_url}/Patient?identifier=nik|9271060312000001")
    assert "9271060312000001" not in log_lines.getvalue()
