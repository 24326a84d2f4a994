"""Runtime fault switches, from Python and over the `/_sim/` control endpoints."""

from __future__ import annotations

import time

import httpx
import pytest

from klinikita.integrations.satusehat.simulator import FaultRule, Simulator
from tests.support.simulator import RunningSimulator

from .helpers import DEMO_ORG, SYS, Facility, encounter_body, request_token

PATIENT = "/Patient/P02478375538"


def test_503_no_healthy_upstream_for_next_n_requests(fhir: httpx.Client, sim: Simulator) -> None:
    sim.faults.fail_next("http_503", 2)
    for _ in range(2):
        response = fhir.get(PATIENT)
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("text/plain")
        assert response.text == "no healthy upstream"
    assert fhir.get(PATIENT).status_code == 200
    assert sim.stats.faults["http_503"] == 2
    assert sim.faults.rules() == []


def test_504_gateway_timeout(fhir: httpx.Client, sim: Simulator) -> None:
    sim.faults.fail_next("http_504")
    response = fhir.get(PATIENT)
    assert response.status_code == 504
    assert response.text == "Gateway Timeout"
    assert response.headers["content-type"].startswith("text/plain")
    assert fhir.get(PATIENT).status_code == 200


def test_429_with_retry_after(fhir: httpx.Client, sim: Simulator) -> None:
    sim.faults.fail_next("http_429", retry_after=7)
    response = fhir.get(PATIENT)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json()["fault"]["detail"]["errorcode"] == "policies.ratelimit.QuotaViolation"
    sim.faults.fail_next("http_429")
    assert fhir.get(PATIENT).headers["Retry-After"] == str(sim.config.retry_after_seconds)


def test_rules_match_method_and_path(
    fhir: httpx.Client, sim: Simulator, facility: Facility
) -> None:
    sim.faults.fail_next("http_503", 1, method="POST", path="/fhir-r4/v1/Encounter*")
    # Neither a GET of an encounter nor a POST elsewhere consumes the rule.
    assert fhir.get("/Encounter", params={"subject": "P02478375538"}).status_code == 200
    assert fhir.post("/Condition", json={"resourceType": "Condition"}).status_code == 400
    assert fhir.post("/Encounter", json=encounter_body(facility)).status_code == 503
    assert fhir.post("/Encounter", json=encounter_body(facility)).status_code == 201


def test_rule_on_the_fhir_base_matches_with_or_without_slash(
    server: RunningSimulator, sim: Simulator, fhir: httpx.Client
) -> None:
    sim.faults.fail_next("http_503", 2, path="/fhir-r4/v1", method="POST")
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": []}
    assert fhir.post(server.fhir_url, json=bundle).status_code == 503
    assert fhir.post(server.fhir_url + "/", json=bundle).status_code == 503
    assert fhir.post(server.fhir_url, json=bundle).status_code == 200
    assert sim.faults.rules() == []


def test_token_endpoint_can_fail_too(
    http: httpx.Client, server: RunningSimulator, sim: Simulator
) -> None:
    sim.faults.fail_next("http_503", path="/oauth2/*")
    assert request_token(http, server).status_code == 503
    assert request_token(http, server).status_code == 200
    assert sim.stats.token_requests == 2 and sim.stats.tokens_issued == 1


def test_drop_after_processing_stores_the_resource(
    fhir: httpx.Client, sim: Simulator, facility: Facility
) -> None:
    sim.faults.fail_next("drop_after", method="POST", path="/fhir-r4/v1/Encounter")
    with pytest.raises(httpx.RemoteProtocolError):
        fhir.post("/Encounter", json=encounter_body(facility, "REG-DROP"))
    identifier = (f"{SYS}/encounter/{DEMO_ORG}", "REG-DROP")
    assert sim.count_resources("Encounter", identifier) == 1
    # The client retries: the platform says duplicate, and nothing is stored twice.
    retry = fhir.post("/Encounter", json=encounter_body(facility, "REG-DROP"))
    assert retry.status_code == 400 and retry.json()["issue"][0]["code"] == "duplicate"
    assert sim.count_resources("Encounter", identifier) == 1


def test_delay_after_stores_at_once_and_answers_late(
    fhir: httpx.Client, sim: Simulator, facility: Facility
) -> None:
    sim.faults.fail_next("delay_after", method="POST", path="/fhir-r4/v1/Encounter", latency_ms=800)
    identifier = (f"{SYS}/encounter/{DEMO_ORG}", "REG-LATE")
    with pytest.raises(httpx.ReadTimeout):  # the client gives up before the answer comes
        fhir.post("/Encounter", json=encounter_body(facility, "REG-LATE"), timeout=0.3)
    assert sim.count_resources("Encounter", identifier) == 1
    started = time.perf_counter()
    answer = fhir.post("/Encounter", json=encounter_body(facility, "REG-LATER"))
    assert answer.status_code == 201 and time.perf_counter() - started < 0.5  # used up
    sim.faults.fail_next("delay_after", method="POST", latency_ms=300)
    started = time.perf_counter()
    late = fhir.post("/Encounter", json=encounter_body(facility, "REG-SLOW"))
    assert late.status_code == 201 and late.json()["id"]
    assert time.perf_counter() - started >= 0.3


def test_drop_before_processing_stores_nothing(
    fhir: httpx.Client, sim: Simulator, facility: Facility
) -> None:
    sim.faults.fail_next("drop_before", method="POST")
    with pytest.raises(httpx.RemoteProtocolError):
        fhir.post("/Encounter", json=encounter_body(facility, "REG-LOST"))
    assert sim.count_resources("Encounter") == 0
    assert fhir.post("/Encounter", json=encounter_body(facility, "REG-LOST")).status_code == 201


def test_latency(fhir: httpx.Client, sim: Simulator) -> None:
    fhir.get(PATIENT)
    started = time.perf_counter()
    fhir.get(PATIENT)
    baseline = time.perf_counter() - started
    rule = sim.faults.add_latency(300, path="/fhir-r4/v1/Patient*")
    started = time.perf_counter()
    assert fhir.get(PATIENT).status_code == 200
    assert time.perf_counter() - started >= 0.3
    started = time.perf_counter()
    assert fhir.get("/Practitioner/10009880728").status_code == 200
    assert time.perf_counter() - started < 0.3 + baseline
    sim.faults.remove(rule.id)
    started = time.perf_counter()
    fhir.get(PATIENT)
    assert time.perf_counter() - started < 0.3


def test_latency_combines_with_a_failure(fhir: httpx.Client, sim: Simulator) -> None:
    sim.faults.add_latency(200, count=1)
    sim.faults.fail_next("http_504")
    started = time.perf_counter()
    assert fhir.get(PATIENT).status_code == 504
    assert time.perf_counter() - started >= 0.2
    assert sim.faults.rules() == []


def test_edge_faults(fhir: httpx.Client, sim: Simulator) -> None:
    sim.faults.fail_next("forbidden_html")
    forbidden = fhir.get(PATIENT)
    assert forbidden.status_code == 403
    assert forbidden.headers["content-type"].startswith("text/html")
    assert "403 Forbidden" in forbidden.text
    sim.faults.fail_next("no_api_product")
    no_product = fhir.get(PATIENT)
    assert no_product.status_code == 401
    assert "InvalidAPICallAsNoApiProductMatchFound" in no_product.headers["WWW-Authenticate"]
    sim.faults.add(FaultRule("http_error", status=502, body="Bad Gateway", count=1))
    assert fhir.get(PATIENT).status_code == 502


def test_unlimited_rule_until_cleared(fhir: httpx.Client, sim: Simulator) -> None:
    sim.faults.fail_next("http_503", None)
    assert [fhir.get(PATIENT).status_code for _ in range(3)] == [503, 503, 503]
    sim.faults.clear()
    assert fhir.get(PATIENT).status_code == 200


def test_unknown_fault_kind_is_rejected() -> None:
    with pytest.raises(ValueError):
        FaultRule("explode")


def test_control_endpoints_over_http(
    http: httpx.Client, server: RunningSimulator, sim: Simulator, fhir: httpx.Client
) -> None:
    control = server.control_url
    assert http.get(control + "/health").json() == {"status": "ok"}
    created = http.post(
        control + "/faults",
        json=[
            {"kind": "http_503", "count": 1, "path": "/fhir-r4/v1/Patient/*"},
            {"kind": "latency", "latency_ms": 50},
        ],
    )
    assert created.status_code == 201
    listed = http.get(control + "/faults").json()["faults"]
    assert [f["kind"] for f in listed] == ["http_503", "latency"]
    assert listed[1]["count"] is None  # latency defaults to "every request"
    assert fhir.get(PATIENT).status_code == 503
    assert http.delete(control + f"/faults/{listed[1]['id']}").json() == {"removed": True}
    assert sim.faults.rules() == []
    assert http.post(control + "/faults", json={"kind": "nope"}).status_code == 400

    stats = http.get(control + "/stats").json()
    assert stats["requests"]["Patient"]["GET"] == 1
    assert stats["faults"] == {"http_503": 1}
    assert stats["statuses"]["503"] == 1

    config = http.patch(control + "/config", json={"token_lifetime_seconds": 60}).json()
    assert config["token_lifetime_seconds"] == 60
    assert http.patch(control + "/config", json={"bogus": 1}).status_code == 400

    short_lived = request_token(http, server).json()
    assert short_lived["expires_in"] == "60"
    short_lived = short_lived["access_token"]
    headers = {"Authorization": f"Bearer {short_lived}"}
    assert http.get(server.fhir_url + PATIENT, headers=headers).status_code == 200
    clock = http.post(control + "/clock", json={"advance_seconds": 61}).json()
    assert clock["offset_seconds"] == pytest.approx(61)
    assert http.get(server.fhir_url + PATIENT, headers=headers).status_code == 401

    http.post(control + "/faults", json={"kind": "http_504"})
    assert http.post(control + "/reset").json() == {"status": "reset"}
    assert sim.faults.rules() == [] and sim.config.token_lifetime_seconds == 3599
    assert sim.clock.offset_seconds == 0
    assert http.get(control + "/stats").json()["token_requests"] == 0
    assert http.get(control + "/nothing-here").status_code == 404
