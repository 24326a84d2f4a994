"""FHIR searches (the parameters of API.md section 17) returning `searchset` Bundles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from . import mpi
from .seed import NIK_SYSTEM
from .store import ResourceStore, StoredResource, identifiers_of

JsonDict = dict[str, Any]
Params = list[tuple[str, str]]
Matcher = Callable[[JsonDict, str], bool]


def _reference_matches(reference: Any, wanted: str, target_type: str) -> bool:
    ref = reference.get("reference") if isinstance(reference, dict) else None
    if not isinstance(ref, str):
        return False
    if "/" not in wanted:
        wanted = f"{target_type}/{wanted}"
    return ref == wanted or ref.endswith("/" + wanted)


def _ref_field(field: str, target_type: str, many: bool = False) -> Matcher:
    def match(resource: JsonDict, wanted: str) -> bool:
        value = resource.get(field)
        values = value if many and isinstance(value, list) else [value]
        return any(_reference_matches(v, wanted, target_type) for v in values)

    return match


def _identifier(resource: JsonDict, wanted: str) -> bool:
    system, sep, value = wanted.partition("|")
    if not sep:
        system, value = "", wanted
    return any(
        (not sep or s == system) and (not value or v == value) for s, v in identifiers_of(resource)
    )


def _texts_of_name(resource: JsonDict) -> list[str]:
    name = resource.get("name")
    if isinstance(name, str):
        return [name]
    texts = []
    for item in name if isinstance(name, list) else []:
        if isinstance(item, dict):
            parts = [item.get("text", "")] + list(item.get("given", [])) + [item.get("family", "")]
            texts.extend(p for p in parts if isinstance(p, str) and p)
    return texts


def _name(resource: JsonDict, wanted: str) -> bool:
    wanted = wanted.casefold().strip()
    return any(wanted in text.casefold() for text in _texts_of_name(resource))


def _birthdate(resource: JsonDict, wanted: str) -> bool:
    return str(resource.get("birthDate", "")).startswith(wanted)


def _gender(resource: JsonDict, wanted: str) -> bool:
    return resource.get("gender") == wanted


def _nik(resource: JsonDict, wanted: str) -> bool:
    return _identifier(resource, f"{NIK_SYSTEM}|{wanted}")


def _status(resource: JsonDict, wanted: str) -> bool:
    return resource.get("status") in wanted.split(",")


def _code(resource: JsonDict, wanted: str) -> bool:
    system, sep, code = wanted.partition("|")
    if not sep:
        system, code = "", wanted
    codings = (resource.get("code") or {}).get("coding") or []
    return any(
        isinstance(c, dict) and c.get("code") == code and (not sep or c.get("system") == system)
        for c in codings
    )


_SUBJECT = _ref_field("subject", "Patient")
_ENCOUNTER = _ref_field("encounter", "Encounter")

MATCHERS: dict[str, dict[str, Matcher]] = {
    "Patient": {
        "identifier": _identifier,
        "nik": _nik,
        "name": _name,
        "birthdate": _birthdate,
        "gender": _gender,
    },
    "Practitioner": {
        "identifier": _identifier,
        "nik": _nik,
        "name": _name,
        "birthdate": _birthdate,
        "gender": _gender,
    },
    "Organization": {
        "identifier": _identifier,
        "name": _name,
        "partof": _ref_field("partOf", "Organization"),
    },
    "Location": {
        "identifier": _identifier,
        "name": _name,
        "organization": _ref_field("managingOrganization", "Organization"),
        "partof": _ref_field("partOf", "Location"),
    },
    "Encounter": {
        "subject": _SUBJECT,
        "patient": _SUBJECT,
        "identifier": _identifier,
        "status": _status,
    },
    "Condition": {
        "subject": _SUBJECT,
        "patient": _SUBJECT,
        "encounter": _ENCOUNTER,
        "code": _code,
        "identifier": _identifier,
    },
    "Observation": {
        "subject": _SUBJECT,
        "patient": _SUBJECT,
        "encounter": _ENCOUNTER,
        "code": _code,
        "identifier": _identifier,
        "based-on": _ref_field("basedOn", "ServiceRequest", many=True),
    },
}
GENERIC_MATCHERS: dict[str, Matcher] = {
    "subject": _SUBJECT,
    "patient": _ref_field("patient", "Patient"),
    "encounter": _ENCOUNTER,
    "identifier": _identifier,
}

# Registries never dump their whole content: a search with no usable parameter finds nothing.
_REGISTRY_TYPES = frozenset({"Patient", "Practitioner"})


def _view(resource_type: str, resource: JsonDict, params: Params) -> JsonDict:
    if resource_type != "Patient":
        return resource
    by_nik = any(
        key == "identifier" and value.startswith(NIK_SYSTEM + "|") for key, value in params
    )
    return mpi.nik_search_view(resource) if by_nik else mpi.masked(resource)


def search(store: ResourceStore, resource_type: str, params: Params, fhir_base: str) -> JsonDict:
    matchers = MATCHERS.get(resource_type, GENERIC_MATCHERS)
    active = [(matchers[key], value) for key, value in params if key in matchers]
    found: list[StoredResource]
    if not active and resource_type in _REGISTRY_TYPES:
        found = []
    else:
        found = [
            item
            for item in store.all(resource_type)
            if all(match(item.resource, value) for match, value in active)
        ]
    self_url = f"{fhir_base}/{resource_type}/?{urlencode(sorted(params))}"
    bundle: JsonDict = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(found),
        "link": [
            {"relation": "search", "url": self_url},
            {"relation": "first", "url": self_url},
            {"relation": "self", "url": self_url},
        ],
    }
    if found:
        bundle["entry"] = [
            {
                "fullUrl": f"{fhir_base}/{resource_type}/{item.id}",
                "resource": _view(resource_type, item.resource, params),
            }
            for item in found
        ]
    return bundle
