"""Drug search by index: pg_trgm GIN indexes on lower(name) and lower(strength) (PostgreSQL),
an FTS5 trigram table over name and strength kept in step by triggers (SQLite)

Revision ID: 0017
Revises: 0023
Create Date: 2026-12-08 01:00:00
"""

from collections.abc import Sequence

from alembic import op

from klinikita.models.drug_search import (
    SEARCHED_0017,
    create_search_objects,
    drop_search_objects,
)

revision: str = "0017"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_search_objects(op.get_bind(), SEARCHED_0017)


def downgrade() -> None:
    drop_search_objects(op.get_bind())
