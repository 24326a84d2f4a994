"""branch key refusal: when SATUSEHAT last refused a branch's keys, and its answer

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "branch", sa.Column("ss_key_refused_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
    )
    op.add_column("branch", sa.Column("ss_key_refusal", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("branch") as batch:
        batch.drop_column("ss_key_refusal")
        batch.drop_column("ss_key_refused_at")
