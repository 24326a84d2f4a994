"""A newborn's patient record created by the mother's NIK (API.md 4.3), over real HTTP: the
payload the app builds is accepted and found again by `nik-ibu` (4.2); what 4.3 lists is
refused in SATUSEHAT's shape when missing; a mother Dukcapil does not know is refused."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import httpx
import pytest

from klinikita.integrations.satusehat import fhir as builders
from klinikita.integrations.satusehat.simulator import Simulator
from klinikita.integrations.satusehat.simulator.seed import SANDBOX_PATIENTS
from klinikita.models import Patient

NIK_IBU = "https://fhir.kemkes.go.id/id/nik-ibu"
MOTHER = "3174015208859911"  # 16 digits, female-coded, not in the seeded MPI


def _baby(**changes: Any) -> Patient:
    values = dict(
        id=1,
        branch_id=1,
        mrn="000123",
        name="Bayi Ny. Rahmawati",
        birth_date=date(2026, 12, 1),
        sex="female",
        kk_number="3174010101260001",
        province_code="31",
        city_code="31.74",
        district_code="31.74.01",
        village_code="31.74.01.1002",
        street="Jl. Melati 3",
        rt="003",
        rw="007",
        is_newborn=True,
        mother_nik=MOTHER,
        birth_order=0,
    )
    values.update(changes)
    return Patient(**values)


def _body(**changes: Any) -> dict[str, Any]:
    return builders.newborn_patient(_baby(**changes))


def _by_mother(fhir: httpx.Client, mother: str) -> list[dict[str, Any]]:
    bundle = fhir.get("/Patient", params={"identifier": f"{NIK_IBU}|{mother}"}).json()
    return [e["resource"] for e in bundle.get("entry") or []]


def test_the_apps_newborn_payload_is_accepted_and_found_by_the_mothers_nik(
    fhir: httpx.Client,
) -> None:
    body = _body()
    assert body["identifier"][0] == {"use": "official", "system": NIK_IBU, "value": MOTHER}
    assert body["multipleBirthInteger"] == 0
    codes = {e["url"]: e["valueCode"] for e in body["address"][0]["extension"][0]["extension"]}
    assert codes == {
        "province": "31",
        "city": "3174",
        "district": "317401",
        "village": "3174011002",
        "rt": "3",
        "rw": "7",
    }
    created = fhir.post("/Patient", json=body)
    assert created.status_code == 200
    answer = created.json()
    assert answer["success"] is True
    assert answer["message"] == "New Patient has been created successfully"
    ihs = answer["data"]["Patient ID:"]
    assert ihs.startswith("P") and len(ihs) == 12
    (found,) = _by_mother(fhir, MOTHER)
    assert found["id"] == ihs
    # The same baby sent again (a retry after a lost answer) gets its existing number.
    again = fhir.post("/Patient", json=body).json()
    assert again == {
        "success": False,
        "message": "Failed to create new patient, another identifier has found",
        "data": {"resourceID": ihs},
    }


def test_twins_are_two_records_told_apart_by_their_birth_order(fhir: httpx.Client) -> None:
    first = fhir.post("/Patient", json=_body(name="Bayi Ny. R", birth_order=1)).json()
    second = fhir.post("/Patient", json=_body(name="Bayi Ny. R", birth_order=2)).json()
    assert first["success"] is True and second["success"] is True
    assert first["data"]["Patient ID:"] != second["data"]["Patient ID:"]
    assert len(_by_mother(fhir, MOTHER)) == 2


def _drop(path: str) -> Any:
    def change(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = body
        for step in parents:
            node = node[int(step)] if step.isdigit() else node[step]
        if last.isdigit():
            del node[int(last)]
        else:
            del node[last]

    return change


def _village_missing(body: dict[str, Any]) -> None:
    parts = body["address"][0]["extension"][0]["extension"]
    parts[:] = [p for p in parts if p["url"] != "village"]


MANDATORY = {
    "identifier": (_drop("identifier"), "Patient.identifier"),
    "name": (_drop("name"), "Patient.name"),
    "gender": (_drop("gender"), "Patient.gender"),
    "birthDate": (_drop("birthDate"), "Patient.birthDate"),
    "address": (_drop("address"), "Patient.address"),
    "administrative-village": (
        _village_missing,
        "Patient.address[0].extension.administrativeCode.village",
    ),
}


@pytest.mark.parametrize("case", sorted(MANDATORY))
def test_what_api_md_lists_for_a_created_patient_is_mandatory(
    fhir: httpx.Client, sim: Simulator, case: str
) -> None:
    breaks, element = MANDATORY[case]
    body = copy.deepcopy(_body())
    breaks(body)
    before = sim.count_resources("Patient")
    refused = fhir.post("/Patient", json=body)
    assert refused.status_code == 400
    outcome = refused.json()
    assert outcome["resourceType"] == "OperationOutcome"
    (issue,) = outcome["issue"]
    assert issue["severity"] == "error" and issue["code"] == "value"
    assert issue["expression"] == [element]
    assert issue["details"]["text"] == f"{element} is required"
    assert sim.count_resources("Patient") == before


def test_a_mother_dukcapil_does_not_know_is_refused(fhir: httpx.Client, sim: Simulator) -> None:
    body = _body()
    body["identifier"][0]["value"] = "360328xxxxxxx"  # not a NIK at all
    assert fhir.post("/Patient", json=body).json() == {
        "success": False,
        "message": "Citizen Not Exists",
    }
    # With Dukcapil limited to the MPI's citizens, a mother must be one of them.
    sim.config.dukcapil_accepts_any_valid_nik = False
    unknown = fhir.post("/Patient", json=_body()).json()
    assert unknown == {"success": False, "message": "Citizen Not Exists"}
    mother = next(p for p in SANDBOX_PATIENTS if p.gender == "female")
    known = fhir.post("/Patient", json=_body(mother_nik=mother.nik)).json()
    assert known["success"] is True
    assert _by_mother(fhir, mother.nik)[0]["id"] == known["data"]["Patient ID:"]
    assert _by_mother(fhir, MOTHER) == []
