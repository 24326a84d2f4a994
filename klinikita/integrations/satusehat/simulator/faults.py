"""Runtime fault switches: latency, gateway errors, throttling and broken connections."""

from __future__ import annotations

import fnmatch
import itertools
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

# Every kind the gateway layer knows how to play.
FAULT_KINDS = frozenset(
    {
        "latency",  # add `latency_ms` before handling (never consumes the request)
        "http_503",  # text/plain "no healthy upstream"
        "http_504",  # text/plain "Gateway Timeout"
        "http_429",  # Apigee quota fault + Retry-After
        "http_error",  # any `status` / `body` / `content_type`
        "drop_before",  # connection breaks before the request is processed
        "drop_after",  # request processed and stored, then the connection breaks
        "delay_after",  # request processed and stored, its answer held back `latency_ms`
        "no_api_product",  # 401 keymanagement.service.InvalidAPICallAsNoApiProductMatchFound
        "forbidden_html",  # 403 text/html page from the edge
    }
)

_ids = itertools.count(1)


@dataclass
class FaultRule:
    kind: str
    # How many matching requests it hits; None = every one until cleared.
    count: int | None = 1
    method: str | None = None
    # fnmatch glob on the path below the simulator root, e.g. "/fhir-r4/v1/Encounter*".
    path: str | None = None
    latency_ms: int = 0
    retry_after: int | None = None
    status: int | None = None
    body: str = ""
    content_type: str = "text/plain"
    id: str = field(default_factory=lambda: f"fault-{next(_ids)}")
    hits: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {sorted(FAULT_KINDS)}")
        if self.method:
            self.method = self.method.upper()
        if self.kind == "http_error" and not self.status:
            raise ValueError("http_error needs a status")

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method != method.upper():
            return False
        if self.path is None:
            return True
        # "/fhir-r4/v1" also matches "/fhir-r4/v1/" (clients differ on the trailing slash).
        trimmed = path.rstrip("/") or "/"
        return fnmatch.fnmatchcase(path, self.path) or fnmatch.fnmatchcase(trimmed, self.path)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultRule:
        allowed = {"kind", "count", "method", "path", "latency_ms", "retry_after", "status"}
        allowed |= {"body", "content_type"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        if "kind" not in data:
            raise ValueError("fault needs a kind")
        values = dict(data)
        if values["kind"] == "latency" and "count" not in values:
            values["count"] = None
        return cls(**values)


class FaultSwitchboard:
    """Ordered rules; the first matching non-latency rule answers, latencies add up."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def add_latency(
        self,
        ms: int,
        *,
        path: str | None = None,
        method: str | None = None,
        count: int | None = None,
    ) -> FaultRule:
        return self.add(FaultRule("latency", count=count, method=method, path=path, latency_ms=ms))

    def fail_next(
        self,
        kind: str,
        count: int = 1,
        *,
        path: str | None = None,
        method: str | None = None,
        **extra: Any,
    ) -> FaultRule:
        """E.g. `fail_next("http_503", 2, path="/fhir-r4/v1/Encounter*")`."""
        return self.add(FaultRule(kind, count=count, method=method, path=path, **extra))

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def take(self, method: str, path: str) -> tuple[int, FaultRule | None]:
        """Consume what applies to one request: (total latency ms, answering rule or None)."""
        latency = 0
        action: FaultRule | None = None
        with self._lock:
            for rule in list(self._rules):
                if not rule.matches(method, path):
                    continue
                if rule.kind == "latency":
                    latency += rule.latency_ms
                elif action is None:
                    action = rule
                else:
                    continue
                rule.hits += 1
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self._rules.remove(rule)
        return latency, action
