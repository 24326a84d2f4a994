"""Apotek -> Stok: goods receipts, adjustments, stock-take and the stock lists of a branch.

Every quantity change goes through `stock_ledger.move` (one conditional UPDATE and one
stock-card row), in the caller's transaction, with its audit row. Every function takes the
actor, checks the permission again and acts only on the actor's active branch: an item or a
batch of another branch is "not found". Dispensing (FEFO) is services/dispensing.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from klinikita.models import Branch, User
from klinikita.models.pharmacy import (
    DrugItem,
    GoodsReceipt,
    MovementKind,
    StockBatch,
    StockMovement,
)
from klinikita.services import audit, drug_master, stock_ledger
from klinikita.services.dates import TYPED_DATE_EXAMPLE, parse_typed_date
from klinikita.services.errors import NotFound, ServiceError, ValidationFailed
from klinikita.services.paging import PAGE_SIZE, Page
from klinikita.services.permissions import Action, require
from klinikita.services.text_input import ascii_digits, take_text
from klinikita.services.visit_queue import branch_zone, local_today, zone_time_text

# Batches that expire within this many days are listed as near expiry.
NEAR_EXPIRY_DAYS = 90
# The most lines one receipt takes, and the largest quantity of one line or adjustment.
MAX_RECEIPT_LINES = 100
MAX_QUANTITY = 1_000_000
# A whole number with its thousands grouped by dots, as Indonesians write it: 1.000.
_GROUPED = re.compile(r"[0-9]{1,3}(\.[0-9]{3})+", re.ASCII)
# The lists that are not paged show at most this many rows.
LIST_LIMIT = 200


class AdjustReason:
    """Why a batch's quantity is corrected (penyesuaian)."""

    RUSAK = "rusak"
    KEDALUWARSA = "kedaluwarsa"
    HILANG = "hilang"
    DITEMUKAN = "ditemukan"
    LAINNYA = "lainnya"


ADJUST_REASONS: dict[str, str] = {
    AdjustReason.RUSAK: "Rusak",
    AdjustReason.KEDALUWARSA: "Kedaluwarsa",
    AdjustReason.HILANG: "Hilang",
    AdjustReason.DITEMUKAN: "Ditemukan",
    AdjustReason.LAINNYA: "Lainnya",
}
# Reasons that can only take stock away, and the one that can only add it.
_TAKING = frozenset({AdjustReason.RUSAK, AdjustReason.KEDALUWARSA, AdjustReason.HILANG})
_ADDING = frozenset({AdjustReason.DITEMUKAN})


# ----- shared checks --------------------------------------------------------------------------
def _branch(session: Session, actor: audit.Actor) -> Branch:
    branch = session.get(Branch, actor.branch_id)
    if branch is None:
        raise NotFound("Cabang tidak ditemukan.")
    return branch


def _item(session: Session, actor: audit.Actor, item_id: int | None) -> DrugItem:
    """The item of the actor's branch, or NotFound."""
    item = session.get(DrugItem, item_id) if item_id else None
    if item is None or item.branch_id != actor.branch_id:
        raise NotFound("Obat tidak ditemukan di cabang ini.")
    return item


def _batch(session: Session, actor: audit.Actor, batch_id: int | None) -> StockBatch:
    """The batch of the actor's branch, or NotFound."""
    batch = session.get(StockBatch, batch_id) if batch_id else None
    if batch is None or batch.branch_id != actor.branch_id:
        raise NotFound("Batch tidak ditemukan di cabang ini.")
    return batch


def parse_quantity(errors: dict[str, str], key: str, text: object, *, signed: bool = False) -> int:
    """A whole number of units typed in a form: > 0 (or, when `signed`, non-zero with an
    optional leading + or -), thousands grouped with dots allowed (1.000); 0 with
    `errors[key]` set otherwise. "2.5" or "2,5" is refused, never read as 25."""
    raw = text.strip() if isinstance(text, str) else ""
    if isinstance(text, int) and not isinstance(text, bool):
        raw = str(text)
    sign = 1
    if signed and raw[:1] in "+-" and raw:
        sign, raw = (-1 if raw[0] == "-" else 1), raw[1:].strip()
    if not raw:
        errors.setdefault(key, "Jumlah wajib diisi.")
        return 0
    if _GROUPED.fullmatch(raw):
        raw = raw.replace(".", "")
    if not ascii_digits(raw):
        errors.setdefault(key, "Jumlah harus bilangan bulat (angka 0-9).")
        return 0
    value = int(raw)
    if value == 0:
        errors.setdefault(key, "Jumlah tidak boleh nol.")
        return 0
    if value > MAX_QUANTITY:
        errors.setdefault(key, f"Jumlah paling banyak {MAX_QUANTITY:,}".replace(",", ".") + ".")
        return 0
    return sign * value


def _parse_date(errors: dict[str, str], key: str, text: object, label: str) -> date | None:
    value = parse_typed_date(text) if isinstance(text, str) else None
    if value is None:
        errors.setdefault(
            key, f"Tulis {label} sebagai hari/bulan/tahun, mis. {TYPED_DATE_EXAMPLE}."
        )
    return value


# ----- goods receipt (penerimaan) ---------------------------------------------------------------
@dataclass
class ReceiptLineInput:
    """One line as typed: the item's id, batch number, expiry (dd/mm/yyyy) and quantity."""

    item_id: int | None
    batch_number: str = ""
    expiry_date: str = ""
    quantity: str = ""


@dataclass
class ReceiptInput:
    """A delivery as typed; `received_on` dd/mm/yyyy (empty: the branch's today)."""

    supplier: str
    invoice_number: str = ""
    received_on: str = ""
    note: str = ""
    lines: list[ReceiptLineInput] = field(default_factory=list)


@dataclass(frozen=True)
class _Line:
    item: DrugItem
    batch_number: str
    expiry: date
    quantity: int


def _validate_receipt(
    session: Session, actor: audit.Actor, data: ReceiptInput, today: date
) -> tuple[dict[str, str], dict, list[_Line]]:
    """(errors, the header's values, the lines) of a receipt; keys of a line's errors are
    `line-<n>-<field>` (n from 0)."""
    errors: dict[str, str] = {}
    header = {
        "supplier": take_text(
            errors, "supplier", data.supplier, label="Pemasok", max_length=200, required=True
        ),
        "invoice_number": take_text(
            errors, "invoice_number", data.invoice_number, label="Nomor faktur", max_length=60
        ),
        "note": take_text(errors, "note", data.note, label="Catatan", max_length=300),
        "received_on": today,
    }
    if (data.received_on or "").strip():
        received = _parse_date(errors, "received_on", data.received_on, "tanggal terima")
        if received is not None and received > today:
            errors["received_on"] = "Tanggal terima tidak boleh setelah hari ini."
        elif received is not None:
            header["received_on"] = received
    if not data.lines:
        errors["lines"] = "Tambahkan sedikitnya satu obat yang diterima."
    elif len(data.lines) > MAX_RECEIPT_LINES:
        errors["lines"] = f"Satu penerimaan paling banyak {MAX_RECEIPT_LINES} baris."
    lines: list[_Line] = []
    items: dict[int, DrugItem | None] = {}
    for n, line in enumerate(data.lines[:MAX_RECEIPT_LINES]):
        key = f"line-{n}-"
        item = None
        if line.item_id:
            if line.item_id not in items:
                found = session.get(DrugItem, line.item_id)
                items[line.item_id] = (
                    found if found and found.branch_id == actor.branch_id else None
                )
            item = items[line.item_id]
        if item is None:
            errors[key + "item"] = "Pilih obat dari daftar obat cabang ini."
        elif not item.active:
            errors[key + "item"] = f"{item.name} sudah tidak aktif."
        batch_number = take_text(
            errors,
            key + "batch_number",
            line.batch_number,
            label="Nomor batch",
            max_length=40,
            required=True,
            collapse_spaces=True,
        )
        expiry = _parse_date(errors, key + "expiry_date", line.expiry_date, "tanggal kedaluwarsa")
        if expiry is not None and expiry <= today:
            errors[key + "expiry_date"] = (
                "Batch ini sudah kedaluwarsa: obat kedaluwarsa tidak boleh diterima."
                if expiry < today
                else "Batch ini kedaluwarsa hari ini: obat kedaluwarsa tidak boleh diterima."
            )
        quantity = parse_quantity(errors, key + "quantity", line.quantity)
        if item is not None and batch_number and expiry is not None and quantity > 0:
            lines.append(_Line(item, batch_number, expiry, quantity))
    return errors, header, lines


def _batch_for(session: Session, item: DrugItem, batch_number: str, expiry: date) -> StockBatch:
    """The batch (item, number, expiry), created empty when it is new. Two receipts
    creating the same batch at once: the second finds the first's row."""
    stmt = select(StockBatch).where(
        StockBatch.item_id == item.id,
        StockBatch.batch_number == batch_number,
        StockBatch.expiry_date == expiry,
    )
    batch = session.exec(stmt).first()
    if batch is not None:
        return batch
    batch = StockBatch(
        branch_id=item.branch_id,
        item_id=item.id,
        batch_number=batch_number,
        expiry_date=expiry,
        quantity=0,
    )
    try:
        with session.begin_nested():
            session.add(batch)
    except IntegrityError:
        batch = session.exec(stmt).one()
    return batch


def receive_goods(session: Session, actor: audit.Actor, data: ReceiptInput) -> GoodsReceipt:
    """Record a delivery: every line adds its quantity to its batch (found or created per
    item, batch number and expiry), all lines or none. Refuses expired batches, a date
    after today, items of another branch; raises ValidationFailed with the wrong fields."""
    require(actor.duty, Action.STOCK_RECEIVE)
    today = local_today(_branch(session, actor))
    errors, header, lines = _validate_receipt(session, actor, data, today)
    if errors:
        raise ValidationFailed(errors)
    receipt = GoodsReceipt(
        branch_id=actor.branch_id,
        supplier=header["supplier"],
        invoice_number=header["invoice_number"],
        received_on=header["received_on"],
        note=header["note"],
        created_by_user_id=actor.user_id,
    )
    session.add(receipt)
    session.flush()
    moved = []
    for line in lines:
        batch = _batch_for(session, line.item, line.batch_number, line.expiry)
        movement = stock_ledger.move(
            session,
            batch,
            line.quantity,
            MovementKind.RECEIPT,
            user_id=actor.user_id,
            reason=_receipt_reason(receipt),
            receipt_id=receipt.id,
        )
        moved.append(
            {
                "item_id": line.item.id,
                "item": line.item.name,
                "batch_id": batch.id,
                "batch_number": batch.batch_number,
                "expiry_date": line.expiry.isoformat(),
                "quantity": line.quantity,
                "balance_after": movement.balance_after,
            }
        )
    after = audit.snapshot(receipt) or {}
    after["lines"] = moved
    audit.record(session, actor, "create", "goods_receipt", receipt.id, after=after)
    return receipt


def _receipt_reason(receipt: GoodsReceipt) -> str:
    text = f"Penerimaan dari {receipt.supplier}"
    if receipt.invoice_number:
        text += f", faktur {receipt.invoice_number}"
    return text[:300]


# ----- adjustments (penyesuaian) and stock-take (stok opname) -------------------------------------
def reason_text(errors: dict[str, str], code: object, text: object, *, key: str = "reason") -> str:
    """The stored reason of an adjustment: its label, ": " and the text typed (required for
    "lainnya"); "" with `errors` set when the reason is missing or wrong."""
    detail = take_text(errors, key + "_text", text, label="Keterangan", max_length=250)
    if code not in ADJUST_REASONS:
        errors.setdefault(key, "Pilih alasan penyesuaian.")
        return ""
    if code == AdjustReason.LAINNYA and not detail and (key + "_text") not in errors:
        errors[key + "_text"] = "Tuliskan alasan lainnya."
        return ""
    label = ADJUST_REASONS[str(code)]
    return f"{label}: {detail}" if detail else label


def adjust_batch(
    session: Session,
    actor: audit.Actor,
    batch_id: int | None,
    quantity: object,
    reason: object,
    detail: object = "",
) -> StockMovement:
    """Correct one batch by a signed quantity with a reason (rusak, kedaluwarsa and hilang
    only take away, ditemukan only adds). Never leaves the batch below zero: too little
    stock (also when another desk took it a moment ago) is a ValidationFailed on
    `quantity`, and nothing is written."""
    require(actor.duty, Action.STOCK_ADJUST)
    batch = _batch(session, actor, batch_id)
    errors: dict[str, str] = {}
    amount = parse_quantity(errors, "quantity", quantity, signed=True)
    why = reason_text(errors, reason, detail)
    if amount and reason in _TAKING and amount > 0:
        errors["quantity"] = (
            f"Alasan {ADJUST_REASONS[str(reason)].lower()} hanya mengurangi stok: "
            "tulis jumlah negatif, mis. -5."
        )
    if amount and reason in _ADDING and amount < 0:
        errors["quantity"] = "Alasan ditemukan hanya menambah stok: tulis jumlah positif."
    if errors:
        raise ValidationFailed(errors)
    item = session.get(DrugItem, batch.item_id)
    before = {"batch_id": batch.id, "quantity": batch.quantity}
    try:
        movement = stock_ledger.move(
            session, batch, amount, MovementKind.ADJUSTMENT, user_id=actor.user_id, reason=why
        )
    except stock_ledger.NotEnoughStock:
        session.refresh(batch)
        have = batch.quantity
        raise ValidationFailed(
            {
                "quantity": f"Stok batch {batch.batch_number} hanya {have}: tidak bisa dikurangi "
                f"{-amount}."
            }
        ) from None
    audit.record(
        session,
        actor,
        "adjust",
        "stock_batch",
        batch.id,
        before=before,
        after={
            "batch_id": batch.id,
            "item": item.name if item else "",
            "quantity": movement.balance_after,
            "change": amount,
            "reason": why,
        },
    )
    return movement


@dataclass(frozen=True)
class CountInput:
    """One batch as counted: its id, the count typed, and the book quantity the form
    showed (None: not checked)."""

    batch_id: int
    counted: str
    book_quantity: int | None = None


def stock_take(
    session: Session,
    actor: audit.Actor,
    item_id: int | None,
    counts: Sequence[CountInput],
    reason: object,
) -> list[StockMovement]:
    """Stok opname of one item: each batch's count replaces its book quantity through one
    STOCK_TAKE movement of the difference (none where they agree). A batch whose book
    quantity changed since the form showed it is refused (count again). All or nothing."""
    require(actor.duty, Action.STOCK_ADJUST)
    item = _item(session, actor, item_id)
    errors: dict[str, str] = {}
    why = take_text(
        errors, "reason", reason, label="Alasan stok opname", max_length=250, required=True
    )
    if not counts:
        errors["counts"] = "Isi jumlah hasil hitung sedikitnya satu batch."
    wanted: list[tuple[StockBatch, int, CountInput]] = []
    seen: set[int] = set()
    for count in counts:
        key = f"count-{count.batch_id}"
        # Locked (PostgreSQL) so nothing moves the batch between its book read and the move.
        batch = session.exec(
            select(StockBatch)
            .where(StockBatch.id == count.batch_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()
        if batch is None or batch.item_id != item.id or batch.id in seen:
            raise NotFound("Batch tidak ditemukan untuk obat ini.")
        seen.add(batch.id)
        counted = _count(errors, key, count.counted)
        if counted is not None:
            wanted.append((batch, counted, count))
    if errors:
        raise ValidationFailed(errors)
    moved: list[StockMovement] = []
    changes = []
    for batch, counted, count in wanted:
        book = batch.quantity
        if count.book_quantity is not None and book != count.book_quantity:
            errors[f"count-{batch.id}"] = (
                f"Stok buku batch {batch.batch_number} berubah ({count.book_quantity} -> "
                f"{book}) sejak dibuka: muat ulang lalu hitung lagi."
            )
            continue
        if counted == book:
            changes.append({"batch_id": batch.id, "book": book, "counted": counted})
            continue
        try:
            movement = stock_ledger.move(
                session,
                batch,
                counted - book,
                MovementKind.STOCK_TAKE,
                user_id=actor.user_id,
                reason=f"Stok opname: {why}"[:300],
            )
        except stock_ledger.NotEnoughStock:
            errors[f"count-{batch.id}"] = (
                f"Stok batch {batch.batch_number} berubah sejak dibuka: muat ulang lalu hitung "
                "lagi."
            )
            continue
        moved.append(movement)
        changes.append({"batch_id": batch.id, "book": book, "counted": counted})
    if errors:
        raise ValidationFailed(errors)  # the caller's transaction rolls the moves back
    audit.record(
        session,
        actor,
        "stock_take",
        "drug_item",
        item.id,
        after={"item": item.name, "reason": why, "batches": changes},
    )
    return moved


def _count(errors: dict[str, str], key: str, text: str) -> int | None:
    raw = text.strip() if isinstance(text, str) else ""
    if not raw:
        errors[key] = "Isi jumlah hasil hitung (0 bila habis)."
        return None
    if not ascii_digits(raw) or int(raw) > MAX_QUANTITY:
        errors[key] = "Jumlah hitung harus bilangan bulat 0 atau lebih."
        return None
    return int(raw)


# ----- what the lists show ------------------------------------------------------------------------
@dataclass(frozen=True)
class StockRow:
    item_id: int
    name: str
    unit: str
    category: str
    kfa_code: str
    min_stock: int
    total: int
    nearest_expiry: date | None
    active: bool

    @property
    def low(self) -> bool:
        return self.total < self.min_stock


def _stock_select(branch_id: int):  # noqa: ANN202
    in_stock = StockBatch.quantity > 0
    total = func.coalesce(func.sum(case((in_stock, StockBatch.quantity), else_=0)), 0)
    nearest = func.min(case((in_stock, StockBatch.expiry_date), else_=None))
    stmt = (
        select(DrugItem, total.label("total"), nearest.label("nearest"))
        .join(
            StockBatch,
            and_(StockBatch.item_id == DrugItem.id, StockBatch.branch_id == DrugItem.branch_id),
            isouter=True,
        )
        .where(DrugItem.branch_id == branch_id)
        .group_by(DrugItem.id)
    )
    return stmt, total


def _row(item: DrugItem, total: int, nearest: date | str | None) -> StockRow:
    if isinstance(nearest, str):  # SQLite hands an aggregated date back as text
        nearest = date.fromisoformat(nearest)
    return StockRow(
        item_id=item.id,
        name=item.name,
        unit=item.unit,
        category=item.category,
        kfa_code=item.kfa_code or "",
        min_stock=item.min_stock,
        total=int(total or 0),
        nearest_expiry=nearest,
        active=item.active,
    )


def _matching(stmt, text: str):  # noqa: ANN001, ANN202
    """Items whose name contains `text` or whose KFA code starts with it (case-insensitive).
    services/drug_master.search_items is the drug master's own search."""
    term = " ".join((text or "").split()).lower()
    if not term:
        return stmt
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return stmt.where(
        or_(
            func.lower(DrugItem.name).like(f"%{escaped}%", escape="\\"),
            DrugItem.kfa_code.like(f"{escaped}%", escape="\\"),
        )
    )


def _paged(session: Session, stmt, page: int, page_size: int) -> Page:  # noqa: ANN001
    total = session.exec(select(func.count()).select_from(stmt.order_by(None).subquery())).one()
    page_count = max(1, -(-total // page_size))
    page = min(max(1, page), page_count)
    rows = list(session.exec(stmt.offset((page - 1) * page_size).limit(page_size)).all())
    return Page(rows, page, page_size, total)


def stock_list(
    session: Session,
    actor: audit.Actor,
    *,
    search: str = "",
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> Page[StockRow]:
    """Stock per item of the active branch (active items first, by name): the sum over its
    batches and the nearest expiry of a batch still in stock."""
    require(actor.duty, Action.VIEW_APOTEK)
    stmt, _ = _stock_select(actor.branch_id)
    stmt = _matching(stmt, search).order_by(DrugItem.active.desc(), DrugItem.name, DrugItem.id)
    got = _paged(session, stmt, page, page_size)
    return Page([_row(*r) for r in got.rows], got.page, got.page_size, got.total)


def low_stock(session: Session, actor: audit.Actor, *, limit: int = LIST_LIMIT) -> list[StockRow]:
    """Active items whose total stock is below their minimum (stok menipis), emptiest first."""
    require(actor.duty, Action.VIEW_APOTEK)
    stmt, total = _stock_select(actor.branch_id)
    stmt = (
        stmt.where(DrugItem.active)
        .having(total < DrugItem.min_stock)
        .order_by(total - DrugItem.min_stock, DrugItem.name)
        .limit(limit)
    )
    return [_row(*r) for r in session.exec(stmt).all()]


@dataclass(frozen=True)
class ExpiryRow:
    batch_id: int
    item_id: int
    name: str
    unit: str
    batch_number: str
    expiry_date: date
    quantity: int
    days_left: int  # negative: expired that many days ago

    @property
    def expired(self) -> bool:
        return self.days_left <= 0


def near_expiry(
    session: Session,
    actor: audit.Actor,
    *,
    days: int = NEAR_EXPIRY_DAYS,
    limit: int = LIST_LIMIT,
) -> list[ExpiryRow]:
    """Batches still in stock that expired already or expire within `days` of the
    branch's today, earliest first."""
    require(actor.duty, Action.VIEW_APOTEK)
    today = local_today(_branch(session, actor))
    stmt = (
        select(StockBatch, DrugItem)
        .join(DrugItem, DrugItem.id == StockBatch.item_id)
        .where(
            StockBatch.branch_id == actor.branch_id,
            DrugItem.branch_id == actor.branch_id,
            StockBatch.quantity > 0,
            StockBatch.expiry_date <= today + timedelta(days=days),
        )
        .order_by(StockBatch.expiry_date, DrugItem.name, StockBatch.id)
        .limit(limit)
    )
    return [
        ExpiryRow(
            batch_id=b.id,
            item_id=i.id,
            name=i.name,
            unit=i.unit,
            batch_number=b.batch_number,
            expiry_date=b.expiry_date,
            quantity=b.quantity,
            days_left=(b.expiry_date - today).days,
        )
        for b, i in session.exec(stmt).all()
    ]


@dataclass(frozen=True)
class BatchRow:
    batch_id: int
    batch_number: str
    expiry_date: date
    quantity: int


def item_batches(
    session: Session, actor: audit.Actor, item_id: int | None
) -> tuple[DrugItem, list[BatchRow]]:
    """The item (of the active branch) and its batches, first to expire first; batches
    that are empty are listed too while they have not expired."""
    require(actor.duty, Action.VIEW_APOTEK)
    item = _item(session, actor, item_id)
    today = local_today(_branch(session, actor))
    stmt = (
        select(StockBatch)
        .where(
            StockBatch.item_id == item.id,
            or_(StockBatch.quantity > 0, StockBatch.expiry_date >= today),
        )
        .order_by(StockBatch.expiry_date, StockBatch.id)
        .limit(LIST_LIMIT)
    )
    rows = [BatchRow(b.id, b.batch_number, b.expiry_date, b.quantity) for b in session.exec(stmt)]
    return item, rows


@dataclass(frozen=True)
class CardRow:
    movement_id: int
    at: datetime
    kind: str
    batch_number: str
    quantity: int
    balance_after: int  # the batch's quantity after the movement
    item_balance: int  # the item's total over all its batches after the movement
    user: str
    reason: str
    at_text: str  # the time in the branch's zone, dd/mm/yyyy HH:MM


def stock_card(
    session: Session,
    actor: audit.Actor,
    item_id: int | None,
    *,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> tuple[DrugItem, Page[CardRow]]:
    """Kartu stok: the item's movements in the order they happened, each with the batch's
    and the item's balance after it, who made it and why."""
    require(actor.duty, Action.VIEW_APOTEK)
    item = _item(session, actor, item_id)
    zone = branch_zone(_branch(session, actor))
    running = func.sum(StockMovement.quantity).over(
        order_by=(StockMovement.created_at, StockMovement.id)
    )
    stmt = (
        select(
            StockMovement,
            StockBatch.batch_number,
            User.full_name,
            running.label("item_balance"),
        )
        .join(StockBatch, StockBatch.id == StockMovement.batch_id)
        .join(User, User.id == StockMovement.user_id, isouter=True)
        .where(StockMovement.item_id == item.id, StockMovement.branch_id == actor.branch_id)
        .order_by(StockMovement.created_at, StockMovement.id)
    )
    got = _paged(session, stmt, page, page_size)
    rows = [
        CardRow(
            movement_id=m.id,
            at=m.created_at,
            kind=m.kind,
            batch_number=number,
            quantity=m.quantity,
            balance_after=m.balance_after,
            item_balance=int(balance),
            user=name or "",
            reason=m.reason,
            at_text=zone_time_text(m.created_at, zone, "%d/%m/%Y %H:%M"),
        )
        for m, number, name, balance in got.rows
    ]
    return item, Page(rows, got.page, got.page_size, got.total)


def find_items(
    session: Session, actor: audit.Actor, text: str, *, limit: int = 20
) -> list[DrugItem]:
    """Active items of the active branch matching `text` (the drug master's search:
    services/drug_master.search_items), for the receipt form's item search."""
    require(actor.duty, Action.VIEW_APOTEK)
    return drug_master.search_items(session, actor.branch_id, text or "", limit)


def receipt_item(session: Session, actor: audit.Actor, item_id: int | None) -> DrugItem:
    """An item the receipt form adds a line for: active, of the active branch."""
    require(actor.duty, Action.STOCK_RECEIVE)
    item = _item(session, actor, item_id)
    if not item.active:
        raise ServiceError(f"{item.name} sudah tidak aktif.")
    return item
