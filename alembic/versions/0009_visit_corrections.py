"""visit corrections after completion: revisions and withdrawn resources

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sync_revision", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("sent_revision", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("retracted", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_column("retracted")
        batch_op.drop_column("sent_revision")
        batch_op.drop_column("sync_revision")
