"""OAuth2 token endpoint (API.md section 2) and bearer checks on FHIR calls."""

from __future__ import annotations

import time

import httpx

from klinikita.integrations.satusehat.simulator import Simulator
from klinikita.integrations.satusehat.simulator.errors import (
    TOKEN_AUTH_FAILED_TEXT,
    TOKEN_RATE_LIMITED_TEXT,
)
from tests.support.simulator import RunningSimulator

from .helpers import request_token

INVALID_TOKEN_FAULT = {
    "fault": {
        "faultstring": "Invalid access token",
        "detail": {"errorcode": "oauth.v2.InvalidAccessToken"},
    }
}


def test_token_response_is_all_strings_with_default_lifetime(
    http: httpx.Client, server: RunningSimulator
) -> None:
    before_ms = int(time.time() * 1000)
    response = request_token(http, server)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["expires_in"] == "3599"
    assert body["token_type"] == "BearerToken"
    assert body["client_id"] == "demo-klinik"
    assert body["status"] == "approved"
    for key, value in body.items():
        if key == "api_product_list_json":
            assert isinstance(value, list)
        else:
            assert isinstance(value, str), key
    assert abs(int(body["issued_at"]) - before_ms) < 5000
    token = body["access_token"]
    assert len(token) == 28 and token.isalnum()
    # Opaque, not a JWT, and a new one per request.
    assert "." not in token
    assert request_token(http, server).json()["access_token"] != token


def test_token_lifetime_is_configurable_and_enforced(
    http: httpx.Client, server: RunningSimulator, sim: Simulator
) -> None:
    sim.config.token_lifetime_seconds = 120
    body = request_token(http, server).json()
    assert body["expires_in"] == "120"
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert http.get(server.fhir_url + "/Patient/P02478375538", headers=headers).status_code == 200
    sim.clock.advance(119)
    assert http.get(server.fhir_url + "/Patient/P02478375538", headers=headers).status_code == 200
    sim.clock.advance(2)
    expired = http.get(server.fhir_url + "/Patient/P02478375538", headers=headers)
    assert expired.status_code == 401
    assert expired.json() == INVALID_TOKEN_FAULT


def test_wrong_secret_then_lockout_for_that_client_only(
    http: httpx.Client, server: RunningSimulator, sim: Simulator
) -> None:
    wrong = request_token(http, server, client_secret="not-the-secret")
    assert wrong.status_code == 401
    assert wrong.json() == {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "invalid", "code": "value", "details": {"text": TOKEN_AUTH_FAILED_TEXT}}
        ],
    }
    # Even the right secret is refused during the penalty.
    locked = request_token(http, server)
    assert locked.status_code == 429
    assert locked.json()["issue"][0]["details"]["text"] == TOKEN_RATE_LIMITED_TEXT
    assert 1 <= int(locked.headers["Retry-After"]) <= 60
    # Another client is not affected.
    assert request_token(http, server, "demo-pmd", "demo-pmd-secret").status_code == 200
    sim.clock.advance(59)
    assert request_token(http, server).status_code == 429
    sim.clock.advance(2)
    assert request_token(http, server).status_code == 200
    assert sim.stats.token_requests == 5
    assert sim.stats.tokens_issued == 2


def test_lockout_duration_and_status_are_configurable(
    http: httpx.Client, server: RunningSimulator, sim: Simulator
) -> None:
    sim.config.lockout_seconds = 5
    sim.config.lockout_status = 401
    assert request_token(http, server, client_secret="bad").status_code == 401
    locked = request_token(http, server)
    assert locked.status_code == 401
    assert locked.json()["issue"][0]["details"]["text"] == TOKEN_RATE_LIMITED_TEXT
    sim.clock.advance(6)
    assert request_token(http, server).status_code == 200


def test_unknown_client_id(http: httpx.Client, server: RunningSimulator) -> None:
    response = request_token(http, server, client_id="nobody", client_secret="x")
    assert response.status_code == 401
    assert response.json() == {"ErrorCode": "invalid_client", "Error": "ClientId is Invalid"}
    # No lockout is created for an unknown id: the demo client still works.
    assert request_token(http, server).status_code == 200


def test_grant_type_must_be_in_the_query(http: httpx.Client, server: RunningSimulator) -> None:
    form = {"client_id": "demo-klinik", "client_secret": "demo-klinik-secret"}
    missing = http.post(server.token_url, data={**form, "grant_type": "client_credentials"})
    assert missing.status_code == 400
    assert missing.json() == {
        "ErrorCode": "invalid_request",
        "Error": "Required param : grant_type",
    }
    wrong = http.post(server.token_url, params={"grant_type": "password"}, data=form)
    assert wrong.status_code == 400
    assert wrong.json()["ErrorCode"] == "unsupported_grant_type"


def test_json_body_is_not_read_as_credentials(http: httpx.Client, server: RunningSimulator) -> None:
    response = http.post(
        server.token_url,
        params={"grant_type": "client_credentials"},
        json={"client_id": "demo-klinik", "client_secret": "demo-klinik-secret"},
    )
    assert response.status_code == 401
    assert response.json()["ErrorCode"] == "invalid_client"


def test_clients_added_at_runtime_from_python_and_http(
    http: httpx.Client, server: RunningSimulator, sim: Simulator
) -> None:
    sim.add_client("klinik-baru", "rahasia", "10000099", "Klinik Baru")
    assert request_token(http, server, "klinik-baru", "rahasia").status_code == 200
    created = http.post(
        server.control_url + "/clients",
        json={
            "client_id": "klinik-http",
            "client_secret": "s3cret",
            "organization_id": "10000100",
            "name": "Klinik HTTP",
        },
    )
    assert created.status_code == 201
    body = request_token(http, server, "klinik-http", "s3cret").json()
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    facility = http.get(server.fhir_url + "/Organization/10000100", headers=headers)
    assert facility.status_code == 200
    assert facility.json()["name"] == "Klinik HTTP"


def test_fhir_calls_need_a_valid_bearer(
    http: httpx.Client, server: RunningSimulator, token: str
) -> None:
    url = server.fhir_url + "/Patient/P02478375538"
    for headers in ({}, {"Authorization": "Bearer unknown-token"}, {"Authorization": token}):
        response = http.get(url, headers=headers)
        assert response.status_code == 401
        assert response.json() == INVALID_TOKEN_FAULT
        assert response.headers["WWW-Authenticate"] == (
            'Bearer realm="null",error="invalid_token",'
            'error_description="oauth.v2.InvalidAccessToken: Invalid access token"'
        )
    ok = http.get(url, headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200


def test_expire_all_tokens_now(
    http: httpx.Client, server: RunningSimulator, sim: Simulator, token: str
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    url = server.fhir_url + "/Practitioner/10009880728"
    assert http.get(url, headers=headers).status_code == 200
    assert sim.expire_all_tokens() == 1
    assert http.get(url, headers=headers).status_code == 401
    second = request_token(http, server).json()["access_token"]
    headers = {"Authorization": f"Bearer {second}"}
    assert http.get(url, headers=headers).status_code == 200
    # The same switch over HTTP, as a fault kind.
    expired = http.post(server.control_url + "/faults", json={"kind": "expire_tokens"})
    assert expired.status_code == 201
    assert http.get(url, headers=headers).status_code == 401


def test_alternative_invalid_token_shape(
    http: httpx.Client, server: RunningSimulator, sim: Simulator
) -> None:
    sim.config.invalid_token_style = "operation_outcome"
    response = http.get(server.fhir_url + "/Encounter", headers={"Authorization": "Bearer x"})
    assert response.status_code == 401
    assert response.json()["issue"][0]["code"] == "invalid-access-token"


def test_client_without_fhir_product(
    http: httpx.Client, server: RunningSimulator, sim: Simulator
) -> None:
    sim.add_client("kyc-only", "kyc-secret", "10000101", "KYC only", fhir_access=False)
    token = request_token(http, server, "kyc-only", "kyc-secret").json()["access_token"]
    response = http.get(
        server.fhir_url + "/Patient/P02478375538", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401
    assert response.json()["fault"]["detail"]["errorcode"] == (
        "keymanagement.service.InvalidAPICallAsNoApiProductMatchFound"
    )


def test_one_token_serves_many_calls(
    http: httpx.Client, server: RunningSimulator, sim: Simulator, token: str
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(20):
        assert http.get(server.fhir_url + "/Patient/P02478375538", headers=headers).is_success
    assert sim.stats.token_requests == 1
    assert sim.stats.requests_for("Patient", "GET") == 20
    stats = http.get(server.control_url + "/stats").json()
    assert stats["token_requests"] == 1
    assert stats["requests"]["Patient"]["GET"] == 20
