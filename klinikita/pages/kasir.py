"""Kasir: the bills waiting for payment, the bill and its payment, the nota print page,
tariffs and shifts (layout only)."""

import reflex as rx

from klinikita import routes
from klinikita.components.data_table import Column, data_table
from klinikita.components.filter_bar import filter_bar, search_input
from klinikita.components.forms import field_error, labelled
from klinikita.components.letterhead import printed_document
from klinikita.components.master_rows import read_only_note
from klinikita.components.page import page
from klinikita.components.tables import subnav
from klinikita.models.billing import TARIFF_KIND_LABELS
from klinikita.services.tariffs import PAYER_LABELS
from klinikita.state.kasir import METHOD_OPTIONS, KasirState, NotaState
from klinikita.state.kasir_admin import ANY, ShiftState, TariffState

S = KasirState


def _nota_href(bill_id, paper: str):  # noqa: ANN001, ANN202
    return routes.KASIR_NOTA + "?tagihan=" + bill_id.to(str) + f"&kertas={paper}"


def _select(value, on_change, options, element_id: str, **props) -> rx.Component:  # noqa: ANN001
    return rx.select.root(
        rx.select.trigger(width="100%", id=element_id),
        rx.select.content(
            rx.foreach(options, lambda o: rx.select.item(o["label"], value=o["value"]))
        ),
        value=value,
        on_change=on_change,
        size="3",
        **props,
    )


def _static_select(value, on_change, pairs, element_id: str) -> rx.Component:  # noqa: ANN001
    return rx.select.root(
        rx.select.trigger(width="100%", id=element_id),
        rx.select.content(*[rx.select.item(label, value=v) for v, label in pairs]),
        value=value,
        on_change=on_change,
        size="3",
    )


# ----- the list ------------------------------------------------------------------------------
_WAITING = [
    Column("Antrean", lambda r: r["queue_number"]),
    Column(
        "Pasien",
        lambda r: rx.vstack(
            rx.text(r["name"], weight="medium"),
            rx.text(r["mrn"], size="1", color=rx.color("gray", 11)),
            spacing="0",
        ),
    ),
    Column("Unit", lambda r: r["unit"], wide_only=True),
    Column("Penjamin", lambda r: r["payer"]),
    Column("Apotek", lambda r: r["pharmacy"], wide_only=True),
    Column("Selesai", lambda r: r["completed"], wide_only=True),
    Column(
        "",
        lambda r: rx.button(
            "Buka tagihan",
            on_click=rx.cond(
                r["visit_id"] != "0", S.open_visit(r["visit_id"]), S.open_bill(r["bill_id"])
            ),
            size="3",
            disabled=~S.can_pay,
            id="kasir-open-" + r["visit_id"] + "-" + r["bill_id"],
        ),
    ),
]

_PAID = [
    Column("Nota", lambda r: r["nota"]),
    Column("Nama", lambda r: r["name"]),
    Column("Total", lambda r: r["total"]),
    Column("Status", lambda r: r["status"]),
    Column("Jam", lambda r: r["time"], wide_only=True),
    Column(
        "",
        lambda r: rx.button(
            "Lihat",
            on_click=S.open_bill(r["id"]),
            size="3",
            variant="soft",
            id="kasir-paid-" + r["id"],
        ),
    ),
]


# ----- the bill ------------------------------------------------------------------------------
def _line_row(line: rx.Var) -> rx.Component:
    struck = rx.cond(line["removed"] == "True", "line-through", "none")
    return rx.table.row(
        rx.table.cell(line["source"]),
        rx.table.cell(
            rx.vstack(
                rx.text(line["description"], text_decoration=struck),
                rx.cond(
                    line["reason"] != "",
                    rx.text("Alasan: ", line["reason"], size="1", color=rx.color("gray", 11)),
                ),
                spacing="0",
            )
        ),
        rx.table.cell(line["quantity"]),
        rx.table.cell(line["unit_price"], display=["none", "none", "table-cell"]),
        rx.table.cell(line["amount"], text_decoration=struck),
        rx.table.cell(line["covered"], display=["none", "none", "table-cell"]),
        rx.table.cell(line["patient"], text_decoration=struck),
        rx.table.cell(
            rx.cond(
                (S.bill["open"] == "1") & (line["removed"] != "True") & S.can_pay,
                rx.icon_button(
                    rx.icon("trash-2", size=16),
                    on_click=S.ask_remove(line["id"]),
                    size="3",
                    variant="soft",
                    color_scheme="red",
                    aria_label="Hapus baris",
                    id="kasir-remove-" + line["id"],
                ),
            )
        ),
        id="kasir-line-" + line["id"],
        class_name="kasir-line",
    )


def _lines_table() -> rx.Component:
    wide = {"display": ["none", "none", "table-cell"]}
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Jenis"),
                    rx.table.column_header_cell("Uraian"),
                    rx.table.column_header_cell("Qty"),
                    rx.table.column_header_cell("Harga", **wide),
                    rx.table.column_header_cell("Jumlah"),
                    rx.table.column_header_cell("Ditanggung", **wide),
                    rx.table.column_header_cell("Pasien"),
                    rx.table.column_header_cell(""),
                )
            ),
            rx.table.body(rx.foreach(S.lines, _line_row)),
            variant="surface",
            size="2",
            width="100%",
            id="kasir-lines",
        ),
        width="100%",
        overflow_x="auto",
    )


def _total(label: str, value: rx.Var, element_id: str, **props) -> rx.Component:
    return rx.hstack(
        rx.text(label),
        rx.spacer(),
        rx.text(value, id=element_id, **props),
        width="100%",
    )


def _totals() -> rx.Component:
    return rx.vstack(
        _total("Subtotal", S.bill["subtotal"], "kasir-subtotal"),
        rx.cond(
            S.bill["payer"] != "umum",
            _total(S.bill["covered_label"], S.bill["covered_total"], "kasir-covered"),
        ),
        _total("Diskon", S.bill["discount"], "kasir-discount"),
        _total(
            "Dibayar pasien", S.bill["patient_total_text"], "kasir-total", weight="bold", size="5"
        ),
        rx.text(S.bill["words"], size="2", color=rx.color("gray", 11), id="kasir-words"),
        spacing="1",
        width="100%",
        max_width="420px",
        margin_left="auto",
    )


def _add_line_form() -> rx.Component:
    f = S.line_form
    return rx.card(
        rx.vstack(
            rx.text("Tambah baris (obat/BHP dari daftar atau uraian bebas)", weight="medium"),
            rx.grid(
                labelled(
                    "Obat/BHP atau uraian",
                    rx.vstack(
                        rx.input(
                            value=f["description"],
                            on_change=S.search_items.debounce(300),
                            placeholder="Ketik nama obat, atau uraian lain",
                            size="3",
                            width="100%",
                            id="kasir-line-description",
                        ),
                        rx.foreach(
                            S.item_results,
                            lambda i: rx.button(
                                i["name"],
                                " · ",
                                i["price"],
                                " · stok ",
                                i["stock"],
                                on_click=S.pick_item(i["id"], i["name"]),
                                variant="soft",
                                size="3",
                                width="100%",
                                justify="start",
                                id="kasir-item-" + i["id"],
                            ),
                        ),
                        spacing="1",
                        width="100%",
                    ),
                    field_error(S.errors, "description"),
                ),
                labelled(
                    "Jumlah",
                    rx.input(
                        value=f["quantity"],
                        on_change=lambda v: S.set_line_field("quantity", v),
                        input_mode="numeric",
                        size="3",
                        id="kasir-line-quantity",
                    ),
                    field_error(S.errors, "quantity"),
                ),
                rx.cond(
                    f["item_id"] == "",
                    labelled(
                        "Harga satuan (Rp)",
                        rx.input(
                            value=f["unit_price"],
                            on_change=lambda v: S.set_line_field("unit_price", v),
                            input_mode="numeric",
                            size="3",
                            id="kasir-line-price",
                        ),
                        field_error(S.errors, "unit_price"),
                    ),
                    rx.text("Harga dari daftar obat", size="2", padding_top="28px"),
                ),
                labelled(
                    "Alasan",
                    rx.input(
                        value=f["reason"],
                        on_change=lambda v: S.set_line_field("reason", v),
                        size="3",
                        id="kasir-line-reason",
                    ),
                    field_error(S.errors, "reason"),
                ),
                columns=rx.breakpoints(initial="1", sm="2", lg="4"),
                spacing="3",
                width="100%",
            ),
            field_error(S.errors, "item_id"),
            rx.button("Tambah baris", on_click=S.add_line, size="3", id="kasir-line-add"),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _discount_form() -> rx.Component:
    d = S.discount_form
    return rx.card(
        rx.hstack(
            labelled(
                "Diskon",
                _static_select(
                    d["kind"],
                    lambda v: S.set_discount_field("kind", v),
                    [("percent", "Persen (%)"), ("amount", "Rupiah")],
                    "kasir-discount-kind",
                ),
                field_error(S.errors, "discount_kind"),
            ),
            labelled(
                "Nilai",
                rx.input(
                    value=d["value"],
                    on_change=lambda v: S.set_discount_field("value", v),
                    input_mode="numeric",
                    size="3",
                    id="kasir-discount-value",
                ),
                field_error(S.errors, "discount_value"),
            ),
            labelled(
                "Alasan diskon",
                rx.input(
                    value=d["reason"],
                    on_change=lambda v: S.set_discount_field("reason", v),
                    size="3",
                    id="kasir-discount-reason",
                ),
                field_error(S.errors, "discount_reason"),
            ),
            rx.button(
                "Terapkan",
                on_click=S.apply_discount,
                size="3",
                variant="soft",
                id="kasir-discount-apply",
            ),
            align="end",
            wrap="wrap",
            width="100%",
        ),
        width="100%",
    )


def _part_row(part: rx.Var, index: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.box(
            _select(
                part["method"],
                lambda v: S.set_part(index, "method", v),
                METHOD_OPTIONS,
                "kasir-pay-method-" + index.to(str),
            ),
            min_width="150px",
        ),
        rx.input(
            value=part["amount"],
            on_change=lambda v: S.set_part(index, "amount", v),
            placeholder="Jumlah",
            input_mode="numeric",
            size="3",
            id="kasir-pay-amount-" + index.to(str),
        ),
        rx.cond(
            part["method"] == "tunai",
            rx.input(
                value=part["cash_received"],
                on_change=lambda v: S.set_part(index, "cash_received", v),
                placeholder="Uang diterima",
                input_mode="numeric",
                size="3",
                id="kasir-pay-cash-" + index.to(str),
            ),
            rx.input(
                value=part["reference"],
                on_change=lambda v: S.set_part(index, "reference", v),
                placeholder="No. referensi",
                size="3",
                id="kasir-pay-reference-" + index.to(str),
            ),
        ),
        rx.icon_button(
            rx.icon("x", size=16),
            on_click=S.remove_part(index),
            size="3",
            variant="soft",
            aria_label="Hapus cara bayar",
        ),
        wrap="wrap",
        width="100%",
    )


def _payment_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Pembayaran", weight="medium"),
            rx.cond(
                S.bill["patient_total"] != "0",
                rx.vstack(
                    rx.foreach(S.parts, _part_row),
                    rx.button(
                        rx.icon("plus", size=16),
                        "Bagi ke cara bayar lain",
                        on_click=S.add_part,
                        size="3",
                        variant="soft",
                        id="kasir-pay-split",
                    ),
                    spacing="2",
                    width="100%",
                ),
                rx.text("Tidak ada yang dibayar pasien: tekan Lunas untuk menutup tagihan."),
            ),
            rx.cond(
                S.pay_review != "",
                rx.callout(
                    S.pay_review,
                    icon="triangle-alert",
                    color_scheme="amber",
                    width="100%",
                    id="kasir-pay-review",
                ),
            ),
            rx.foreach(
                S.pay_errors,
                lambda e: rx.text(e, color="red", size="2", class_name="field-error"),
            ),
            rx.button(
                rx.icon("check", size=16),
                "Lunas",
                on_click=S.pay,
                size="3",
                color_scheme="green",
                id="kasir-pay",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _paid_panel() -> rx.Component:
    return rx.vstack(
        rx.foreach(
            S.paid_parts,
            lambda p: rx.text(
                p["method"],
                ": ",
                p["amount"],
                rx.cond(p["reference"] != "", " · ref " + p["reference"], ""),
                rx.cond(
                    p["change"] != "",
                    " · diterima " + p["cash_received"] + ", kembali " + p["change"],
                    "",
                ),
            ),
        ),
        rx.cond(
            S.change_text != "",
            rx.callout("Kembalian " + S.change_text, icon="banknote", id="kasir-change"),
        ),
        rx.hstack(
            *[
                rx.link(
                    rx.button(rx.icon("printer", size=16), f"Nota {label}", size="3"),
                    href=_nota_href(S.bill["id"], paper),
                    is_external=True,
                    id=f"kasir-print-{paper}",
                )
                for paper, label in (("58", "58 mm"), ("80", "80 mm"), ("a5", "A5"))
            ],
            rx.cond(
                S.can_void & (S.bill["status"] != "void"),
                rx.button(
                    "Batalkan nota",
                    on_click=S.set_void_open(True),
                    size="3",
                    color_scheme="red",
                    variant="soft",
                    id="kasir-void-open",
                ),
            ),
            wrap="wrap",
        ),
        rx.cond(
            S.void_open,
            rx.card(
                rx.vstack(
                    rx.cond(
                        S.bill["visit_id"] != "0",
                        rx.text(
                            "Obat yang sudah diserahkan tetap tercatat keluar; bila pasien "
                            "mengembalikannya, Apotek mencatat retur.",
                            size="2",
                            id="kasir-void-drugs",
                        ),
                    ),
                    labelled(
                        "Alasan pembatalan",
                        rx.input(
                            value=S.void_reason,
                            on_change=S.set_void_reason,
                            size="3",
                            id="kasir-void-reason",
                        ),
                        field_error(S.errors, "void_reason"),
                    ),
                    rx.hstack(
                        rx.button(
                            "Batalkan nota",
                            on_click=S.void,
                            color_scheme="red",
                            size="3",
                            id="kasir-void",
                        ),
                        rx.button(
                            "Tutup", on_click=S.set_void_open(False), variant="soft", size="3"
                        ),
                    ),
                    width="100%",
                ),
                width="100%",
            ),
        ),
        spacing="2",
        width="100%",
    )


def _remove_box() -> rx.Component:
    return rx.cond(
        S.remove_line_id != 0,
        rx.card(
            rx.vstack(
                labelled(
                    "Alasan menghapus baris",
                    rx.input(
                        value=S.remove_reason,
                        on_change=S.set_remove_reason,
                        size="3",
                        id="kasir-remove-reason",
                    ),
                    field_error(S.errors, "remove_reason"),
                ),
                rx.hstack(
                    rx.button(
                        "Hapus baris",
                        on_click=S.confirm_remove,
                        color_scheme="red",
                        size="3",
                        id="kasir-remove-confirm",
                    ),
                    rx.button("Batal", on_click=S.cancel_remove, variant="soft", size="3"),
                ),
                width="100%",
            ),
            width="100%",
        ),
    )


def _bill_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.vstack(
                    rx.heading(S.bill["title"], size="4", id="kasir-bill-title"),
                    rx.text(S.bill["visit_line"], size="2", color=rx.color("gray", 11)),
                    spacing="1",
                ),
                rx.spacer(),
                rx.badge(S.bill["payer_label"], size="3"),
                rx.badge(S.bill["status_label"], size="3", id="kasir-bill-status"),
                rx.icon_button(
                    rx.icon("x", size=16),
                    on_click=S.close_bill,
                    size="3",
                    variant="soft",
                    aria_label="Tutup tagihan",
                    id="kasir-bill-close",
                ),
                width="100%",
                wrap="wrap",
            ),
            rx.cond(
                S.bill["bpjs_number"] != "",
                rx.text("No. kartu BPJS: ", S.bill["bpjs_number"], id="kasir-bpjs-number"),
            ),
            rx.cond(
                S.bill["nota_number"] != "",
                rx.text("Nota ", S.bill["nota_number"], weight="bold", id="kasir-nota-number"),
            ),
            rx.cond(
                (S.bill["payer"] == "asuransi") & (S.bill["open"] == "1"),
                labelled(
                    "Perusahaan asuransi",
                    _select(
                        S.bill["insurer_id"],
                        S.choose_insurer,
                        S.insurer_options,
                        "kasir-insurer",
                    ),
                    rx.fragment(),
                ),
            ),
            rx.cond(
                S.followed.length() > 0,
                rx.callout(
                    rx.vstack(
                        rx.text("Tagihan mengikuti kunjungan:", weight="medium"),
                        rx.foreach(S.followed, lambda change: rx.text(change, size="2")),
                        spacing="1",
                    ),
                    icon="refresh-cw",
                    width="100%",
                    id="kasir-bill-followed",
                ),
            ),
            rx.foreach(
                S.notes, lambda n: rx.callout(n, icon="info", color_scheme="amber", width="100%")
            ),
            _lines_table(),
            _remove_box(),
            _totals(),
            rx.cond(
                S.bill["open"] == "1",
                rx.vstack(
                    rx.cond(S.can_pay, _add_line_form()),
                    rx.cond(S.can_discount, _discount_form()),
                    rx.cond(S.can_pay, _payment_form()),
                    spacing="3",
                    width="100%",
                ),
                _paid_panel(),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="kasir-bill",
    )


@page(route=routes.KASIR, title="Kasir", shell="Kasir", on_load=S.load)
def kasir_page() -> rx.Component:
    return rx.vstack(
        subnav(routes.KASIR_TABS),
        rx.cond(S.bill_id != 0, _bill_panel()),
        filter_bar(
            search_input(
                S.search,
                S.set_search.debounce(300),
                "Cari nama, No. RM atau nomor antrean",
                "kasir-search",
            ),
            actions=(
                rx.cond(
                    S.can_pay,
                    rx.hstack(
                        rx.input(
                            value=S.sale_name,
                            on_change=S.set_sale_name,
                            placeholder="Nama pembeli (boleh kosong)",
                            size="3",
                            id="kasir-sale-name",
                        ),
                        rx.button(
                            rx.icon("shopping-cart", size=16),
                            "Penjualan bebas",
                            on_click=S.new_sale,
                            size="3",
                            variant="soft",
                            id="kasir-new-sale",
                        ),
                    ),
                ),
            ),
        ),
        rx.heading("Menunggu pembayaran hari ini", size="4"),
        data_table(
            S.rows,
            _WAITING,
            prefix="kasir-waiting",
            empty="Tidak ada kunjungan yang menunggu pembayaran.",
            row_id=lambda r: "kasir-waiting-" + r["visit_id"] + "-" + r["bill_id"],
        ),
        rx.heading("Nota hari ini", size="4"),
        data_table(S.paid_rows, _PAID, prefix="kasir-paid", empty="Belum ada nota hari ini."),
        spacing="4",
        width="100%",
    )


# ----- the nota print page -------------------------------------------------------------------
# The nota as services/nota_print.py renders it (the same HTML as the PDF): its own @page rule
# sets the paper (58/80 mm thermal roll or A5), see docs/printing.md.
N = NotaState


@page(route=routes.KASIR_NOTA, title="Nota", on_load=N.load)
def nota_page() -> rx.Component:
    return rx.box(
        rx.cond(
            N.html != "",
            rx.vstack(
                rx.hstack(
                    rx.button(
                        rx.icon("printer", size=16),
                        rx.cond(N.is_copy, "Cetak ulang", "Cetak"),
                        on_click=N.print_nota,
                        size="3",
                        id="nota-print",
                    ),
                    rx.button(
                        rx.icon("file-down", size=16),
                        "Unduh PDF",
                        on_click=N.download_pdf,
                        variant="soft",
                        size="3",
                        id="nota-pdf",
                    ),
                    rx.link(
                        rx.button("Kembali ke Kasir", variant="soft", size="3"), href=routes.KASIR
                    ),
                    rx.cond(N.is_copy, rx.badge("SALINAN", color_scheme="amber", size="2")),
                    class_name="nota-tools no-print",
                    padding="12px",
                    align="center",
                    wrap="wrap",
                ),
                printed_document(N.html, N.paper_size),
                align="center",
                width="100%",
            ),
            rx.cond(
                N.page_allowed,
                rx.callout(N.message, icon="info", margin="20px", id="nota-message"),
                rx.callout("Tugas aktif Anda tidak berwenang membuka nota.", margin="20px"),
            ),
        ),
        class_name="print-page",
        background=rx.color("gray", 3),
        min_height="100vh",
        id="nota",
    )


# ----- Tarif ---------------------------------------------------------------------------------
T = TariffState
_KINDS = [(k.value, label) for k, label in TARIFF_KIND_LABELS.items()]
_PAYERS = [(ANY if k == "" else k, label) for k, label in PAYER_LABELS.items()]

_TARIFF_COLUMNS = [
    Column("Jenis", lambda r: r["kind"]),
    Column("Nama", lambda r: r["name"]),
    Column(
        "Berlaku untuk",
        lambda r: rx.text(r["unit"], " ", r["doctor"], " ", r["code"], size="2"),
        wide_only=True,
    ),
    Column("Penjamin", lambda r: rx.text(r["payer"], " ", r["insurer"])),
    Column("Tarif", lambda r: r["amount"]),
    Column("Ditanggung", lambda r: r["covered"], wide_only=True),
    Column("Mulai", lambda r: r["valid_from"]),
    Column("Berakhir", lambda r: r["ended_on"]),
    Column(
        "",
        lambda r: rx.cond(
            T.can_edit & (r["ended_on"] == ""),
            rx.button(
                "Akhiri",
                on_click=T.end_tariff(r["id"]),
                size="3",
                variant="soft",
                color_scheme="red",
                id="tarif-end-" + r["id"],
            ),
        ),
    ),
]


def _tariff_input(field: str, label: str, **props) -> rx.Component:
    return labelled(
        label,
        rx.input(
            value=T.form[field],
            on_change=lambda v: T.set_field(field, v),
            size="3",
            width="100%",
            id=f"tarif-{field}",
            **props,
        ),
        field_error(T.errors, field),
    )


def _code_result(item: rx.Var) -> rx.Component:
    return rx.button(
        rx.badge(item["code"], variant="surface"),
        rx.text(item["display"], size="2", trim="both", text_align="left"),
        on_click=T.pick_code(item["code"]),
        variant="ghost",
        size="3",
        justify="start",
        width="100%",
        id="tarif-code-result-" + item["code"],
    )


def _tariff_code() -> rx.Component:
    """A procedure's ICD-9-CM code: typed, or picked from the codes its words find."""
    return labelled(
        "Kode ICD-9-CM (tindakan)",
        rx.vstack(
            rx.input(
                value=T.form["code"],
                on_change=T.search_code,
                debounce_timeout=300,
                placeholder="93.94 atau nama tindakan (mis. nebulizer)",
                size="3",
                width="100%",
                id="tarif-code",
            ),
            rx.cond(
                T.code_results.length() > 0,
                rx.vstack(
                    rx.foreach(T.code_results, _code_result),
                    spacing="1",
                    width="100%",
                    max_height="240px",
                    overflow_y="auto",
                    id="tarif-code-results",
                ),
            ),
            spacing="1",
            width="100%",
        ),
        field_error(T.errors, "code"),
    )


def _tariff_form() -> rx.Component:
    f = T.form
    return rx.card(
        rx.vstack(
            rx.heading("Tambah tarif (berlaku mulai tanggal)", size="4"),
            rx.grid(
                labelled(
                    "Jenis",
                    _static_select(
                        f["kind"], lambda v: T.set_field("kind", v), _KINDS, "tarif-kind"
                    ),
                    field_error(T.errors, "kind"),
                ),
                _tariff_input("name", "Nama di nota", placeholder="Jasa konsultasi dokter umum"),
                _tariff_input("amount", "Tarif (Rp)", input_mode="numeric"),
                _tariff_input("valid_from", "Berlaku mulai", placeholder="01/01/2027"),
                labelled(
                    "Unit layanan",
                    _select(
                        f["unit_id"],
                        lambda v: T.set_field("unit_id", v),
                        T.unit_options,
                        "tarif-unit",
                    ),
                    field_error(T.errors, "unit_id"),
                ),
                labelled(
                    "Dokter (konsultasi)",
                    _select(
                        f["doctor_id"],
                        lambda v: T.set_field("doctor_id", v),
                        T.doctor_options,
                        "tarif-doctor",
                    ),
                    field_error(T.errors, "doctor_id"),
                ),
                _tariff_code(),
                labelled(
                    "Penjamin",
                    _static_select(
                        f["payer"], lambda v: T.set_field("payer", v), _PAYERS, "tarif-payer"
                    ),
                    field_error(T.errors, "payer"),
                ),
                labelled(
                    "Asuransi",
                    _select(
                        f["insurer_id"],
                        lambda v: T.set_field("insurer_id", v),
                        T.insurer_options,
                        "tarif-insurer",
                    ),
                    field_error(T.errors, "insurer_id"),
                ),
                labelled(
                    "Ditanggung BPJS/asuransi",
                    _static_select(
                        f["covered"],
                        lambda v: T.set_field("covered", v),
                        [("1", "Ya"), ("0", "Tidak")],
                        "tarif-covered",
                    ),
                    rx.fragment(),
                ),
                columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                spacing="3",
                width="100%",
            ),
            rx.button("Simpan tarif", on_click=T.save, size="3", id="tarif-save"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _insurers() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Asuransi", size="4"),
            rx.foreach(T.insurers, lambda i: rx.text(i["name"], " · tanggungan ", i["percent"])),
            rx.cond(
                T.can_edit,
                rx.hstack(
                    rx.input(
                        value=T.insurer_form["name"],
                        on_change=lambda v: T.set_insurer_field("name", v),
                        placeholder="Nama perusahaan asuransi",
                        size="3",
                        id="tarif-insurer-name",
                    ),
                    rx.input(
                        value=T.insurer_form["percent"],
                        on_change=lambda v: T.set_insurer_field("percent", v),
                        placeholder="% ditanggung",
                        size="3",
                        width="120px",
                        id="tarif-insurer-percent",
                    ),
                    rx.button(
                        "Tambah asuransi",
                        on_click=T.add_insurer,
                        size="3",
                        variant="soft",
                        id="tarif-insurer-add",
                    ),
                    wrap="wrap",
                ),
            ),
            field_error(T.errors, "insurer_name"),
            field_error(T.errors, "insurer_percent"),
            width="100%",
        ),
        width="100%",
    )


@page(route=routes.KASIR_TARIF, title="Tarif", shell="Kasir", on_load=T.load)
def tariff_page() -> rx.Component:
    return rx.vstack(
        subnav(routes.KASIR_TABS),
        read_only_note(
            ~T.can_edit,
            "Anda melihat tarif tanpa bisa mengubahnya; admin yang mengatur tarif.",
        ),
        rx.cond(T.can_edit, _tariff_form()),
        filter_bar(
            rx.checkbox(
                "Tampilkan tarif yang sudah berakhir",
                checked=T.show_ended,
                on_change=T.set_show_ended,
                size="3",
                id="tarif-show-ended",
            ),
        ),
        data_table(T.rows, _TARIFF_COLUMNS, prefix="tarif", empty="Belum ada tarif."),
        _insurers(),
        spacing="4",
        width="100%",
    )


# ----- Shift ---------------------------------------------------------------------------------
H = ShiftState
_REPORT_COLUMNS = [
    Column("Cara bayar", lambda r: r["method"]),
    Column("Seharusnya", lambda r: r["expected"]),
    Column("Dihitung", lambda r: r["counted"]),
    Column(
        "Selisih",
        lambda r: rx.text(r["difference"], color=rx.cond(r["short"] == "1", "red", "inherit")),
    ),
]
_SHIFT_COLUMNS = [
    Column("Kasir", lambda r: r["cashier"]),
    Column("Dibuka", lambda r: r["opened"]),
    Column("Ditutup", lambda r: r["closed"]),
    Column("Modal awal", lambda r: r["opening_cash"]),
    Column(
        "",
        lambda r: rx.button(
            "Laporan",
            on_click=H.show_report(r["id"]),
            size="3",
            variant="soft",
            id="shift-report-" + r["id"],
        ),
    ),
]


def _count_change(method: str):  # noqa: ANN202
    return lambda v: H.set_count(method, v)


def _shift_work() -> rx.Component:
    return rx.cond(
        H.open_id == 0,
        rx.card(
            rx.hstack(
                labelled(
                    "Modal kas awal (Rp)",
                    rx.input(
                        value=H.opening_cash,
                        on_change=H.set_opening_cash,
                        input_mode="numeric",
                        size="3",
                        id="shift-opening-cash",
                    ),
                    field_error(H.errors, "opening_cash"),
                ),
                rx.button("Buka shift", on_click=H.open_shift, size="3", id="shift-open"),
                align="end",
            ),
            width="100%",
        ),
        rx.card(
            rx.vstack(
                rx.heading("Tutup shift: hitung uang dan struk per cara bayar", size="4"),
                rx.grid(
                    *[
                        labelled(
                            label,
                            rx.input(
                                value=H.counts[method],
                                on_change=_count_change(method),
                                input_mode="numeric",
                                size="3",
                                id=f"shift-count-{method}",
                            ),
                            field_error(H.errors, f"count_{method}"),
                        )
                        for method, label in (
                            ("tunai", "Tunai"),
                            ("transfer", "Transfer"),
                            ("debit", "Kartu debit"),
                            ("kredit", "Kartu kredit"),
                            ("qris", "QRIS"),
                        )
                    ],
                    columns=rx.breakpoints(initial="1", sm="3", lg="5"),
                    spacing="3",
                    width="100%",
                ),
                rx.input(
                    value=H.close_note,
                    on_change=H.set_close_note,
                    placeholder="Catatan (selisih, dll.)",
                    size="3",
                    width="100%",
                    id="shift-close-note",
                ),
                rx.button(
                    "Tutup shift",
                    on_click=H.close_shift,
                    size="3",
                    color_scheme="orange",
                    id="shift-close",
                ),
                width="100%",
            ),
            width="100%",
        ),
    )


@page(route=routes.KASIR_SHIFT, title="Shift kasir", shell="Kasir", on_load=H.load)
def shift_page() -> rx.Component:
    return rx.vstack(
        subnav(routes.KASIR_TABS),
        rx.cond(H.can_work, _shift_work()),
        rx.cond(
            H.report.contains("id"),
            rx.card(
                rx.vstack(
                    rx.heading("Laporan shift ", H.report["cashier"], size="4"),
                    rx.text(
                        "Dibuka ",
                        H.report["opened"],
                        rx.cond(
                            H.report["closed"] != "",
                            " · ditutup " + H.report["closed"],
                            " · masih terbuka",
                        ),
                        " · modal awal ",
                        H.report["opening_cash"],
                        " · ",
                        H.report["bills"],
                        " nota",
                    ),
                    data_table(
                        H.report_rows,
                        _REPORT_COLUMNS,
                        prefix="shift-report-rows",
                        empty="-",
                        row_id=lambda r: "shift-method-" + r["method"],
                    ),
                    rx.cond(H.report["note"] != "", rx.text("Catatan: ", H.report["note"])),
                    width="100%",
                ),
                width="100%",
                id="shift-report",
            ),
        ),
        rx.heading("Shift terakhir", size="4"),
        data_table(H.shifts, _SHIFT_COLUMNS, prefix="shift", empty="Belum ada shift."),
        spacing="4",
        width="100%",
    )
