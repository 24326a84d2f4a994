"""Master Patient Index behaviour: NIK masking, response views and the non-FHIR patient create."""

from __future__ import annotations

import copy
import re
import secrets
from typing import Any

from . import errors
from .errors import issue
from .seed import ADMIN_CODE_URL, NIK_IBU_SYSTEM, NIK_SYSTEM, PATIENT_IHS_SYSTEM, PATIENT_PROFILE
from .store import ResourceStore, StoredResource, stamp_meta

JsonDict = dict[str, Any]

NIK_MASK = "#" * 16
_NIK_PATTERN = re.compile(r"^\d{16}$")
_DATE_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
GENDERS = frozenset({"male", "female", "other", "unknown"})
# The administrativeCode parts a patient's address needs (API.md 4.3; rt and rw optional).
ADMIN_CODE_PARTS = ("province", "city", "district", "village")

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


def _required(element: str) -> JsonDict:
    return issue("value", f"Patient.{element} is required", expression=[f"Patient.{element}"])


def _address_problems(body: JsonDict) -> list[JsonDict]:
    addresses = body.get("address")
    if not isinstance(addresses, list) or not addresses or not isinstance(addresses[0], dict):
        return [_required("address")]
    codes: dict[str, Any] = {}
    for extension in addresses[0].get("extension") or []:
        if isinstance(extension, dict) and extension.get("url") == ADMIN_CODE_URL:
            for part in extension.get("extension") or []:
                if isinstance(part, dict):
                    codes[part.get("url")] = part.get("valueCode")
    return [
        _required(f"address[0].extension.administrativeCode.{part}")
        for part in ADMIN_CODE_PARTS
        if not (isinstance(codes.get(part), str) and codes[part].strip())
    ]


def mandatory_problems(body: JsonDict) -> list[JsonDict]:
    """What API.md 4.3 puts in every created patient, missing from `body`: an identifier
    (NIK or, for a newborn, the mother's NIK), name, gender, birthDate, and the address with
    its administrativeCode. Issues in the FHIR store's `value` shape, one per element."""
    problems: list[JsonDict] = []
    if not (_identifier_value(body, NIK_SYSTEM) or _identifier_value(body, NIK_IBU_SYSTEM)):
        problems.append(_required("identifier"))
    names = body.get("name")
    first = names[0] if isinstance(names, list) and names else None
    text = first.get("text") if isinstance(first, dict) else None
    if not (isinstance(text, str) and text.strip()):
        problems.append(_required("name"))
    if body.get("gender") not in GENDERS:
        problems.append(_required("gender"))
    born = body.get("birthDate")
    if not (isinstance(born, str) and _DATE_PATTERN.match(born)):
        problems.append(_required("birthDate"))
    problems += _address_problems(body)
    return problems


def _birth_order(resource: JsonDict) -> int:
    value = resource.get("multipleBirthInteger")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _known_citizen(store: ResourceStore, nik: str, accept_any_valid_nik: bool) -> bool:
    """Dukcapil knows the NIK: a patient of the MPI has it, or (the simulator's default) any
    16-digit NIK counts as a citizen."""
    if not _NIK_PATTERN.match(nik):
        return False
    return accept_any_valid_nik or bool(store.find_by_identifier("Patient", NIK_SYSTEM, nik))


def create_patient(
    store: ResourceStore, body: JsonDict, stamp: int, *, accept_any_valid_nik: bool
) -> JsonDict:
    """`POST Patient`: the MPI answers HTTP 200 with a non-FHIR `{success, message, data}`;
    a body without what API.md 4.3 lists is refused with a 400 OperationOutcome (FhirError).
    A newborn (identifier `nik-ibu`) needs a mother Dukcapil knows; the same baby (mother,
    birth date, name, birth order) sent again is answered with its existing IHS number."""
    problems = mandatory_problems(body)
    if problems:
        raise errors.validation_error(problems)
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
            known = candidate.resource
            if (
                known.get("birthDate") == body.get("birthDate")
                and known.get("name") == body.get("name")
                and _birth_order(known) == _birth_order(body)
            ):
                return {
                    "success": False,
                    "message": "Failed to create new patient, another identifier has found",
                    "data": {"resourceID": candidate.id},
                }
        if not _known_citizen(store, mother_nik, accept_any_valid_nik):
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
