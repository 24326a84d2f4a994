"""Apotek -> Stok: stock per item, goods receipts, adjustments and stock-take, low stock,
near expiry and the stock card of the active branch (services/stock.py holds the rules)."""

from __future__ import annotations

import reflex as rx

from klinikita.db import read_scope, session_scope
from klinikita.models.pharmacy import MovementKind
from klinikita.services import stock as stock_service
from klinikita.services.audit import Actor
from klinikita.services.dates import typed_date
from klinikita.services.errors import NotFound, ValidationFailed
from klinikita.services.paging import PAGE_SIZE
from klinikita.services.permissions import Action, allows
from klinikita.services.text_input import parse_id, payload_id, payload_search, payload_text
from klinikita.state.auth import AuthState
from klinikita.state.paging import PagedList

TAB_STOCK = "stok"
TAB_RECEIPT = "penerimaan"
TAB_ADJUST = "penyesuaian"
TAB_LOW = "menipis"
TAB_EXPIRY = "kedaluwarsa"
TAB_CARD = "kartu"
TABS = (TAB_STOCK, TAB_RECEIPT, TAB_ADJUST, TAB_LOW, TAB_EXPIRY, TAB_CARD)

RECEIPT_FIELDS = ("supplier", "invoice_number", "received_on", "note")
LINE_FIELDS = ("batch_number", "expiry_date", "quantity")
ADJUST_FIELDS = ("batch_id", "quantity", "reason", "reason_text", "take_reason")
MAX_LINES = stock_service.MAX_RECEIPT_LINES


def _number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def _stock_row(r: stock_service.StockRow) -> dict[str, str]:
    return {
        "id": str(r.item_id),
        "name": r.name,
        "unit": r.unit,
        "kfa_code": r.kfa_code,
        "total": _number(r.total),
        "min_stock": _number(r.min_stock),
        "nearest_expiry": typed_date(r.nearest_expiry) or "-",
        "low": "1" if r.low else "0",
        "active": "1" if r.active else "0",
    }


def _expiry_row(r: stock_service.ExpiryRow) -> dict[str, str]:
    if r.days_left < 0:
        status = f"Kedaluwarsa {-r.days_left} hari lalu"
    elif r.days_left == 0:
        status = "Kedaluwarsa hari ini"
    else:
        status = f"{r.days_left} hari lagi"
    return {
        "id": str(r.batch_id),
        "item_id": str(r.item_id),
        "name": r.name,
        "unit": r.unit,
        "batch_number": r.batch_number,
        "expiry_date": typed_date(r.expiry_date),
        "quantity": _number(r.quantity),
        "status": status,
        "expired": "1" if r.expired else "0",
    }


def _card_row(r: stock_service.CardRow) -> dict[str, str]:
    try:
        kind = MovementKind(r.kind).label
    except ValueError:
        kind = r.kind
    return {
        "id": str(r.movement_id),
        "at": r.at_text,
        "kind": kind,
        "batch_number": r.batch_number,
        "quantity": f"+{_number(r.quantity)}" if r.quantity > 0 else _number(r.quantity),
        "balance_after": _number(r.balance_after),
        "item_balance": _number(r.item_balance),
        "user": r.user or "-",
        "reason": r.reason,
    }


def _blank_receipt() -> dict[str, str]:
    """An empty receipt; an empty date is the branch's today."""
    return {"supplier": "", "invoice_number": "", "received_on": "", "note": ""}


def _blank_adjust() -> dict[str, str]:
    return {k: "" for k in ADJUST_FIELDS}


class StockState(PagedList, AuthState):
    """The page's tabs share one chosen item (for Penyesuaian / Stok opname and Kartu stok)."""

    tab: str = TAB_STOCK
    can_receive: bool = False
    can_adjust: bool = False

    # Stok: one page of items
    search: str = ""
    rows: list[dict[str, str]] = []
    # Stok menipis, Mendekati kedaluwarsa
    low_rows: list[dict[str, str]] = []
    expiry_rows: list[dict[str, str]] = []

    # The item search of Penerimaan, Penyesuaian and Kartu stok
    item_query: str = ""
    item_options: list[dict[str, str]] = []

    # Penerimaan: the header and its lines
    receipt: dict[str, str] = _blank_receipt()
    lines: list[dict[str, str]] = []
    errors: dict[str, str] = {}

    # The chosen item, its batches, the adjustment and the stock-take counts
    item_id: int = 0
    item_name: str = ""
    item_unit: str = ""
    batches: list[dict[str, str]] = []
    adjust: dict[str, str] = _blank_adjust()
    counts: dict[str, str] = {}

    # Kartu stok of the chosen item
    card_rows: list[dict[str, str]] = []
    card_page: int = 1
    card_page_count: int = 1
    card_total: int = 0

    _branch_id: int = 0  # the branch whose rows are on screen

    # ----- what the forms show --------------------------------------------------------------
    @rx.var
    def line_views(self) -> list[dict[str, str]]:
        """The receipt's lines with their position and each field's error."""
        return [
            {
                **line,
                "n": str(n),
                "number": str(n + 1),
                **{
                    f"error_{f}": self.errors.get(f"line-{n}-{f}", "")
                    for f in ("item", *LINE_FIELDS)
                },
            }
            for n, line in enumerate(self.lines)
        ]

    @rx.var
    def batch_views(self) -> list[dict[str, str]]:
        """The chosen item's batches with the count typed and its error."""
        return [
            {
                **b,
                "counted": self.counts.get(b["id"], ""),
                "error": self.errors.get(f"count-{b['id']}", ""),
            }
            for b in self.batches
        ]

    @rx.var
    def batch_options(self) -> list[dict[str, str]]:
        """The batches an adjustment can pick, as the select shows them."""
        return [
            {
                "value": b["id"],
                "label": f"{b['batch_number']} (ED {b['expiry_date']}, stok {b['quantity']})",
            }
            for b in self.batches
        ]

    @rx.var
    def card_label(self) -> str:
        return f"Halaman {self.card_page} dari {self.card_page_count} ({self.card_total} data)"

    # ----- loading ----------------------------------------------------------------------
    def _viewer(self) -> Actor | None:
        """The actor behind this tab if it may open Apotek; otherwise the page is emptied."""
        actor = self._current_actor()
        if actor is None or not allows(actor.duty, Action.VIEW_APOTEK):
            self.page_allowed = actor is None
            self._forget()
            return None
        self.page_allowed = True
        self.can_receive = allows(actor.duty, Action.STOCK_RECEIVE)
        self.can_adjust = allows(actor.duty, Action.STOCK_ADJUST)
        if self._branch_id != actor.branch_id:
            self._forget()
            self._branch_id = actor.branch_id
        return actor

    def _forget(self) -> None:
        """Nothing of the branch shown before stays on the page."""
        self._branch_id = 0
        self.rows, self.low_rows, self.expiry_rows, self.item_options = [], [], [], []
        self.lines, self.batches, self.card_rows, self.counts, self.errors = [], [], [], {}, {}
        self.receipt, self.adjust = _blank_receipt(), _blank_adjust()
        self.item_id, self.item_name, self.item_unit, self.item_query = 0, "", "", ""
        self.page = self.card_page = 1
        self.page_count = self.card_page_count = 1
        self.total = self.card_total = 0
        self.total_text = "0"

    def _show_tab(self, actor: Actor) -> None:
        """Read what the open tab shows."""
        with read_scope() as session:
            if self.tab == TAB_STOCK:
                got = stock_service.stock_list(
                    session, actor, search=self.search, page=self.page, page_size=PAGE_SIZE
                )
                self.rows = [_stock_row(r) for r in got.rows]
                self._show_page(got)
            elif self.tab == TAB_LOW:
                self.low_rows = [_stock_row(r) for r in stock_service.low_stock(session, actor)]
            elif self.tab == TAB_EXPIRY:
                self.expiry_rows = [
                    _expiry_row(r) for r in stock_service.near_expiry(session, actor)
                ]
            elif self.tab in (TAB_ADJUST, TAB_CARD) and self.item_id:
                try:
                    if self.tab == TAB_ADJUST:
                        self._read_batches(session, actor)
                    else:
                        self._read_card(session, actor)
                except NotFound:  # the item is gone from this branch: choose again
                    self._drop_item()

    def _drop_item(self) -> None:
        self.item_id, self.item_name, self.item_unit = 0, "", ""
        self.batches, self.card_rows, self.counts = [], [], {}
        self.card_page = self.card_page_count = 1
        self.card_total = 0

    def _read_batches(self, session, actor: Actor) -> None:  # noqa: ANN001
        item, rows = stock_service.item_batches(session, actor, self.item_id)
        self.item_name, self.item_unit = item.name, item.unit
        self.batches = [
            {
                "id": str(b.batch_id),
                "batch_number": b.batch_number,
                "expiry_date": typed_date(b.expiry_date),
                "quantity": str(b.quantity),
            }
            for b in rows
        ]
        self.counts = {b["id"]: self.counts.get(b["id"], "") for b in self.batches}

    def _read_card(self, session, actor: Actor) -> None:  # noqa: ANN001
        item, got = stock_service.stock_card(
            session, actor, self.item_id, page=self.card_page, page_size=PAGE_SIZE
        )
        self.item_name, self.item_unit = item.name, item.unit
        self.card_rows = [_card_row(r) for r in got.rows]
        self.card_page, self.card_page_count, self.card_total = (
            got.page,
            got.page_count,
            got.total,
        )

    def _reload(self) -> None:
        actor = self._viewer()
        if actor is not None:
            self._show_tab(actor)

    def _load_page(self) -> None:
        self._reload()

    @rx.event
    def load(self):
        self._reload()

    @rx.event
    def set_tab(self, tab: str):
        tab = payload_text(tab, max_length=20)
        if tab not in TABS:
            return
        self.tab, self.errors = tab, {}
        self.item_query, self.item_options = "", []
        self._reload()

    @rx.event(supersedes=True)
    def set_search(self, value: str):
        self.search = payload_search(value)
        self.page = 1
        self._reload()

    # ----- choosing an item -------------------------------------------------------------
    @rx.event(supersedes=True)
    def search_items(self, text: str):
        """The items of the branch whose name or KFA code matches what is typed."""
        actor = self._authorize(Action.VIEW_APOTEK)
        query = payload_search(text)
        if self._viewer() is None:
            return
        self.item_query = query
        with read_scope() as session:
            found = stock_service.find_items(session, actor, self.item_query, limit=20)
            self.item_options = [
                {"id": str(i.id), "name": i.name, "unit": i.unit, "kfa_code": i.kfa_code or ""}
                for i in found
            ]

    @rx.event
    def open_item(self, item_id: str, tab: str = TAB_CARD):
        """Show an item's batches (Penyesuaian / Stok opname) or its stock card."""
        actor = self._authorize(Action.VIEW_APOTEK)
        wanted = payload_id(item_id, "Obat")
        tab = payload_text(tab, max_length=20)
        if self._viewer() is None:
            return
        self.tab = tab if tab in (TAB_ADJUST, TAB_CARD) else TAB_CARD
        self.item_id, self.card_page, self.errors = wanted, 1, {}
        self.counts, self.adjust = {}, _blank_adjust()
        self.item_query, self.item_options = "", []
        try:
            with read_scope() as session:
                if self.tab == TAB_ADJUST:
                    self._read_batches(session, actor)
                else:
                    self._read_card(session, actor)
        except NotFound:
            self._drop_item()
            raise

    @rx.event
    def card_next(self):
        self._turn_card(1)

    @rx.event
    def card_prev(self):
        self._turn_card(-1)

    def _turn_card(self, step: int) -> None:
        actor = self._authorize(Action.VIEW_APOTEK)
        if self._viewer() is None or not self.item_id:
            return
        self.card_page = min(max(1, self.card_page + step), max(1, self.card_page_count))
        try:
            with read_scope() as session:
                self._read_card(session, actor)
        except NotFound:
            self._drop_item()
            raise

    # ----- Penerimaan ---------------------------------------------------------------------
    @rx.event
    def add_line(self, item_id: str):
        """A receipt line for the item picked from the search."""
        actor = self._authorize(Action.STOCK_RECEIVE)
        wanted = payload_id(item_id, "Obat")
        if len(self.lines) >= MAX_LINES:
            return rx.toast.error(f"Satu penerimaan paling banyak {MAX_LINES} baris.")
        with read_scope() as session:
            item = stock_service.receipt_item(session, actor, wanted)
            line = {
                "item_id": str(item.id),
                "name": item.name,
                "unit": item.unit,
                "batch_number": "",
                "expiry_date": "",
                "quantity": "",
            }
        self.lines = [*self.lines, line]
        self.item_query, self.item_options = "", []
        self.errors.pop("lines", None)

    @rx.event
    def set_receipt_field(self, field: str, value: str):
        if field not in RECEIPT_FIELDS:
            return
        self.receipt[field] = payload_text(value, max_length=400)
        self.errors.pop(field, None)

    @rx.event
    def set_line_field(self, index: int, field: str, value: str):
        n = parse_id(str(index + 1)) if isinstance(index, int) else None
        if n is None or n > len(self.lines) or field not in LINE_FIELDS:
            return
        line = dict(self.lines[n - 1])
        line[field] = payload_text(value, max_length=60)
        self.lines = [*self.lines[: n - 1], line, *self.lines[n:]]
        self.errors.pop(f"line-{n - 1}-{field}", None)

    @rx.event
    def remove_line(self, index: int):
        if not isinstance(index, int) or isinstance(index, bool):
            return
        if 0 <= index < len(self.lines):
            self.lines = [*self.lines[:index], *self.lines[index + 1 :]]
            self.errors = {k: v for k, v in self.errors.items() if not k.startswith("line-")}

    @rx.event
    def clear_receipt(self):
        self.lines, self.errors = [], {}
        self.receipt = _blank_receipt()
        self.item_query, self.item_options = "", []

    @rx.event
    def save_receipt(self):
        actor = self._authorize(Action.STOCK_RECEIVE)
        data = stock_service.ReceiptInput(
            supplier=self.receipt.get("supplier", ""),
            invoice_number=self.receipt.get("invoice_number", ""),
            received_on=self.receipt.get("received_on", ""),
            note=self.receipt.get("note", ""),
            lines=[
                stock_service.ReceiptLineInput(
                    item_id=parse_id(line.get("item_id", "")),
                    batch_number=line.get("batch_number", ""),
                    expiry_date=line.get("expiry_date", ""),
                    quantity=line.get("quantity", ""),
                )
                for line in self.lines
            ],
        )
        try:
            with session_scope() as session:
                receipt = stock_service.receive_goods(session, actor, data)
                count = len(data.lines)
                supplier = receipt.supplier
        except ValidationFailed as failed:
            self.errors = failed.errors
            return rx.toast.error(failed.message)
        self.lines, self.errors = [], {}
        self.receipt = _blank_receipt()
        self._reload()
        return rx.toast.success(f"Penerimaan dari {supplier} dicatat ({count} baris).")

    # ----- Penyesuaian and Stok opname ------------------------------------------------------
    @rx.event
    def set_adjust_field(self, field: str, value: str):
        if field not in ADJUST_FIELDS:
            return
        self.adjust[field] = payload_text(value, max_length=300)
        self.errors.pop(field, None)
        if field == "reason":
            self.errors.pop("reason_text", None)

    @rx.event
    def set_count(self, batch_id: str, value: str):
        key = payload_text(batch_id, max_length=20)
        if key not in self.counts:
            return
        self.counts[key] = payload_text(value, max_length=20)
        self.errors.pop(f"count-{key}", None)
        self.errors.pop("counts", None)

    @rx.event
    def save_adjustment(self):
        actor = self._authorize(Action.STOCK_ADJUST)
        if not parse_id(self.adjust.get("batch_id", "")):
            self.errors = {"batch_id": "Pilih batch yang disesuaikan."}
            return rx.toast.error("Periksa kembali isian yang ditandai.")
        try:
            with session_scope() as session:
                move = stock_service.adjust_batch(
                    session,
                    actor,
                    parse_id(self.adjust.get("batch_id", "")),
                    self.adjust.get("quantity", ""),
                    self.adjust.get("reason", ""),
                    self.adjust.get("reason_text", ""),
                )
                balance = move.balance_after
        except ValidationFailed as failed:
            self.errors = failed.errors
            return rx.toast.error(failed.message)
        self.adjust, self.errors = _blank_adjust(), {}
        self._reload()
        return rx.toast.success(f"Stok disesuaikan; sisa batch {_number(balance)}.")

    @rx.event
    def save_stock_take(self):
        actor = self._authorize(Action.STOCK_ADJUST)
        book = {b["id"]: b["quantity"] for b in self.batches}
        counts = [
            stock_service.CountInput(
                batch_id=parse_id(key) or 0,
                counted=value,
                book_quantity=int(book[key]) if book.get(key, "").isdigit() else None,
            )
            for key, value in self.counts.items()
            if value.strip() and parse_id(key)
        ]
        try:
            with session_scope() as session:
                moved = stock_service.stock_take(
                    session, actor, self.item_id, counts, self.adjust.get("take_reason", "")
                )
                changed = len(moved)
        except ValidationFailed as failed:
            self.errors = failed.errors
            return rx.toast.error(failed.message)
        self.counts = {}
        self.adjust, self.errors = _blank_adjust(), {}
        self._reload()
        if not changed:
            return rx.toast.success("Stok opname dicatat: hasil hitung sama dengan stok buku.")
        return rx.toast.success(f"Stok opname dicatat: {changed} batch disesuaikan.")
