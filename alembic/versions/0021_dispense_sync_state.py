"""dispense sync state: the MedicationDispense job's badge on the dispensing row

Revision ID: 0021
Revises: 0015
Create Date: 2026-12-20 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dispense", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "sync_status", sa.String(length=16), server_default="not_sent", nullable=False
            )
        )
        batch_op.add_column(sa.Column("sync_error", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dispense", schema=None) as batch_op:
        batch_op.drop_column("sync_error")
        batch_op.drop_column("sync_status")
