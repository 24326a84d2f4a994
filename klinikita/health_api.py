"""The backend's health routes, without login: /health (the process answers), /ready (it can
do its work: klinikita/services/health.py) and /metrics (Prometheus, only with
KLINIKITA_METRICS_TOKEN as a bearer token; without that setting it does not exist)."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from klinikita.integrations.satusehat.tokens import TokenCache, shared_token_cache
from klinikita.models.base import utcnow
from klinikita.services import health
from klinikita.settings import get_settings

log = logging.getLogger("klinikita.health")


class OutboxJobs:
    """Prometheus collector: outbox jobs by state, counted at each scrape."""

    def __init__(self, db_url: str | None) -> None:
        self.db_url = db_url

    def describe(self):  # noqa: ANN201
        """What it collects, without reading the database (asked at registration)."""
        yield self._family()

    def _family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily("klinikita_outbox_jobs", "Outbox jobs by state", labels=["state"])

    def collect(self):  # noqa: ANN201
        family = self._family()
        try:
            counts = health.jobs_by_status(self.db_url)
        except Exception:
            log.warning("Counting outbox jobs for /metrics failed", exc_info=True)
            counts = {}
        for state, n in counts.items():
            family.add_metric([state], n)
        yield family


_collector: OutboxJobs | None = None


def _register_outbox_collector(db_url: str | None) -> None:
    """One outbox collector in the process registry, reading the latest app's database."""
    global _collector
    if _collector is None:
        _collector = OutboxJobs(db_url)
        REGISTRY.register(_collector)
    _collector.db_url = db_url


def health_api(
    *,
    simulator_base: Callable[[], str],
    db_url: str | None = None,
    tokens: TokenCache | None = None,
) -> Starlette:
    """The Starlette app mounted on the backend (`api_transformer`)."""
    _register_outbox_collector(db_url)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(request: Request) -> Response:
        settings = get_settings()
        thresholds = health.Thresholds(
            heartbeat_seconds=settings.ready_heartbeat_seconds,
            oldest_job_seconds=settings.ready_oldest_job_seconds,
        )
        checks = await asyncio.to_thread(health.database_checks, db_url, thresholds, utcnow())
        if checks[0].ok:
            checks.append(
                await health.satusehat_check(
                    db_url,
                    simulator_base(),
                    tokens or shared_token_cache(),
                    required=settings.ready_require_satusehat,
                )
            )
        body = health.as_json(checks)
        return JSONResponse(body, 200 if health.is_ready(checks) else 503)

    async def metrics(request: Request) -> Response:
        expected = get_settings().metrics_token
        if not expected:
            return Response("Not Found", 404)
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), expected.encode()
        ):
            return Response("Unauthorized", 401, {"WWW-Authenticate": "Bearer"})
        data = await asyncio.to_thread(generate_latest, REGISTRY)
        return Response(data, 200, media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/health", healthz, methods=["GET"]),
            Route("/ready", ready, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ]
    )
