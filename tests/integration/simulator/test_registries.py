"""Patient (MPI) and Practitioner (Nakes) registries, and the Consent API."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from klinikita.integrations.satusehat.simulator import (
    DEMO_NEWBORNS,
    DEMO_PATIENTS,
    DEMO_PRACTITIONERS,
    SANDBOX_PATIENTS,
    SANDBOX_PRACTITIONERS,
)
from tests.support.simulator import RunningSimulator

from .helpers import NIK, make_client

MASK = "################"


def nik_search(fhir: httpx.Client, resource_type: str, nik: str) -> httpx.Response:
    return fhir.get(f"/{resource_type}", params={"identifier": f"{NIK}|{nik}"})


def test_demo_constants_are_plausible() -> None:
    assert len(DEMO_PATIENTS) >= 5 and len(DEMO_PRACTITIONERS) >= 3
    for person in DEMO_PATIENTS + DEMO_PRACTITIONERS:
        assert len(person.nik) == 16 and person.nik.isdigit()
    assert len({p.nik for p in DEMO_PATIENTS + SANDBOX_PATIENTS}) == 16


@pytest.mark.parametrize("person", SANDBOX_PATIENTS + DEMO_PATIENTS, ids=lambda p: p.nik)
def test_patient_found_by_nik(fhir: httpx.Client, person) -> None:
    response = nik_search(fhir, "Patient", person.nik)
    assert response.status_code == 200
    bundle = response.json()
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    assert bundle["total"] == 1
    resource = bundle["entry"][0]["resource"]
    assert resource["id"] == person.ihs
    assert resource["name"][0]["text"] == person.name
    systems = {i["system"]: i["value"] for i in resource["identifier"]}
    assert systems["https://fhir.kemkes.go.id/id/ihs-number"] == person.ihs
    assert systems[NIK] == MASK
    assert person.nik not in str(bundle["entry"])
    # The NIK search view is minimal: no birth date or address.
    assert "birthDate" not in resource and "address" not in resource
    assert bundle["entry"][0]["fullUrl"].endswith(f"/fhir-r4/v1/Patient/{person.ihs}")


def test_unknown_nik_gives_empty_searchset(fhir: httpx.Client, server: RunningSimulator) -> None:
    response = nik_search(fhir, "Patient", "3171999999999999")
    assert response.status_code == 200
    bundle = response.json()
    assert bundle["total"] == 0
    assert "entry" not in bundle
    relations = [link["relation"] for link in bundle["link"]]
    assert relations == ["search", "first", "self"]
    url = urlsplit(bundle["link"][2]["url"])
    assert url.path.endswith("/fhir-r4/v1/Patient/")
    assert parse_qs(url.query) == {"identifier": [f"{NIK}|3171999999999999"]}
    assert bundle["link"][2]["url"].startswith(server.fhir_url)


def test_patient_read_by_id(fhir: httpx.Client) -> None:
    response = fhir.get("/Patient/P00883356749")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "P00883356749"
    assert {i["value"] for i in body["identifier"]} == {"P00883356749", MASK}
    assert response.headers["ETag"] == f'W/"{body["meta"]["versionId"]}"'
    missing = fhir.get("/Patient/P99999999999")
    assert missing.status_code == 404
    assert missing.json()["issue"][0]["code"] == "not-found"


def test_patient_search_by_name_birthdate_gender(fhir: httpx.Client) -> None:
    person = DEMO_PATIENTS[2]
    found = fhir.get(
        "/Patient",
        params={
            "name": person.name.split()[0],
            "birthdate": person.birth_date[:4],
            "gender": "female",
        },
    ).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [person.ihs]
    resource = found["entry"][0]["resource"]
    assert resource["birthDate"] == person.birth_date and "address" in resource
    assert person.nik not in str(resource)
    wrong_gender = fhir.get(
        "/Patient", params={"name": person.name, "birthdate": person.birth_date, "gender": "male"}
    ).json()
    assert wrong_gender["total"] == 0
    with_nik = fhir.get(
        "/Patient", params={"name": person.name, "birthdate": person.birth_date, "nik": person.nik}
    ).json()
    assert with_nik["total"] == 1


def test_newborn_by_mother_nik(fhir: httpx.Client) -> None:
    baby = DEMO_NEWBORNS[0]
    bundle = fhir.get(
        "/Patient", params={"identifier": f"https://fhir.kemkes.go.id/id/nik-ibu|{baby.mother_nik}"}
    ).json()
    assert [e["resource"]["id"] for e in bundle["entry"]] == [baby.ihs]


def test_registry_search_without_parameters_finds_nothing(fhir: httpx.Client) -> None:
    assert fhir.get("/Patient").json()["total"] == 0
    assert fhir.get("/Practitioner").json()["total"] == 0


@pytest.mark.parametrize("person", SANDBOX_PRACTITIONERS + DEMO_PRACTITIONERS, ids=lambda p: p.nik)
def test_practitioner_found_by_nik(fhir: httpx.Client, person) -> None:
    bundle = nik_search(fhir, "Practitioner", person.nik).json()
    assert bundle["total"] == 1
    resource = bundle["entry"][0]["resource"]
    assert resource["id"] == person.ihs
    assert resource["name"][0]["text"] == person.name
    systems = {i["system"]: i["value"] for i in resource["identifier"]}
    assert systems["https://fhir.kemkes.go.id/id/nakes-his-number"] == person.ihs


def test_practitioner_unknown_nik_and_read(fhir: httpx.Client) -> None:
    empty = nik_search(fhir, "Practitioner", "1111111111111111").json()
    assert empty["total"] == 0 and "entry" not in empty
    read = fhir.get("/Practitioner/10018452434")
    assert read.status_code == 200
    assert read.json()["name"][0]["text"] == "dr. Nathalie Tan, Sp.PK."
    assert fhir.get("/Practitioner/00000000000").status_code == 404
    by_name = fhir.get("/Practitioner", params={"name": "voigt", "gender": "male"}).json()
    assert {e["resource"]["id"] for e in by_name["entry"]} == {"N10000001", "N10000002"}


def test_registries_are_read_only(fhir: httpx.Client) -> None:
    practitioner = fhir.get("/Practitioner/10009880728").json()
    assert fhir.put("/Practitioner/10009880728", json=practitioner).status_code == 405
    assert fhir.post("/Practitioner", json=practitioner).status_code == 405


def test_create_patient_by_nik(fhir: httpx.Client) -> None:
    body = {
        "resourceType": "Patient",
        "identifier": [{"use": "official", "system": NIK, "value": "3174031002890009"}],
        "active": True,
        "name": [{"use": "official", "text": "Rudi Hermawan"}],
        "gender": "male",
        "birthDate": "1989-02-10",
        "address": [
            {
                "use": "home",
                "extension": [
                    {
                        "url": "https://fhir.kemkes.go.id/r4/StructureDefinition/administrativeCode",
                        "extension": [
                            {"url": "province", "valueCode": "31"},
                            {"url": "city", "valueCode": "3174"},
                            {"url": "district", "valueCode": "317401"},
                            {"url": "village", "valueCode": "3174011002"},
                        ],
                    }
                ],
            }
        ],
    }
    created = fhir.post("/Patient", json=body)
    assert created.status_code == 200
    result = created.json()
    assert result["success"] is True
    assert result["message"] == "New Patient has been created successfully"
    ihs = result["data"]["Patient ID:"]
    assert ihs.startswith("P") and len(ihs) == 12
    assert (
        nik_search(fhir, "Patient", "3174031002890009").json()["entry"][0]["resource"]["id"] == ihs
    )
    again = fhir.post("/Patient", json=body).json()
    assert again == {
        "success": False,
        "message": "Patient Resource Exists",
        "data": {"resourceID": ihs},
    }
    body["identifier"][0]["value"] = "31740310028900"  # not a 16-digit NIK
    assert fhir.post("/Patient", json=body).json() == {
        "success": False,
        "message": "Citizen Not Exists",
    }


def test_consent_optin_then_read(fhir: httpx.Client, server: RunningSimulator) -> None:
    consent = make_client(base_url=server.consent_url, headers=fhir.headers)
    assert consent.get("/Consent", params={"patient_id": "P02478375538"}).status_code == 404
    posted = consent.post(
        "/Consent", json={"patient_id": "P02478375538", "action": "OPTIN", "agent": "Petugas"}
    )
    assert posted.status_code == 200
    assert posted.json()["policyRule"]["coding"][0]["code"] == "OPTIN"
    assert posted.json()["organization"] == [{"reference": "Organization/10000004"}]
    read = consent.get("/Consent", params={"patient_id": "P02478375538"}).json()
    assert read["id"] == posted.json()["id"]
    assert (
        consent.post(
            "/Consent", json={"patient_id": "P02478375538", "action": "MAYBE", "agent": "x"}
        ).status_code
        == 400
    )
    unauthenticated = httpx.get(server.consent_url + "/Consent", params={"patient_id": "x"})
    assert unauthenticated.status_code == 401
