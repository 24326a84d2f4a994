"""Every SATUSEHAT answer becomes one typed outcome; the worker decides by its type."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True)
class Ok:
    status: int
    body: Any


@dataclass(frozen=True)
class Transient:
    """Worth trying again later: timeout, broken connection, 5xx, 429."""

    message: str
    status: int | None = None
    retry_after: float | None = None
    # False when the request surely never reached SATUSEHAT (refused connection):
    # otherwise something may have been created and must be looked up before resending.
    maybe_applied: bool = True


@dataclass(frozen=True)
class AuthFailed:
    """The credentials were refused (or are blocked after a refusal)."""

    message: str
    status: int | None = None


@dataclass(frozen=True)
class Rejected:
    """SATUSEHAT refused the data; `message` is its own diagnostics text, for staff."""

    message: str
    status: int
    body: Any = None
    issues: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Duplicate:
    """Already created before (e.g. an Encounter with the same identifier)."""

    message: str
    status: int


Outcome = Ok | Transient | AuthFailed | Rejected | Duplicate


def parse_body(response: httpx.Response) -> Any:
    """JSON when the body is JSON, else the text (HTML 403 pages, plain-text 503s)."""
    if not response.content:
        return None
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text


def error_text(body: Any) -> str:
    """The human part of any of SATUSEHAT's error shapes."""
    if isinstance(body, dict):
        if body.get("resourceType") == "OperationOutcome":
            parts = []
            for issue in body.get("issue") or []:
                text = issue.get("diagnostics") or (issue.get("details") or {}).get("text")
                if text:
                    where = ", ".join(issue.get("expression") or [])
                    parts.append(f"{text} ({where})" if where else text)
            return "; ".join(parts) or "OperationOutcome tanpa keterangan"
        if "fault" in body:
            return str((body.get("fault") or {}).get("faultstring") or body)
        if "ErrorCode" in body or "Error" in body:
            return f"{body.get('ErrorCode', '')}: {body.get('Error', '')}".strip(": ")
        if "message" in body:
            return str(body["message"])
    if isinstance(body, str):
        text = body.strip()
        if text.lower().startswith("<!doctype") or text.lower().startswith("<html"):
            return "Halaman HTML (akses ditolak di gerbang jaringan)"
        return text[:500] or "(kosong)"
    return "(tanpa isi)"


def _is_duplicate(body: Any) -> bool:
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        return any(i.get("code") == "duplicate" for i in body.get("issue") or [])
    return False


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def classify(response: httpx.Response) -> Outcome:
    """Map an HTTP response to an outcome (the 401 retry is the client's job)."""
    body = parse_body(response)
    status = response.status_code
    if 200 <= status < 300:
        # A 200 carrying an OperationOutcome with errors is a refusal, not a success.
        if (
            isinstance(body, dict)
            and body.get("resourceType") == "OperationOutcome"
            and any(i.get("severity") in {"error", "fatal"} for i in body.get("issue") or [])
        ):
            return Rejected(error_text(body), status, body, body.get("issue") or [])
        return Ok(status, body)
    if status == 401:
        return AuthFailed(error_text(body), status)
    if status == 429 or status >= 500 or status == 408:
        return Transient(f"HTTP {status}: {error_text(body)}", status, _retry_after(response))
    if _is_duplicate(body):
        return Duplicate(error_text(body), status)
    issues = body.get("issue") if isinstance(body, dict) else None
    return Rejected(f"HTTP {status}: {error_text(body)}", status, body, issues or [])


def from_exception(exc: Exception) -> Transient:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return Transient(f"Tidak dapat terhubung ke SATUSEHAT: {exc}", maybe_applied=False)
    if isinstance(exc, httpx.TimeoutException):
        return Transient(f"Waktu tunggu habis: {type(exc).__name__}")
    return Transient(f"Koneksi terputus: {type(exc).__name__}: {exc}")
