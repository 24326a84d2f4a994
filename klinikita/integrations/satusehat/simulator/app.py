"""Starlette app factory. Run it standalone or mount it, e.g. `Mount("/satusehat-sim", app)`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import api_consent, api_control, api_fhir, api_kfa, api_oauth
from .errors import FhirError, issue, operation_outcome
from .gateway import SimulatorGateway
from .paths import (
    AUTH_TOKEN_PATH,
    CONSENT_PREFIX,
    CONTROL_PREFIX,
    FHIR_PREFIX,
    KFA_PREFIX,
    route_path,
)
from .responses import empty_not_found, error_response, json_response

if TYPE_CHECKING:
    from .simulator import Simulator

logger = logging.getLogger("klinikita.satusehat.simulator")

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

# Decides whether a request may use the control endpoints: None lets it through, a Response
# is the refusal sent instead.
ControlGuard = Callable[[Request], Awaitable[Response | None]]


def _below(path: str, prefix: str) -> str | None:
    if path == prefix or path.startswith(prefix + "/"):
        return path[len(prefix) :]
    return None


def create_app(simulator: Simulator, control: bool | ControlGuard = True) -> Starlette:
    """`control`: True serves the control endpoints (`/_sim/`) to anyone (a standalone
    simulator for tests and training), False leaves them out (404, like any unknown path),
    a guard serves them only to the requests it lets through."""

    async def dispatch(request: Request) -> Response:
        path = route_path(request.scope)
        try:
            if control and (rest := _below(path, CONTROL_PREFIX)) is not None:
                if callable(control) and (refusal := await control(request)) is not None:
                    return refusal
                return await api_control.handle(simulator, request, rest)
            if path == AUTH_TOKEN_PATH:
                return await api_oauth.access_token(simulator, request)
            if (rest := _below(path, FHIR_PREFIX)) is not None:
                return await api_fhir.handle(simulator, request, rest)
            if (rest := _below(path, CONSENT_PREFIX)) is not None:
                return await api_consent.handle(simulator, request, rest)
            if (rest := _below(path, KFA_PREFIX)) is not None:
                return await api_kfa.handle(simulator, request, rest)
            return empty_not_found()
        except FhirError as error:
            return error_response(error)
        except Exception:  # the real platform answers 500 OperationOutcomes too
            logger.exception("simulator failed on %s %s", request.method, path)
            body = operation_outcome([issue("exception", "internal_error")])
            return json_response(body, 500)

    app = Starlette(
        routes=[Route("/{path:path}", dispatch, methods=_METHODS)],
        middleware=[Middleware(SimulatorGateway, simulator=simulator)],
    )
    app.state.simulator = simulator
    return app
