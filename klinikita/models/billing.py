"""The billing aggregate (Kasir): tariffs, insurers, bills (nota penjualan) with their lines
and payments, the nota number counter, and cashier shifts.

All money is integer rupiah. A bill line keeps its own unit price, so a tariff changed later
never changes a bill already made (a bill keeps the price of the day)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from klinikita.models.base import (
    Versioned,
    created_at_field,
    updated_at_field,
    version_field,
)


class TariffKind(StrEnum):
    REGISTRATION = "registration"  # biaya pendaftaran / administrasi
    CONSULTATION = "consultation"  # jasa konsultasi dokter, per unit and optionally doctor
    PROCEDURE = "procedure"  # tindakan, by ICD-9-CM code or by name

    @property
    def label(self) -> str:
        return TARIFF_KIND_LABELS[self]


TARIFF_KIND_LABELS = {
    TariffKind.REGISTRATION: "Pendaftaran",
    TariffKind.CONSULTATION: "Konsultasi",
    TariffKind.PROCEDURE: "Tindakan",
}


class Insurer(SQLModel, table=True):
    """An insurance company (Asuransi) a branch bills. `coverage_percent` is the part of a
    covered service it pays; the patient pays the rest (co-payment)."""

    __table_args__ = (UniqueConstraint("branch_id", "name", name="uq_insurer_branch_name"),)

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    name: str = Field(sa_type=String(150))
    coverage_percent: int = Field(default=100)
    is_active: bool = True
    created_at: datetime = created_at_field()


class Tariff(SQLModel, table=True):
    """One price of a branch from `valid_from` on. Rows are never edited: a new price is a
    new row with a later date, and a price that stops gets `ended_on`. `payer` empty means
    every payer; `covered` says whether BPJS or the insurer pays it for their patients."""

    __table_args__ = (Index("ix_tariff_lookup", "branch_id", "kind", "valid_from"),)

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id")
    kind: str = Field(sa_type=String(16))
    name: str = Field(sa_type=String(200))  # what the nota prints
    unit_id: int | None = Field(default=None, foreign_key="service_unit.id")
    doctor_id: int | None = Field(default=None, foreign_key="employee.id")
    code: str = Field(default="", sa_type=String(16))  # ICD-9-CM of a procedure, may be empty
    payer: str = Field(default="", sa_type=String(16))  # "" (all), umum, bpjs, asuransi
    insurer_id: int | None = Field(default=None, foreign_key="insurer.id")
    amount: int
    covered: bool = True
    valid_from: date
    ended_on: date | None = None  # the first day it no longer applies
    created_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = created_at_field()


class BillStatus(StrEnum):
    OPEN = "open"  # being made; lines may change
    PAID = "paid"  # lunas: locked
    VOID = "void"  # batal: kept as it was, with who voided it and why

    @property
    def label(self) -> str:
        return BILL_STATUS_LABELS[self]


BILL_STATUS_LABELS = {
    BillStatus.OPEN: "Belum dibayar",
    BillStatus.PAID: "Lunas",
    BillStatus.VOID: "Batal",
}

NOT_VOID_WHERE = "status <> 'void'"


class Bill(Versioned, SQLModel, table=True):
    """A bill (nota penjualan): one per visit (a voided one may be followed by another), or
    an over-the-counter sale (penjualan bebas) without a visit. Its number is given when it
    is paid. Totals are kept in step with the lines by services/billing.py."""

    __table_args__ = (
        UniqueConstraint("branch_id", "nota_number", name="uq_bill_branch_nota"),
        Index(
            "uq_bill_visit_live",
            "visit_id",
            unique=True,
            sqlite_where=text(NOT_VOID_WHERE),
            postgresql_where=text(NOT_VOID_WHERE),
        ),
        Index("ix_bill_branch_day", "branch_id", "bill_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id")
    visit_id: int | None = Field(default=None, foreign_key="visit.id")
    patient_id: int | None = Field(default=None, foreign_key="patient.id")
    customer_name: str = Field(default="", sa_type=String(150))  # an over-the-counter buyer
    bill_date: date  # the branch's local date it was made
    payer: str = Field(default="umum", sa_type=String(16))
    insurer_id: int | None = Field(default=None, foreign_key="insurer.id")
    bpjs_number: str | None = Field(default=None, sa_type=String(13))
    status: str = Field(default=BillStatus.OPEN, sa_type=String(8))
    nota_number: str | None = Field(default=None, sa_type=String(32))
    subtotal: int = 0  # every line
    covered_total: int = 0  # what BPJS or the insurer pays
    discount_kind: str = Field(default="", sa_type=String(8))  # "", percent, amount
    discount_value: int = 0  # the percent or the rupiah typed
    discount_amount: int = 0  # rupiah taken off the patient's share
    discount_reason: str = Field(default="", sa_type=String(300))
    patient_total: int = 0  # what the patient pays: their share less the discount
    paid_at: datetime | None = None
    paid_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    shift_id: int | None = Field(default=None, foreign_key="cashier_shift.id")
    voided_at: datetime | None = None
    voided_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    void_reason: str = Field(default="", sa_type=String(300))
    print_count: int = 0
    version: int = version_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class LineSource(StrEnum):
    REGISTRATION = "registration"
    CONSULTATION = "consultation"
    PROCEDURE = "procedure"
    DRUG = "drug"
    BHP = "bhp"
    MANUAL = "manual"

    @property
    def label(self) -> str:
        return LINE_SOURCE_LABELS[self]


LINE_SOURCE_LABELS = {
    LineSource.REGISTRATION: "Pendaftaran",
    LineSource.CONSULTATION: "Konsultasi",
    LineSource.PROCEDURE: "Tindakan",
    LineSource.DRUG: "Obat",
    LineSource.BHP: "BHP",
    LineSource.MANUAL: "Lain-lain",
}


class BillLine(SQLModel, table=True):
    """One line of a bill. `amount` = quantity x unit price; `covered_amount` is BPJS's or
    the insurer's share and `patient_amount` the rest. A removed line stays, marked, with
    its reason. `source_key` names what the line was made from (e.g. "dispense_line:12"),
    so building the bill again adds only what is new."""

    __tablename__ = "bill_line"

    id: int | None = Field(default=None, primary_key=True)
    bill_id: int = Field(foreign_key="bill.id", index=True)
    source: str = Field(sa_type=String(16))
    source_key: str = Field(default="", sa_type=String(40))
    description: str = Field(sa_type=String(200))
    quantity: int = 1
    unit_price: int = 0
    amount: int = 0
    covered_amount: int = 0
    patient_amount: int = 0
    tariff_id: int | None = Field(default=None, foreign_key="tariff.id")
    item_id: int | None = Field(default=None, foreign_key="drug_item.id")
    # Drugs sold by the cashier (not dispensed by the pharmacy) leave stock at payment.
    takes_stock: bool = False
    # The batches it took at payment: [{"batch_id": int, "quantity": int}], for a void.
    taken: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    added_reason: str = Field(default="", sa_type=String(300))
    removed: bool = False
    removed_reason: str = Field(default="", sa_type=String(300))
    created_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = created_at_field()


class PaymentMethod(StrEnum):
    TUNAI = "tunai"
    TRANSFER = "transfer"
    DEBIT = "debit"
    KREDIT = "kredit"
    QRIS = "qris"

    @property
    def label(self) -> str:
        return PAYMENT_METHOD_LABELS[self]


PAYMENT_METHOD_LABELS = {
    PaymentMethod.TUNAI: "Tunai",
    PaymentMethod.TRANSFER: "Transfer",
    PaymentMethod.DEBIT: "Kartu debit",
    PaymentMethod.KREDIT: "Kartu kredit",
    PaymentMethod.QRIS: "QRIS",
}


class Payment(SQLModel, table=True):
    """One part of a bill's payment. `amount` is what it pays of the bill; for cash,
    `cash_received` is what the patient handed over and `change_given` what went back."""

    id: int | None = Field(default=None, primary_key=True)
    bill_id: int = Field(foreign_key="bill.id", index=True)
    shift_id: int = Field(foreign_key="cashier_shift.id", index=True)
    method: str = Field(sa_type=String(16))
    amount: int
    cash_received: int = 0
    change_given: int = 0
    reference: str = Field(default="", sa_type=String(80))
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = created_at_field()


class NotaCounter(SQLModel, table=True):
    """The last nota number a branch gave on one local date. Taken with an upsert in the
    paying transaction: the row stays locked until it commits, so two cashiers never get
    the same number."""

    __tablename__ = "nota_counter"

    branch_id: int = Field(foreign_key="branch.id", primary_key=True)
    day: date = Field(primary_key=True)
    last_number: int = 0


OPEN_SHIFT_WHERE = "closed_at IS NULL"


class CashierShift(SQLModel, table=True):
    """A cashier's shift at one branch: opened with the cash in the drawer, closed with a
    count per payment method. `expected` and `counted` map method -> rupiah."""

    __tablename__ = "cashier_shift"
    __table_args__ = (
        Index(
            "uq_cashier_shift_open",
            "branch_id",
            "user_id",
            unique=True,
            sqlite_where=text(OPEN_SHIFT_WHERE),
            postgresql_where=text(OPEN_SHIFT_WHERE),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    user_id: int = Field(foreign_key="app_user.id")
    opened_at: datetime
    opening_cash: int = 0
    closed_at: datetime | None = None
    expected: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    counted: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    close_note: str = Field(default="", sa_type=String(300))
    created_at: datetime = created_at_field()
