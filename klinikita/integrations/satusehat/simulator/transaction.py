"""`POST /fhir-r4/v1` transaction Bundles: validate all entries, then persist all or nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import errors
from .resources import REGISTRY_TYPES, SUPPORTED_TYPES, build_stored, check_owner, context
from .store import StoredResource
from .validation import URN_UUID_PATTERN, unique_identifiers, validate_resource

if TYPE_CHECKING:
    from .simulator import Simulator

JsonDict = dict[str, Any]


@dataclass
class _PlannedEntry:
    index: int
    method: str
    resource_type: str
    resource_id: str
    resource: JsonDict
    existing: StoredResource | None


def _rewrite_references(node: Any, refs: dict[str, tuple[str, str]]) -> Any:
    """Replace every `urn:uuid:` reference of the bundle by `Type/id`, anywhere in the tree."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "reference" and isinstance(value, str) and value in refs:
                rtype, rid = refs[value]
                out[key] = f"{rtype}/{rid}"
            else:
                out[key] = _rewrite_references(value, refs)
        return out
    if isinstance(node, list):
        return [_rewrite_references(item, refs) for item in node]
    return node


def _check_full_url(
    full_url: Any, method: str, url: str, where: str, seen: dict[str, tuple[str, str]]
) -> None:
    """A created entry is named `urn:uuid:<uuid>` (API.md 12), so others can reference it;
    an updated one may be named by its own `Type/id`. No two entries share a name."""

    def refuse(text: str) -> errors.FhirError:
        return errors.validation_error(
            [errors.issue("value", text, expression=[f"{where}.fullUrl"])]
        )

    if full_url is None and method != "POST":
        return
    if not isinstance(full_url, str) or not full_url:
        raise refuse(f"{where}.fullUrl is required for a POST entry: urn:uuid:<uuid>")
    if URN_UUID_PATTERN.match(full_url):
        if full_url in seen:
            raise refuse(f"{where}.fullUrl {full_url} is used by another entry")
        return
    if method == "POST" or not full_url.rstrip("/").endswith("/" + url):
        raise refuse(
            f"{where}.fullUrl {full_url!r} must be urn:uuid:<uuid>"
            + ("" if method == "POST" else f" or the URL of {url}")
        )


def _plan(sim: Simulator, bundle: Any) -> tuple[list[_PlannedEntry], dict[str, tuple[str, str]]]:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise errors.unparseable('the request body must be a "Bundle" resource')
    if bundle.get("type") != "transaction":
        raise errors.unparseable(
            f'Bundle.type must be "transaction", got {bundle.get("type")!r}', "Bundle.type"
        )
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise errors.unparseable(
            'invalid value for field "entry": expected an array', "Bundle.entry"
        )
    planned: list[_PlannedEntry] = []
    refs: dict[str, tuple[str, str]] = {}
    for index, entry in enumerate(entries):
        where = f"Bundle.entry[{index}]"
        if not isinstance(entry, dict):
            raise errors.unparseable("bundle entry must be an object", where)
        resource, request = entry.get("resource"), entry.get("request")
        if not isinstance(resource, dict):
            raise errors.unparseable('missing required field "resource"', f"{where}.resource")
        if not isinstance(request, dict):
            raise errors.unparseable('missing required field "request"', f"{where}.request")
        rtype = resource.get("resourceType")
        if rtype not in SUPPORTED_TYPES:
            raise errors.unparseable(
                f"unsupported resource type {rtype!r}", f"{where}.resource.resourceType"
            )
        if rtype in REGISTRY_TYPES:
            raise errors.not_supported(f"{rtype} cannot be written in a transaction", 400)
        for name in ("method", "url"):
            if not request.get(name):
                raise errors.unparseable(
                    f'missing required field "{name}"', f"{where}.request.{name}"
                )
        method = str(request.get("method", "")).upper()
        url = str(request.get("url", "")).strip("/")
        _check_full_url(entry.get("fullUrl"), method, url, where, refs)
        existing = None
        if method == "POST":
            if url.split("?")[0] != rtype:
                raise errors.unparseable(
                    f"request.url {url!r} does not match resource type {rtype}",
                    f"{where}.request.url",
                )
            resource_id = str(uuid.uuid4())
        elif method == "PUT":
            url_type, _, resource_id = url.partition("/")
            if url_type != rtype or not resource_id:
                raise errors.unparseable(
                    f"request.url {url!r} must be {rtype}/<id>", f"{where}.request.url"
                )
            if resource.get("id") != resource_id:
                raise errors.resource_mismatch(resource_id, str(resource.get("id", "")))
            existing = sim.store.get(rtype, resource_id)
            if existing is None:
                raise errors.not_found(rtype, resource_id)
        else:
            raise errors.not_supported(f"request.method {method!r} is not supported", 400)
        full_url = entry.get("fullUrl")
        if isinstance(full_url, str) and full_url:
            refs[full_url] = (rtype, resource_id)
        planned.append(_PlannedEntry(index, method, rtype, resource_id, resource, existing))
    return planned, refs


def process_transaction(sim: Simulator, bundle: Any, org_id: str, fhir_base: str) -> JsonDict:
    with sim.store.lock:
        planned, refs = _plan(sim, bundle)
        claimed: set[tuple[str, str, str]] = set()
        problems: list[JsonDict] = []
        for entry in planned:
            if entry.existing is not None:
                check_owner(sim, entry.existing, org_id)
            ctx = context(
                sim,
                org_id,
                f"Bundle.entry[{entry.index}].resource",
                bundle_refs=refs,
                bundle_identifiers=claimed,
                current_id=entry.resource_id if entry.method == "PUT" else None,
            )
            try:
                validate_resource(entry.resource, ctx)
            except errors.FhirError as error:
                issues = error.body.get("issue", [])
                # Rule violations of several entries are reported together; structure,
                # duplicate and business-rule errors stop at the first entry.
                if error.status == 400 and issues and all(i["code"] == "value" for i in issues):
                    problems.extend(issues)
                    continue
                raise
            claimed |= unique_identifiers(entry.resource)
        if problems:
            raise errors.validation_error(problems)

        stamp = sim.clock.next_version_stamp()
        stored = [
            build_stored(
                e.resource_type,
                e.resource_id,
                _rewrite_references(e.resource, refs),
                (e.existing.owner_org if e.existing else None) or org_id,
                stamp,
            )
            for e in planned
        ]
        sim.store.put_many(stored)

    return {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "total": len(stored),
        "entry": [
            {
                "response": {
                    "etag": f'W/"{item.version_id}"',
                    "lastModified": item.last_updated,
                    "location": (
                        f"{fhir_base}/{item.resource_type}/{item.id}/_history/{item.version_id}"
                    ),
                    "status": "201 Created" if entry.method == "POST" else "200 OK",
                    "resourceType": item.resource_type,
                    "resourceID": item.id,
                }
            }
            for entry, item in zip(planned, stored, strict=True)
        ],
    }
