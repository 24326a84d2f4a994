"""record versions: optimistic concurrency for every record staff edit

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 18:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables of models.base.Versioned models.
TABLES = (
    "patient",
    "employee",
    "app_user",
    "branch",
    "service_unit",
    "room",
    "visit",
    "examination",
)


def upgrade() -> None:
    # Plain ALTER TABLE on both databases: SQLite adds a NOT NULL column with a default in
    # place, and a batch copy of `patient` would drop its name-search triggers.
    for table in TABLES:
        op.add_column(
            table, sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_column(table, "version")  # SQLite 3.35+: in place as well
