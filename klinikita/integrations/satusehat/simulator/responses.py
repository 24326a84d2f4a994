"""Response builders shared by the route modules."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from .errors import FhirError
from .paths import FHIR_PREFIX
from .store import StoredResource

JSON_CONTENT_TYPE = "application/json"


def json_response(
    body: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
    *,
    sort_keys: bool = True,
    content_type: str = JSON_CONTENT_TYPE,
) -> Response:
    # The platform returns keys alphabetically sorted.
    payload = json.dumps(body, sort_keys=sort_keys, ensure_ascii=False, separators=(",", ":"))
    return Response(
        payload.encode("utf-8"), status_code=status, headers=headers, media_type=content_type
    )


def error_response(error: FhirError) -> Response:
    return json_response(error.body, error.status, error.headers)


def empty_not_found() -> Response:
    """What the load balancer answers for a wrong URL: 404, empty body."""
    return Response(b"", status_code=404)


def resource_headers(stored: StoredResource, base: str) -> dict[str, str]:
    return {
        "ETag": f'W/"{stored.version_id}"',
        "Last-Modified": stored.last_modified_header,
        "Location": (
            f"{base}{FHIR_PREFIX}/{stored.resource_type}/{stored.id}/_history/{stored.version_id}"
        ),
    }
