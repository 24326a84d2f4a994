"""Create / read / update / patch / search of Organization, Location, Encounter, Condition,
Observation (API.md sections 3 and 6-10)."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

import httpx
import pytest

from klinikita.integrations.satusehat.simulator import Simulator
from tests.support.simulator import RunningSimulator

from .helpers import (
    DEMO_ORG,
    SYS,
    Facility,
    condition_body,
    encounter_body,
    location_body,
    observation_body,
    organization_body,
)

CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def assert_created(response: httpx.Response, server: RunningSimulator, resource_type: str) -> dict:
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["resourceType"] == resource_type
    assert UUID4.match(body["id"])
    version = body["meta"]["versionId"]
    assert "=" not in version
    stamp_ns = int(base64.b64decode(version + "=" * (-len(version) % 4)))
    updated = datetime.fromisoformat(body["meta"]["lastUpdated"])
    assert updated.tzinfo is not None and updated.utcoffset().total_seconds() == 0
    assert abs(stamp_ns / 1e9 - updated.timestamp()) < 1e-5
    assert abs(updated.timestamp() - datetime.now(UTC).timestamp()) < 60
    assert response.headers["ETag"] == f'W/"{version}"'
    assert response.headers["Last-Modified"].endswith(" UTC")
    assert response.headers["Location"] == (
        f"{server.fhir_url}/{resource_type}/{body['id']}/_history/{version}"
    )
    assert response.headers["x-request-id"]
    # Keys come back sorted, as the platform does.
    assert list(body) == sorted(body)
    return body


def test_organization_crud_and_search(
    fhir: httpx.Client, server: RunningSimulator, sim: Simulator
) -> None:
    poli = assert_created(
        fhir.post("/Organization", json=organization_body()), server, "Organization"
    )
    child = assert_created(
        fhir.post("/Organization", json=organization_body("POLI-ANAK", part_of=poli["id"])),
        server,
        "Organization",
    )
    read = fhir.get(f"/Organization/{poli['id']}")
    assert read.status_code == 200 and read.json() == poli

    updated_body = {**poli, "name": "Poli Umum Lantai 2", "active": False}
    updated = fhir.put(f"/Organization/{poli['id']}", json=updated_body)
    assert updated.status_code == 200
    assert updated.json()["name"] == "Poli Umum Lantai 2"
    assert updated.json()["meta"]["versionId"] != poli["meta"]["versionId"]
    assert updated.headers["ETag"] == f'W/"{updated.json()["meta"]["versionId"]}"'

    patched = fhir.patch(
        f"/Organization/{poli['id']}",
        json=[{"op": "replace", "path": "/name", "value": "RAJAL TERPADU"}],
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert patched.status_code == 200 and patched.json()["name"] == "RAJAL TERPADU"
    assert sim.get_resource("Organization", poli["id"])["name"] == "RAJAL TERPADU"

    by_partof = fhir.get("/Organization", params={"partof": DEMO_ORG}).json()
    assert [e["resource"]["id"] for e in by_partof["entry"]] == [poli["id"]]
    nested = fhir.get("/Organization", params={"partof": poli["id"]}).json()
    assert [e["resource"]["id"] for e in nested["entry"]] == [child["id"]]
    by_name = fhir.get("/Organization", params={"name": "rajal"}).json()
    assert [e["resource"]["id"] for e in by_name["entry"]] == [poli["id"]]
    facility = fhir.get("/Organization", params={"name": "klinik kita"}).json()
    assert [e["resource"]["id"] for e in facility["entry"]] == [DEMO_ORG]


def test_location_crud_and_search(fhir: httpx.Client, server: RunningSimulator) -> None:
    poli = fhir.post("/Organization", json=organization_body()).json()
    room = assert_created(
        fhir.post("/Location", json=location_body(poli["id"], "G-2-R-1A")), server, "Location"
    )
    assert room["position"] == {"altitude": 0, "latitude": -6.2311, "longitude": 106.8324}
    assert fhir.get(f"/Location/{room['id']}").json() == room
    inactive = fhir.put(f"/Location/{room['id']}", json={**room, "status": "inactive"})
    assert inactive.status_code == 200 and inactive.json()["status"] == "inactive"

    by_identifier = fhir.get(
        "/Location", params={"identifier": f"{SYS}/location/{DEMO_ORG}|G-2-R-1A"}
    ).json()
    assert [e["resource"]["id"] for e in by_identifier["entry"]] == [room["id"]]
    assert fhir.get("/Location", params={"name": "poli"}).json()["total"] == 1
    assert fhir.get("/Location", params={"name": "gudang"}).json()["total"] == 0
    by_org = fhir.get("/Location", params={"organization": poli["id"]}).json()
    assert by_org["total"] == 1
    assert fhir.get("/Location", params={"organization": DEMO_ORG}).json()["total"] == 0


def test_encounter_lifecycle(
    fhir: httpx.Client, server: RunningSimulator, facility: Facility
) -> None:
    created = assert_created(
        fhir.post("/Encounter", json=encounter_body(facility, "REG-77")), server, "Encounter"
    )
    assert created["status"] == "arrived"
    condition = fhir.post("/Condition", json=condition_body(f"Encounter/{created['id']}"))
    assert condition.status_code == 201

    in_progress = {**created, "status": "in-progress"}
    in_progress["statusHistory"] = [
        {
            "status": "arrived",
            "period": {"start": "2024-03-01T01:00:00+00:00", "end": "2024-03-01T01:30:00+00:00"},
        },
        {"status": "in-progress", "period": {"start": "2024-03-01T01:30:00+00:00"}},
    ]
    step = fhir.put(f"/Encounter/{created['id']}", json=in_progress)
    assert step.status_code == 200, step.text

    finished = encounter_body(facility, "REG-77", status="finished")
    finished["id"] = created["id"]
    finished["diagnosis"] = [
        {
            "condition": {"reference": f"Condition/{condition.json()['id']}"},
            "use": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/diagnosis-role",
                        "code": "DD",
                    }
                ]
            },
            "rank": 1,
        }
    ]
    done = fhir.put(f"/Encounter/{created['id']}", json=finished)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "finished"
    assert fhir.get(f"/Encounter/{created['id']}").json()["status"] == "finished"

    by_subject = fhir.get("/Encounter", params={"subject": "P02478375538"}).json()
    assert [e["resource"]["id"] for e in by_subject["entry"]] == [created["id"]]
    assert fhir.get("/Encounter", params={"subject": "Patient/P02478375538"}).json()["total"] == 1
    assert fhir.get("/Encounter", params={"subject": "P00883356749"}).json()["total"] == 0


def test_condition_and_observation_create_read_search(
    fhir: httpx.Client, server: RunningSimulator, encounter_id: str
) -> None:
    ref = f"Encounter/{encounter_id}"
    condition = assert_created(
        fhir.post("/Condition", json=condition_body(ref)), server, "Condition"
    )
    # The platform echoes an empty identifier list on Condition and Observation.
    assert condition["identifier"] == []
    observation = assert_created(
        fhir.post("/Observation", json=observation_body(ref)), server, "Observation"
    )
    assert observation["identifier"] == []
    assert fhir.get(f"/Condition/{condition['id']}").json() == condition
    assert fhir.get(f"/Observation/{observation['id']}").json() == observation
    for resource_type, created in (("Condition", condition), ("Observation", observation)):
        for params in ({"subject": "P02478375538"}, {"encounter": encounter_id}):
            bundle = fhir.get(f"/{resource_type}", params=params).json()
            assert [e["resource"]["id"] for e in bundle["entry"]] == [created["id"]]
        assert fhir.get(f"/{resource_type}", params={"encounter": "nope"}).json()["total"] == 0
    updated = fhir.put(
        f"/Condition/{condition['id']}",
        json={
            **condition,
            "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "resolved"}]},
        },
    )
    assert updated.status_code == 200


@pytest.mark.parametrize("resource_type", ["Encounter", "Condition", "Observation", "Location"])
def test_unknown_id_is_404_operation_outcome(fhir: httpx.Client, resource_type: str) -> None:
    response = fhir.get(f"/{resource_type}/2b0d3b5e-0000-4000-8000-000000000000")
    assert response.status_code == 404
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "not-found"


def test_put_id_mismatch(fhir: httpx.Client, encounter_id: str, facility: Facility) -> None:
    body = {**encounter_body(facility), "id": encounter_id + "bb"}
    response = fhir.put(f"/Encounter/{encounter_id}", json=body)
    assert response.status_code == 400
    assert response.json() == {
        "issue": [
            {
                "code": "structure",
                "details": {"text": "resource_mismatch"},
                "diagnostics": (
                    f"resource id mismatch, id of specified resource: {encounter_id}, "
                    f"id from payload: {encounter_id}bb"
                ),
                "severity": "error",
            }
        ],
        "resourceType": "OperationOutcome",
    }


def test_put_unknown_id_is_404(fhir: httpx.Client, facility: Facility) -> None:
    missing = "7d5e0a44-0000-4000-8000-000000000000"
    body = {**encounter_body(facility), "id": missing}
    assert fhir.put(f"/Encounter/{missing}", json=body).status_code == 404


def test_vread_and_body_type_mismatch(fhir: httpx.Client, encounter_id: str) -> None:
    current = fhir.get(f"/Encounter/{encounter_id}").json()
    version = current["meta"]["versionId"]
    assert fhir.get(f"/Encounter/{encounter_id}/_history/{version}").json() == current
    assert fhir.get(f"/Encounter/{encounter_id}/_history/MTIz").status_code == 404
    wrong_type = fhir.post("/Encounter", json={"resourceType": "Condition"})
    assert wrong_type.status_code == 400
    assert wrong_type.json()["issue"][0]["details"]["text"] == "unparseable_resource"
    not_json = fhir.post(
        "/Encounter", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 400


def test_unknown_paths_are_empty_404(
    http: httpx.Client, server: RunningSimulator, token: str
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    for url in (
        server.base_url + "/",
        server.base_url + "/fhir-r4/v2/Patient",
        server.fhir_url + "/NotAResource",
        server.fhir_url + "/Encounter/a/b",
        server.base_url + "/oauth2/v1/other",
    ):
        response = http.get(url, headers=headers)
        assert response.status_code == 404, url
        assert response.content == b""
    assert http.get(server.token_url).status_code == 404


def test_store_inspection_api(
    fhir: httpx.Client,
    http: httpx.Client,
    server: RunningSimulator,
    sim: Simulator,
    facility: Facility,
) -> None:
    identifier = (f"{SYS}/encounter/{DEMO_ORG}", "REG-LIST-1")
    fhir.post("/Encounter", json=encounter_body(facility, "REG-LIST-1"))
    fhir.post("/Encounter", json=encounter_body(facility, "REG-LIST-2"))
    assert sim.count_resources("Encounter") == 2
    assert sim.count_resources("Encounter", identifier) == 1
    assert [r["identifier"][0]["value"] for r in sim.list_resources("Encounter", identifier)] == [
        "REG-LIST-1"
    ]
    listed = http.get(
        server.control_url + "/resources/Encounter", params={"identifier": "|".join(identifier)}
    ).json()
    assert listed["total"] == 1
    counts = http.get(server.control_url + "/resources").json()["counts"]
    assert counts == {"Encounter": 2, "Location": 1, "Organization": 1}
    everything = http.get(server.control_url + "/resources", params={"include_seeded": "true"})
    assert everything.json()["counts"]["Organization"] == 3
    assert everything.json()["counts"]["Patient"] > 10
