"""FHIR R4 endpoints under `/fhir-r4/v1`: bearer check, CRUD, search, transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from . import errors, mpi
from .paths import FHIR_PREFIX, public_base
from .resources import (
    REGISTRY_TYPES,
    SUPPORTED_TYPES,
    create_resource,
    parse_json,
    parse_resource,
    patch_resource,
    read_resource,
    update_resource,
)
from .responses import empty_not_found, json_response, resource_headers
from .search import search
from .tokens import IssuedToken
from .transaction import process_transaction

if TYPE_CHECKING:
    from .simulator import Simulator


def authenticate(sim: Simulator, request: Request) -> IssuedToken:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    token = sim.tokens.validate(value.strip()) if scheme.lower() == "bearer" else None
    client = sim.clients.get(token.client_id) if token else None
    if token is None or client is None:
        raise errors.invalid_access_token(sim.config)
    if not client.fhir_access:
        raise errors.no_api_product()
    return token


def _read_only(resource_type: str) -> errors.FhirError:
    return errors.not_supported(
        f"{resource_type} is a national registry resource and cannot be changed here"
    )


async def handle(sim: Simulator, request: Request, sub_path: str) -> Response:
    """`sub_path` is what follows `/fhir-r4/v1`, e.g. `/Encounter/<id>`."""
    token = authenticate(sim, request)
    segments = [s for s in sub_path.split("/") if s]
    base = public_base(request, sim.config.public_base_url)
    fhir_base = base + FHIR_PREFIX
    method = request.method

    if not segments:
        if method != "POST":
            return empty_not_found()
        bundle = parse_json(await request.body())
        result = process_transaction(sim, bundle, token.organization_id, fhir_base)
        return json_response(result)

    resource_type = segments[0]
    if resource_type not in SUPPORTED_TYPES:
        return empty_not_found()

    if len(segments) == 1:
        if method == "GET":
            params = list(request.query_params.multi_items())
            return json_response(search(sim.store, resource_type, params, fhir_base))
        if method == "POST":
            body = parse_resource(await request.body(), resource_type)
            if resource_type == "Patient":
                with sim.store.lock:
                    result = mpi.create_patient(
                        sim.store,
                        body,
                        sim.clock.next_version_stamp(),
                        accept_any_valid_nik=sim.config.dukcapil_accepts_any_valid_nik,
                    )
                return json_response(result, sort_keys=False)
            if resource_type in REGISTRY_TYPES:
                raise _read_only(resource_type)
            stored = create_resource(sim, resource_type, body, token.organization_id)
            return json_response(stored.resource, 201, resource_headers(stored, base))
        return empty_not_found()

    resource_id = segments[1]
    if len(segments) == 2:
        if method == "GET":
            stored = read_resource(sim, resource_type, resource_id)
            body = mpi.read_view(stored.resource) if resource_type == "Patient" else stored.resource
            headers = resource_headers(stored, base)
            del headers["Location"]
            return json_response(body, 200, headers)
        if method in ("PUT", "PATCH"):
            if resource_type in REGISTRY_TYPES:
                raise _read_only(resource_type)
            raw = await request.body()
            if method == "PUT":
                body = parse_resource(raw, resource_type)
                stored = update_resource(
                    sim, resource_type, resource_id, body, token.organization_id
                )
            else:
                operations = parse_json(raw)
                stored = patch_resource(
                    sim, resource_type, resource_id, operations, token.organization_id
                )
            return json_response(stored.resource, 200, resource_headers(stored, base))
        return empty_not_found()

    if len(segments) == 4 and segments[2] == "_history" and method == "GET":
        stored = read_resource(sim, resource_type, resource_id)
        if stored.version_id != segments[3]:
            raise errors.not_found(resource_type, f"{resource_id}/_history/{segments[3]}")
        body = mpi.read_view(stored.resource) if resource_type == "Patient" else stored.resource
        return json_response(body, 200, resource_headers(stored, base))
    return empty_not_found()
