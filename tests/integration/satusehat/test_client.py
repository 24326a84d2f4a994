"""The client against the simulator: outcomes, the token cache, 401 refresh, faults."""

from __future__ import annotations

import asyncio

import pytest

from klinikita.integrations.satusehat.client import Lookup, SatusehatClient, new_http_client
from klinikita.integrations.satusehat.outcomes import (
    AuthFailed,
    Duplicate,
    Ok,
    Rejected,
    Transient,
)
from klinikita.integrations.satusehat.tokens import TokenCache
from tests.integration.satusehat.conftest import demo_credentials

ENCOUNTER_SYSTEM = "http://sys-ids.kemkes.go.id/encounter/10000004"


@pytest.fixture
async def client(sim):
    exchanges = []

    async def sink(exchange):
        exchanges.append(exchange)

    async with new_http_client() as http:
        tokens = TokenCache()
        c = SatusehatClient(demo_credentials(sim), http, tokens, sink)
        c.exchanges = exchanges
        c.current_token = lambda: tokens.get(c.creds, http, None)
        yield c


async def test_patient_and_practitioner_found_by_nik(client):
    patient = await client.find_patient_by_nik("9271060312000001")
    doctor = await client.find_practitioner_by_nik("7209061211900001")
    assert patient == Lookup("P02478375538", patient.name)
    assert doctor.ihs_number == "10009880728"


async def test_unknown_nik_is_not_found_rather_than_an_error(client):
    assert await client.find_patient_by_nik("3171000000000099") == Lookup(None)
    assert await client.find_practitioner_by_nik("3171000000000099") == Lookup(None)


async def test_one_token_for_fifty_concurrent_calls(client, sim):
    results = await asyncio.gather(
        *(client.find_patient_by_nik("9271060312000001") for _ in range(50))
    )
    assert {r.ihs_number for r in results} == {"P02478375538"}
    assert sim.simulator.stats.token_requests == 1


async def test_token_lifetime_is_read_from_expires_in(sim):
    sim.simulator.config.token_lifetime_seconds = 2
    clock = [1000.0]
    tokens = TokenCache(clock=lambda: clock[0])
    async with new_http_client() as http:
        c = SatusehatClient(demo_credentials(sim), http, tokens)
        await c.find_patient_by_nik("9271060312000001")
        clock[0] += 1.0
        await c.find_patient_by_nik("9271060312000001")
        assert sim.simulator.stats.token_requests == 1
        clock[0] += 1.5  # past "2" seconds
        await c.find_patient_by_nik("9271060312000001")
        assert sim.simulator.stats.token_requests == 2


async def test_expired_token_is_refreshed_once_and_the_call_retried(client, sim):
    await client.find_patient_by_nik("9271060312000001")
    sim.simulator.expire_all_tokens()
    found = await client.find_patient_by_nik("9271060312000001")
    assert found.ihs_number == "P02478375538"
    assert sim.simulator.stats.token_requests == 2
    assert [e.status_code for e in client.exchanges if e.resource_type == "Patient"] == [
        200,
        401,
        200,
    ]


async def test_rejected_secret_blocks_new_token_requests_for_a_minute(sim):
    async with new_http_client() as http:
        c = SatusehatClient(demo_credentials(sim, secret="salah"), http, TokenCache())
        first = await c.find_patient_by_nik("9271060312000001")
        second = await c.check_connection()
    assert isinstance(first, AuthFailed) and "ditolak" in first.message
    assert isinstance(second, AuthFailed) and "ditahan" in second.message
    assert sim.simulator.stats.token_requests == 1


async def test_unknown_client_id_is_an_auth_failure(sim):
    async with new_http_client() as http:
        c = SatusehatClient(demo_credentials(sim, client_id="tidak-ada"), http, TokenCache())
        outcome = await c.check_connection()
    assert isinstance(outcome, AuthFailed) and "ClientId is Invalid" in outcome.message


@pytest.mark.parametrize(
    ("kind", "extra", "expected_status"),
    [("http_503", {}, 503), ("http_504", {}, 504), ("http_429", {"retry_after": 7}, 429)],
)
async def test_gateway_faults_are_transient(client, sim, kind, extra, expected_status):
    await client.check_connection()
    sim.simulator.faults.fail_next(kind, path="/fhir-r4/v1/Patient", **extra)
    outcome = await client.find_patient_by_nik("9271060312000001")
    assert isinstance(outcome, Transient) and outcome.status == expected_status
    if kind == "http_429":
        assert outcome.retry_after == 7
    # The next call goes through.
    assert (await client.find_patient_by_nik("9271060312000001")).ihs_number


async def test_dropped_connection_is_transient_and_may_have_been_applied(client, sim):
    await client.check_connection()
    sim.simulator.faults.fail_next("drop_after", path="/fhir-r4/v1/Patient")
    outcome = await client.find_patient_by_nik("9271060312000001")
    assert isinstance(outcome, Transient) and outcome.maybe_applied


async def test_html_403_from_the_edge_is_a_rejection_with_a_readable_message(client, sim):
    await client.check_connection()
    sim.simulator.faults.fail_next("forbidden_html", path="/fhir-r4/v1/Patient")
    outcome = await client.find_patient_by_nik("9271060312000001")
    assert isinstance(outcome, Rejected) and outcome.status == 403
    assert "HTML" in outcome.message


async def test_unreachable_server_is_transient_and_surely_not_applied(sim):
    creds = demo_credentials(sim)
    dead = creds.__class__(
        **{
            **creds.__dict__,
            "auth_url": "http://127.0.0.1:9/oauth2/v1",
            "fhir_url": "http://127.0.0.1:9/fhir-r4/v1",
        }
    )
    async with new_http_client() as http:
        outcome = await SatusehatClient(dead, http, TokenCache()).find_patient_by_nik("1" * 16)
    assert isinstance(outcome, Transient) and not outcome.maybe_applied


def _location(org_id: str, value: str) -> dict:
    return {
        "resourceType": "Location",
        "identifier": [
            {"system": f"http://sys-ids.kemkes.go.id/location/{org_id}", "value": value}
        ],
        "status": "active",
        "name": "Ruang Uji",
        "mode": "instance",
        "physicalType": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
                    "code": "ro",
                    "display": "Room",
                }
            ]
        },
        "position": {"longitude": 106.8324, "latitude": -6.2311},
        "managingOrganization": {"reference": f"Organization/{org_id}"},
    }


async def test_create_and_find_again_by_identifier(client):
    created = await client.create(_location("10000004", "R-1"))
    assert isinstance(created, Ok) and created.status == 201
    system = "http://sys-ids.kemkes.go.id/location/10000004"
    found = await client.find_by_identifier("Location", system, "R-1", identifier=f"{system}|R-1")
    assert found["id"] == created.body["id"]


async def test_rejection_keeps_satusehat_own_diagnostics(client):
    outcome = await client.create(_location("99999999", "R-2"))  # another org's system
    assert isinstance(outcome, Rejected) and 400 <= outcome.status < 500
    assert "business rule" in outcome.message


async def test_exchange_log_never_carries_the_secret_or_token(client, sim):
    await client.find_patient_by_nik("9271060312000001")
    logged = " ".join(e.request_body + e.response_body + e.url for e in client.exchanges)
    token = await client.current_token()
    assert len(token) >= 20 and token not in logged
    assert "demo-klinik-secret" not in logged
    assert '"access_token": "***"' in logged
    assert any(e.resource_type == "token" for e in client.exchanges)


async def test_duplicate_encounter_is_recognised(client):
    patient = await client.find_patient_by_nik("9271060312000001")
    doctor = await client.find_practitioner_by_nik("7209061211900001")
    loc = await client.create(_location("10000004", "R-3"))
    encounter = {
        "resourceType": "Encounter",
        "identifier": [{"system": ENCOUNTER_SYSTEM, "value": "visit-dup-1"}],
        "status": "arrived",
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "AMB",
            "display": "ambulatory",
        },
        "subject": {"reference": f"Patient/{patient.ihs_number}"},
        "participant": [
            {
                "type": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                "code": "ATND",
                                "display": "attender",
                            }
                        ]
                    }
                ],
                "individual": {"reference": f"Practitioner/{doctor.ihs_number}"},
            }
        ],
        "period": {"start": "2026-11-25T01:00:00+00:00"},
        "location": [{"location": {"reference": f"Location/{loc.body['id']}"}}],
        "statusHistory": [{"status": "arrived", "period": {"start": "2026-11-25T01:00:00+00:00"}}],
        "serviceProvider": {"reference": "Organization/10000004"},
    }
    first = await client.create(encounter)
    second = await client.create(encounter)
    assert isinstance(first, Ok)
    assert isinstance(second, Duplicate) and "duplicate" in second.message.lower()
    found = await client.find_by_identifier(
        "Encounter", ENCOUNTER_SYSTEM, "visit-dup-1", subject=patient.ihs_number
    )
    assert found["id"] == first.body["id"]


async def test_fifty_concurrent_calls_on_an_expired_token_refresh_it_once(client, sim):
    await client.find_patient_by_nik("9271060312000001")
    sim.simulator.expire_all_tokens()
    results = await asyncio.gather(
        *(client.find_patient_by_nik("9271060312000001") for _ in range(50))
    )
    assert {r.ihs_number for r in results} == {"P02478375538"}
    assert sim.simulator.stats.token_requests == 2
