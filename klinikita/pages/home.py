"""Beranda: today's numbers of the person's work by duty, each a link to the page that lists
them; for admins the branch's readiness and this week's SATUSEHAT compliance; the menus."""

import reflex as rx

from klinikita import routes
from klinikita.components.page import page
from klinikita.state.auth import AuthState
from klinikita.state.home import HomeState

_MUTED = rx.color("gray", 11)


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


def _figure(figure: rx.Var) -> rx.Component:
    return rx.link(
        rx.card(
            rx.vstack(
                rx.text(figure.label, size="2", color=_MUTED),
                rx.heading(
                    figure.value,
                    size="8",
                    color=rx.color(figure.tone.to(str), 11),
                    id="beranda-" + figure.key.to(str),
                ),
                spacing="1",
            ),
            size="2",
            width="100%",
            min_height="88px",
        ),
        href=figure.link,
        underline="none",
        min_width="150px",
        flex="1",
    )


def _group(group: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.text(group.title, weight="bold", size="3"),
        rx.flex(rx.foreach(group.figures, _figure), spacing="3", wrap="wrap", width="100%"),
        spacing="2",
        width="100%",
        id="beranda-group-" + group.key.to(str),
    )


def _readiness_item(item: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.icon("triangle-alert", size=16, color=rx.color("orange", 10)),
        rx.text(item["message"], size="2", flex="1"),
        rx.link("Perbaiki", href=item["link"], size="2"),
        align="center",
        width="100%",
    )


def _admin() -> rx.Component:
    c = HomeState.compliance
    return rx.cond(
        HomeState.is_admin,
        rx.flex(
            rx.card(
                rx.vstack(
                    rx.text("Kesiapan SATUSEHAT cabang", weight="bold", size="3"),
                    rx.cond(
                        HomeState.readiness.length() > 0,
                        rx.vstack(
                            rx.foreach(HomeState.readiness, _readiness_item),
                            spacing="2",
                            width="100%",
                        ),
                        rx.callout(
                            "Siap mengirim.",
                            icon="circle-check",
                            color_scheme="green",
                            id="beranda-ready",
                        ),
                    ),
                    spacing="2",
                    width="100%",
                ),
                flex="1",
                min_width="300px",
                id="beranda-readiness",
            ),
            rx.link(
                rx.card(
                    rx.vstack(
                        rx.text("Kepatuhan SATUSEHAT minggu ini", weight="bold", size="3"),
                        rx.text(c["week"], size="2", color=_MUTED),
                        rx.text(
                            rx.text.strong(c["encounters"], id="beranda-week-encounters"),
                            " dari ",
                            rx.text.strong(c["completed"], id="beranda-week-completed"),
                            " kunjungan selesai punya ID Encounter (",
                            c["share"],
                            ").",
                            size="3",
                        ),
                        rx.text(
                            "Kiriman gagal: ",
                            rx.text.strong(c["failed"], id="beranda-week-failed"),
                            ", berhenti dicoba: ",
                            rx.text.strong(c["dead"]),
                            size="2",
                        ),
                        spacing="1",
                    ),
                    width="100%",
                ),
                href=routes.LAPORAN_DASHBOARD,
                underline="none",
                flex="1",
                min_width="300px",
                id="beranda-compliance",
            ),
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
    )


@page(route=routes.BERANDA, title="Beranda", shell="Beranda", on_load=HomeState.load)
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
        rx.foreach(HomeState.groups, _group),
        _admin(),
        rx.text("Menu", weight="bold", size="3"),
        rx.grid(
            rx.foreach(AuthState.menu, _tile),
            columns=rx.breakpoints(initial="1", sm="2", md="3"),
            spacing="3",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )
