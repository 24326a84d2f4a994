"""Drug search also by the KFA product's name (its generic name and maker): the FTS5 table and
its triggers (SQLite) and the trigram indexes (PostgreSQL) cover drug_item.kfa_display too

Revision ID: 0028
Revises: 0017
Create Date: 2026-12-08 04:10:00
"""

from collections.abc import Sequence

from alembic import op

from klinikita.models.drug_search import (
    SEARCHED,
    SEARCHED_0017,
    create_search_objects,
    drop_search_objects,
)

revision: str = "0028"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    conn = op.get_bind()
    drop_search_objects(conn)
    create_search_objects(conn, SEARCHED)


def downgrade() -> None:
    conn = op.get_bind()
    drop_search_objects(conn)
    create_search_objects(conn, SEARCHED_0017)
