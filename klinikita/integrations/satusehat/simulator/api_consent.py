"""Consent API (`/consent/v1/Consent`): non-FHIR OPTIN/OPTOUT request, FHIR-like answer."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from . import errors
from .api_fhir import authenticate
from .clock import datetime_from_ns
from .errors import issue, operation_outcome
from .resources import parse_json
from .responses import empty_not_found, json_response
from .store import StoredResource

if TYPE_CHECKING:
    from .simulator import Simulator

CONSENT_CONTENT_TYPE = "application/json; charset=UTF-8"
ACTIONS = frozenset({"OPTIN", "OPTOUT"})


def _consent_body(
    consent_id: str, patient_id: str, org_id: str, action: str, agent: str, moment: str
) -> dict[str, Any]:
    return {
        "id": consent_id,
        "resourceType": "Consent",
        "status": "active",
        "scope": {
            "coding": [
                {
                    "code": "patient-privacy",
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                }
            ]
        },
        "category": [{"coding": [{"code": "59284-0", "system": "http://loinc.org"}]}],
        "patient": {"reference": f"Patient/{patient_id}"},
        "dateTime": moment,
        "organization": [{"reference": f"Organization/{org_id}"}],
        "policyRule": {
            "coding": [
                {"code": action, "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode"}
            ]
        },
        "provision": {
            "actor": [
                {
                    "role": {
                        "coding": [
                            {
                                "code": "AGNT",
                                "system": "http://terminology.hl7.org/5.0.0/CodeSystem-v3-RoleClass.html",
                            }
                        ]
                    },
                    "reference": {"display": agent},
                }
            ],
            "period": {"start": moment},
        },
    }


def _bad_request(text: str) -> errors.FhirError:
    return errors.FhirError(400, operation_outcome([issue("value", text)]))


def latest_consent(sim: Simulator, patient_id: str) -> dict[str, Any] | None:
    wanted = f"Patient/{patient_id}"
    found = [
        item.resource
        for item in sim.store.all("Consent")
        if item.resource.get("patient", {}).get("reference") == wanted
    ]
    return found[-1] if found else None


async def handle(sim: Simulator, request: Request, sub_path: str) -> Response:
    if sub_path.strip("/") != "Consent":
        return empty_not_found()
    token = authenticate(sim, request)
    if request.method == "GET":
        patient_id = request.query_params.get("patient_id")
        if not patient_id:
            raise _bad_request("patient_id is required")
        consent = latest_consent(sim, patient_id)
        if consent is None:
            raise errors.not_found("Consent", f"?patient_id={patient_id}")
        return json_response(consent, sort_keys=False, content_type=CONSENT_CONTENT_TYPE)
    if request.method != "POST":
        return empty_not_found()
    body = parse_json(await request.body())
    if not isinstance(body, dict):
        raise _bad_request("payload must be a JSON object")
    patient_id, action, agent = body.get("patient_id"), body.get("action"), body.get("agent")
    if not isinstance(patient_id, str) or not sim.store.exists("Patient", patient_id):
        raise errors.not_found("Patient", str(patient_id))
    if action not in ACTIONS:
        raise _bad_request("action must be OPTIN or OPTOUT")
    if not isinstance(agent, str) or not agent:
        raise _bad_request("agent is required")
    stamp = sim.clock.next_version_stamp()
    moment = datetime_from_ns(stamp).isoformat(timespec="microseconds").replace("+00:00", "Z")
    consent_id = str(uuid.uuid4())
    consent = _consent_body(consent_id, patient_id, token.organization_id, action, agent, moment)
    sim.store.put(StoredResource("Consent", consent_id, consent, token.organization_id, stamp))
    return json_response(consent, sort_keys=False, content_type=CONSENT_CONTENT_TYPE)
