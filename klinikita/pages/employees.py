"""Kontak -> Karyawan (layout only)."""

import reflex as rx

from klinikita import routes
from klinikita.components.data_table import Column, data_table
from klinikita.components.filter_bar import filter_bar, search_input
from klinikita.components.forms import field_error, labelled
from klinikita.components.master_rows import (
    active_badge,
    form_buttons,
    read_only_note,
    row_actions,
    satusehat_cell,
)
from klinikita.components.page import page
from klinikita.components.tables import subnav
from klinikita.models.enums import Sex, SyncStatus
from klinikita.services.dates import TYPED_DATE_HINT
from klinikita.services.employees import EMPLOYEE_DUTIES
from klinikita.state.auth import AuthState
from klinikita.state.employees import EmployeeState as S
from klinikita.state.master_list import STALE_ERROR

_TABS = [("Karyawan", routes.KONTAK_KARYAWAN), ("Pasien", routes.KONTAK_PASIEN)]
_DUTY_OPTIONS = [(d.value, d.label) for d in EMPLOYEE_DUTIES]
_SEX_OPTIONS = [(s.value, s.label) for s in Sex]

NOT_FOUND_GUIDANCE = (
    "Tidak ditemukan di SATUSEHAT. Periksa NIK; pastikan nakes terdaftar di SATUSEHAT "
    "SDMK (SISDMK) atau KKI dengan STR aktif, lalu tekan Kirim ulang."
)


def _input(field: str, **props) -> rx.Component:
    return rx.input(
        value=S.form[field],
        on_change=lambda v: S.set_field(field, v),
        id=f"employee-{field}",
        size="3",
        width="100%",
        **props,
    )


def _select(field: str, options: list[tuple[str, str]], placeholder: str) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(placeholder=placeholder, width="100%", id=f"employee-{field}"),
        rx.select.content(*[rx.select.item(label, value=value) for value, label in options]),
        value=S.form[field],
        on_change=lambda v: S.set_field(field, v),
        size="3",
    )


def _branch_select() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(width="100%", id="employee-branch_id"),
        rx.select.content(
            rx.foreach(
                AuthState.branch_options, lambda o: rx.select.item(o["label"], value=o["value"])
            )
        ),
        value=S.form["branch_id"],
        on_change=lambda v: S.set_field("branch_id", v),
        size="3",
    )


def _grid(*children: rx.Component) -> rx.Component:
    return rx.grid(
        *children, columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%"
    )


def _form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(rx.cond(S.editing_id == 0, "Tambah karyawan", "Ubah karyawan"), size="4"),
            _grid(
                labelled(
                    "Nama lengkap", _input("name", max_length=150), field_error(S.errors, "name")
                ),
                labelled(
                    "Tugas utama",
                    _select("main_duty", _DUTY_OPTIONS, "Pilih tugas"),
                    field_error(S.errors, "main_duty"),
                ),
                labelled(
                    rx.cond(S.nik_required, "NIK (wajib untuk tenaga kesehatan)", "NIK"),
                    rx.vstack(
                        _input("nik", max_length=16, input_mode="numeric"),
                        rx.cond(
                            S.nik_warning != "",
                            rx.text(
                                S.nik_warning,
                                size="2",
                                color=rx.color("amber", 11),
                                id="employee-nik-warning",
                            ),
                        ),
                        spacing="1",
                        width="100%",
                    ),
                    field_error(S.errors, "nik"),
                ),
                labelled(
                    "Jenis kelamin",
                    _select("sex", _SEX_OPTIONS, "Pilih"),
                    field_error(S.errors, "sex"),
                ),
                labelled(
                    "Tanggal lahir",
                    _input(
                        "birth_date",
                        placeholder=TYPED_DATE_HINT,
                        max_length=10,
                        auto_complete="off",
                    ),
                    field_error(S.errors, "birth_date"),
                ),
                labelled("Telepon", _input("phone", type="tel"), field_error(S.errors, "phone")),
                labelled("Email", _input("email", type="email"), field_error(S.errors, "email")),
                labelled("Cabang", _branch_select(), field_error(S.errors, "branch_id")),
                labelled(
                    "No. SIP (dokter: dicetak di surat)",
                    _input("sip_number", max_length=80),
                    field_error(S.errors, "sip_number"),
                ),
            ),
            rx.cond(
                S.nik_required,
                rx.text(
                    "Nomor IHS tenaga kesehatan dicari di SATUSEHAT dengan NIK ini setelah "
                    "disimpan.",
                    size="2",
                    color=rx.color("gray", 11),
                ),
            ),
            field_error(S.errors, STALE_ERROR),
            form_buttons(S.save, S.cancel_form, "employee"),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="employee-form",
    )


def _satusehat(row: rx.Var) -> rx.Component:
    return rx.cond(
        row["practitioner"] == "1",
        rx.vstack(
            satusehat_cell(row, "employee", "ihs_number"),
            rx.cond(
                row["status"] == SyncStatus.NOT_FOUND.value,
                rx.callout(
                    NOT_FOUND_GUIDANCE,
                    icon="user-search",
                    color_scheme="orange",
                    size="1",
                    min_width="220px",
                    max_width="300px",
                    id="employee-not-found-" + row["id"],
                ),
            ),
            spacing="1",
            align="start",
        ),
        rx.text("tidak perlu", size="2", color=rx.color("gray", 10)),
    )


def _person(row: rx.Var) -> rx.Component:
    muted = rx.color("gray", 11)
    return rx.vstack(
        rx.text(row["name"], weight="medium"),
        rx.text(row["duty"], size="2", color=muted),
        rx.cond(row["nik"] != "", rx.code("NIK ", row["nik"], variant="ghost", size="2")),
        rx.text(row["phone"], " ", row["email"], size="1", color=muted),
        spacing="1",
    )


def _actions(row: rx.Var) -> rx.Component:
    return row_actions(
        row,
        "employee",
        can_edit=S.can_edit,
        can_deactivate=S.can_deactivate,
        can_resend=S.can_resend & (row["practitioner"] == "1"),
        on_edit=S.start_edit,
        on_deactivate=S.deactivate,
        on_reactivate=S.reactivate,
        on_resend=S.resend,
    )


_COLUMNS = [
    Column("Karyawan", _person),
    Column("Status", active_badge),
    Column("SATUSEHAT (nomor IHS)", _satusehat),
    Column("", _actions),
]


@page(route=routes.KONTAK_KARYAWAN, title="Karyawan", shell="Kontak", on_load=S.load)
def employees_page() -> rx.Component:
    return rx.vstack(
        subnav(_TABS),
        filter_bar(
            search_input(S.search, S.set_search, "Cari nama atau NIK", "employee-search"),
            actions=(
                rx.cond(
                    S.can_create & ~S.form_open,
                    rx.button(
                        rx.icon("plus", size=16),
                        "Tambah karyawan",
                        on_click=S.start_create,
                        size="3",
                        id="employee-add",
                    ),
                ),
            ),
        ),
        read_only_note(
            ~S.can_edit,
            "Anda melihat data karyawan tanpa bisa mengubahnya; hanya admin yang "
            "mengubah atau menonaktifkan karyawan.",
        ),
        rx.cond(S.form_open, _form()),
        data_table(S.rows, _COLUMNS, prefix="employee", empty="Tidak ada karyawan.", paged=S),
        spacing="4",
        width="100%",
    )
