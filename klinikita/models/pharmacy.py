"""The pharmacy aggregate: the branch's drug master (Obat & BHP), its stock by batch, goods
receipts, every stock movement, and the dispensing of a visit's prescription."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from klinikita.models.base import (
    Versioned,
    created_at_field,
    updated_at_field,
    version_field,
)
from klinikita.models.enums import SyncStatus


class ItemCategory(StrEnum):
    OBAT = "obat"  # a medicine: needs a KFA code before it can be prescribed to SATUSEHAT
    BHP = "bhp"  # bahan habis pakai / alat kesehatan

    @property
    def label(self) -> str:
        return "Obat" if self is ItemCategory.OBAT else "BHP / alat kesehatan"


class DrugItem(Versioned, SQLModel, table=True):
    """One item of a branch's drug master. Quantities of it are whole dispensing units
    (`unit`: tablet, kapsul, botol, tube, pcs ...); its price is integer rupiah per unit."""

    __tablename__ = "drug_item"
    __table_args__ = (UniqueConstraint("branch_id", "name", name="uq_drug_item_branch_name"),)

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    name: str = Field(sa_type=String(200))  # as staff know it, e.g. "Paracetamol 500 mg tablet"
    category: str = Field(default=ItemCategory.OBAT, sa_type=String(8))
    # The ministry's medication-form code (terminology.kemkes.go.id/CodeSystem/medication-form).
    form_code: str = Field(default="", sa_type=String(16))
    form_name: str = Field(default="", sa_type=String(80))
    strength: str = Field(default="", sa_type=String(80))  # e.g. "500 mg"
    unit: str = Field(sa_type=String(20))  # the dispensing unit
    # KFA: 93xxxxxx (actual product) or 92xxxxxx (virtual product); required for medicines.
    kfa_code: str | None = Field(default=None, sa_type=String(16), index=True)
    kfa_display: str = Field(default="", sa_type=String(300))
    price: int = Field(default=0)  # rupiah per unit
    min_stock: int = Field(default=0)
    active: bool = Field(default=True)
    version: int = version_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class StockBatch(SQLModel, table=True):
    """What a branch holds of one item from one batch. `quantity` never goes below zero:
    the database refuses it too, whatever writes."""

    __tablename__ = "stock_batch"
    __table_args__ = (
        UniqueConstraint(
            "item_id", "batch_number", "expiry_date", name="uq_stock_batch_item_batch"
        ),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        # First-expiry-first-out: the batches of an item in the order they are taken.
        Index("ix_stock_batch_fefo", "item_id", "expiry_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    item_id: int = Field(foreign_key="drug_item.id")
    batch_number: str = Field(sa_type=String(40))
    expiry_date: date
    quantity: int = Field(default=0)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class GoodsReceipt(SQLModel, table=True):
    """A delivery received (penerimaan): its lines are the RECEIPT stock movements."""

    __tablename__ = "goods_receipt"

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    supplier: str = Field(sa_type=String(200))
    invoice_number: str = Field(default="", sa_type=String(60))  # the supplier's faktur
    received_on: date  # the branch's local date
    note: str = Field(default="", sa_type=String(300))
    created_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = created_at_field()


class MovementKind(StrEnum):
    RECEIPT = "receipt"  # penerimaan
    DISPENSE = "dispense"  # penyerahan obat
    ADJUSTMENT = "adjustment"  # penyesuaian (broken, expired, lost, found), with a reason
    STOCK_TAKE = "stock_take"  # stok opname: the count replaces the quantity
    RETURN = "return"  # a dispensing undone

    @property
    def label(self) -> str:
        return MOVEMENT_LABELS[self]


MOVEMENT_LABELS = {
    MovementKind.RECEIPT: "Penerimaan",
    MovementKind.DISPENSE: "Penyerahan obat",
    MovementKind.ADJUSTMENT: "Penyesuaian",
    MovementKind.STOCK_TAKE: "Stok opname",
    MovementKind.RETURN: "Pengembalian",
}


class StockMovement(SQLModel, table=True):
    """Every change of a batch's quantity, signed, with the balance it left: the stock card
    (kartu stok) of an item is its movements in order."""

    __tablename__ = "stock_movement"
    __table_args__ = (Index("ix_stock_movement_item_time", "item_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    item_id: int = Field(foreign_key="drug_item.id")
    batch_id: int = Field(foreign_key="stock_batch.id", index=True)
    kind: str = Field(sa_type=String(16))
    quantity: int  # + in, - out
    balance_after: int  # the batch's quantity after this movement
    reason: str = Field(default="", sa_type=String(300))
    receipt_id: int | None = Field(default=None, foreign_key="goods_receipt.id", index=True)
    dispense_line_id: int | None = Field(default=None, foreign_key="dispense_line.id")
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = created_at_field()


class DispenseStatus(StrEnum):
    WAITING = "waiting"  # the visit is complete; the prescription waits at the pharmacy
    DISPENSED = "dispensed"  # taken from stock, labels printed
    HANDED_OVER = "handed_over"  # given to the patient
    CANCELLED = "cancelled"  # the visit's prescription was withdrawn before dispensing

    @property
    def label(self) -> str:
        return DISPENSE_LABELS[self]


DISPENSE_LABELS = {
    DispenseStatus.WAITING: "Menunggu",
    DispenseStatus.DISPENSED: "Disiapkan",
    DispenseStatus.HANDED_OVER: "Diserahkan",
    DispenseStatus.CANCELLED: "Dibatalkan",
}


class Dispense(Versioned, SQLModel, table=True):
    """The pharmacy's work on one visit's prescription, from waiting to handed over."""

    __tablename__ = "dispense"
    __table_args__ = (Index("ix_dispense_queue", "branch_id", "status", "queued_at"),)

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id")
    visit_id: int = Field(foreign_key="visit.id", unique=True)
    status: str = Field(default=DispenseStatus.WAITING, sa_type=String(16))
    queued_at: datetime  # when the visit was completed, UTC
    dispensed_at: datetime | None = None
    dispensed_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    handed_over_at: datetime | None = None
    handed_over_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    note: str = Field(default="", sa_type=String(300))
    # The MedicationDispense job's badge (migration 0021): where the dispensing stands
    # with SATUSEHAT, as a visit's sync_status does (bookkeeping: the version stays).
    sync_status: str = Field(
        default=SyncStatus.NOT_SENT,
        sa_type=String(16),
        sa_column_kwargs={"server_default": SyncStatus.NOT_SENT.value},
    )
    sync_error: str | None = Field(default=None, sa_type=Text)
    version: int = version_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class DispenseLine(SQLModel, table=True):
    """Units of one item taken from one batch for one prescription line. A racikan takes
    one line per ingredient and batch; a quantity other than prescribed carries a reason."""

    __tablename__ = "dispense_line"

    id: int | None = Field(default=None, primary_key=True)
    dispense_id: int = Field(foreign_key="dispense.id", index=True)
    prescription_id: int = Field(foreign_key="prescription.id", index=True)
    item_id: int = Field(foreign_key="drug_item.id")
    batch_id: int = Field(foreign_key="stock_batch.id")
    quantity: int
    change_reason: str = Field(default="", sa_type=String(300))
    created_at: datetime = created_at_field()
