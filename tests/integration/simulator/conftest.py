"""Fixtures: one simulator served over loopback HTTP for the session, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from klinikita.integrations.satusehat.simulator import Simulator
from tests.support.simulator import RunningSimulator, start_simulator

from .helpers import (
    DEMO_ORG,
    Facility,
    encounter_body,
    location_body,
    make_client,
    organization_body,
    request_token,
)


@pytest.fixture(scope="session")
def running_simulator() -> Iterator[RunningSimulator]:
    handle = start_simulator()
    yield handle
    handle.stop()


@pytest.fixture
def server(running_simulator: RunningSimulator) -> RunningSimulator:
    running_simulator.simulator.reset()
    return running_simulator


@pytest.fixture
def sim(server: RunningSimulator) -> Simulator:
    return server.simulator


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with make_client() as client:
        yield client


@pytest.fixture
def token(http: httpx.Client, server: RunningSimulator) -> str:
    response = request_token(http, server)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture
def fhir(server: RunningSimulator, token: str) -> Iterator[httpx.Client]:
    """A FHIR client of the demo clinic (org 10000004), over real HTTP."""
    with make_client(
        base_url=server.fhir_url, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


@pytest.fixture
def other_fhir(http: httpx.Client, server: RunningSimulator) -> Iterator[httpx.Client]:
    """A FHIR client of the second demo facility (org 10000005)."""
    token = request_token(http, server, "demo-pmd", "demo-pmd-secret").json()["access_token"]
    with make_client(
        base_url=server.fhir_url, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


@pytest.fixture
def facility(fhir: httpx.Client) -> Facility:
    poli = fhir.post("/Organization", json=organization_body())
    assert poli.status_code == 201, poli.text
    room = fhir.post("/Location", json=location_body(poli.json()["id"]))
    assert room.status_code == 201, room.text
    return Facility(DEMO_ORG, poli.json()["id"], room.json()["id"])


@pytest.fixture
def encounter_id(fhir: httpx.Client, facility: Facility) -> str:
    response = fhir.post("/Encounter", json=encounter_body(facility))
    assert response.status_code == 201, response.text
    return response.json()["id"]
