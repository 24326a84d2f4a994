"""Pengaturan -> Pengguna: list, create/edit form, password reset and deactivation (admin)."""

import reflex as rx

from klinikita import routes, styles
from klinikita.components.data_table import Column, data_table
from klinikita.components.filter_bar import filter_bar, search_input
from klinikita.components.forms import field_error, labelled
from klinikita.components.page import page
from klinikita.components.tables import subnav
from klinikita.models.enums import Duty
from klinikita.state.master_list import STALE_ERROR
from klinikita.state.user_admin import UserAdminState as S

_DUTIES = [(d.value, d.label) for d in Duty]


def settings_subnav() -> rx.Component:
    return subnav(routes.PENGATURAN_TABS)


def _text_input(field: str, **props) -> rx.Component:
    return rx.input(
        value=S.form[field],
        on_change=lambda v: S.set_field(field, v),
        id=f"user-{field}",
        size="3",
        width="100%",
        **props,
    )


def _select(field: str, options, placeholder: str) -> rx.Component:  # noqa: ANN001
    items = (
        [rx.select.item(label, value=value) for value, label in options]
        if isinstance(options, list)
        else [rx.foreach(options, lambda o: rx.select.item(o["label"], value=o["value"]))]
    )
    return rx.select.root(
        rx.select.trigger(width="100%", id=f"user-{field}", placeholder=placeholder),
        rx.select.content(*items),
        value=S.form[field],
        on_change=lambda v: S.set_field(field, v),
        size="3",
    )


def _check(label, value, chosen, on_toggle, element_id) -> rx.Component:  # noqa: ANN001
    # rx.checkbox with its text renders one label around box and text: a tap on either
    # toggles once (an extra wrapping label made a tap on the text toggle twice).
    return rx.box(
        rx.checkbox(
            label,
            checked=chosen.contains(value),
            on_change=lambda checked: on_toggle(value, checked),
            size="3",
            id=element_id,
        ),
        min_height="40px",
        display="flex",
        align_items="center",
    )


def _duty_checks() -> rx.Component:
    return rx.grid(
        *[
            _check(label, value, S.extra_duties, S.toggle_extra_duty, f"user-extra-{value}")
            for value, label in _DUTIES
        ],
        columns=rx.breakpoints(initial="2", md="3"),
        spacing="1",
        width="100%",
        id="user-extra-duties",
    )


def _branch_checks() -> rx.Component:
    return rx.flex(
        rx.foreach(
            S.branch_choices,
            lambda b: _check(
                b["label"], b["value"], S.branch_ids, S.toggle_branch, "user-branch-" + b["value"]
            ),
        ),
        wrap="wrap",
        spacing="4",
        width="100%",
        id="user-branches",
    )


def _password_fields() -> rx.Component:
    return rx.grid(
        labelled(
            "Kata sandi",
            rx.input(
                name="password",
                type="password",
                id="user-password",
                size="3",
                width="100%",
                auto_complete="new-password",
            ),
            field_error(S.errors, "password"),
        ),
        labelled(
            "Ulangi kata sandi",
            rx.input(
                name="password_confirm",
                type="password",
                id="user-password_confirm",
                size="3",
                width="100%",
                auto_complete="new-password",
            ),
            field_error(S.errors, "password_confirm"),
        ),
        columns=rx.breakpoints(initial="1", sm="2"),
        spacing="3",
        width="100%",
    )


def _edit_form() -> rx.Component:
    two = rx.breakpoints(initial="1", sm="2")
    # Only the password fields and the buttons are inside the form: the other controls are
    # held by the state, and the password goes from the submitted form straight to the save.
    return rx.card(
        rx.vstack(
            rx.heading(rx.cond(S.mode == "create", "Tambah pengguna", "Ubah pengguna"), size="4"),
            rx.grid(
                labelled(
                    "Nama pengguna",
                    _text_input("username", auto_complete="off"),
                    field_error(S.errors, "username"),
                ),
                labelled(
                    "Email",
                    _text_input("email", type="email"),
                    field_error(S.errors, "email"),
                ),
                columns=two,
                spacing="3",
                width="100%",
            ),
            rx.grid(
                labelled(
                    "Nama lengkap",
                    _text_input("full_name"),
                    field_error(S.errors, "full_name"),
                ),
                labelled(
                    "Karyawan tertaut",
                    _select("employee_id", S.employee_options, "Pilih karyawan"),
                    field_error(S.errors, "employee_id"),
                ),
                columns=two,
                spacing="3",
                width="100%",
            ),
            labelled(
                "Tugas utama",
                _select("main_duty", _DUTIES, "Pilih tugas utama"),
                field_error(S.errors, "main_duty"),
            ),
            labelled(
                "Tugas tambahan (bisa dipilih lewat Ganti tugas)",
                _duty_checks(),
                field_error(S.errors, "extra_duties"),
            ),
            labelled("Akses cabang", _branch_checks(), field_error(S.errors, "branch_ids")),
            rx.form(
                rx.vstack(
                    rx.cond(S.mode == "create", _password_fields()),
                    field_error(S.errors, STALE_ERROR),
                    rx.hstack(
                        rx.button("Simpan", type="submit", size="3", id="user-save"),
                        rx.button(
                            "Batal",
                            type="button",
                            on_click=S.cancel,
                            size="3",
                            variant="soft",
                            color_scheme="gray",
                            id="user-cancel",
                        ),
                        spacing="3",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=S.save,
                reset_on_submit=False,
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id="user-form",
    )


def _status(row: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.cond(
            row["active"] == "1",
            rx.badge("Aktif", color_scheme="green", size="2"),
            rx.badge("Nonaktif", color_scheme="gray", size="2"),
        ),
        rx.cond(row["locked"] == "1", rx.badge("Terkunci", color_scheme="red", size="2")),
        spacing="1",
        wrap="wrap",
    )


def _menu_item(label: str, icon: str, on_click, element_id, color: str = "gray"):  # noqa: ANN001
    return rx.menu.item(
        rx.hstack(rx.icon(icon, size=16), rx.text(label), align="center", spacing="2"),
        on_click=on_click,
        color_scheme=color,
        min_height=styles.TOUCH_HEIGHT,
        id=element_id,
    )


def _actions(row: rx.Var) -> rx.Component:
    """ "Ubah" plus a menu with the rarer actions (tapped, never hover-only)."""
    uid = row["id"]
    return rx.hstack(
        rx.button(
            "Ubah", on_click=S.start_edit(uid), variant="soft", size="3", id="edit-user-" + uid
        ),
        rx.menu.root(
            rx.menu.trigger(
                rx.icon_button(
                    rx.icon("ellipsis", size=18),
                    variant="soft",
                    color_scheme="gray",
                    size="3",
                    id="more-user-" + uid,
                    aria_label="Tindakan lain",
                )
            ),
            rx.menu.content(
                _menu_item(
                    "Atur ulang kata sandi",
                    "key-round",
                    S.open_reset(uid, row["username"]),
                    "reset-user-" + uid,
                ),
                rx.cond(
                    row["locked"] == "1",
                    _menu_item(
                        "Buka kunci", "lock-open", S.unlock(uid), "unlock-user-" + uid, "orange"
                    ),
                ),
                rx.cond(
                    row["active"] == "1",
                    _menu_item(
                        "Nonaktifkan",
                        "user-x",
                        S.ask_deactivate(uid, row["username"]),
                        "deactivate-user-" + uid,
                        "red",
                    ),
                    _menu_item(
                        "Aktifkan kembali",
                        "user-check",
                        S.reactivate(uid),
                        "reactivate-user-" + uid,
                        "green",
                    ),
                ),
            ),
        ),
        spacing="2",
    )


def _names(row: rx.Var) -> rx.Component:
    return rx.fragment(
        rx.text(row["username"], weight="bold", size="2"),
        rx.text(row["full_name"], size="2", color=rx.color("gray", 11)),
    )


_COLUMNS = [
    Column("Nama pengguna / nama lengkap", _names),
    Column("Tugas utama", lambda row: row["main_duty"]),
    Column("Tugas tambahan", lambda row: row["extra_duties"]),
    Column("Cabang", lambda row: row["branches"]),
    Column("Status", _status),
    Column("", _actions, props={"white_space": "nowrap"}),
]


def _reset_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Atur ulang kata sandi"),
            rx.dialog.description(
                "Kata sandi baru untuk ",
                rx.text.strong(S.reset_username),
                ". Semua sesi login pengguna ini akan diakhiri.",
                size="2",
            ),
            rx.form(
                rx.vstack(
                    labelled(
                        "Kata sandi baru",
                        rx.input(
                            name="password",
                            type="password",
                            id="reset-password",
                            size="3",
                            width="100%",
                            auto_complete="new-password",
                        ),
                        field_error(S.reset_errors, "password"),
                    ),
                    labelled(
                        "Ulangi kata sandi baru",
                        rx.input(
                            name="password_confirm",
                            type="password",
                            id="reset-password_confirm",
                            size="3",
                            width="100%",
                            auto_complete="new-password",
                        ),
                        field_error(S.reset_errors, "password_confirm"),
                    ),
                    rx.hstack(
                        rx.button("Simpan", type="submit", size="3", id="reset-save"),
                        rx.button(
                            "Batal",
                            type="button",
                            on_click=S.close_reset,
                            size="3",
                            variant="soft",
                            color_scheme="gray",
                        ),
                        spacing="3",
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    margin_top="12px",
                ),
                on_submit=S.save_reset,
                reset_on_submit=False,
            ),
            max_width="440px",
        ),
        open=S.reset_user_id != 0,
        on_open_change=S.reset_open_changed,
    )


def _deactivate_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Nonaktifkan pengguna?"),
            rx.alert_dialog.description(
                rx.text.strong(S.confirm_username),
                " tidak dapat masuk lagi dan semua sesi loginnya diakhiri sekarang. "
                "Datanya tetap tersimpan dan dapat diaktifkan kembali.",
                size="2",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(
                    rx.button(
                        "Batal",
                        on_click=S.close_confirm,
                        size="3",
                        variant="soft",
                        color_scheme="gray",
                    )
                ),
                rx.button(
                    "Nonaktifkan",
                    on_click=S.deactivate(S.confirm_user_id.to_string()),
                    size="3",
                    color_scheme="red",
                    id="confirm-deactivate",
                ),
                spacing="3",
                justify="end",
                margin_top="16px",
            ),
            max_width="440px",
        ),
        open=S.confirm_user_id != 0,
    )


@page(route=routes.PENGATURAN_PENGGUNA, title="Pengguna", shell="Pengaturan", on_load=S.load)
def users_page() -> rx.Component:
    return rx.vstack(
        settings_subnav(),
        rx.cond(
            ~S.mail_ready,
            rx.callout(S.no_mail_warning, icon="mail-x", color_scheme="amber", id="users-no-mail"),
        ),
        filter_bar(
            search_input(
                S.search,
                S.search_users,
                "Cari nama atau nama pengguna",
                "user-search",
                debounce_timeout=300,
            ),
            actions=(
                rx.button(
                    rx.icon("user-plus", size=16),
                    "Tambah pengguna",
                    on_click=S.start_create,
                    size="3",
                    id="user-add",
                ),
            ),
        ),
        rx.cond(S.mode != "", _edit_form()),
        data_table(
            S.rows,
            _COLUMNS,
            prefix="user",
            empty="Tidak ada pengguna yang cocok.",
            paged=S,
            row_id=lambda row: "user-row-" + row["username"],
        ),
        _reset_dialog(),
        _deactivate_dialog(),
        spacing="4",
        width="100%",
    )
