"""Transaction Bundles (`POST /fhir-r4/v1`, API.md section 12)."""

from __future__ import annotations

import copy
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from klinikita.integrations.satusehat.simulator import Simulator
from tests.support.simulator import RunningSimulator

from .helpers import (
    DEMO_ORG,
    SYS,
    Facility,
    condition_body,
    encounter_body,
    make_client,
    observation_body,
)


def visit_bundle(facility: Facility, registration: str = "REG-B1") -> dict:
    encounter_urn = f"urn:uuid:{uuid.uuid4()}"
    condition_urns = [f"urn:uuid:{uuid.uuid4()}" for _ in range(2)]
    encounter = encounter_body(facility, registration, status="finished")
    encounter["diagnosis"] = [
        {
            "condition": {"reference": urn},
            "use": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/diagnosis-role",
                        "code": "DD",
                    }
                ]
            },
            "rank": rank,
        }
        for rank, urn in enumerate(condition_urns, start=1)
    ]
    entries = [
        {
            "fullUrl": encounter_urn,
            "resource": encounter,
            "request": {"method": "POST", "url": "Encounter"},
        }
    ]
    for urn, code in zip(condition_urns, ("K35.8", "A91"), strict=True):
        entries.append(
            {
                "fullUrl": urn,
                "resource": condition_body(encounter_urn, code),
                "request": {"method": "POST", "url": "Condition"},
            }
        )
    entries.append(
        {
            "fullUrl": f"urn:uuid:{uuid.uuid4()}",
            "resource": observation_body(encounter_urn),
            "request": {"method": "POST", "url": "Observation"},
        }
    )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def test_transaction_response_shape_and_urn_resolution(
    fhir: httpx.Client, server: RunningSimulator, sim: Simulator, facility: Facility
) -> None:
    bundle = visit_bundle(facility)
    response = fhir.post("", json=bundle)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"entry", "resourceType", "total", "type"}
    assert body["resourceType"] == "Bundle" and body["type"] == "transaction-response"
    assert body["total"] == 4
    results = [entry["response"] for entry in body["entry"]]
    assert [r["resourceType"] for r in results] == [
        "Encounter",
        "Condition",
        "Condition",
        "Observation",
    ]
    versions = {r["etag"] for r in results}
    assert len(versions) == 1  # one shared version for the whole transaction
    assert len({r["lastModified"] for r in results}) == 1
    for result in results:
        assert set(result) == {
            "etag",
            "lastModified",
            "location",
            "status",
            "resourceType",
            "resourceID",
        }
        assert result["status"] == "201 Created"
        version = result["etag"][3:-1]
        assert result["location"] == (
            f"{server.fhir_url}/{result['resourceType']}/{result['resourceID']}/_history/{version}"
        )

    encounter_id = results[0]["resourceID"]
    encounter = fhir.get(f"/Encounter/{encounter_id}").json()
    assert [d["condition"]["reference"] for d in encounter["diagnosis"]] == [
        f"Condition/{results[1]['resourceID']}",
        f"Condition/{results[2]['resourceID']}",
    ]
    for result in results[1:]:
        stored = fhir.get(f"/{result['resourceType']}/{result['resourceID']}").json()
        assert stored["encounter"]["reference"] == f"Encounter/{encounter_id}"
        assert "urn:uuid" not in str(stored)
    assert sim.count_resources("Condition") == 2


def test_one_bad_entry_persists_nothing(
    fhir: httpx.Client, sim: Simulator, facility: Facility
) -> None:
    bundle = visit_bundle(facility)
    bundle["entry"][2]["resource"]["code"]["coding"][0]["code"] = "Q99.99"
    response = fhir.post("", json=bundle)
    assert response.status_code == 400
    [problem] = response.json()["issue"]
    assert problem["expression"] == ["Bundle.entry[2].resource.code[0].code"]
    assert "Q99.99" in problem["details"]["text"]
    for resource_type in ("Encounter", "Condition", "Observation"):
        assert sim.count_resources(resource_type) == 0


def test_errors_of_several_entries_are_reported_together(
    fhir: httpx.Client, sim: Simulator, facility: Facility
) -> None:
    bundle = visit_bundle(facility)
    bundle["entry"][1]["resource"]["subject"] = {"reference": "Patient/P00000000001"}
    bundle["entry"][3]["resource"]["valueQuantity"]["code"] = "bpm"
    response = fhir.post("", json=bundle)
    assert response.status_code == 400
    expressions = [i["expression"][0] for i in response.json()["issue"]]
    assert expressions == [
        "Bundle.entry[1].resource.subject",
        "Bundle.entry[3].resource.valueQuantity.code",
    ]
    assert sim.count_resources("Encounter") == 0


def test_unresolvable_urn_reference(fhir: httpx.Client, sim: Simulator, facility: Facility) -> None:
    bundle = visit_bundle(facility)
    bundle["entry"][1]["resource"]["encounter"] = {"reference": f"urn:uuid:{uuid.uuid4()}"}
    response = fhir.post("", json=bundle)
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["Bundle.entry[1].resource.encounter"]
    assert sim.count_resources("Encounter") == 0


def test_duplicate_encounter_in_and_across_bundles(
    fhir: httpx.Client, sim: Simulator, facility: Facility
) -> None:
    first = visit_bundle(facility, "REG-BD")
    second = visit_bundle(facility, "REG-BD")
    combined = copy.deepcopy(first)
    combined["entry"] += second["entry"]
    inside = fhir.post("", json=combined)
    assert inside.status_code == 400
    assert inside.json()["issue"][0]["details"]["text"] == "Found duplicate resource: Encounter"
    assert sim.count_resources("Encounter") == 0

    assert fhir.post("", json=first).status_code == 200
    across = fhir.post("", json=second)
    assert across.status_code == 400
    assert across.json()["issue"][0]["code"] == "duplicate"
    assert sim.count_resources("Encounter", (f"{SYS}/encounter/{DEMO_ORG}", "REG-BD")) == 1
    assert sim.count_resources("Condition") == 2


def test_concurrent_duplicates_store_one_encounter(
    server: RunningSimulator, sim: Simulator, token: str, facility: Facility
) -> None:
    bundle = visit_bundle(facility, "REG-RACE")

    def send(_: int) -> int:
        with make_client(
            base_url=server.fhir_url, headers={"Authorization": f"Bearer {token}"}
        ) as c:
            return c.post("", json=bundle).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(send, range(8)))
    assert statuses == [200] + [400] * 7
    assert sim.count_resources("Encounter", (f"{SYS}/encounter/{DEMO_ORG}", "REG-RACE")) == 1


def test_put_entries_update_in_place(
    fhir: httpx.Client, facility: Facility, encounter_id: str
) -> None:
    current = fhir.get(f"/Encounter/{encounter_id}").json()
    current["status"] = "in-progress"
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": current, "request": {"method": "PUT", "url": f"Encounter/{encounter_id}"}}
        ],
    }
    response = fhir.post("", json=bundle)
    assert response.status_code == 200
    assert response.json()["entry"][0]["response"]["status"] == "200 OK"
    assert fhir.get(f"/Encounter/{encounter_id}").json()["status"] == "in-progress"


def test_malformed_bundles(fhir: httpx.Client, facility: Facility) -> None:
    batch = {**visit_bundle(facility), "type": "batch"}
    assert fhir.post("", json=batch).status_code == 400
    no_status = visit_bundle(facility)
    del no_status["entry"][0]["resource"]["status"]
    response = fhir.post("", json=no_status)
    assert response.status_code == 400
    [problem] = response.json()["issue"]
    assert problem["details"]["text"] == "unparseable_resource"
    assert problem["diagnostics"] == 'missing required field "status"'
    assert problem["expression"][0].startswith("Bundle.entry[0].resource")
    wrong_url = visit_bundle(facility)
    wrong_url["entry"][1]["request"]["url"] = "Observation"
    assert fhir.post("", json=wrong_url).status_code == 400
    assert fhir.get("").status_code == 404
