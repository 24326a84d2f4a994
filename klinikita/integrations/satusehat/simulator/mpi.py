"""Master Patient Index behaviour: NIK masking, response views and the non-FHIR patient create."""

from __future__ import annotations

import copy
import re
import secrets
from typing import Any

from .seed import NIK_IBU_SYSTEM, NIK_SYSTEM, PATIENT_IHS_SYSTEM, PATIENT_PROFILE
from .store import ResourceStore, StoredResource, stamp_meta

JsonDict = dict[str, Any]

NIK_MASK = "#" * 16
_NIK_PATTERN = re.compile(r"^\d{16}$")

# Keys the 2024 sandbox returns for a NIK search entry and for a read by id (Postman
# captures: the read omits the name, the NIK search includes it; both mask the NIK).
NIK_SEARCH_KEYS = frozenset({"active", "id", "identifier", "link", "meta", "name", "resourceType"})
READ_KEYS = frozenset({"active", "id", "identifier", "link", "meta", "resourceType"})


def masked(resource: JsonDict) -> JsonDict:
    body = copy.deepcopy(resource)
    for item in body.get("identifier", []):
        if isinstance(item, dict) and item.get("system") in (NIK_SYSTEM, NIK_IBU_SYSTEM):
            item["value"] = NIK_MASK
    return body


def nik_search_view(resource: JsonDict) -> JsonDict:
    return {k: v for k, v in masked(resource).items() if k in NIK_SEARCH_KEYS}


def read_view(resource: JsonDict) -> JsonDict:
    return {k: v for k, v in masked(resource).items() if k in READ_KEYS}


def _identifier_value(resource: JsonDict, system: str) -> str | None:
    for item in resource.get("identifier") or []:
        if isinstance(item, dict) and item.get("system") == system:
            value = item.get("value")
            return value if isinstance(value, str) else None
    return None


def _new_ihs_number(store: ResourceStore) -> str:
    while True:
        candidate = "P" + "".join(secrets.choice("0123456789") for _ in range(11))
        if not store.exists("Patient", candidate):
            return candidate


def create_patient(
    store: ResourceStore, body: JsonDict, stamp: int, *, accept_any_valid_nik: bool
) -> JsonDict:
    """`POST Patient`: the MPI answers HTTP 200 with a non-FHIR `{success, message, data}`."""
    nik = _identifier_value(body, NIK_SYSTEM)
    mother_nik = _identifier_value(body, NIK_IBU_SYSTEM)
    if nik:
        existing = store.find_by_identifier("Patient", NIK_SYSTEM, nik)
        if existing:
            return {
                "success": False,
                "message": "Patient Resource Exists",
                "data": {"resourceID": existing[0].id},
            }
        if not (accept_any_valid_nik and _NIK_PATTERN.match(nik)):
            return {"success": False, "message": "Citizen Not Exists"}
    elif mother_nik:
        for candidate in store.find_by_identifier("Patient", NIK_IBU_SYSTEM, mother_nik):
            if candidate.resource.get("birthDate") == body.get(
                "birthDate"
            ) and candidate.resource.get("name") == body.get("name"):
                return {
                    "success": False,
                    "message": "Failed to create new patient, another identifier has found",
                    "data": {"resourceID": candidate.id},
                }
    else:
        return {"success": False, "message": "Citizen Not Exists"}

    ihs = _new_ihs_number(store)
    resource = copy.deepcopy(body)
    resource["resourceType"] = "Patient"
    resource["id"] = ihs
    resource["identifier"] = [
        {"system": PATIENT_IHS_SYSTEM, "use": "official", "value": ihs},
        *[i for i in body.get("identifier") or [] if isinstance(i, dict)],
    ]
    resource.setdefault("active", True)
    resource["meta"] = {"profile": [PATIENT_PROFILE + "|4.0.1", PATIENT_PROFILE]}
    stamp_meta(resource, stamp)
    store.put(StoredResource("Patient", ihs, resource, None, stamp))
    return {
        "success": True,
        "message": "New Patient has been created successfully",
        "data": {"Patient ID:": ihs},
    }
