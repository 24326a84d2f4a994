"""BPJS card numbers: on the patient (searchable per branch) and on a visit paid by BPJS

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bpjs_number", sa.String(length=13), nullable=True))
        batch_op.create_index(
            "ix_patient_branch_bpjs_number", ["branch_id", "bpjs_number"], unique=False
        )
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bpjs_number", sa.String(length=13), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_column("bpjs_number")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_index("ix_patient_branch_bpjs_number")
        batch_op.drop_column("bpjs_number")
