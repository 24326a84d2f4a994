"""Pengaturan: branch settings (admin)."""

import reflex as rx

from klinikita.components.forms import field_error, labelled
from klinikita.components.shell import app_shell
from klinikita.models.enums import FACILITY_LABELS, BranchTimeZone
from klinikita.state.branch_settings import BranchSettingsState as S

_FACILITY_OPTIONS = [(f.value, label) for f, label in FACILITY_LABELS.items()]
_TZ_OPTIONS = [(z.value, z.name) for z in BranchTimeZone]


def _select(field: str, options: list[tuple[str, str]]) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(width="100%", id=f"branch-{field}"),
        rx.select.content(*[rx.select.item(label, value=value) for value, label in options]),
        value=S.form[field],
        on_change=lambda v: S.set_field(field, v),
        size="3",
    )


def _text_input(field: str) -> rx.Component:
    return rx.input(
        value=S.form[field],
        on_change=lambda v: S.set_field(field, v),
        id=f"branch-{field}",
        size="3",
        width="100%",
    )


def _edit_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Ubah cabang", size="4"),
            labelled("Nama cabang", _text_input("name"), field_error(S.errors, "name")),
            rx.grid(
                labelled(
                    "Jenis fasilitas",
                    _select("facility_type", _FACILITY_OPTIONS),
                    field_error(S.errors, "facility_type"),
                ),
                labelled(
                    "Zona waktu",
                    _select("timezone", _TZ_OPTIONS),
                    field_error(S.errors, "timezone"),
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            labelled("Alamat", _text_input("address"), field_error(S.errors, "address")),
            labelled("Telepon", _text_input("phone"), field_error(S.errors, "phone")),
            labelled(
                "Format No. RM ({seq} nomor urut, {year} tahun; contoh {seq:06d})",
                _text_input("mrn_format"),
                field_error(S.errors, "mrn_format"),
            ),
            rx.hstack(
                rx.button("Simpan", on_click=S.save, size="3", id="branch-save"),
                rx.button(
                    "Batal", on_click=S.cancel_edit, size="3", variant="soft", color_scheme="gray"
                ),
                spacing="3",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _branch_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["name"]),
        rx.table.cell(row["facility"]),
        rx.table.cell(row["timezone"]),
        rx.table.cell(row["phone"]),
        rx.table.cell(
            rx.button(
                "Ubah",
                on_click=S.start_edit(row["id"]),
                variant="soft",
                size="2",
                id="edit-branch-" + row["id"],
            ),
        ),
    )


def settings_page() -> rx.Component:
    return app_shell(
        "Pengaturan",
        rx.vstack(
            rx.heading("Cabang", size="4"),
            rx.cond(S.editing_id != 0, _edit_form()),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Nama"),
                        rx.table.column_header_cell("Jenis"),
                        rx.table.column_header_cell("Zona"),
                        rx.table.column_header_cell("Telepon"),
                        rx.table.column_header_cell(""),
                    )
                ),
                rx.table.body(rx.foreach(S.branches, _branch_row)),
                width="100%",
                variant="surface",
            ),
            rx.callout(
                "Integrasi SATUSEHAT, unit, ruangan dan pengguna diatur di halaman yang akan "
                "datang; belum tersedia di versi ini.",
                icon="info",
                color_scheme="gray",
            ),
            spacing="4",
            width="100%",
        ),
    )
