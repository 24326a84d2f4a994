"""Error bodies as SATUSEHAT sends them: FHIR OperationOutcome, Apigee faults, token errors."""

from __future__ import annotations

from typing import Any

from .config import SimulatorConfig

JsonDict = dict[str, Any]

TOKEN_AUTH_FAILED_TEXT = (
    "The user or system was not able to be authenticated "
    "(either client_id or client_secret combination is unacceptable)"
)
TOKEN_RATE_LIMITED_TEXT = (
    "Authentication temporarily cannot be performed due to the rate limit policy. "
    "Rate limit: 1 request per minute after a failed attempt."
)
BUSINESS_RULE_TEXT = "resource cannot be accessed due to business rule"


class FhirError(Exception):
    """An error answer; raised anywhere in request handling and rendered by the app."""

    def __init__(self, status: int, body: JsonDict, headers: dict[str, str] | None = None):
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def issue(
    code: str,
    text: str | None = None,
    *,
    diagnostics: str | None = None,
    expression: list[str] | None = None,
    severity: str = "error",
) -> JsonDict:
    entry: JsonDict = {"severity": severity, "code": code}
    if text is not None:
        entry["details"] = {"text": text}
    if diagnostics is not None:
        entry["diagnostics"] = diagnostics
    if expression:
        entry["expression"] = expression
    return entry


def operation_outcome(issues: list[JsonDict], *, generated: bool = False) -> JsonDict:
    body: JsonDict = {"resourceType": "OperationOutcome", "issue": issues}
    if generated:
        body["text"] = {"status": "generated"}
    return body


def validation_error(issues: list[JsonDict]) -> FhirError:
    return FhirError(400, operation_outcome(issues, generated=True))


def not_found(resource_type: str, resource_id: str) -> FhirError:
    return FhirError(
        404,
        operation_outcome(
            [
                issue(
                    "not-found",
                    "resource_not_found",
                    diagnostics=f"resource not found: {resource_type}/{resource_id}",
                )
            ]
        ),
    )


def resource_mismatch(url_id: str, payload_id: str) -> FhirError:
    return FhirError(
        400,
        operation_outcome(
            [
                issue(
                    "structure",
                    "resource_mismatch",
                    diagnostics=(
                        f"resource id mismatch, id of specified resource: {url_id}, "
                        f"id from payload: {payload_id}"
                    ),
                )
            ]
        ),
    )


def unparseable(diagnostics: str, expression: str | None = None) -> FhirError:
    return FhirError(
        400,
        operation_outcome(
            [
                issue(
                    "structure",
                    "unparseable_resource",
                    diagnostics=diagnostics,
                    expression=[expression] if expression else None,
                )
            ]
        ),
    )


def duplicate(resource_type: str) -> FhirError:
    # Both texts are verbatim from the official captures (Encounter vs Medication differ).
    text = (
        "Found duplicate: Medication"
        if resource_type == "Medication"
        else f"Found duplicate resource: {resource_type}"
    )
    return FhirError(400, operation_outcome([issue("duplicate", text)], generated=True))


def business_rule(config: SimulatorConfig, expression: str) -> FhirError:
    return FhirError(
        config.business_rule_status,
        operation_outcome([issue("forbidden", BUSINESS_RULE_TEXT, expression=[expression])]),
    )


def not_supported(text: str, status: int = 405) -> FhirError:
    return FhirError(status, operation_outcome([issue("not-supported", text)]))


def apigee_fault(status: int, faultstring: str, errorcode: str) -> FhirError:
    return FhirError(
        status,
        {"fault": {"faultstring": faultstring, "detail": {"errorcode": errorcode}}},
        {
            "WWW-Authenticate": (
                'Bearer realm="null",error="invalid_token",'
                f'error_description="{errorcode}: {faultstring}"'
            )
        },
    )


def invalid_access_token(config: SimulatorConfig) -> FhirError:
    if config.invalid_token_style == "operation_outcome":
        error = FhirError(
            401,
            operation_outcome([issue("invalid-access-token", "Invalid Access Token.")]),
        )
        error.headers["WWW-Authenticate"] = (
            'Bearer realm="null",error="invalid_token",'
            'error_description="oauth.v2.InvalidAccessToken: Invalid access token"'
        )
        return error
    return apigee_fault(401, "Invalid access token", "oauth.v2.InvalidAccessToken")


def no_api_product() -> FhirError:
    return apigee_fault(
        401,
        "Invalid API call as no apiproduct match found",
        "keymanagement.service.InvalidAPICallAsNoApiProductMatchFound",
    )


def quota_violation_body() -> JsonDict:
    return {
        "fault": {
            "faultstring": (
                "Rate limit quota violation. Quota limit  exceeded. Identifier : _default"
            ),
            "detail": {"errorcode": "policies.ratelimit.QuotaViolation"},
        }
    }


def token_auth_failed() -> FhirError:
    # Verbatim official body, including the odd `"severity": "invalid"`.
    return FhirError(
        401,
        operation_outcome([issue("value", TOKEN_AUTH_FAILED_TEXT, severity="invalid")]),
    )


def token_rate_limited(status: int, retry_after: int) -> FhirError:
    return FhirError(
        status,
        operation_outcome([issue("throttled", TOKEN_RATE_LIMITED_TEXT)]),
        {"Retry-After": str(max(retry_after, 1))},
    )


def invalid_client() -> FhirError:
    return FhirError(401, {"ErrorCode": "invalid_client", "Error": "ClientId is Invalid"})


def missing_grant_type() -> FhirError:
    return FhirError(400, {"ErrorCode": "invalid_request", "Error": "Required param : grant_type"})


def unsupported_grant_type(value: str) -> FhirError:
    return FhirError(
        400,
        {"ErrorCode": "unsupported_grant_type", "Error": f"Unsupported grant type : {value}"},
    )
