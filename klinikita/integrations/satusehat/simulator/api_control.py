"""Control endpoints under `/_sim/` (not part of SATUSEHAT): faults, reset, clients, counters."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from .clients import SimClient
from .faults import FaultRule
from .responses import json_response

if TYPE_CHECKING:
    from .simulator import Simulator


def _problem(status: int, message: str) -> Response:
    return json_response({"error": message}, status)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    return json.loads(raw)


def _identifier_param(request: Request) -> tuple[str, str] | None:
    value = request.query_params.get("identifier")
    if not value:
        return None
    system, _, token = value.partition("|")
    return system, token


async def handle(sim: Simulator, request: Request, sub_path: str) -> Response:
    """`sub_path` is what follows `/_sim`."""
    parts = [p for p in sub_path.split("/") if p]
    method = request.method
    try:
        body = await _json_body(request) if method in ("POST", "PUT", "PATCH") else {}
    except ValueError as exc:
        return _problem(400, f"invalid JSON: {exc}")
    route = parts[0] if parts else ""

    if route == "health" and method == "GET":
        return json_response({"status": "ok"})
    if route == "stats" and method == "GET":
        return json_response(sim.stats.snapshot())
    if route == "reset" and method == "POST":
        sim.reset()
        return json_response({"status": "reset"})
    if route == "faults":
        return _faults(sim, method, parts[1:], body)
    if route == "tokens" and parts[1:] == ["expire"] and method == "POST":
        return json_response({"expired": sim.expire_all_tokens()})
    if route == "clients":
        return _clients(sim, method, body)
    if route == "resources" and method == "GET":
        include_seeded = request.query_params.get("include_seeded", "").lower() == "true"
        if len(parts) == 1:
            return json_response({"counts": sim.store.counts(include_seeded=include_seeded)})
        resource_type = parts[1]
        identifier = _identifier_param(request)
        resources = sim.list_resources(resource_type, identifier, include_seeded=include_seeded)
        return json_response(
            {"resourceType": resource_type, "total": len(resources), "resources": resources}
        )
    if route == "config":
        if method == "PATCH" or method == "POST":
            try:
                sim.config.update(body)
            except (KeyError, TypeError) as exc:
                return _problem(400, f"unknown config field {exc}")
        elif method != "GET":
            return _problem(405, "use GET or PATCH")
        return json_response(sim.config.to_dict())
    if route == "clock":
        if method == "POST":
            if body.get("reset"):
                sim.clock.reset()
            sim.clock.advance(float(body.get("advance_seconds", 0)))
        return json_response({"offset_seconds": sim.clock.offset_seconds, "now": sim.clock.now()})
    return _problem(404, f"unknown control endpoint {request.method} /_sim/{'/'.join(parts)}")


def _faults(sim: Simulator, method: str, rest: list[str], body: Any) -> Response:
    if method == "GET" and not rest:
        return json_response({"faults": [r.to_dict() for r in sim.faults.rules()]})
    if method == "DELETE":
        if rest:
            removed = sim.faults.remove(rest[0])
            return json_response({"removed": removed}, 200 if removed else 404)
        sim.faults.clear()
        return json_response({"cleared": True})
    if method == "POST" and not rest:
        items = body if isinstance(body, list) else [body]
        created = []
        for item in items:
            if not isinstance(item, dict):
                return _problem(400, "a fault must be a JSON object")
            if item.get("kind") == "expire_tokens":
                created.append({"kind": "expire_tokens", "expired": sim.expire_all_tokens()})
                continue
            try:
                rule = sim.faults.add(FaultRule.from_dict(item))
            except (TypeError, ValueError) as exc:
                return _problem(400, str(exc))
            created.append(rule.to_dict())
        return json_response({"faults": created}, 201)
    return _problem(405, "use GET, POST or DELETE")


def _clients(sim: Simulator, method: str, body: Any) -> Response:
    if method == "GET":
        return json_response({"clients": [c.to_dict() for c in sim.clients.all()]})
    if method != "POST":
        return _problem(405, "use GET or POST")
    if not isinstance(body, dict):
        return _problem(400, "client must be a JSON object")
    missing = [k for k in ("client_id", "client_secret", "organization_id") if not body.get(k)]
    if missing:
        return _problem(400, f"missing fields: {', '.join(missing)}")
    client = sim.add_client(
        SimClient(
            str(body["client_id"]),
            str(body["client_secret"]),
            str(body["organization_id"]),
            str(body.get("name") or f"Fasyankes {body['organization_id']}"),
            fhir_access=bool(body.get("fhir_access", True)),
        )
    )
    return json_response(client.to_dict(), 201)
