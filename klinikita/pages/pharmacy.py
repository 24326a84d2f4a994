"""Apotek -> Resep: today's queue, the review with allergies first, dispensing, hand-over,
cancel; and the printable labels (etiket). Layout only."""

from __future__ import annotations

import reflex as rx

from klinikita import routes
from klinikita.components.allergy_banner import allergy_banner
from klinikita.components.forms import labelled
from klinikita.components.letterhead import printed_document
from klinikita.components.page import page
from klinikita.components.sync_badge import sync_badge
from klinikita.components.tables import subnav
from klinikita.models.pharmacy import DispenseStatus
from klinikita.state.pharmacy import LabelState
from klinikita.state.pharmacy import PharmacyState as S

STATUS_COLORS = {
    DispenseStatus.WAITING.value: "amber",
    DispenseStatus.DISPENSED.value: "blue",
    DispenseStatus.HANDED_OVER.value: "green",
    DispenseStatus.CANCELLED.value: "gray",
}
_TWO_COLUMNS = {"columns": rx.breakpoints(initial="1", lg="2"), "spacing": "4", "width": "100%"}


def _muted(*children, **props) -> rx.Component:
    props.setdefault("size", "2")
    return rx.text(*children, color=rx.color("gray", 11), **props)


def _status_badge(status: rx.Var, label: rx.Var) -> rx.Component:
    return rx.match(
        status,
        *[
            (value, rx.badge(label, color_scheme=color, size="2"))
            for value, color in STATUS_COLORS.items()
        ],
        rx.badge(label, size="2"),
    )


# ----- the queue --------------------------------------------------------------------------
def _queue_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row["number"], weight="bold", size="4")),
        rx.table.cell(
            rx.vstack(
                rx.text(row["patient"], weight="medium"),
                _muted("No. RM ", row["mrn"], " · ", row["lines"], " obat"),
                spacing="0",
            )
        ),
        rx.table.cell(rx.vstack(rx.text(row["unit"]), _muted(row["doctor"]), spacing="0")),
        rx.table.cell(rx.text(row["time"])),
        rx.table.cell(_status_badge(row["status"], row["status_label"])),
        rx.table.cell(
            rx.button(
                "Buka",
                on_click=S.open_dispense(row["id"]),
                size="3",
                variant="soft",
                min_height="44px",
                id="apotek-open-" + row["id"],
            )
        ),
        id="apotek-row-" + row["id"],
    )


def _queue() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Antrean resep hari ini", size="4"),
            rx.cond(
                S.queue.length() > 0,
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("No."),
                            rx.table.column_header_cell("Pasien"),
                            rx.table.column_header_cell("Unit / dokter"),
                            rx.table.column_header_cell("Masuk"),
                            rx.table.column_header_cell("Status"),
                            rx.table.column_header_cell(""),
                        )
                    ),
                    rx.table.body(rx.foreach(S.queue, _queue_row)),
                    width="100%",
                    id="apotek-queue",
                ),
                _muted("Belum ada resep hari ini.", id="apotek-queue-empty"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


# ----- the review -------------------------------------------------------------------------
def _allergies() -> rx.Component:
    """The patient's allergies, first (the shared banner the exam page shows too)."""
    return rx.box(allergy_banner(S.allergies, "apotek-allergy-banner"), id="apotek-allergies")


def _line_row(row: rx.Var) -> rx.Component:
    waiting = S.head["status"] == DispenseStatus.WAITING.value
    return rx.cond(
        row["kind"] == "line",
        rx.box(
            rx.hstack(
                rx.text(row["name"], weight="bold"),
                rx.cond(row["racikan"] != "", rx.badge("Racikan", color_scheme="violet")),
                rx.cond(
                    row["allergy"] != "",
                    rx.badge("Alergi!", color_scheme="red", id="apotek-allergy-" + row["key"]),
                ),
                rx.text(row["quantity"]),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            _muted(row["signa"]),
            rx.cond(row["no_stock"] != "", _muted("Tidak diambil dari stok (tanpa data obat).")),
            padding_top="8px",
            width="100%",
            border_top=f"1px solid {rx.color('gray', 5)}",
        ),
        rx.hstack(
            rx.vstack(
                rx.text(row["name"], size="2"),
                _muted("Resep: ", row["prescribed"], " ", row["unit"], size="1"),
                rx.cond(row["batches"] != "", _muted("Batch: ", row["batches"], size="1")),
                rx.cond(
                    row["shortage"] != "",
                    rx.text(row["shortage"], color="red", size="2"),
                ),
                spacing="0",
                flex="1",
                min_width="200px",
            ),
            rx.cond(
                waiting & S.can_dispense,
                rx.hstack(
                    rx.vstack(
                        rx.input(
                            value=row["qty"],
                            on_change=lambda v: S.set_quantity(row["key"], v),
                            width="90px",
                            size="3",
                            input_mode="numeric",
                            id="apotek-qty-" + row["key"],
                        ),
                        rx.cond(
                            S.errors.contains("qty:" + row["key"]),
                            rx.text(S.errors["qty:" + row["key"]], color="red", size="1"),
                        ),
                        spacing="1",
                    ),
                    rx.vstack(
                        rx.input(
                            value=row["reason"],
                            on_change=lambda v: S.set_reason(row["key"], v),
                            placeholder="Alasan bila jumlah diubah",
                            size="3",
                            width="220px",
                            max_length=300,
                            id="apotek-reason-" + row["key"],
                        ),
                        rx.cond(
                            S.errors.contains("reason:" + row["key"]),
                            rx.text(S.errors["reason:" + row["key"]], color="red", size="1"),
                        ),
                        spacing="1",
                    ),
                    spacing="2",
                ),
                rx.vstack(
                    rx.text("Diberikan: ", row["qty"], " ", row["unit"], size="2"),
                    rx.cond(row["reason"] != "", _muted("Alasan: ", row["reason"], size="1")),
                    spacing="0",
                ),
            ),
            spacing="3",
            width="100%",
            padding_left="16px",
            wrap="wrap",
        ),
    )


def _actions() -> rx.Component:
    status = S.head["status"]
    return rx.flex(
        rx.cond(
            (status == DispenseStatus.WAITING.value) & S.can_dispense,
            rx.button(
                "Siapkan obat (kurangi stok)",
                on_click=S.dispense,
                size="3",
                min_height="44px",
                id="apotek-dispense",
            ),
        ),
        rx.cond(
            (status == DispenseStatus.DISPENSED.value) & S.can_dispense,
            rx.button(
                "Serahkan ke pasien",
                on_click=S.hand_over,
                size="3",
                color_scheme="green",
                min_height="44px",
                id="apotek-hand-over",
            ),
        ),
        rx.cond(
            S.can_dispense,
            rx.button(
                rx.icon("printer", size=16),
                "Cetak resep",
                on_click=S.print_prescription,
                variant="soft",
                size="3",
                min_height="44px",
                id="apotek-print-resep",
            ),
        ),
        rx.cond(
            status != DispenseStatus.CANCELLED.value,
            rx.hstack(
                rx.link(
                    rx.button("Etiket 60x40 mm", variant="soft", size="3", min_height="44px"),
                    href=S.head["etiket_kecil"],
                    is_external=True,
                    id="apotek-label-small",
                ),
                rx.link(
                    rx.button("Etiket A4", variant="soft", size="3", min_height="44px"),
                    href=S.head["etiket_a4"],
                    is_external=True,
                    id="apotek-label-a4",
                ),
                spacing="2",
            ),
        ),
        rx.cond(
            ((status == DispenseStatus.WAITING.value) | (status == DispenseStatus.DISPENSED.value))
            & S.can_cancel,
            rx.button(
                "Batalkan",
                on_click=S.open_cancel,
                size="3",
                color_scheme="red",
                variant="soft",
                min_height="44px",
                id="apotek-cancel",
            ),
        ),
        rx.cond(
            (status == DispenseStatus.HANDED_OVER.value) & S.can_cancel,
            rx.button(
                "Retur obat",
                on_click=S.open_return,
                size="3",
                color_scheme="red",
                variant="soft",
                min_height="44px",
                id="apotek-return",
            ),
        ),
        rx.button(
            "Tutup",
            on_click=S.close_dispense,
            size="3",
            variant="outline",
            color_scheme="gray",
            min_height="44px",
        ),
        spacing="2",
        wrap="wrap",
    )


def _review() -> rx.Component:
    return rx.card(
        rx.cond(
            S.selected_id > 0,
            rx.vstack(
                rx.hstack(
                    rx.heading(S.head["patient"], size="5"),
                    _status_badge(S.head["status"], S.head["status_label"]),
                    sync_badge(S.head["sync"], detail=S.head["sync_error"]),
                    spacing="3",
                    align="center",
                    wrap="wrap",
                ),
                _muted(
                    "No. RM ",
                    S.head["mrn"],
                    " · Antrean ",
                    S.head["number"],
                    " · ",
                    S.head["unit"],
                    " · ",
                    S.head["doctor"],
                ),
                _allergies(),
                rx.cond(S.head["note"] != "", _muted("Catatan: ", S.head["note"])),
                rx.vstack(rx.foreach(S.rows, _line_row), spacing="2", width="100%"),
                _actions(),
                spacing="3",
                width="100%",
                id="apotek-review",
            ),
            _muted("Pilih resep dari antrean untuk ditelaah dan disiapkan."),
        ),
        width="100%",
    )


def _cancel_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.returning, "Catat retur obat?", "Batalkan resep?")),
            rx.dialog.description(
                rx.cond(
                    S.returning,
                    "Pasien mengembalikan obat yang sudah diserahkan: semuanya kembali ke stok "
                    "batch asalnya dan tidak ditagihkan. Hanya bila nota kunjungan belum lunas.",
                    "Obat yang sudah disiapkan dikembalikan ke stok batch asalnya.",
                ),
                margin_bottom="12px",
            ),
            labelled(
                rx.cond(S.returning, "Alasan retur", "Alasan pembatalan"),
                rx.text_area(
                    value=S.cancel_reason,
                    on_change=S.set_cancel_reason,
                    placeholder="mis. resep diganti dokter",
                    size="3",
                    width="100%",
                    max_length=300,
                    id="apotek-cancel-reason",
                ),
                rx.cond(S.cancel_error != "", rx.text(S.cancel_error, color="red", size="2")),
            ),
            rx.flex(
                rx.dialog.close(rx.button("Tutup", variant="soft", color_scheme="gray", size="3")),
                rx.cond(
                    S.returning,
                    rx.button(
                        "Catat retur",
                        on_click=S.confirm_return,
                        color_scheme="red",
                        size="3",
                        id="apotek-return-confirm",
                    ),
                    rx.button(
                        "Batalkan resep",
                        on_click=S.confirm_cancel,
                        color_scheme="red",
                        size="3",
                        id="apotek-cancel-confirm",
                    ),
                ),
                spacing="3",
                justify="end",
                margin_top="16px",
            ),
            max_width="480px",
        ),
        open=S.cancel_open,
        on_open_change=S.set_cancel_open,
    )


@page(route=routes.APOTEK, title="Apotek", shell="Apotek", on_load=S.load)
def pharmacy_page() -> rx.Component:
    return rx.vstack(
        subnav(routes.APOTEK_TABS),
        rx.grid(_queue(), _review(), **_TWO_COLUMNS),
        _cancel_dialog(),
        spacing="4",
        width="100%",
    )


# ----- labels (etiket) --------------------------------------------------------------------
# The labels as services/label_print.py renders them (the same HTML as the PDF): one
# 60 x 40 mm label per page, or a grid of labels on A4 (docs/printing.md).
L = LabelState


@page(route=routes.APOTEK_ETIKET, title="Etiket", on_load=L.load)
def labels_page() -> rx.Component:
    return rx.box(
        rx.cond(
            L.problem != "",
            rx.text(L.problem, color="red", id="etiket-problem"),
            rx.vstack(
                rx.hstack(
                    rx.button(
                        rx.icon("printer", size=16),
                        rx.cond(L.is_copy, "Cetak ulang", "Cetak"),
                        on_click=L.print_labels,
                        size="3",
                        id="etiket-print",
                    ),
                    rx.button(
                        rx.icon("file-down", size=16),
                        "Unduh PDF",
                        on_click=L.download_pdf,
                        variant="soft",
                        size="3",
                        id="etiket-pdf",
                    ),
                    rx.link(
                        rx.button("Kembali ke Apotek", variant="soft", size="3"), href=routes.APOTEK
                    ),
                    rx.cond(L.is_copy, rx.badge("SALINAN", color_scheme="amber", size="2")),
                    class_name="no-print",
                    spacing="3",
                    align="center",
                    wrap="wrap",
                ),
                rx.cond(L.html != "", printed_document(L.html, L.paper)),
                align="center",
                width="100%",
            ),
        ),
        padding="12px",
        class_name="print-page",
        background=rx.color("gray", 3),
        min_height="100vh",
    )
