"""The login page."""

import reflex as rx

from klinikita import routes
from klinikita.components.page import page
from klinikita.state.auth import LoginState


@page(route=routes.LOGIN, title="Masuk", on_load=LoginState.check_already_logged_in, public=True)
def login_page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.hstack(
                        rx.icon("heart-pulse", size=28, color=rx.color("accent", 11)),
                        rx.heading("Klinikita", size="7"),
                        align="center",
                    ),
                    rx.text(
                        "Rekam medis elektronik terintegrasi SATUSEHAT", color="gray", size="2"
                    ),
                    rx.cond(
                        LoginState.login_error != "",
                        rx.callout(
                            LoginState.login_error,
                            icon="triangle-alert",
                            color_scheme="red",
                            id="login-error",
                            width="100%",
                        ),
                    ),
                    rx.vstack(
                        rx.text(
                            "Nama pengguna",
                            as_="label",
                            html_for="username",
                            size="2",
                            weight="medium",
                        ),
                        rx.input(
                            id="username",
                            name="username",
                            size="3",
                            width="100%",
                            auto_complete="username",
                            auto_focus=True,
                        ),
                        spacing="1",
                        width="100%",
                    ),
                    rx.vstack(
                        rx.text(
                            "Kata sandi",
                            as_="label",
                            html_for="password",
                            size="2",
                            weight="medium",
                        ),
                        rx.input(
                            id="password",
                            name="password",
                            type="password",
                            size="3",
                            width="100%",
                            auto_complete="current-password",
                        ),
                        spacing="1",
                        width="100%",
                    ),
                    rx.button(
                        "Masuk",
                        type="submit",
                        size="3",
                        width="100%",
                        loading=LoginState.submitting,
                        id="login-submit",
                    ),
                    rx.link(
                        "Lupa kata sandi?",
                        href=routes.LUPA_SANDI,
                        size="2",
                        id="forgot-password-link",
                        align="center",
                        width="100%",
                    ),
                    spacing="4",
                    width="100%",
                ),
                on_submit=LoginState.submit,
                reset_on_submit=False,
            ),
            width="min(400px, 92vw)",
            size="4",
        ),
        min_height="100vh",
        background=rx.color("accent", 2),
    )
