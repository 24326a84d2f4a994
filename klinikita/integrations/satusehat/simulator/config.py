"""Tunable behaviour of the simulator (everything API.md marks as uncertain is a knob here)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SimulatorConfig:
    # Token endpoint (API.md section 2).
    token_lifetime_seconds: int = 3599
    lockout_seconds: int = 60
    # Status of the "rate limit after a failed attempt" answer; undocumented, 429 chosen.
    lockout_status: int = 429
    api_product_list: tuple[str, ...] = ("api-satusehat-stg", "api-dev")
    organization_name: str = "ihs-prod-1"

    # FHIR gateway.
    # "apigee" (official 2022 Postman) or "operation_outcome" (2024 integrator capture).
    invalid_token_style: str = "apigee"
    # Status of "resource cannot be accessed due to business rule"; undocumented, 400 chosen
    # because the only captured `forbidden` OperationOutcome (consent) came with 400.
    business_rule_status: int = 400
    reference_error_text: str = "Referenced resource not found: {reference} ({element})"
    # Require `+00:00`/`Z` offsets on dateTimes (the docs ask for UTC since Nov 2023).
    strict_utc: bool = False
    earliest_date: str = "2014-06-03"
    # Grace for "must not be in the future" checks (clock skew between clinic and server).
    future_tolerance_seconds: int = 0
    # Default Retry-After of an injected 429.
    retry_after_seconds: int = 1
    # Overrides the base URL used in fullUrl/link/location (otherwise taken from the request).
    public_base_url: str | None = None

    # MPI: when True any 16-digit NIK counts as a Dukcapil citizen for `POST Patient`.
    dukcapil_accepts_any_valid_nik: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def copy(self) -> SimulatorConfig:
        return dataclasses.replace(self, extra=dict(self.extra))

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["api_product_list"] = list(self.api_product_list)
        return data

    def update(self, changes: dict[str, Any]) -> None:
        """Apply known fields from `changes`; unknown names raise KeyError."""
        names = {f.name for f in dataclasses.fields(self)}
        for key, value in changes.items():
            if key not in names:
                raise KeyError(key)
            if key == "api_product_list":
                value = tuple(value)
            setattr(self, key, value)
