"""Serving modes: mounted under a prefix, SQLite persistence across restarts, the CLI server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from klinikita.integrations.satusehat.simulator import Simulator
from tests.support.simulator import start_simulator

from .helpers import DEMO_ORG, location_body, make_client, organization_body, request_token

ROOT = Path(__file__).resolve().parents[3]


def test_mounted_under_a_prefix_builds_urls_with_it() -> None:
    with start_simulator(mount_prefix="/satusehat-sim") as running, make_client() as http:
        assert running.base_url.endswith("/satusehat-sim")
        token = request_token(http, running).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        created = http.post(
            running.fhir_url + "/Organization", json=organization_body(), headers=headers
        )
        assert created.status_code == 201
        assert created.headers["Location"].startswith(running.fhir_url + "/Organization/")
        found = http.get(
            running.fhir_url + "/Organization", params={"partof": DEMO_ORG}, headers=headers
        ).json()
        assert (
            found["entry"][0]["fullUrl"]
            == f"{running.fhir_url}/Organization/{created.json()['id']}"
        )
        assert found["link"][0]["url"].startswith(running.fhir_url + "/Organization/?")
        assert http.get(running.control_url + "/health").json() == {"status": "ok"}
        # Outside the mount the parent app answers, not the simulator.
        assert http.get(running.origin + "/fhir-r4/v1/Patient", headers=headers).status_code == 404
        running.simulator.faults.fail_next("http_503")
        assert (
            http.get(running.fhir_url + "/Patient/P02478375538", headers=headers).status_code == 503
        )


def test_sqlite_persistence_across_restarts(tmp_path: Path) -> None:
    data_file = tmp_path / "simulator.db"
    with start_simulator(data_file=data_file) as first, make_client() as http:
        http.post(
            first.control_url + "/clients",
            json={
                "client_id": "klinik-x",
                "client_secret": "x-secret",
                "organization_id": "10000200",
            },
        )
        token = request_token(http, first, "klinik-x", "x-secret").json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        org = http.post(
            first.fhir_url + "/Organization",
            json=organization_body(part_of="10000200", org="10000200"),
            headers=headers,
        ).json()
        room = http.post(
            first.fhir_url + "/Location",
            json=location_body(org["id"], org="10000200"),
            headers=headers,
        ).json()
        first.simulator.close()

    with start_simulator(data_file=data_file) as second, make_client() as http:
        # The runtime client survived; tokens did not (they live in memory, like a restart).
        assert (
            http.get(
                second.fhir_url + f"/Location/{room['id']}",
                headers={"Authorization": f"Bearer {token}"},
            ).status_code
            == 401
        )
        token = request_token(http, second, "klinik-x", "x-secret").json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert http.get(second.fhir_url + f"/Location/{room['id']}", headers=headers).json() == room
        assert (
            http.get(second.fhir_url + f"/Organization/{org['id']}", headers=headers).json() == org
        )
        # Seeds are not duplicated into the file, and demo clients still exist.
        seeded = Simulator().count_resources("Patient", include_seeded=True)
        assert second.simulator.count_resources("Patient", include_seeded=True) == seeded
        assert second.simulator.count_resources("Patient") == 0
        assert request_token(http, second).status_code == 200
        second.simulator.reset()
        second.simulator.close()

    fresh = Simulator(data_file=data_file)
    assert fresh.count_resources("Location") == 0
    assert fresh.clients.get("klinik-x") is None
    fresh.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.processes
def test_command_line_server(tmp_path: Path) -> None:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "klinikita.integrations.satusehat.simulator",
        "--port",
        str(port),
        "--data-file",
        str(tmp_path / "cli.db"),
        "--root-path",
        "/sim",
        "--token-lifetime",
        "600",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                if httpx.get(base + "/_sim/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "server exited"
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        token = httpx.post(
            base + "/oauth2/v1/accesstoken",
            params={"grant_type": "client_credentials"},
            data={"client_id": "demo-klinik", "client_secret": "demo-klinik-secret"},
        ).json()
        assert token["expires_in"] == "600"
        bundle = httpx.get(
            base + "/fhir-r4/v1/Patient",
            params={"identifier": "https://fhir.kemkes.go.id/id/nik|9271060312000001"},
            headers={"Authorization": f"Bearer {token['access_token']}"},
        ).json()
        # Behind a proxy that strips /sim, the URLs the server writes keep the prefix.
        assert bundle["entry"][0]["fullUrl"] == f"{base}/sim/fhir-r4/v1/Patient/P02478375538"
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert (tmp_path / "cli.db").exists()
