"""The backend as `make run` and the browser tests run it (dev mode, simulator control on):
the simulator's control endpoints answer an admin's session only, and its responses carry
the security headers."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import Session

from klinikita.db import get_engine
from klinikita.services import auth as auth_service
from tests.e2e.conftest import admin_session_headers
from tests.e2e.test_master_data import backend_url

pytestmark = [pytest.mark.e2e, pytest.mark.processes]


def test_simulator_control_answers_an_admin_session_only(app_harness, app_url):  # noqa: ANN001, ARG001
    health = f"{backend_url(app_harness)}/satusehat-sim/_sim/health"
    assert httpx.get(health).status_code == 401
    with Session(get_engine()) as session:
        nurse = auth_service.login(session, "perawat", "Perawat#2026").token
        session.commit()
    assert httpx.get(health, headers={"Authorization": f"Bearer {nurse}"}).status_code == 403
    assert httpx.get(health, headers=admin_session_headers()).json() == {"status": "ok"}


def test_backend_responses_carry_the_security_headers(app_harness):  # noqa: ANN001
    response = httpx.get(f"{backend_url(app_harness)}/ping")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
