"""Request counters, so tests can assert on traffic (e.g. one token for fifty calls)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from .paths import AUTH_TOKEN_PATH, CONSENT_PREFIX, FHIR_PREFIX


def classify(path: str) -> str | None:
    """Counter bucket of a path: "token", a FHIR resource type, "Bundle", "Consent"."""
    if path == AUTH_TOKEN_PATH:
        return "token"
    if path.startswith(CONSENT_PREFIX):
        return "Consent"
    if path == FHIR_PREFIX or path == FHIR_PREFIX + "/":
        return "Bundle"
    if path.startswith(FHIR_PREFIX + "/"):
        return path[len(FHIR_PREFIX) + 1 :].split("/", 1)[0] or "Bundle"
    return None


class SimulatorStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.token_requests = 0
        self.tokens_issued = 0
        self.token_failures = 0
        self.requests: Counter[tuple[str, str]] = Counter()
        self.statuses: Counter[int] = Counter()
        self.faults: Counter[str] = Counter()
        self.unrouted = 0

    def reset(self) -> None:
        with self._lock:
            self.token_requests = self.tokens_issued = self.token_failures = 0
            self.requests.clear()
            self.statuses.clear()
            self.faults.clear()
            self.unrouted = 0

    def record_request(self, method: str, path: str) -> None:
        bucket = classify(path)
        with self._lock:
            if bucket == "token":
                self.token_requests += 1
            elif bucket is None:
                self.unrouted += 1
            else:
                self.requests[(bucket, method.upper())] += 1

    def record_status(self, status: int) -> None:
        with self._lock:
            self.statuses[status] += 1

    def record_token(self, issued: bool) -> None:
        with self._lock:
            if issued:
                self.tokens_issued += 1
            else:
                self.token_failures += 1

    def record_fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def requests_for(self, resource_type: str, method: str | None = None) -> int:
        with self._lock:
            return sum(
                n
                for (rtype, m), n in self.requests.items()
                if rtype == resource_type and (method is None or m == method.upper())
            )

    @property
    def fhir_requests(self) -> int:
        with self._lock:
            return sum(n for (rtype, _m), n in self.requests.items() if rtype != "Consent")

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            by_type: dict[str, dict[str, int]] = {}
            for (rtype, method), n in sorted(self.requests.items()):
                by_type.setdefault(rtype, {})[method] = n
            return {
                "token_requests": self.token_requests,
                "tokens_issued": self.tokens_issued,
                "token_failures": self.token_failures,
                "fhir_requests": sum(
                    n for (rtype, _m), n in self.requests.items() if rtype != "Consent"
                ),
                "requests": by_type,
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "faults": dict(self.faults),
                "unrouted": self.unrouted,
            }
