"""documents: issued letters with their numbers, the branch's licence and logo, doctors' SIP

Revision ID: 0025
Revises: 0022
Create Date: 2026-12-08 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0025"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("branch", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("license_number", sa.String(length=80), nullable=False, server_default="")
        )
    with op.batch_alter_table("employee", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sip_number", sa.String(length=80), nullable=False, server_default="")
        )

    op.create_table(
        "branch_logo",
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("mime", sa.String(length=16), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_branch_logo_branch_id_branch")
        ),
        sa.PrimaryKeyConstraint("branch_id", name=op.f("pk_branch_logo")),
    )

    op.create_table(
        "document_counter",
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_document_counter_branch_id_branch")
        ),
        sa.PrimaryKeyConstraint("branch_id", "kind", "period", name=op.f("pk_document_counter")),
    )

    op.create_table(
        "issued_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.Column("issued_by_name", sa.String(length=150), nullable=False),
        sa.Column("issued_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("print_count", sa.Integer(), nullable=False),
        sa.Column("last_printed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_issued_document_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["issued_by"], ["app_user.id"], name=op.f("fk_issued_document_issued_by_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_issued_document_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visit.id"], name=op.f("fk_issued_document_visit_id_visit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_document")),
        sa.UniqueConstraint("branch_id", "kind", "number", name="uq_issued_document_number"),
    )
    with op.batch_alter_table("issued_document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_issued_document_branch_id"), ["branch_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_issued_document_visit_id"), ["visit_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_issued_document_patient_id"), ["patient_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("issued_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issued_document_patient_id"))
        batch_op.drop_index(batch_op.f("ix_issued_document_visit_id"))
        batch_op.drop_index(batch_op.f("ix_issued_document_branch_id"))
    op.drop_table("issued_document")
    op.drop_table("document_counter")
    op.drop_table("branch_logo")
    with op.batch_alter_table("employee", schema=None) as batch_op:
        batch_op.drop_column("sip_number")
    with op.batch_alter_table("branch", schema=None) as batch_op:
        batch_op.drop_column("license_number")
