"""The SATUSEHAT outbox (SyncJob) and the exchange log (SyncLog)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DDL, JSON, Column, Index, String, Text, event, text
from sqlmodel import Field, SQLModel

from klinikita.models.base import created_at_field, updated_at_field, utcnow


class JobKind(StrEnum):
    PATIENT_LOOKUP = "patient_lookup"
    PRACTITIONER_LOOKUP = "practitioner_lookup"
    ORGANIZATION_CREATE = "organization_create"
    LOCATION_CREATE = "location_create"
    VISIT_SEND = "visit_send"
    # What the pharmacy dispensed after the visit was sent: MedicationDispense resources
    # referencing the visit's Encounter and MedicationRequests (subject: the Dispense row).
    DISPENSE_SEND = "dispense_send"


class JobStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    FAILED = "failed"  # rejected by SATUSEHAT: staff fix the data and resend
    DEAD = "dead"  # transient errors past the retry limit: resendable, never dropped


# A job still to be done (JobStatus.PENDING, IN_PROGRESS): at most one per subject and kind.
OPEN_JOB_WHERE = "status IN ('pending', 'in_progress')"


class SyncJob(SQLModel, table=True):
    """One thing to send, written in the same transaction as the change that needs it."""

    __tablename__ = "sync_job"
    __table_args__ = (
        Index("ix_sync_job_due", "status", "next_attempt_at"),
        # The app follows jobs finished by a worker process by this (satusehat_runtime.py).
        Index("ix_sync_job_updated_at", "updated_at"),
        # At most one open job per subject, even when two workers enqueue at the same moment.
        Index(
            "uq_sync_job_open",
            "kind",
            "subject_id",
            unique=True,
            sqlite_where=text(OPEN_JOB_WHERE),
            postgresql_where=text(OPEN_JOB_WHERE),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=String(32))
    branch_id: int = Field(foreign_key="branch.id", index=True)
    subject_type: str = Field(sa_type=String(32))
    subject_id: int
    status: str = Field(default=JobStatus.PENDING, sa_type=String(16))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    lease_until: datetime | None = None  # an in-progress job past its lease is taken again
    worker_id: str | None = Field(default=None, sa_type=String(64))
    waiting_for: str | None = Field(default=None, sa_type=String(200))
    last_error: str | None = Field(default=None, sa_type=Text)
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    client_token: str | None = Field(default=None, sa_type=String(128))
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
    done_at: datetime | None = None


# On PostgreSQL a job that becomes due (enqueued, sent again, or released because what it
# waited for is done) wakes the workers listening on this channel (outbox_worker/) at
# its commit: without it a worker in its own process finds it only at its next look. In the
# database, not in the app, so every write that makes a job due signals it, in its own
# transaction. Also in migration 0007, for existing databases.
JOBS_QUEUED_CHANNEL = "klinikita_jobs_queued"
_JOB_QUEUED_FUNCTION = DDL(
    "CREATE OR REPLACE FUNCTION klinikita_job_queued() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN PERFORM pg_notify('{JOBS_QUEUED_CHANNEL}', ''); RETURN NULL; END $$"
)
_JOB_QUEUED_TRIGGER = DDL(
    "CREATE TRIGGER sync_job_queued AFTER INSERT OR UPDATE OF status, next_attempt_at ON sync_job "
    "FOR EACH ROW WHEN (NEW.status = 'pending') EXECUTE FUNCTION klinikita_job_queued()"
)
for _ddl in (_JOB_QUEUED_FUNCTION, _JOB_QUEUED_TRIGGER):
    event.listen(SyncJob.__table__, "after_create", _ddl.execute_if(dialect="postgresql"))


class SyncLog(SQLModel, table=True):
    """One HTTP exchange with SATUSEHAT, secrets removed."""

    __tablename__ = "sync_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
    job_id: int | None = Field(default=None, foreign_key="sync_job.id", index=True)
    patient_id: int | None = Field(default=None, foreign_key="patient.id", index=True)
    resource_type: str = Field(default="", sa_type=String(40))
    method: str = Field(sa_type=String(8))
    url: str = Field(sa_type=Text)
    status_code: int | None = None  # None when no answer came (timeout, broken connection)
    ok: bool = False
    duration_ms: int = 0
    request_body: str = Field(default="", sa_type=Text)
    response_body: str = Field(default="", sa_type=Text)
    error: str = Field(default="", sa_type=Text)


class WorkerHeartbeat(SQLModel, table=True):
    """A running outbox worker's sign of life: one row per worker, its time renewed every
    few seconds while it runs and removed when it stops (the backend's /ready reads it)."""

    __tablename__ = "worker_heartbeat"

    worker_id: str = Field(primary_key=True, sa_type=String(64))
    started_at: datetime = Field(default_factory=utcnow)
    beat_at: datetime = Field(default_factory=utcnow)
