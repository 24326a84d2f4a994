"""billing (Kasir): tariffs, insurers, bills with lines and payments, nota counter, shifts

Revision ID: 0024
Revises: 0025
Create Date: 2026-12-08 00:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0024"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "insurer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=False),
        sa.Column("coverage_percent", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_insurer_branch_id_branch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insurer")),
        sa.UniqueConstraint("branch_id", "name", name="uq_insurer_branch_name"),
    )
    with op.batch_alter_table("insurer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_insurer_branch_id"), ["branch_id"], unique=False)

    op.create_table(
        "nota_counter",
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_nota_counter_branch_id_branch")
        ),
        sa.PrimaryKeyConstraint("branch_id", "day", name=op.f("pk_nota_counter")),
    )
    op.create_table(
        "cashier_shift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("opening_cash", sa.Integer(), nullable=False),
        sa.Column("closed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("expected", sa.JSON(), nullable=True),
        sa.Column("counted", sa.JSON(), nullable=True),
        sa.Column("close_note", sa.String(length=300), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_cashier_shift_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_cashier_shift_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cashier_shift")),
    )
    with op.batch_alter_table("cashier_shift", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cashier_shift_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(
            "uq_cashier_shift_open",
            ["branch_id", "user_id"],
            unique=True,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )

    op.create_table(
        "tariff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("doctor_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("payer", sa.String(length=16), nullable=False),
        sa.Column("insurer_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("covered", sa.Boolean(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_tariff_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["app_user.id"],
            name=op.f("fk_tariff_created_by_user_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id"], ["employee.id"], name=op.f("fk_tariff_doctor_id_employee")
        ),
        sa.ForeignKeyConstraint(
            ["insurer_id"], ["insurer.id"], name=op.f("fk_tariff_insurer_id_insurer")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["service_unit.id"], name=op.f("fk_tariff_unit_id_service_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tariff")),
    )
    with op.batch_alter_table("tariff", schema=None) as batch_op:
        batch_op.create_index("ix_tariff_lookup", ["branch_id", "kind", "valid_from"], unique=False)

    op.create_table(
        "bill",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("customer_name", sa.String(length=150), nullable=False),
        sa.Column("bill_date", sa.Date(), nullable=False),
        sa.Column("payer", sa.String(length=16), nullable=False),
        sa.Column("insurer_id", sa.Integer(), nullable=True),
        sa.Column("bpjs_number", sa.String(length=13), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("nota_number", sa.String(length=32), nullable=True),
        sa.Column("subtotal", sa.Integer(), nullable=False),
        sa.Column("covered_total", sa.Integer(), nullable=False),
        sa.Column("discount_kind", sa.String(length=8), nullable=False),
        sa.Column("discount_value", sa.Integer(), nullable=False),
        sa.Column("discount_amount", sa.Integer(), nullable=False),
        sa.Column("discount_reason", sa.String(length=300), nullable=False),
        sa.Column("patient_total", sa.Integer(), nullable=False),
        sa.Column("paid_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("paid_by_user_id", sa.Integer(), nullable=True),
        sa.Column("shift_id", sa.Integer(), nullable=True),
        sa.Column("voided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("voided_by_user_id", sa.Integer(), nullable=True),
        sa.Column("void_reason", sa.String(length=300), nullable=False),
        sa.Column("print_count", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_bill_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["insurer_id"], ["insurer.id"], name=op.f("fk_bill_insurer_id_insurer")
        ),
        sa.ForeignKeyConstraint(
            ["paid_by_user_id"], ["app_user.id"], name=op.f("fk_bill_paid_by_user_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_bill_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["shift_id"], ["cashier_shift.id"], name=op.f("fk_bill_shift_id_cashier_shift")
        ),
        sa.ForeignKeyConstraint(["visit_id"], ["visit.id"], name=op.f("fk_bill_visit_id_visit")),
        sa.ForeignKeyConstraint(
            ["voided_by_user_id"], ["app_user.id"], name=op.f("fk_bill_voided_by_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bill")),
        sa.UniqueConstraint("branch_id", "nota_number", name="uq_bill_branch_nota"),
    )
    with op.batch_alter_table("bill", schema=None) as batch_op:
        batch_op.create_index("ix_bill_branch_day", ["branch_id", "bill_date"], unique=False)
        batch_op.create_index(
            "uq_bill_visit_live",
            ["visit_id"],
            unique=True,
            sqlite_where=sa.text("status <> 'void'"),
            postgresql_where=sa.text("status <> 'void'"),
        )

    op.create_table(
        "bill_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bill_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_key", sa.String(length=40), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("covered_amount", sa.Integer(), nullable=False),
        sa.Column("patient_amount", sa.Integer(), nullable=False),
        sa.Column("tariff_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("takes_stock", sa.Boolean(), nullable=False),
        sa.Column("taken", sa.JSON(), nullable=True),
        sa.Column("added_reason", sa.String(length=300), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("removed_reason", sa.String(length=300), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["bill_id"], ["bill.id"], name=op.f("fk_bill_line_bill_id_bill")),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["app_user.id"],
            name=op.f("fk_bill_line_created_by_user_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["drug_item.id"], name=op.f("fk_bill_line_item_id_drug_item")
        ),
        sa.ForeignKeyConstraint(
            ["tariff_id"], ["tariff.id"], name=op.f("fk_bill_line_tariff_id_tariff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bill_line")),
    )
    with op.batch_alter_table("bill_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bill_line_bill_id"), ["bill_id"], unique=False)

    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bill_id", sa.Integer(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("cash_received", sa.Integer(), nullable=False),
        sa.Column("change_given", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["bill_id"], ["bill.id"], name=op.f("fk_payment_bill_id_bill")),
        sa.ForeignKeyConstraint(
            ["shift_id"], ["cashier_shift.id"], name=op.f("fk_payment_shift_id_cashier_shift")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_payment_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_bill_id"), ["bill_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_shift_id"), ["shift_id"], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes.
    for table in (
        "payment",
        "bill_line",
        "bill",
        "tariff",
        "cashier_shift",
        "nota_counter",
        "insurer",
    ):
        op.drop_table(table)
