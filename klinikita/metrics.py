"""The app's Prometheus metrics: plain metric objects any layer may record into (the
integrations included), served by the backend's /metrics (klinikita/health_api.py)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# Seconds; events are mostly tens of milliseconds, SATUSEHAT calls up to its timeouts.
EVENT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CALL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

EVENT_SECONDS = Histogram(
    "klinikita_event_seconds",
    "Time to handle one Reflex event, by handler",
    ["handler"],
    buckets=EVENT_BUCKETS,
)
SATUSEHAT_CALLS = Counter(
    "klinikita_satusehat_calls",
    "HTTP calls to SATUSEHAT, by kind (token, fhir) and status (HTTP code, or 'error')",
    ["kind", "status"],
)
SATUSEHAT_SECONDS = Histogram(
    "klinikita_satusehat_call_seconds",
    "Duration of one HTTP call to SATUSEHAT, by kind (token, fhir)",
    ["kind"],
    buckets=CALL_BUCKETS,
)
TOKEN_REFRESHES = Counter(
    "klinikita_satusehat_token_refreshes",
    "Token requests made to SATUSEHAT, by result (ok, refused, unavailable)",
    ["result"],
)


def record_satusehat_call(kind: str, status: int | None, seconds: float) -> None:
    """One finished call to SATUSEHAT; `status` None when no answer came."""
    SATUSEHAT_CALLS.labels(kind, str(status) if status is not None else "error").inc()
    SATUSEHAT_SECONDS.labels(kind).observe(seconds)
