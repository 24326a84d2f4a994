"""SATUSEHAT integration tests: the real simulator over loopback HTTP, the real database."""

from __future__ import annotations

import pytest

from klinikita.integrations.satusehat.config import Credentials
from tests.support.simulator import start_simulator


@pytest.fixture
def sim():
    with start_simulator() as running:
        yield running


def demo_credentials(
    sim,
    *,
    secret: str = "demo-klinik-secret",
    client_id: str = "demo-klinik",
    org_id: str = "10000004",
) -> Credentials:
    return Credentials(
        branch_id=1,
        organization_id=org_id,
        client_id=client_id,
        secret=secret,
        auth_url=sim.auth_url,
        fhir_url=sim.fhir_url,
    )
