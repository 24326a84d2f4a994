"""Apotek -> Obat & BHP (layout only)."""

import reflex as rx

from klinikita import routes
from klinikita.components.data_table import Column, data_table
from klinikita.components.filter_bar import filter_bar, search_input
from klinikita.components.forms import field_error, labelled
from klinikita.components.master_rows import active_badge, form_buttons, read_only_note
from klinikita.components.page import page
from klinikita.components.tables import subnav
from klinikita.models.pharmacy import ItemCategory
from klinikita.services.drug_master import COMMON_UNITS, UNMAPPED
from klinikita.state.drugs import STALE_ERROR, UPLOAD_ID
from klinikita.state.drugs import DrugState as S
from klinikita.terminology.pharmacy_codes import medication_forms

_CATEGORIES = [(c.value, c.label) for c in ItemCategory]


def _input(field: str, **props) -> rx.Component:
    return rx.input(
        value=S.form[field],
        on_change=lambda v: S.set_field(field, v),
        id=f"drug-{field}",
        size="3",
        width="100%",
        **props,
    )


def _grid(*children: rx.Component) -> rx.Component:
    return rx.grid(
        *children, columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%"
    )


def _datalist(list_id: str, options) -> rx.Component:  # noqa: ANN001
    return rx.el.datalist(*[rx.el.option(value=o) for o in options], id=list_id)


def _form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(rx.cond(S.editing_id == 0, "Tambah obat/BHP", "Ubah obat/BHP"), size="4"),
            _grid(
                labelled(
                    "Nama (seperti dikenal staf)",
                    _input("name", max_length=200, placeholder="Paracetamol 500 mg tablet"),
                    field_error(S.errors, "name"),
                ),
                labelled(
                    "Jenis",
                    rx.select.root(
                        rx.select.trigger(width="100%", id="drug-category"),
                        rx.select.content(
                            *[rx.select.item(label, value=value) for value, label in _CATEGORIES]
                        ),
                        value=S.form["category"],
                        on_change=lambda v: S.set_field("category", v),
                        size="3",
                    ),
                    field_error(S.errors, "category"),
                ),
                labelled(
                    "Sediaan (bentuk sediaan Kemenkes)",
                    _input("form", list="drug-form-list", placeholder="Tablet"),
                    field_error(S.errors, "form"),
                ),
                labelled(
                    "Kekuatan",
                    _input("strength", max_length=80, placeholder="500 mg"),
                    field_error(S.errors, "strength"),
                ),
                labelled(
                    "Satuan",
                    _input("unit", max_length=20, list="drug-unit-list", placeholder="tablet"),
                    field_error(S.errors, "unit"),
                ),
                labelled(
                    "Harga jual per satuan (Rp)",
                    _input("price", input_mode="numeric"),
                    field_error(S.errors, "price"),
                ),
                labelled(
                    "Stok minimum",
                    _input("min_stock", input_mode="numeric"),
                    field_error(S.errors, "min_stock"),
                ),
                labelled(
                    "Kode KFA",
                    rx.vstack(
                        rx.hstack(
                            _input("kfa_code", max_length=8, input_mode="numeric"),
                            rx.button(
                                "Cari di KFA",
                                on_click=S.open_kfa_for_form,
                                size="3",
                                variant="soft",
                                id="drug-form-kfa",
                            ),
                            width="100%",
                        ),
                        rx.cond(
                            S.form["kfa_display"] != "",
                            rx.text(S.form["kfa_display"], size="2", color=rx.color("gray", 11)),
                        ),
                        spacing="1",
                        width="100%",
                    ),
                    field_error(S.errors, "kfa_code"),
                ),
            ),
            _datalist("drug-form-list", list(medication_forms().values())),
            _datalist("drug-unit-list", COMMON_UNITS),
            field_error(S.errors, STALE_ERROR),
            form_buttons(S.save, S.cancel_form, "drug"),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="drug-form-card",
    )


def _item(row: rx.Var) -> rx.Component:
    muted = rx.color("gray", 11)
    return rx.vstack(
        rx.text(row["name"], weight="medium"),
        rx.text(row["category"], " · ", row["form"], " ", row["strength"], size="2", color=muted),
        spacing="1",
    )


def _kfa(row: rx.Var) -> rx.Component:
    return rx.cond(
        row["kfa_code"] != "",
        rx.vstack(
            rx.code(row["kfa_code"], variant="ghost"),
            rx.text(row["kfa_display"], size="1", color=rx.color("gray", 11), max_width="260px"),
            spacing="1",
        ),
        rx.cond(
            row["unmapped"] == "1",
            rx.badge(UNMAPPED, color_scheme="orange", size="2", id="drug-unmapped-" + row["id"]),
            rx.text("tidak perlu", size="2", color=rx.color("gray", 10)),
        ),
    )


def _actions(row: rx.Var) -> rx.Component:
    def button(label: str, handler, prefix: str, **props) -> rx.Component:  # noqa: ANN001
        return rx.button(
            label,
            on_click=handler(row["id"]),
            size="3",
            variant="soft",
            id=f"drug-{prefix}-" + row["id"],
            **props,
        )

    return rx.cond(
        S.can_edit,
        rx.flex(
            rx.cond(
                row["active"] == "1",
                rx.fragment(
                    button("Ubah", S.start_edit, "edit"),
                    rx.cond(
                        row["category"] == ItemCategory.OBAT.label,
                        button("Petakan ke KFA", S.open_kfa, "kfa"),
                    ),
                    button("Nonaktifkan", S.deactivate, "deactivate", color_scheme="red"),
                ),
                button("Aktifkan", S.reactivate, "reactivate", color_scheme="green"),
            ),
            direction="column",
            spacing="2",
            min_width="max-content",
        ),
    )


_COLUMNS = [
    Column("Obat / BHP", _item),
    Column("Satuan", lambda r: rx.text(r["unit"])),
    Column("Harga", lambda r: rx.text(r["price"]), wide_only=True),
    Column("Stok min.", lambda r: rx.text(r["min_stock"]), wide_only=True),
    Column("KFA", _kfa),
    Column("Status", active_badge),
    Column("", _actions),
]


def _detail_line(label: str, value: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.text(label, size="2", color=rx.color("gray", 11), min_width="120px"),
        rx.text(value, size="2"),
        align="start",
    )


def _kfa_dialog() -> rx.Component:
    result = lambda r: rx.button(  # noqa: E731
        rx.vstack(
            rx.text(r["name"], size="2", weight="medium", text_align="left"),
            rx.text(r["code"], " · ", r["form"], size="1", color=rx.color("gray", 11)),
            spacing="0",
            align="start",
        ),
        on_click=S.pick_kfa(r["code"]),
        variant=rx.cond(S.kfa_chosen["code"] == r["code"], "solid", "soft"),
        min_height="44px",
        height="auto",
        padding_y="2",
        width="100%",
        justify_content="flex-start",
        text_align="left",
        id="kfa-result-" + r["code"],
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Petakan ke KFA"),
            rx.dialog.description(
                rx.cond(S.kfa_item_name != "", S.kfa_item_name, "Obat di formulir"),
                size="2",
            ),
            rx.vstack(
                rx.hstack(
                    rx.input(
                        value=S.kfa_keyword,
                        on_change=S.set_kfa_keyword,
                        placeholder="Nama obat, mis. amlodipine 5",
                        size="3",
                        width="100%",
                        id="kfa-keyword",
                    ),
                    rx.button("Cari", on_click=S.search_kfa, size="3", id="kfa-search"),
                    width="100%",
                ),
                rx.cond(S.kfa_message != "", rx.callout(S.kfa_message, icon="info", size="1")),
                rx.scroll_area(
                    rx.vstack(rx.foreach(S.kfa_results, result), spacing="2", width="100%"),
                    max_height="260px",
                    type="auto",
                ),
                rx.cond(
                    S.kfa_total > S.kfa_results.length(),
                    rx.text(
                        "Menampilkan ",
                        S.kfa_results.length(),
                        " dari ",
                        S.kfa_total,
                        " produk; perjelas kata pencarian.",
                        size="1",
                        color=rx.color("gray", 11),
                    ),
                ),
                rx.cond(
                    S.kfa_chosen.contains("code"),
                    rx.card(
                        rx.vstack(
                            _detail_line("Nama", S.kfa_chosen["name"]),
                            _detail_line("Kode KFA", S.kfa_chosen["code"]),
                            _detail_line("Sediaan", S.kfa_chosen["form"]),
                            _detail_line("Zat aktif", S.kfa_chosen["ingredients"]),
                            _detail_line("Produsen", S.kfa_chosen["manufacturer"]),
                            _detail_line("Nama dagang", S.kfa_chosen["brand"]),
                            spacing="1",
                        ),
                        width="100%",
                        id="kfa-detail",
                    ),
                ),
                rx.hstack(
                    rx.button(
                        "Batal", on_click=S.close_kfa, variant="soft", color_scheme="gray", size="3"
                    ),
                    rx.button(
                        "Pilih produk ini",
                        on_click=S.choose_kfa,
                        disabled=~S.kfa_chosen.contains("code"),
                        size="3",
                        id="kfa-choose",
                    ),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            max_width="640px",
        ),
        open=S.kfa_open,
        on_open_change=lambda open_: rx.cond(open_, rx.noop(), S.close_kfa()),
    )


def _report_table(rows: rx.Var, element_id: str) -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("Baris"),
                rx.table.column_header_cell("Nama"),
                rx.table.column_header_cell("Keterangan"),
            )
        ),
        rx.table.body(
            rx.foreach(
                rows,
                lambda r: rx.table.row(
                    rx.table.cell(r["line"]), rx.table.cell(r["name"]), rx.table.cell(r["reason"])
                ),
            )
        ),
        size="1",
        width="100%",
        id=element_id,
    )


def _import() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Impor daftar obat dari CSV", size="3"),
            rx.text(
                "Baris pertama berisi judul kolom: nama; sediaan; kekuatan; satuan; harga; "
                "kode_kfa (jenis dan stok_minimum boleh ditambahkan). Nama yang sudah ada "
                "diperbarui.",
                size="2",
                color=rx.color("gray", 11),
            ),
            rx.hstack(
                rx.upload(
                    rx.button("Pilih berkas CSV", variant="soft", size="3"),
                    id=UPLOAD_ID,
                    accept={"text/csv": [".csv"], "text/plain": [".txt"]},
                    max_files=1,
                    no_drag=True,
                    border="none",
                    padding="0",
                ),
                rx.text(rx.selected_files(UPLOAD_ID).join(", "), size="2"),
                rx.button(
                    "Impor",
                    on_click=S.handle_upload(rx.upload_files(upload_id=UPLOAD_ID)),
                    size="3",
                    id="drug-import",
                ),
                align="center",
                wrap="wrap",
            ),
            rx.cond(
                S.import_summary != "",
                rx.vstack(
                    rx.callout(S.import_summary, icon="file-check", id="drug-import-summary"),
                    rx.cond(
                        S.import_failed.length() > 0,
                        rx.vstack(
                            rx.text("Tidak diimpor:", weight="medium", size="2"),
                            _report_table(S.import_failed, "drug-import-failed"),
                            width="100%",
                        ),
                    ),
                    rx.cond(
                        S.import_unmapped.length() > 0,
                        rx.vstack(
                            rx.text("Diimpor, belum dipetakan ke KFA:", weight="medium", size="2"),
                            _report_table(S.import_unmapped, "drug-import-unmapped"),
                            width="100%",
                        ),
                    ),
                    rx.button("Tutup laporan", on_click=S.close_import, variant="soft", size="2"),
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


@page(route=routes.APOTEK_OBAT, title="Obat & BHP", shell="Apotek", on_load=S.load)
def drugs_page() -> rx.Component:
    return rx.vstack(
        subnav(routes.APOTEK_TABS),
        filter_bar(
            search_input(
                S.search, S.set_search, "Cari nama, kekuatan atau kode KFA", "drug-search"
            ),
            rx.checkbox(
                "Hanya yang belum dipetakan ke KFA",
                checked=S.unmapped_only,
                on_change=S.set_unmapped_only,
                size="3",
                id="drug-unmapped-only",
            ),
            actions=(
                rx.cond(
                    S.can_edit & ~S.form_open,
                    rx.button(
                        rx.icon("plus", size=16),
                        "Tambah obat/BHP",
                        on_click=S.start_create,
                        size="3",
                        id="drug-add",
                    ),
                ),
            ),
        ),
        read_only_note(
            ~S.can_edit,
            "Anda melihat daftar obat tanpa bisa mengubahnya; apoteker penanggung jawab yang "
            "mengubah data obat & BHP.",
        ),
        rx.cond(S.form_open, _form()),
        rx.cond(S.can_edit & ~S.form_open, _import()),
        data_table(S.rows, _COLUMNS, prefix="drug", empty="Belum ada obat/BHP.", paged=S),
        _kfa_dialog(),
        spacing="4",
        width="100%",
    )
