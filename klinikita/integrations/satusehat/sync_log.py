"""Writing exchanges to the SyncLog: one sink shared by the worker and the connection test."""

from __future__ import annotations

import asyncio
from datetime import datetime

from klinikita.db import session_scope
from klinikita.integrations.satusehat.exchange import Exchange, ExchangeSink
from klinikita.models import SyncLog
from klinikita.models.base import utcnow


def sync_log_values(
    exchange: Exchange,
    *,
    branch_id: int | None,
    job_id: int | None = None,
    patient_id: int | None = None,
    at: datetime | None = None,
) -> dict:
    """The SyncLog columns of one (already redacted) exchange, for a bulk INSERT."""
    return dict(
        at=at or utcnow(),
        branch_id=branch_id,
        job_id=job_id,
        patient_id=patient_id,
        resource_type=exchange.resource_type,
        method=exchange.method,
        url=exchange.url,
        status_code=exchange.status_code,
        ok=exchange.ok,
        duration_ms=exchange.duration_ms,
        request_body=exchange.request_body,
        response_body=exchange.response_body,
        error=exchange.error,
    )


def sync_log_row(
    exchange: Exchange,
    *,
    branch_id: int | None,
    job_id: int | None = None,
    patient_id: int | None = None,
    at: datetime | None = None,
) -> SyncLog:
    """The SyncLog row of one (already redacted) exchange."""
    return SyncLog(
        **sync_log_values(
            exchange, branch_id=branch_id, job_id=job_id, patient_id=patient_id, at=at
        )
    )


def sync_log_sink(
    branch_id: int | None,
    *,
    job_id: int | None = None,
    patient_id: int | None = None,
    db_url: str | None = None,
) -> ExchangeSink:
    """A sink that stores every exchange (already redacted) in its own short transaction."""

    def write(exchange: Exchange) -> None:
        with session_scope(db_url) as session:
            session.add(
                sync_log_row(exchange, branch_id=branch_id, job_id=job_id, patient_id=patient_id)
            )

    async def sink(exchange: Exchange) -> None:
        await asyncio.to_thread(write, exchange)

    return sink
