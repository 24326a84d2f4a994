"""Password pages: change one's own (logged in), forgotten password, reset through a link."""

import reflex as rx

from klinikita import routes
from klinikita.components.forms import field_error, labelled
from klinikita.components.page import page
from klinikita.state.passwords import (
    ChangePasswordState,
    ForgotPasswordState,
    ResetPasswordState,
)

_POLICY = (
    "Minimal 8 karakter, dengan huruf besar, huruf kecil, angka dan simbol (misalnya ! @ # -)."
)


def _password_input(name: str, autocomplete: str = "new-password") -> rx.Component:
    return rx.input(
        name=name,
        id=name,
        type="password",
        size="3",
        width="100%",
        auto_complete=autocomplete,
    )


def _new_password_fields(errors: rx.Var) -> list[rx.Component]:
    return [
        labelled(
            "Kata sandi baru",
            _password_input("new_password"),
            field_error(errors, "new_password"),
        ),
        rx.text(_POLICY, size="1", color=rx.color("gray", 10)),
        labelled(
            "Ulangi kata sandi baru",
            _password_input("new_password_confirm"),
            field_error(errors, "new_password_confirm"),
        ),
    ]


@page(
    route=routes.GANTI_SANDI,
    title="Ganti kata sandi",
    shell="Ganti kata sandi",
    on_load=ChangePasswordState.open,
)
def change_password_page() -> rx.Component:
    s = ChangePasswordState
    return rx.card(
        rx.form(
            rx.vstack(
                labelled(
                    "Kata sandi saat ini",
                    _password_input("current_password", "current-password"),
                    field_error(s.errors, "current_password"),
                ),
                *_new_password_fields(s.errors),
                rx.text(
                    "Setelah diganti, sesi login akun ini di perangkat lain diakhiri.",
                    size="2",
                    color=rx.color("gray", 11),
                ),
                rx.button("Simpan kata sandi", type="submit", size="3", id="change-save"),
                spacing="3",
                width="100%",
            ),
            on_submit=s.submit,
            reset_on_submit=False,
            key=s.form_key,
        ),
        width="100%",
        max_width="480px",
    )


def _public_card(*children: rx.Component) -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.icon("heart-pulse", size=28, color=rx.color("accent", 11)),
                    rx.heading("Klinikita", size="7"),
                    align="center",
                ),
                *children,
                spacing="4",
                width="100%",
            ),
            width="min(420px, 92vw)",
            size="4",
        ),
        min_height="100vh",
        background=rx.color("accent", 2),
    )


def _back_to_login() -> rx.Component:
    return rx.link("Kembali ke halaman masuk", href=routes.LOGIN, size="2", id="back-to-login")


@page(
    route=routes.LUPA_SANDI, title="Lupa kata sandi", on_load=ForgotPasswordState.open, public=True
)
def forgot_password_page() -> rx.Component:
    s = ForgotPasswordState
    return _public_card(
        rx.heading("Lupa kata sandi", size="4"),
        rx.cond(
            ~s.mail_ready,
            rx.callout(
                s.no_mail_message, icon="user-round-cog", color_scheme="amber", id="forgot-no-mail"
            ),
            _forgot_form(),
        ),
        _back_to_login(),
    )


def _forgot_form() -> rx.Component:
    s = ForgotPasswordState
    return rx.cond(
        s.sent,
        rx.callout(s.message, icon="mail-check", color_scheme="green", id="forgot-reply"),
        rx.form(
            rx.vstack(
                rx.text(
                    "Masukkan nama pengguna atau email akun Anda. Kami kirimkan tautan "
                    "untuk membuat kata sandi baru ke email akun tersebut.",
                    size="2",
                ),
                labelled(
                    "Nama pengguna atau email",
                    rx.input(
                        name="identifier",
                        id="identifier",
                        size="3",
                        width="100%",
                        auto_complete="username",
                        auto_focus=True,
                    ),
                    rx.cond(
                        s.error != "",
                        rx.text(s.error, color="red", size="2", id="error-identifier"),
                    ),
                ),
                rx.button(
                    "Kirim tautan", type="submit", size="3", width="100%", id="forgot-submit"
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=s.submit,
            reset_on_submit=False,
        ),
    )


@page(
    route=routes.RESET_SANDI,
    title="Atur ulang kata sandi",
    on_load=ResetPasswordState.load,
    public=True,
)
def reset_password_page() -> rx.Component:
    s = ResetPasswordState
    form = rx.form(
        rx.vstack(
            *_new_password_fields(s.errors),
            rx.button(
                "Simpan kata sandi baru", type="submit", size="3", width="100%", id="reset-submit"
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=s.submit,
        reset_on_submit=False,
    )
    return _public_card(
        rx.heading("Buat kata sandi baru", size="4"),
        rx.cond(
            ~s.checked,
            rx.center(rx.spinner(size="3"), width="100%"),
            rx.cond(
                s.done,
                rx.callout(
                    "Kata sandi baru disimpan. Semua sesi login akun ini telah diakhiri; "
                    "silakan masuk dengan kata sandi baru.",
                    icon="circle-check",
                    color_scheme="green",
                    id="reset-done",
                ),
                rx.cond(
                    s.link_ok,
                    form,
                    rx.vstack(
                        rx.callout(
                            "Tautan ini tidak berlaku lagi: sudah dipakai, sudah kedaluwarsa, "
                            "atau tidak lengkap.",
                            icon="triangle-alert",
                            color_scheme="orange",
                            id="reset-invalid",
                        ),
                        rx.link("Minta tautan baru", href=routes.LUPA_SANDI, size="2"),
                        spacing="3",
                    ),
                ),
            ),
        ),
        _back_to_login(),
    )
