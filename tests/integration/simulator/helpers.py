"""Payload builders and HTTP helpers shared by the simulator tests."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httpx

from tests.support.simulator import RunningSimulator

DEMO_ORG = "10000004"
OTHER_ORG = "10000005"
SYS = "http://sys-ids.kemkes.go.id"
NIK = "https://fhir.kemkes.go.id/id/nik"


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def make_client(**kwargs: Any) -> httpx.Client:
    """httpx client that reuses one TLS context (building one costs ~0.2 s per client)."""
    kwargs.setdefault("timeout", 10)
    return httpx.Client(verify=_tls_context(), **kwargs)


@dataclass
class Facility:
    """Sub-organization and room created for the demo clinic."""

    org_id: str
    poli_id: str
    location_id: str


def organization_body(value: str = "POLI-UMUM", part_of: str = DEMO_ORG, org: str = DEMO_ORG):
    return {
        "resourceType": "Organization",
        "active": True,
        "identifier": [{"use": "official", "system": f"{SYS}/organization/{org}", "value": value}],
        "type": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/organization-type",
                        "code": "dept",
                        "display": "Hospital Department",
                    }
                ]
            }
        ],
        "name": "Poli Umum",
        "partOf": {"reference": f"Organization/{part_of}"},
    }


def location_body(managing_org: str, value: str = "R-1", org: str = DEMO_ORG) -> dict[str, Any]:
    return {
        "resourceType": "Location",
        "identifier": [{"system": f"{SYS}/location/{org}", "value": value}],
        "status": "active",
        "name": "Ruang Poli Umum",
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
        "position": {"longitude": 106.8324, "latitude": -6.2311, "altitude": 0},
        "managingOrganization": {"reference": f"Organization/{managing_org}"},
    }


def encounter_body(
    facility: Facility,
    registration: str = "REG-0001",
    *,
    patient: str = "P02478375538",
    practitioner: str = "10009880728",
    status: str = "arrived",
    org: str = DEMO_ORG,
    condition: str | None = None,
) -> dict[str, Any]:
    """An outpatient Encounter; a finished one names `condition` (a Condition id) as its
    diagnosis."""
    body: dict[str, Any] = {
        "resourceType": "Encounter",
        "identifier": [{"system": f"{SYS}/encounter/{org}", "value": registration}],
        "status": status,
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "AMB",
            "display": "ambulatory",
        },
        "subject": {"reference": f"Patient/{patient}"},
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
                "individual": {"reference": f"Practitioner/{practitioner}"},
            }
        ],
        "period": {"start": "2024-03-01T01:00:00+00:00"},
        "location": [{"location": {"reference": f"Location/{facility.location_id}"}}],
        "statusHistory": [{"status": "arrived", "period": {"start": "2024-03-01T01:00:00+00:00"}}],
        "serviceProvider": {"reference": f"Organization/{org}"},
    }
    if status == "finished":
        if condition is not None:
            body["diagnosis"] = [
                {
                    "condition": {"reference": f"Condition/{condition}"},
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
        body["period"]["end"] = "2024-03-01T03:00:00+00:00"
        body["statusHistory"] = [
            {
                "status": "arrived",
                "period": {
                    "start": "2024-03-01T01:00:00+00:00",
                    "end": "2024-03-01T01:30:00+00:00",
                },
            },
            {
                "status": "in-progress",
                "period": {
                    "start": "2024-03-01T01:30:00+00:00",
                    "end": "2024-03-01T02:50:00+00:00",
                },
            },
            {
                "status": "finished",
                "period": {
                    "start": "2024-03-01T02:50:00+00:00",
                    "end": "2024-03-01T03:00:00+00:00",
                },
            },
        ]
    return body


def condition_body(encounter_ref: str, code: str = "E11.9", patient: str = "P02478375538"):
    return {
        "resourceType": "Condition",
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "encounter-diagnosis",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": code}]},
        "subject": {"reference": f"Patient/{patient}"},
        "encounter": {"reference": encounter_ref},
    }


def observation_body(
    encounter_ref: str, loinc: str = "8867-4", unit: str = "{beats}/min", value: float = 80
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs",
                        "display": "Vital Signs",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "subject": {"reference": "Patient/P02478375538"},
        "encounter": {"reference": encounter_ref},
        "effectiveDateTime": "2024-03-01T01:10:00+00:00",
        "performer": [{"reference": "Practitioner/10009880728"}],
        "valueQuantity": {
            "value": value,
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        },
    }


def request_token(
    http: httpx.Client,
    server: RunningSimulator,
    client_id: str = "demo-klinik",
    client_secret: str = "demo-klinik-secret",
) -> httpx.Response:
    return http.post(
        server.token_url,
        params={"grant_type": "client_credentials"},
        data={"client_id": client_id, "client_secret": client_secret},
    )
