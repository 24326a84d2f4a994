"""one open visit per patient, unit and day, as a unique index

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 08:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('registered', 'in_examination')"


def upgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index('uq_visit_open', ['patient_id', 'unit_id', 'visit_date'], unique=True, sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index('uq_visit_open', sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
