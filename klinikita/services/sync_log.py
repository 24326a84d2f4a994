"""The SyncLog: every exchange with SATUSEHAT (already redacted), written by the worker with
its outcomes and by the connection test through a sink."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert
from sqlmodel import Session

from klinikita.db import session_scope
from klinikita.integrations.satusehat.exchange import Exchange, ExchangeSink
from klinikita.models import SyncLog
from klinikita.models.base import utcnow


@dataclass
class LoggedExchange:
    """An exchange made for a job, waiting to be written with the job's outcome."""

    exchange: Exchange
    patient_id: int | None
    at: datetime = field(default_factory=utcnow)


def sync_log_values(
    exchange: Exchange,
    *,
    branch_id: int | None,
    job_id: int | None = None,
    patient_id: int | None = None,
    at: datetime | None = None,
) -> dict:
    """The SyncLog columns of one (already redacted) exchange."""
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


def add_exchanges(session: Session, rows: Sequence[dict]) -> None:
    """Insert SyncLog rows (`sync_log_values`) in the caller's transaction, in one statement."""
    if rows:
        session.execute(insert(SyncLog.__table__), list(rows))


def sync_log_sink(
    branch_id: int | None,
    *,
    job_id: int | None = None,
    patient_id: int | None = None,
    db_url: str | None = None,
) -> ExchangeSink:
    """A sink that stores every exchange (already redacted) in its own short transaction."""

    def write(exchange: Exchange) -> None:
        values = sync_log_values(
            exchange, branch_id=branch_id, job_id=job_id, patient_id=patient_id
        )
        with session_scope(db_url) as session:
            add_exchanges(session, [values])

    async def sink(exchange: Exchange) -> None:
        await asyncio.to_thread(write, exchange)

    return sink
