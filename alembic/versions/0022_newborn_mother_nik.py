"""Newborns: the mother's NIK (SATUSEHAT creates a baby without a NIK by it) and the birth
order among twins

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mother_nik", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("birth_order", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_column("birth_order")
        batch_op.drop_column("mother_nik")
