"""URL layout of the simulated platform, and base-URL helpers that honour `root_path`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import Scope

AUTH_PREFIX = "/oauth2/v1"
AUTH_TOKEN_PATH = AUTH_PREFIX + "/accesstoken"
FHIR_PREFIX = "/fhir-r4/v1"
CONSENT_PREFIX = "/consent/v1"
CONTROL_PREFIX = "/_sim"
KFA_PREFIX = "/kfa-v2"


def route_path(scope: Scope) -> str:
    """Path below the simulator's mount point (works standalone, mounted or with root_path)."""
    path: str = scope.get("path", "") or "/"
    root: str = scope.get("root_path", "") or ""
    if root and (path == root or path.startswith(root + "/")):
        path = path[len(root) :] or "/"
    return path


def public_base(request: Request, override: str | None = None) -> str:
    """Absolute URL of the simulator root, e.g. `http://127.0.0.1:9080/satusehat-sim`."""
    if override:
        return override.rstrip("/")
    scheme = request.url.scheme
    host = request.headers.get("host")
    if not host:
        server = request.scope.get("server") or ("localhost", None)
        host = f"{server[0]}:{server[1]}" if server[1] else str(server[0])
    root = (request.scope.get("root_path", "") or "").rstrip("/")
    return f"{scheme}://{host}{root}"
