"""An async SATUSEHAT client for one branch: every call returns a typed outcome."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from klinikita.integrations.satusehat.config import Credentials
from klinikita.integrations.satusehat.exchange import Exchange, ExchangeSink, redact_body
from klinikita.integrations.satusehat.outcomes import (
    AuthFailed,
    Ok,
    Outcome,
    Rejected,
    Transient,
    classify,
    from_exception,
)
from klinikita.integrations.satusehat.tokens import TokenCache, TokenUnavailable
from klinikita.metrics import record_satusehat_call

NIK_SYSTEM = "https://fhir.kemkes.go.id/id/nik"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


@dataclass(frozen=True)
class Lookup:
    """A search by NIK: the IHS number, or None when SATUSEHAT does not know the NIK."""

    ihs_number: str | None
    name: str = ""


@dataclass(frozen=True)
class PatientCreated:
    """The MPI's answer to `POST Patient` (API.md 4.3, not FHIR): the IHS number of the new
    patient, or of the one that already existed (`existed`); None when refused, with the
    MPI's `message` (e.g. "Citizen Not Exists")."""

    ihs_number: str | None
    message: str = ""
    existed: bool = False


# Where the MPI puts the new IHS number: the official capture's odd "Patient ID:", and
# the spellings integrators read (API.md 4.3: the key name may vary).
_CREATED_ID_KEYS = ("Patient ID:", "Patient ID", "patient_id", "patientId", "resourceID", "id")


def _created_id(data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    for key in _CREATED_ID_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def new_http_client(*, connections: int = 100, **kwargs: Any) -> httpx.AsyncClient:
    # httpcore checks every pooled connection on each request: a pool no larger than the
    # caller's concurrency keeps that check cheap (the worker passes its own).
    limits = httpx.Limits(
        max_connections=connections, max_keepalive_connections=min(50, connections)
    )
    return httpx.AsyncClient(timeout=DEFAULT_TIMEOUT, limits=limits, **kwargs)


class SatusehatClient:
    def __init__(
        self,
        creds: Credentials,
        http: httpx.AsyncClient,
        tokens: TokenCache,
        sink: ExchangeSink | None = None,
    ) -> None:
        self.creds = creds
        self._http = http
        self._tokens = tokens
        self._sink = sink

    # ----- transport -----------------------------------------------------------------
    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        resource_type: str = "",
    ) -> Outcome:
        """One FHIR call. A 401 refreshes the token once and retries once."""
        url = f"{self.creds.fhir_url}/{path.lstrip('/')}" if path else self.creds.fhir_url
        outcome: Outcome | None = None
        for attempt in (1, 2):
            try:
                token = await self._tokens.get(self.creds, self._http, self._sink)
            except TokenUnavailable as unavailable:
                return unavailable.outcome
            outcome = await self._send(method, url, token, json, params, resource_type)
            if not isinstance(outcome, AuthFailed) or attempt == 2:
                return outcome
            self._tokens.invalidate(self.creds, token)
        return outcome  # pragma: no cover (the loop always returns)

    async def _send(self, method, url, token, body, params, resource_type) -> Outcome:  # noqa: ANN001
        started = time.perf_counter()
        headers = {"Authorization": f"Bearer {token}"}
        full_url = str(httpx.URL(url, params=params)) if params else url
        content = None
        if body is not None:
            # Encoded once: the same text is sent and logged.
            body = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
            content = body.encode()
            headers["Content-Type"] = "application/json"
        try:
            response = await self._http.request(
                method, url, content=content, params=params, headers=headers
            )
        except httpx.HTTPError as exc:
            outcome = from_exception(exc)
            await self._log(
                method, full_url, started, None, body, "", outcome.message, resource_type
            )
            return outcome
        await self._log(
            method, full_url, started, response.status_code, body, response.text, "", resource_type
        )
        return classify(response)

    async def _log(
        self,
        method,
        url,
        started,
        status,
        body,
        response_text,
        error,  # noqa: ANN001
        resource_type,
    ) -> None:
        record_satusehat_call("fhir", status, time.perf_counter() - started)
        if self._sink is None:
            return
        await self._sink(
            Exchange(
                method=method,
                url=url,
                status_code=status,
                duration_ms=int((time.perf_counter() - started) * 1000),
                request_body=redact_body(body),
                response_body=redact_body(response_text),
                error=error,
                resource_type=resource_type,
            )
        )

    # ----- operations ----------------------------------------------------------------
    async def check_connection(self) -> Ok | AuthFailed | Transient:
        """Tes koneksi: fetch a token (or reuse a fresh one)."""
        try:
            await self._tokens.get(self.creds, self._http, self._sink)
        except TokenUnavailable as unavailable:
            return unavailable.outcome
        return Ok(200, None)

    async def _find_by_nik(self, resource: str, nik: str) -> Outcome | Lookup:
        outcome = await self.request(
            "GET", resource, params={"identifier": f"{NIK_SYSTEM}|{nik}"}, resource_type=resource
        )
        if not isinstance(outcome, Ok):
            return outcome
        entries = (outcome.body or {}).get("entry") or [] if isinstance(outcome.body, dict) else []
        if not entries:
            return Lookup(None)
        found = entries[0].get("resource") or {}
        names = found.get("name") or [{}]
        return Lookup(found.get("id"), names[0].get("text", ""))

    async def find_patient_by_nik(self, nik: str) -> Outcome | Lookup:
        return await self._find_by_nik("Patient", nik)

    async def find_practitioner_by_nik(self, nik: str) -> Outcome | Lookup:
        return await self._find_by_nik("Practitioner", nik)

    async def create(self, resource: dict[str, Any]) -> Outcome:
        kind = resource["resourceType"]
        return await self.request("POST", kind, json=resource, resource_type=kind)

    async def create_patient(self, resource: dict[str, Any]) -> Outcome | PatientCreated:
        """`POST Patient` (a newborn by its mother's NIK, or a NIK unknown to the MPI): the
        MPI answers HTTP 200 with `{success, message, data}`; refusals of the payload come
        as OperationOutcomes (an outcome other than Ok)."""
        outcome = await self.request("POST", "Patient", json=resource, resource_type="Patient")
        if not isinstance(outcome, Ok):
            return outcome
        body = outcome.body if isinstance(outcome.body, dict) else {}
        message = str(body.get("message") or "")
        found = _created_id(body.get("data"))
        if body.get("success") is True and found:
            return PatientCreated(found, message)
        if body.get("success") is False and found:
            return PatientCreated(found, message, existed=True)
        return PatientCreated(None, message or f"Jawaban tak terduga: {outcome.body!r}"[:300])

    async def update(self, resource: dict[str, Any]) -> Outcome:
        """PUT the whole resource to its own id (the body carries the same id)."""
        kind = resource["resourceType"]
        return await self.request(
            "PUT", f"{kind}/{resource['id']}", json=resource, resource_type=kind
        )

    async def search(self, kind: str, **params: str) -> Outcome:
        return await self.request("GET", kind, params=params, resource_type=kind)

    async def send_transaction(self, bundle: dict[str, Any]) -> Outcome:
        return await self.request("POST", "", json=bundle, resource_type="Bundle")

    async def find_by_identifier(
        self, kind: str, system: str, value: str, **search: str
    ) -> Outcome | dict[str, Any] | None:
        """The resource of `kind` carrying identifier system|value among a search's results.

        Used after an unknown outcome (timeout, broken connection) or a duplicate answer, so
        that a resend never creates a second copy."""
        outcome = await self.search(kind, **search)
        if not isinstance(outcome, Ok):
            return outcome
        for entry in (outcome.body or {}).get("entry") or []:
            resource = entry.get("resource") or {}
            identifiers = resource.get("identifier") or []
            if isinstance(identifiers, dict):
                identifiers = [identifiers]
            if any(i.get("system") == system and i.get("value") == value for i in identifiers):
                return resource
        return None


def entry_ids(response_body: Any) -> list[str | None]:
    """Server ids of a transaction-response, by entry index (resourceID or the location)."""
    ids: list[str | None] = []
    for entry in (response_body or {}).get("entry") or []:
        answer = entry.get("response") or {}
        rid = answer.get("resourceID")
        if not rid and answer.get("location"):
            parts = answer["location"].split("/")
            rid = parts[parts.index("_history") - 1] if "_history" in parts else parts[-1]
        ids.append(rid)
    return ids


__all__ = [
    "Lookup",
    "PatientCreated",
    "Rejected",
    "SatusehatClient",
    "entry_ids",
    "new_http_client",
]
