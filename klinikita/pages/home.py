"""Beranda: who is working where, and the way to each menu of the active duty."""

import reflex as rx

from klinikita import routes
from klinikita.components.page import page
from klinikita.state.auth import AuthState


def _tile(item: rx.Var) -> rx.Component:
    return rx.link(
        rx.card(
            rx.hstack(
                rx.icon(item["icon"], size=22),
                rx.text(item["label"], size="4"),
                align="center",
                spacing="3",
            ),
            size="3",
            width="100%",
        ),
        href=item["route"],
        underline="none",
    )


@page(route=routes.BERANDA, title="Beranda", shell="Beranda")
def home_page() -> rx.Component:
    return rx.vstack(
        rx.text(
            "Selamat datang, ",
            rx.text.strong(AuthState.full_name),
            ". Anda bertugas sebagai ",
            rx.text.strong(AuthState.duty_label),
            " di ",
            rx.text.strong(AuthState.branch_name),
            ".",
            size="3",
        ),
        rx.grid(
            rx.foreach(AuthState.menu, _tile),
            columns=rx.breakpoints(initial="1", sm="2", md="3"),
            spacing="3",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )
