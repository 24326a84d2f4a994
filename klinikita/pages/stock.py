"""Apotek -> Stok (layout only): stock per item, Penerimaan, Penyesuaian / Stok opname,
Stok menipis, Mendekati kedaluwarsa, Kartu stok."""

import reflex as rx

from klinikita import routes
from klinikita.components.data_table import Column, data_table
from klinikita.components.filter_bar import filter_bar, search_input
from klinikita.components.forms import field_error, labelled
from klinikita.components.page import page
from klinikita.components.tables import pager_controls, subnav
from klinikita.services.dates import TYPED_DATE_HINT
from klinikita.services.stock import ADJUST_REASONS, NEAR_EXPIRY_DAYS
from klinikita.state.stock import (
    TAB_ADJUST,
    TAB_CARD,
    TAB_EXPIRY,
    TAB_LOW,
    TAB_RECEIPT,
    TAB_STOCK,
)
from klinikita.state.stock import StockState as S

_MUTED = rx.color("gray", 11)
_REASON_OPTIONS = list(ADJUST_REASONS.items())


def _error_text(text: rx.Var, element_id: rx.Var | str) -> rx.Component:
    return rx.cond(
        text != "",
        rx.text(text, color="red", size="2", class_name="field-error", id=element_id),
    )


def _grid(*children: rx.Component, sm: str = "2") -> rx.Component:
    return rx.grid(*children, columns=rx.breakpoints(initial="1", sm=sm), spacing="3", width="100%")


# ----- Stok -------------------------------------------------------------------------------------
def _item_cell(row: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.text(row["name"], weight="medium"),
        rx.hstack(
            rx.text(row["unit"], size="2", color=_MUTED),
            rx.cond(row["kfa_code"] != "", rx.code("KFA ", row["kfa_code"], size="1")),
            rx.cond(row["active"] == "0", rx.badge("Nonaktif", color_scheme="gray")),
            spacing="2",
            align="center",
        ),
        spacing="1",
    )


def _total_cell(row: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.text(row["total"], weight="bold"),
        rx.cond(row["low"] == "1", rx.badge("Menipis", color_scheme="orange")),
        spacing="2",
        align="center",
    )


def _stock_actions(row: rx.Var) -> rx.Component:
    return rx.flex(
        rx.button(
            rx.icon("list", size=16),
            "Kartu stok",
            on_click=S.open_item(row["id"], TAB_CARD),
            size="3",
            variant="soft",
            id="stock-card-" + row["id"],
        ),
        rx.cond(
            S.can_adjust,
            rx.button(
                rx.icon("sliders-horizontal", size=16),
                "Sesuaikan",
                on_click=S.open_item(row["id"], TAB_ADJUST),
                size="3",
                variant="soft",
                color_scheme="orange",
                id="stock-adjust-" + row["id"],
            ),
        ),
        gap="2",
        wrap="wrap",
    )


_STOCK_COLUMNS = [
    Column("Obat / BHP", _item_cell),
    Column("Stok", _total_cell),
    Column("Minimum", lambda r: rx.text(r["min_stock"]), wide_only=True),
    Column("ED terdekat", lambda r: rx.text(r["nearest_expiry"])),
    Column("", _stock_actions),
]


def _stock_tab() -> rx.Component:
    return rx.vstack(
        filter_bar(
            search_input(
                S.search,
                S.set_search,
                "Cari nama obat atau kode KFA",
                "stock-search",
                debounce_timeout=300,
            ),
        ),
        data_table(S.rows, _STOCK_COLUMNS, prefix="stock", empty="Tidak ada obat.", paged=S),
        spacing="3",
        width="100%",
    )


# ----- the item search of the forms -----------------------------------------------------------
def _item_search(on_pick, element_id: str) -> rx.Component:  # noqa: ANN001
    """A search of the branch's drug master; a tap on a result calls `on_pick(item id)`."""
    return rx.vstack(
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            placeholder="Cari obat (nama, nama generik, atau kode KFA)",
            value=S.item_query,
            on_change=S.search_items,
            debounce_timeout=300,
            size="3",
            width="100%",
            id=element_id,
        ),
        rx.cond(
            S.item_options.length() > 0,
            rx.card(
                rx.vstack(
                    rx.foreach(
                        S.item_options,
                        lambda o: rx.button(
                            rx.text(o["name"], weight="medium"),
                            rx.text(o["unit"], size="2", color=_MUTED),
                            on_click=on_pick(o["id"]),
                            variant="ghost",
                            size="3",
                            width="100%",
                            justify="start",
                            min_height="44px",
                            id=f"{element_id}-option-" + o["id"],
                        ),
                    ),
                    spacing="1",
                    width="100%",
                ),
                width="100%",
            ),
            rx.cond(
                S.item_query != "",
                rx.text("Tidak ada obat yang cocok.", size="2", color=_MUTED),
            ),
        ),
        spacing="2",
        width="100%",
    )


# ----- Penerimaan -------------------------------------------------------------------------------
def _receipt_input(field: str, **props) -> rx.Component:
    return rx.input(
        value=S.receipt[field],
        on_change=lambda v: S.set_receipt_field(field, v),
        size="3",
        width="100%",
        id=f"receipt-{field}",
        **props,
    )


def _line_input(line: rx.Var, field: str, **props) -> rx.Component:
    return rx.vstack(
        rx.input(
            value=line[field],
            on_change=lambda v: S.set_line_field(line["n"].to(int), field, v),
            size="3",
            width="100%",
            id=f"receipt-line-{field}-" + line["n"],
            **props,
        ),
        _error_text(line[f"error_{field}"], f"error-line-{field}-" + line["n"]),
        spacing="1",
        width="100%",
    )


def _receipt_line(line: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge(line["number"], size="2"),
                rx.text(line["name"], weight="medium"),
                rx.text(line["unit"], size="2", color=_MUTED),
                rx.spacer(),
                rx.icon_button(
                    rx.icon("trash-2", size=18),
                    on_click=S.remove_line(line["n"].to(int)),
                    variant="soft",
                    color_scheme="red",
                    size="3",
                    aria_label="Hapus baris",
                    id="receipt-line-remove-" + line["n"],
                ),
                align="center",
                width="100%",
            ),
            _error_text(line["error_item"], "error-line-item-" + line["n"]),
            _grid(
                labelled(
                    "Nomor batch", _line_input(line, "batch_number", max_length=40), rx.fragment()
                ),
                labelled(
                    "Kedaluwarsa (ED)",
                    _line_input(
                        line,
                        "expiry_date",
                        placeholder=TYPED_DATE_HINT,
                        max_length=10,
                        auto_complete="off",
                    ),
                    rx.fragment(),
                ),
                labelled(
                    "Jumlah",
                    _line_input(line, "quantity", input_mode="numeric", max_length=9),
                    rx.fragment(),
                ),
                sm="3",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        class_name="receipt-line",
    )


def _receipt_tab() -> rx.Component:
    return rx.cond(
        S.can_receive,
        rx.vstack(
            _grid(
                labelled(
                    "Pemasok (PBF)",
                    _receipt_input("supplier", max_length=200),
                    field_error(S.errors, "supplier"),
                ),
                labelled(
                    "Nomor faktur",
                    _receipt_input("invoice_number", max_length=60),
                    field_error(S.errors, "invoice_number"),
                ),
                labelled(
                    "Tanggal terima (kosong: hari ini)",
                    _receipt_input(
                        "received_on",
                        placeholder=TYPED_DATE_HINT,
                        max_length=10,
                        auto_complete="off",
                    ),
                    field_error(S.errors, "received_on"),
                ),
                labelled(
                    "Catatan", _receipt_input("note", max_length=300), field_error(S.errors, "note")
                ),
            ),
            rx.heading("Obat yang diterima", size="3"),
            rx.foreach(S.line_views, _receipt_line),
            field_error(S.errors, "lines"),
            _item_search(S.add_line, "receipt-item-search"),
            rx.hstack(
                rx.button(
                    rx.icon("package-check", size=16),
                    "Simpan penerimaan",
                    on_click=S.save_receipt,
                    size="3",
                    id="receipt-save",
                ),
                rx.button(
                    "Kosongkan",
                    on_click=S.clear_receipt,
                    size="3",
                    variant="soft",
                    color_scheme="gray",
                    id="receipt-clear",
                ),
                spacing="3",
            ),
            spacing="3",
            width="100%",
        ),
        rx.callout(
            "Tugas aktif Anda tidak berwenang mencatat penerimaan obat.",
            icon="lock",
            color_scheme="gray",
        ),
    )


# ----- Penyesuaian / Stok opname ------------------------------------------------------------------
def _chosen_item(hint: str) -> rx.Component:
    return rx.cond(
        S.item_id != 0,
        rx.hstack(
            rx.icon("pill", size=18),
            rx.heading(S.item_name, size="4", id="stock-item-name"),
            rx.text(S.item_unit, size="2", color=_MUTED),
            align="center",
        ),
        rx.text(hint, size="2", color=_MUTED),
    )


def _adjust_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Penyesuaian satu batch", size="3"),
            _grid(
                labelled(
                    "Batch",
                    rx.select.root(
                        rx.select.trigger(
                            placeholder="Pilih batch", width="100%", id="adjust-batch"
                        ),
                        rx.select.content(
                            rx.foreach(
                                S.batch_options,
                                lambda o: rx.select.item(o["label"], value=o["value"]),
                            )
                        ),
                        value=S.adjust["batch_id"],
                        on_change=lambda v: S.set_adjust_field("batch_id", v),
                        size="3",
                    ),
                    field_error(S.errors, "batch_id"),
                ),
                labelled(
                    "Jumlah (+ menambah, - mengurangi)",
                    rx.input(
                        value=S.adjust["quantity"],
                        on_change=lambda v: S.set_adjust_field("quantity", v),
                        placeholder="mis. -5",
                        size="3",
                        width="100%",
                        max_length=9,
                        id="adjust-quantity",
                    ),
                    field_error(S.errors, "quantity"),
                ),
                labelled(
                    "Alasan",
                    rx.select.root(
                        rx.select.trigger(
                            placeholder="Pilih alasan", width="100%", id="adjust-reason"
                        ),
                        rx.select.content(
                            *[rx.select.item(label, value=code) for code, label in _REASON_OPTIONS]
                        ),
                        value=S.adjust["reason"],
                        on_change=lambda v: S.set_adjust_field("reason", v),
                        size="3",
                    ),
                    field_error(S.errors, "reason"),
                ),
                labelled(
                    "Keterangan (wajib untuk Lainnya)",
                    rx.input(
                        value=S.adjust["reason_text"],
                        on_change=lambda v: S.set_adjust_field("reason_text", v),
                        size="3",
                        width="100%",
                        max_length=250,
                        id="adjust-reason_text",
                    ),
                    field_error(S.errors, "reason_text"),
                ),
            ),
            rx.button("Simpan penyesuaian", on_click=S.save_adjustment, size="3", id="adjust-save"),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="adjust-form",
    )


def _count_row(b: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(b["batch_number"], weight="medium")),
        rx.table.cell(b["expiry_date"]),
        rx.table.cell(b["quantity"]),
        rx.table.cell(
            rx.vstack(
                rx.input(
                    value=b["counted"],
                    on_change=lambda v: S.set_count(b["id"], v),
                    input_mode="numeric",
                    size="3",
                    width="110px",
                    max_length=9,
                    id="count-" + b["id"],
                ),
                _error_text(b["error"], "error-count-" + b["id"]),
                spacing="1",
            )
        ),
        class_name="count-row",
    )


def _stock_take_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Stok opname", size="3"),
            rx.text(
                "Isi jumlah hasil hitung tiap batch; selisihnya dengan stok buku dicatat di "
                "kartu stok. Batch yang dikosongkan tidak diubah.",
                size="2",
                color=_MUTED,
            ),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Batch"),
                            rx.table.column_header_cell("ED"),
                            rx.table.column_header_cell("Stok buku"),
                            rx.table.column_header_cell("Hasil hitung"),
                        )
                    ),
                    rx.table.body(rx.foreach(S.batch_views, _count_row)),
                    variant="surface",
                    width="100%",
                    id="count-table",
                ),
                width="100%",
                overflow_x="auto",
            ),
            field_error(S.errors, "counts"),
            labelled(
                "Alasan / keterangan stok opname",
                rx.input(
                    value=S.adjust["take_reason"],
                    on_change=lambda v: S.set_adjust_field("take_reason", v),
                    placeholder="mis. Opname akhir bulan",
                    size="3",
                    width="100%",
                    max_length=250,
                    id="count-reason",
                ),
                field_error(S.errors, "reason"),
            ),
            rx.button("Simpan stok opname", on_click=S.save_stock_take, size="3", id="count-save"),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="count-form",
    )


def _adjust_tab() -> rx.Component:
    return rx.cond(
        S.can_adjust,
        rx.vstack(
            _item_search(lambda item_id: S.open_item(item_id, TAB_ADJUST), "adjust-item-search"),
            _chosen_item("Pilih obat yang stoknya disesuaikan atau dihitung."),
            rx.cond(
                S.item_id != 0,
                rx.cond(
                    S.batches.length() > 0,
                    rx.vstack(_adjust_form(), _stock_take_form(), spacing="4", width="100%"),
                    rx.callout(
                        "Obat ini belum punya batch: catat lewat Penerimaan.",
                        icon="inbox",
                        color_scheme="gray",
                    ),
                ),
            ),
            spacing="3",
            width="100%",
        ),
        rx.callout(
            "Penyesuaian dan stok opname hanya untuk apoteker penanggung jawab dan admin.",
            icon="lock",
            color_scheme="gray",
        ),
    )


# ----- Stok menipis, Mendekati kedaluwarsa -----------------------------------------------
_LOW_COLUMNS = [
    Column("Obat / BHP", _item_cell),
    Column("Stok", lambda r: rx.text(r["total"], weight="bold", color=rx.color("orange", 11))),
    Column("Minimum", lambda r: rx.text(r["min_stock"])),
    Column("", _stock_actions),
]


def _expiry_status(row: rx.Var) -> rx.Component:
    return rx.badge(
        row["status"],
        color_scheme=rx.cond(row["expired"] == "1", "red", "amber"),
        size="2",
    )


_EXPIRY_COLUMNS = [
    Column("Obat / BHP", lambda r: rx.text(r["name"], weight="medium")),
    Column("Batch", lambda r: rx.text(r["batch_number"])),
    Column("ED", lambda r: rx.text(r["expiry_date"])),
    Column("Stok", lambda r: rx.text(r["quantity"], " ", r["unit"])),
    Column("Status", _expiry_status),
    Column(
        "",
        lambda r: rx.cond(
            S.can_adjust,
            rx.button(
                "Sesuaikan",
                on_click=S.open_item(r["item_id"], TAB_ADJUST),
                size="3",
                variant="soft",
                color_scheme="orange",
                id="expiry-adjust-" + r["id"],
            ),
        ),
    ),
]


# ----- Kartu stok --------------------------------------------------------------------------------
_CARD_COLUMNS = [
    Column("Waktu", lambda r: rx.text(r["at"], white_space="nowrap")),
    Column("Jenis", lambda r: rx.text(r["kind"])),
    Column("Batch", lambda r: rx.text(r["batch_number"])),
    Column("Jumlah", lambda r: rx.text(r["quantity"], weight="bold")),
    Column("Sisa batch", lambda r: rx.text(r["balance_after"]), wide_only=True),
    Column("Sisa total", lambda r: rx.text(r["item_balance"], weight="medium")),
    Column("Oleh", lambda r: rx.text(r["user"]), wide_only=True),
    Column("Keterangan", lambda r: rx.text(r["reason"], size="2"), props={"max_width": "320px"}),
]


def _card_tab() -> rx.Component:
    return rx.vstack(
        _item_search(lambda item_id: S.open_item(item_id, TAB_CARD), "card-item-search"),
        _chosen_item("Pilih obat untuk melihat kartu stoknya."),
        rx.cond(
            S.item_id != 0,
            rx.vstack(
                data_table(
                    S.card_rows, _CARD_COLUMNS, prefix="card", empty="Belum ada pergerakan stok."
                ),
                pager_controls(
                    S.card_label,
                    S.card_page <= 1,
                    S.card_page >= S.card_page_count,
                    S.card_prev,
                    S.card_next,
                    "card-pager",
                ),
                spacing="3",
                width="100%",
            ),
        ),
        spacing="3",
        width="100%",
    )


def _tab(value: str, label: str) -> rx.Component:
    return rx.tabs.trigger(label, value=value, id=f"stock-tab-{value}", min_height="44px")


@page(route=routes.APOTEK_STOK, title="Stok", shell="Apotek", on_load=S.load)
def stock_page() -> rx.Component:
    return rx.vstack(
        subnav(routes.APOTEK_TABS),
        rx.tabs.root(
            rx.tabs.list(
                _tab(TAB_STOCK, "Stok"),
                _tab(TAB_RECEIPT, "Penerimaan"),
                _tab(TAB_ADJUST, "Penyesuaian / Stok opname"),
                _tab(TAB_LOW, "Stok menipis"),
                _tab(TAB_EXPIRY, "Mendekati kedaluwarsa"),
                _tab(TAB_CARD, "Kartu stok"),
                size="2",
                style={"flex_wrap": "wrap"},
            ),
            rx.box(
                rx.match(
                    S.tab,
                    (TAB_RECEIPT, _receipt_tab()),
                    (TAB_ADJUST, _adjust_tab()),
                    (
                        TAB_LOW,
                        data_table(
                            S.low_rows,
                            _LOW_COLUMNS,
                            prefix="low",
                            empty="Tidak ada obat di bawah stok minimum.",
                        ),
                    ),
                    (
                        TAB_EXPIRY,
                        rx.vstack(
                            rx.text(
                                f"Batch yang masih ada stoknya dan kedaluwarsa dalam "
                                f"{NEAR_EXPIRY_DAYS} hari, atau sudah kedaluwarsa.",
                                size="2",
                                color=_MUTED,
                            ),
                            data_table(
                                S.expiry_rows,
                                _EXPIRY_COLUMNS,
                                prefix="expiry",
                                empty="Tidak ada batch yang mendekati kedaluwarsa.",
                            ),
                            spacing="3",
                            width="100%",
                        ),
                    ),
                    (TAB_CARD, _card_tab()),
                    _stock_tab(),
                ),
                padding_top="16px",
                width="100%",
            ),
            value=S.tab,
            on_change=S.set_tab,
            width="100%",
        ),
        spacing="3",
        width="100%",
    )
