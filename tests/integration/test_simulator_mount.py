"""The simulator as the app's backend mounts it (`satusehat_runtime.backend_api`), served over
real HTTP: its control endpoints exist only with KLINIKITA_SIMULATOR_CONTROL, and then answer
only an admin's session."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlmodel import Session

from klinikita.satusehat_runtime import SIMULATOR_MOUNT, backend_api
from klinikita.services import auth as auth_service
from klinikita.services.seed import seed_demo
from klinikita.settings import get_settings
from tests.support.simulator import serve_app

FAULT = {"kind": "http_503", "count": 1, "path": "/fhir-r4/v1/Encounter*"}


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[bool], str]]:
    """Start the backend's extra routes with the control switch on or off; their base URL."""
    servers = []

    def start(control: bool) -> str:
        monkeypatch.setenv("KLINIKITA_SIMULATOR_CONTROL", "1" if control else "0")
        monkeypatch.setenv("KLINIKITA_MOUNT_SIMULATOR", "1")
        get_settings.cache_clear()
        (mounted,) = backend_api()
        origin, server, thread = serve_app(mounted)
        servers.append((server, thread))
        return f"{origin}{SIMULATOR_MOUNT}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(5)
    get_settings.cache_clear()


@pytest.fixture
def tokens(db: Session) -> dict[str, str]:
    """Login session tokens of the demo admin and nurse."""
    seed_demo(db, queue_satusehat=False)
    db.commit()
    found = {}
    for username, password in (("admin", "Admin#2026"), ("perawat", "Perawat#2026")):
        found[username] = auth_service.login(db, username, password).token
        db.commit()
    return found


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_without_the_switch_the_control_endpoints_do_not_exist(serve, tokens):
    base = serve(False)
    for method, path in (("GET", "health"), ("POST", "reset"), ("POST", "faults")):
        response = httpx.request(
            method, f"{base}/_sim/{path}", json=FAULT, headers=_bearer(tokens["admin"])
        )
        assert response.status_code == 404, (method, path)
    # The simulated SATUSEHAT itself is there: a token for a demo client.
    token = httpx.post(
        f"{base}/oauth2/v1/accesstoken",
        params={"grant_type": "client_credentials"},
        data={"client_id": "demo-klinik", "client_secret": "demo-klinik-secret"},
    )
    assert token.status_code == 200


def test_with_the_switch_only_an_admin_session_controls_the_simulator(serve, tokens):
    base = serve(True)
    faults = f"{base}/_sim/faults"
    assert httpx.post(faults, json=FAULT).status_code == 401
    assert httpx.post(f"{base}/_sim/reset").status_code == 401
    assert httpx.post(faults, json=FAULT, headers=_bearer("not-a-session")).status_code == 401
    assert httpx.post(faults, json=FAULT, headers=_bearer(tokens["perawat"])).status_code == 403
    assert httpx.get(faults, headers=_bearer(tokens["admin"])).json() == {"faults": []}

    added = httpx.post(faults, json=FAULT, headers=_bearer(tokens["admin"]))
    assert added.status_code == 201
    listed = httpx.get(faults, headers=_bearer(tokens["admin"])).json()["faults"]
    assert [f["kind"] for f in listed] == ["http_503"]


def test_an_ended_session_no_longer_controls_the_simulator(serve, tokens, db: Session):
    base = serve(True)
    auth_service.logout(db, tokens["admin"])
    db.commit()
    response = httpx.post(f"{base}/_sim/reset", headers=_bearer(tokens["admin"]))
    assert response.status_code == 401
