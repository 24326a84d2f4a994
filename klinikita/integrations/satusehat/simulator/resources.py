"""FHIR create / read / update / patch on the store, with validation under the store lock."""

from __future__ import annotations

import copy
import json
import uuid
from typing import TYPE_CHECKING, Any

from . import errors
from .patch import apply_json_patch
from .store import StoredResource, stamp_meta
from .validation import ValidationContext, validate_resource

if TYPE_CHECKING:
    from .simulator import Simulator

JsonDict = dict[str, Any]

# Patient and Practitioner come from national registries (MPI, SISDMK): read and search only
# (plus the MPI's own non-FHIR `POST Patient`).
REGISTRY_TYPES = frozenset({"Patient", "Practitioner"})

# Resource types served under /fhir-r4/v1; the ones without dedicated rules get generic
# handling (reference + identifier-system checks). Anything else is an unknown path (404).
SUPPORTED_TYPES = frozenset(
    {
        "AllergyIntolerance",
        "Appointment",
        "CarePlan",
        "ClinicalImpression",
        "Composition",
        "Condition",
        "Consent",
        "DiagnosticReport",
        "DocumentReference",
        "Encounter",
        "EpisodeOfCare",
        "FamilyMemberHistory",
        "Goal",
        "HealthcareService",
        "ImagingStudy",
        "Immunization",
        "Location",
        "Medication",
        "MedicationAdministration",
        "MedicationDispense",
        "MedicationRequest",
        "MedicationStatement",
        "NutritionOrder",
        "Observation",
        "Organization",
        "Patient",
        "Practitioner",
        "PractitionerRole",
        "Procedure",
        "QuestionnaireResponse",
        "RelatedPerson",
        "RiskAssessment",
        "ServiceRequest",
        "Specimen",
    }
)

# The platform echoes an empty identifier list on these when none was sent.
ECHO_EMPTY_IDENTIFIER = frozenset({"Condition", "Observation", "Procedure"})


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.unparseable(f"invalid JSON: {exc}") from exc


def parse_resource(raw: bytes, resource_type: str) -> JsonDict:
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise errors.unparseable("payload must be a JSON object")
    found = body.get("resourceType")
    if found != resource_type:
        raise errors.unparseable(
            f'resource type "{found}" does not match the request URL type "{resource_type}"',
            resource_type,
        )
    return body


def build_stored(
    resource_type: str, resource_id: str, body: JsonDict, owner: str | None, stamp: int
) -> StoredResource:
    resource = copy.deepcopy(body)
    resource["resourceType"] = resource_type
    resource["id"] = resource_id
    if resource_type in ECHO_EMPTY_IDENTIFIER:
        resource.setdefault("identifier", [])
    stamp_meta(resource, stamp)
    return StoredResource(resource_type, resource_id, resource, owner, stamp)


def context(sim: Simulator, org_id: str, prefix: str, **kwargs: Any) -> ValidationContext:
    return ValidationContext(
        store=sim.store,
        config=sim.config,
        org_id=org_id,
        now=sim.clock.now_datetime(),
        prefix=prefix,
        **kwargs,
    )


def read_resource(sim: Simulator, resource_type: str, resource_id: str) -> StoredResource:
    stored = sim.store.get(resource_type, resource_id)
    if stored is None:
        raise errors.not_found(resource_type, resource_id)
    return stored


def create_resource(
    sim: Simulator, resource_type: str, body: JsonDict, org_id: str
) -> StoredResource:
    with sim.store.lock:
        validate_resource(body, context(sim, org_id, resource_type))
        stored = build_stored(
            resource_type, str(uuid.uuid4()), body, org_id, sim.clock.next_version_stamp()
        )
        sim.store.put(stored)
    return stored


def check_owner(sim: Simulator, existing: StoredResource, org_id: str) -> None:
    if existing.owner_org is not None and existing.owner_org != org_id:
        raise errors.business_rule(sim.config, existing.resource_type)


def update_resource(
    sim: Simulator, resource_type: str, resource_id: str, body: JsonDict, org_id: str
) -> StoredResource:
    payload_id = body.get("id")
    if payload_id != resource_id:
        raise errors.resource_mismatch(resource_id, "" if payload_id is None else str(payload_id))
    with sim.store.lock:
        existing = read_resource(sim, resource_type, resource_id)
        check_owner(sim, existing, org_id)
        validate_resource(body, context(sim, org_id, resource_type, current_id=resource_id))
        stored = build_stored(
            resource_type,
            resource_id,
            body,
            existing.owner_org or org_id,
            sim.clock.next_version_stamp(),
        )
        sim.store.put(stored)
    return stored


def patch_resource(
    sim: Simulator, resource_type: str, resource_id: str, operations: Any, org_id: str
) -> StoredResource:
    with sim.store.lock:
        existing = read_resource(sim, resource_type, resource_id)
        patched = apply_json_patch(existing.resource, operations)
        patched["resourceType"] = resource_type
        patched["id"] = resource_id
        return update_resource(sim, resource_type, resource_id, patched, org_id)
