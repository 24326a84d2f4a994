"""waiting-room display: display tokens per branch and unit, and the calls of queue numbers

Revision ID: 0023
Revises: 0024
Create Date: 2026-12-08 00:33:27
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0023"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "display_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("revoked_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_display_token_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["app_user.id"],
            name=op.f("fk_display_token_created_by_user_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_user_id"],
            ["app_user.id"],
            name=op.f("fk_display_token_revoked_by_user_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["service_unit.id"], name=op.f("fk_display_token_unit_id_service_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_display_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_display_token_token_hash")),
    )
    with op.batch_alter_table("display_token", schema=None) as batch_op:
        batch_op.create_index("ix_display_token_branch_id", ["branch_id"], unique=False)

    op.create_table(
        "queue_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("called_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("called_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_queue_call_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["called_by_user_id"],
            ["app_user.id"],
            name=op.f("fk_queue_call_called_by_user_id_app_user"),
        ),
        sa.ForeignKeyConstraint(["room_id"], ["room.id"], name=op.f("fk_queue_call_room_id_room")),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["service_unit.id"], name=op.f("fk_queue_call_unit_id_service_unit")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visit.id"], name=op.f("fk_queue_call_visit_id_visit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_call")),
    )
    with op.batch_alter_table("queue_call", schema=None) as batch_op:
        batch_op.create_index(
            "ix_queue_call_branch_called", ["branch_id", "called_at"], unique=False
        )
        batch_op.create_index("ix_queue_call_visit_id", ["visit_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("queue_call", schema=None) as batch_op:
        batch_op.drop_index("ix_queue_call_visit_id")
        batch_op.drop_index("ix_queue_call_branch_called")
    op.drop_table("queue_call")
    with op.batch_alter_table("display_token", schema=None) as batch_op:
        batch_op.drop_index("ix_display_token_branch_id")
    op.drop_table("display_token")
