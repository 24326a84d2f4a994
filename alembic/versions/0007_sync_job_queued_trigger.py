"""sync job queued trigger (PostgreSQL): a job that becomes due wakes the listening workers

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 08:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As models/satusehat.py creates them with the table (SQLite has no NOTIFY: nothing to do).
FUNCTION = (
    "CREATE OR REPLACE FUNCTION klinikita_job_queued() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN PERFORM pg_notify('klinikita_jobs_queued', ''); RETURN NULL; END $$"
)
TRIGGER = (
    "CREATE TRIGGER sync_job_queued AFTER INSERT OR UPDATE OF status, next_attempt_at ON sync_job "
    "FOR EACH ROW WHEN (NEW.status = 'pending') EXECUTE FUNCTION klinikita_job_queued()"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)
        op.execute(TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS sync_job_queued ON sync_job")
        op.execute("DROP FUNCTION IF EXISTS klinikita_job_queued()")
