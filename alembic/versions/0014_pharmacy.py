"""pharmacy: drug master, stock by batch, dispensing, racikan, allergies, procedure performer

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "drug_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=8), nullable=False),
        sa.Column("form_code", sa.String(length=16), nullable=False),
        sa.Column("form_name", sa.String(length=80), nullable=False),
        sa.Column("strength", sa.String(length=80), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("kfa_code", sa.String(length=16), nullable=True),
        sa.Column("kfa_display", sa.String(length=300), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("min_stock", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_drug_item_branch_id_branch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drug_item")),
        sa.UniqueConstraint("branch_id", "name", name="uq_drug_item_branch_name"),
    )
    with op.batch_alter_table("drug_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drug_item_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_drug_item_kfa_code"), ["kfa_code"], unique=False)

    op.create_table(
        "stock_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("batch_number", sa.String(length=40), nullable=False),
        sa.Column("expiry_date", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_stock_batch_quantity_not_negative")),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_stock_batch_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["drug_item.id"], name=op.f("fk_stock_batch_item_id_drug_item")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_batch")),
        sa.UniqueConstraint(
            "item_id", "batch_number", "expiry_date", name="uq_stock_batch_item_batch"
        ),
    )
    with op.batch_alter_table("stock_batch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stock_batch_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index("ix_stock_batch_fefo", ["item_id", "expiry_date"], unique=False)

    op.create_table(
        "goods_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("supplier", sa.String(length=200), nullable=False),
        sa.Column("invoice_number", sa.String(length=60), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_goods_receipt_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["app_user.id"],
            name=op.f("fk_goods_receipt_created_by_user_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goods_receipt")),
    )
    with op.batch_alter_table("goods_receipt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_goods_receipt_branch_id"), ["branch_id"], unique=False)

    op.create_table(
        "dispense",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("queued_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("dispensed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("dispensed_by_user_id", sa.Integer(), nullable=True),
        sa.Column("handed_over_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("handed_over_by_user_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_dispense_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["dispensed_by_user_id"],
            ["app_user.id"],
            name=op.f("fk_dispense_dispensed_by_user_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["handed_over_by_user_id"],
            ["app_user.id"],
            name=op.f("fk_dispense_handed_over_by_user_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visit.id"], name=op.f("fk_dispense_visit_id_visit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispense")),
        sa.UniqueConstraint("visit_id", name=op.f("uq_dispense_visit_id")),
    )
    with op.batch_alter_table("dispense", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dispense_queue", ["branch_id", "status", "queued_at"], unique=False
        )

    op.create_table(
        "patient_allergy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("display", sa.String(length=200), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("reaction", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("recorded_visit_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_user_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_patient_allergy_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["drug_item.id"], name=op.f("fk_patient_allergy_item_id_drug_item")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_patient_allergy_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_user_id"],
            ["app_user.id"],
            name=op.f("fk_patient_allergy_recorded_by_user_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_visit_id"],
            ["visit.id"],
            name=op.f("fk_patient_allergy_recorded_visit_id_visit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_allergy")),
    )
    with op.batch_alter_table("patient_allergy", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patient_allergy_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_patient_allergy_recorded_visit_id"), ["recorded_visit_id"], unique=False
        )

    op.create_table(
        "dispense_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dispense_id", sa.Integer(), nullable=False),
        sa.Column("prescription_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("change_reason", sa.String(length=300), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["stock_batch.id"], name=op.f("fk_dispense_line_batch_id_stock_batch")
        ),
        sa.ForeignKeyConstraint(
            ["dispense_id"], ["dispense.id"], name=op.f("fk_dispense_line_dispense_id_dispense")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["drug_item.id"], name=op.f("fk_dispense_line_item_id_drug_item")
        ),
        sa.ForeignKeyConstraint(
            ["prescription_id"],
            ["prescription.id"],
            name=op.f("fk_dispense_line_prescription_id_prescription"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispense_line")),
    )
    with op.batch_alter_table("dispense_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dispense_line_dispense_id"), ["dispense_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dispense_line_prescription_id"), ["prescription_id"], unique=False
        )

    op.create_table(
        "prescription_ingredient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prescription_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("dose_text", sa.String(length=60), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["drug_item.id"], name=op.f("fk_prescription_ingredient_item_id_drug_item")
        ),
        sa.ForeignKeyConstraint(
            ["prescription_id"],
            ["prescription.id"],
            name=op.f("fk_prescription_ingredient_prescription_id_prescription"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prescription_ingredient")),
    )
    with op.batch_alter_table("prescription_ingredient", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prescription_ingredient_prescription_id"),
            ["prescription_id"],
            unique=False,
        )

    op.create_table(
        "stock_movement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("receipt_id", sa.Integer(), nullable=True),
        sa.Column("dispense_line_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["stock_batch.id"], name=op.f("fk_stock_movement_batch_id_stock_batch")
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_stock_movement_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["dispense_line_id"],
            ["dispense_line.id"],
            name=op.f("fk_stock_movement_dispense_line_id_dispense_line"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["drug_item.id"], name=op.f("fk_stock_movement_item_id_drug_item")
        ),
        sa.ForeignKeyConstraint(
            ["receipt_id"],
            ["goods_receipt.id"],
            name=op.f("fk_stock_movement_receipt_id_goods_receipt"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_stock_movement_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movement")),
    )
    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stock_movement_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_stock_movement_branch_id"), ["branch_id"], unique=False
        )
        batch_op.create_index(
            "ix_stock_movement_item_time", ["item_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_stock_movement_receipt_id"), ["receipt_id"], unique=False
        )

    with op.batch_alter_table("prescription", schema=None) as batch_op:
        batch_op.add_column(sa.Column("line_no", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("item_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("is_compound", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
        batch_op.add_column(sa.Column("dose_amount", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("times_per_day", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("route", sa.String(length=8), server_default="O", nullable=False)
        )
        batch_op.add_column(sa.Column("medication_request_id", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("medication_dispense_id", sa.String(length=64), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_prescription_item_id_drug_item"), "drug_item", ["item_id"], ["id"]
        )
    # Lines written before: numbered in the order they were written, per visit.
    op.execute(
        "UPDATE prescription SET line_no = (SELECT COUNT(*) FROM prescription AS earlier"
        " WHERE earlier.visit_id = prescription.visit_id AND earlier.id <= prescription.id)"
    )

    with op.batch_alter_table("procedure", schema=None) as batch_op:
        batch_op.add_column(sa.Column("performed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("performed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("resource_id", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_procedure_performed_by_id_employee"),
            "employee",
            ["performed_by_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("procedure", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_procedure_performed_by_id_employee"), type_="foreignkey"
        )
        batch_op.drop_column("resource_id")
        batch_op.drop_column("performed_at")
        batch_op.drop_column("performed_by_id")

    with op.batch_alter_table("prescription", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_prescription_item_id_drug_item"), type_="foreignkey"
        )
        batch_op.drop_column("medication_dispense_id")
        batch_op.drop_column("medication_request_id")
        batch_op.drop_column("route")
        batch_op.drop_column("times_per_day")
        batch_op.drop_column("dose_amount")
        batch_op.drop_column("is_compound")
        batch_op.drop_column("item_id")
        batch_op.drop_column("line_no")

    with op.batch_alter_table("stock_movement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_movement_receipt_id"))
        batch_op.drop_index("ix_stock_movement_item_time")
        batch_op.drop_index(batch_op.f("ix_stock_movement_branch_id"))
        batch_op.drop_index(batch_op.f("ix_stock_movement_batch_id"))

    op.drop_table("stock_movement")
    with op.batch_alter_table("prescription_ingredient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prescription_ingredient_prescription_id"))

    op.drop_table("prescription_ingredient")
    with op.batch_alter_table("dispense_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dispense_line_prescription_id"))
        batch_op.drop_index(batch_op.f("ix_dispense_line_dispense_id"))

    op.drop_table("dispense_line")
    with op.batch_alter_table("patient_allergy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_allergy_recorded_visit_id"))
        batch_op.drop_index(batch_op.f("ix_patient_allergy_patient_id"))

    op.drop_table("patient_allergy")
    with op.batch_alter_table("dispense", schema=None) as batch_op:
        batch_op.drop_index("ix_dispense_queue")

    op.drop_table("dispense")
    with op.batch_alter_table("goods_receipt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_goods_receipt_branch_id"))

    op.drop_table("goods_receipt")
    with op.batch_alter_table("stock_batch", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_batch_fefo")
        batch_op.drop_index(batch_op.f("ix_stock_batch_branch_id"))

    op.drop_table("stock_batch")
    with op.batch_alter_table("drug_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drug_item_kfa_code"))
        batch_op.drop_index(batch_op.f("ix_drug_item_branch_id"))

    op.drop_table("drug_item")
