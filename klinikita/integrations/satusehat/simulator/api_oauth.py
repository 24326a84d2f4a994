"""Token endpoint: `POST /oauth2/v1/accesstoken?grant_type=client_credentials`, form body."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from . import errors
from .responses import empty_not_found, error_response, json_response

if TYPE_CHECKING:
    from .simulator import Simulator


async def _form_fields(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if content_type != "application/x-www-form-urlencoded":
        return {}
    parsed = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


async def access_token(sim: Simulator, request: Request) -> Response:
    if request.method != "POST":
        return empty_not_found()
    # grant_type is read from the query string only, as the gateway does.
    grant_type = request.query_params.get("grant_type")
    form = await _form_fields(request)
    try:
        if not grant_type:
            raise errors.missing_grant_type()
        if grant_type != "client_credentials":
            raise errors.unsupported_grant_type(grant_type)
        _token, body = sim.tokens.issue(form.get("client_id"), form.get("client_secret"))
    except errors.FhirError as error:
        sim.stats.record_token(issued=False)
        return error_response(error)
    sim.stats.record_token(issued=True)
    return json_response(body, sort_keys=False)
