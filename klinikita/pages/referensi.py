"""Referensi: Unit layanan and Ruangan (layout only)."""

import reflex as rx

from klinikita import routes
from klinikita.components.coordinates import coordinate_fields
from klinikita.components.data_table import Column, data_table
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
from klinikita.state.master_list import STALE_ERROR
from klinikita.state.referensi import RoomState, UnitState

_TABS = [("Unit layanan", routes.REFERENSI_UNIT), ("Ruangan", routes.REFERENSI_RUANGAN)]


def _toolbar(state, label: str, element_id: str, explanation: str) -> rx.Component:  # noqa: ANN001
    return rx.vstack(
        rx.hstack(
            rx.text(explanation, size="2", color=rx.color("gray", 11), flex="1", min_width="0"),
            rx.cond(
                state.can_create & ~state.form_open,
                rx.button(
                    rx.icon("plus", size=16),
                    label,
                    on_click=state.start_create,
                    size="3",
                    id=element_id,
                ),
            ),
            width="100%",
            align="center",
            spacing="3",
        ),
        read_only_note(
            ~state.can_edit,
            "Anda melihat data ini tanpa bisa mengubahnya; hanya admin yang mengubah "
            "atau menonaktifkan unit dan ruangan.",
        ),
        width="100%",
        spacing="2",
    )


def _name_input(state, element_id: str) -> rx.Component:  # noqa: ANN001
    return rx.input(
        value=state.form["name"],
        on_change=lambda v: state.set_field("name", v),
        id=element_id,
        size="3",
        width="100%",
        max_length=120,
    )


# ----- units -----------------------------------------------------------------------------
def _unit_form() -> rx.Component:
    S = UnitState
    return rx.card(
        rx.vstack(
            rx.heading(
                rx.cond(S.editing_id == 0, "Tambah unit layanan", "Ubah unit layanan"), size="4"
            ),
            labelled(
                "Nama unit (contoh: Poli Umum)",
                _name_input(S, "unit-name"),
                field_error(S.errors, "name"),
            ),
            field_error(S.errors, STALE_ERROR),
            form_buttons(S.save, S.cancel_form, "unit"),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="unit-form",
    )


def _actions(S, prefix: str):  # noqa: ANN001, N803, ANN202
    return lambda row: row_actions(
        row,
        prefix,
        can_edit=S.can_edit,
        can_deactivate=S.can_deactivate,
        can_resend=S.can_resend,
        on_edit=S.start_edit,
        on_deactivate=S.deactivate,
        on_reactivate=S.reactivate,
        on_resend=S.resend,
    )


def _name(row: rx.Var) -> rx.Component:
    return rx.text(row["name"], weight="medium")


_UNIT_COLUMNS = [
    Column("Nama unit", _name),
    Column("Status", active_badge),
    Column("SATUSEHAT (Organization)", lambda row: satusehat_cell(row, "unit", "ihs_id")),
    Column("", _actions(UnitState, "unit")),
]


@page(route=routes.REFERENSI_UNIT, title="Unit layanan", shell="Referensi", on_load=UnitState.load)
def units_page() -> rx.Component:
    S = UnitState
    return rx.vstack(
        subnav(_TABS),
        _toolbar(
            S,
            "Tambah unit",
            "unit-add",
            "Unit layanan dikirim ke SATUSEHAT sebagai Organization (sub-organisasi fasilitas).",
        ),
        rx.cond(S.form_open, _unit_form()),
        data_table(S.rows, _UNIT_COLUMNS, prefix="unit", empty="Belum ada unit layanan.", paged=S),
        spacing="4",
        width="100%",
    )


# ----- rooms -----------------------------------------------------------------------------
def _room_form() -> rx.Component:
    S = RoomState
    return rx.card(
        rx.vstack(
            rx.heading(rx.cond(S.editing_id == 0, "Tambah ruangan", "Ubah ruangan"), size="4"),
            rx.grid(
                labelled(
                    "Nama ruangan (contoh: Ruang Periksa 1)",
                    _name_input(S, "room-name"),
                    field_error(S.errors, "name"),
                ),
                labelled(
                    "Unit layanan",
                    rx.select.root(
                        rx.select.trigger(
                            placeholder="Pilih unit", width="100%", id="room-unit_id"
                        ),
                        rx.select.content(
                            rx.foreach(
                                S.unit_options,
                                lambda o: rx.select.item(o["label"], value=o["value"]),
                            )
                        ),
                        value=S.form["unit_id"],
                        on_change=lambda v: S.set_field("unit_id", v),
                        size="3",
                    ),
                    field_error(S.errors, "unit_id"),
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            coordinate_fields(
                S, "room", "Koordinat ruangan (kosongkan untuk memakai koordinat cabang)"
            ),
            rx.cond(
                S.unit_options.length() == 0,
                rx.callout(
                    "Belum ada unit layanan aktif. Tambahkan unit dulu di tab Unit layanan.",
                    icon="info",
                    color_scheme="orange",
                    size="1",
                ),
            ),
            field_error(S.errors, STALE_ERROR),
            form_buttons(S.save, S.cancel_form, "room"),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="room-form",
    )


_ROOM_COLUMNS = [
    Column("Nama ruangan", _name),
    Column("Unit", lambda row: row["unit"]),
    Column("Status", active_badge),
    Column("SATUSEHAT (Location)", lambda row: satusehat_cell(row, "room", "ihs_id")),
    Column("", _actions(RoomState, "room")),
]


@page(route=routes.REFERENSI_RUANGAN, title="Ruangan", shell="Referensi", on_load=RoomState.load)
def rooms_page() -> rx.Component:
    S = RoomState
    return rx.vstack(
        subnav(_TABS),
        _toolbar(
            S,
            "Tambah ruangan",
            "room-add",
            "Ruangan dikirim ke SATUSEHAT sebagai Location, di bawah unit layanannya "
            "(unit dikirim lebih dulu bila belum).",
        ),
        rx.cond(S.form_open, _room_form()),
        data_table(S.rows, _ROOM_COLUMNS, prefix="room", empty="Belum ada ruangan.", paged=S),
        spacing="4",
        width="100%",
    )


@page(
    route=routes.REFERENSI,
    title="Referensi",
    shell="Referensi",
    # Logged out: the redirect goes to the login page with ?next= (no login check first).
    on_load=UnitState.open_referensi,
    public=True,
)
def referensi_page() -> rx.Component:
    """/referensi: the tabs while the redirect to the first one happens."""
    return rx.vstack(subnav(_TABS), rx.spinner(size="3"), width="100%")
