"""What preparing or sending an outbox job comes to, as plain data.

Preparing a job (`job_preparation`) gives a `Send` (an async function that talks to SATUSEHAT
and returns one of the others) or a final answer: `Done`, `Fail` or `Wait`. A `Done` carries
what to write back as `RowUpdate`s; the worker writes the outcomes of a whole batch at once
(`job_outcomes`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from klinikita.integrations.satusehat.client import SatusehatClient
from klinikita.integrations.satusehat.outcomes import (
    AuthFailed,
    Duplicate,
    Outcome,
    Rejected,
    Transient,
)
from klinikita.models.base import utcnow
from klinikita.models.enums import SyncStatus
from klinikita.services import outbox


@dataclass(frozen=True)
class RowUpdate:
    """Columns to set on one row (by id): what an outcome writes back, as data."""

    table: str
    id: int
    values: dict[str, Any]


@dataclass
class Done:
    result: dict[str, Any]
    updates: tuple[RowUpdate, ...] = ()


@dataclass
class Fail:
    """Rejected, or local data SATUSEHAT would reject: staff must fix it, then resend."""

    message: str


@dataclass
class Retry:
    message: str
    retry_after: float | None = None
    min_delay: float = 0.0
    key_refused: bool = False  # SATUSEHAT refused the branch's keys (the worker records it)


@dataclass
class Wait:
    """Needs another row to be sent first; the job stays queued."""

    waiting_for: str


@dataclass
class Send:
    run: Callable[[SatusehatClient], Awaitable[Done | Fail | Retry]]
    patient_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Prepared = Send | Done | Fail | Wait


def from_outcome(outcome: Outcome) -> Fail | Retry:
    """The job's fate for an outcome that is not a success."""
    if isinstance(outcome, Transient):
        return Retry(outcome.message, outcome.retry_after)
    if isinstance(outcome, AuthFailed):
        # Wrong keys fix themselves only when the admin corrects them; wait out the block.
        return Retry(outcome.message, min_delay=60.0, key_refused=True)
    if isinstance(outcome, Rejected | Duplicate):
        return Fail(outcome.message)
    return Retry(f"Jawaban tak terduga: {outcome!r}")


def set_sync(
    table: str, row_id: int, status: str, error: str | None = None, **fields: Any
) -> RowUpdate:
    """The subject row's new sync state (and ids it received)."""
    values = {**fields, "sync_status": status, "sync_error": error, "updated_at": utcnow()}
    return RowUpdate(table, row_id, values)


def failed_update(kind: str, subject_id: int, message: str) -> RowUpdate | None:
    """Show a failure on the row the job is about (nothing if the kind has no such row)."""
    _, model = outbox.SUBJECTS.get(kind, (None, None))
    if model is None:
        return None
    return RowUpdate(
        model.__tablename__,
        subject_id,
        {"sync_status": SyncStatus.FAILED, "sync_error": message},
    )
