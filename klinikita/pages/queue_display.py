"""The waiting-room display: the TV page (public, its display token in the address) and
Pengaturan -> Layar antrean, where an admin makes and revokes the TVs' links."""

from __future__ import annotations

import reflex as rx

from klinikita import routes
from klinikita.components.forms import field_error, labelled
from klinikita.components.page import page
from klinikita.components.tables import subnav
from klinikita.state.queue_display import DisplayTokenState as T
from klinikita.state.queue_display import QueueDisplayState as D

_TV_BG = "#0b1f33"
_TV_PANEL = "#12304d"
_TV_ACCENT = "#ffd54a"
_TV_MUTED = "#a9c1d9"


# ----- the TV ---------------------------------------------------------------------------------
def _recent_call(call: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.text(call["label"], size="8", weight="bold"),
        rx.vstack(
            rx.text(call["room_name"], size="5"),
            rx.text(call["unit_name"], " · ", call["time"], size="3", color=_TV_MUTED),
            spacing="0",
        ),
        spacing="4",
        align="center",
        padding="12px 16px",
        border_radius="12px",
        background=_TV_PANEL,
        width="100%",
        class_name="antrean-recent",
    )


def _unit_queue(unit: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.center(
                rx.text(unit["letter"], size="7", weight="bold"),
                min_width="56px",
                height="56px",
                border_radius="10px",
                background=_TV_ACCENT,
                color=_TV_BG,
            ),
            rx.text(unit["unit_name"], size="6", weight="bold"),
            align="center",
            spacing="3",
        ),
        rx.text("Berikutnya:", size="4", color=_TV_MUTED),
        rx.text(unit["waiting"], size="7", weight="bold", class_name="antrean-waiting"),
        rx.text(unit["more"], size="4", color=_TV_MUTED),
        spacing="1",
        padding="12px 16px",
        border_radius="14px",
        background=_TV_PANEL,
        min_width="280px",
        flex="1",
    )


def _current_call() -> rx.Component:
    return rx.box(
        rx.cond(
            D.current.contains("label"),
            rx.vstack(
                rx.text("Nomor antrean", size="6", color=_TV_MUTED),
                rx.text(
                    D.current["label"],
                    font_size="clamp(72px, 24vh, 240px)",
                    line_height="1",
                    weight="bold",
                    color=_TV_ACCENT,
                    id="antrean-current-label",
                ),
                rx.text("silakan ke", size="6", color=_TV_MUTED),
                rx.text(D.current["room_name"], size="8", weight="bold", id="antrean-room"),
                rx.text(D.current["unit_name"], size="6", color=_TV_MUTED),
                align="center",
                spacing="2",
            ),
            rx.text("Belum ada panggilan hari ini.", size="8", color=_TV_MUTED),
        ),
        id="antrean-call",
        custom_attrs={
            "data-ready": rx.cond(D.valid, "1", "0"),
            "data-call-id": D.current.get("id", ""),
            "data-speech": D.current.get("speech", ""),
        },
        padding="20px",
        border_radius="20px",
        background=_TV_PANEL,
        flex="2",
        display="flex",
        align_items="center",
        justify_content="center",
    )


def _board() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading(D.clinic_name, size="8", id="antrean-clinic"),
            rx.spacer(),
            rx.text(
                "",
                size="8",
                weight="bold",
                id="antrean-clock",
                custom_attrs={"data-timezone": D.timezone},
            ),
            width="100%",
            align="center",
        ),
        rx.hstack(
            _current_call(),
            rx.vstack(
                rx.text("Panggilan sebelumnya", size="5", color=_TV_MUTED),
                rx.foreach(D.recent, _recent_call),
                spacing="3",
                flex="1",
                min_width="280px",
            ),
            spacing="5",
            width="100%",
            align="stretch",
        ),
        rx.hstack(rx.foreach(D.units, _unit_queue), spacing="4", width="100%", wrap="wrap"),
        rx.button(
            rx.icon("volume-2"),
            "Aktifkan suara",
            on_click=rx.call_script("window.klinikitaQueueDisplay.enableSound()"),
            id="antrean-sound",
            size="4",
            position="fixed",
            bottom="20px",
            right="20px",
        ),
        spacing="4",
        width="100%",
    )


@page(route=routes.ANTREAN_TAMPIL, title="Layar antrean", public=True, on_load=D.load)
def queue_display_page() -> rx.Component:
    return rx.box(
        rx.script(src="/queue_display.js"),
        rx.cond(
            D.valid,
            _board(),
            rx.center(
                rx.cond(
                    D.checked,
                    rx.callout(
                        D.message,
                        icon="monitor-x",
                        color_scheme="red",
                        size="3",
                        id="antrean-invalid",
                    ),
                    rx.spinner(size="3"),
                ),
                min_height="80vh",
            ),
        ),
        background=_TV_BG,
        color="white",
        min_height="100vh",
        padding="20px 28px",
        class_name="antrean-display",
    )


# ----- Pengaturan -> Layar antrean ------------------------------------------------------------
def _token_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row["name"]),
        rx.table.cell(row["unit_name"]),
        rx.table.cell(row["created"]),
        rx.table.cell(
            rx.cond(
                row["revoked"] != "",
                rx.badge("dicabut ", row["revoked"], color_scheme="gray"),
                rx.badge("aktif", color_scheme="green"),
            )
        ),
        rx.table.cell(
            rx.cond(
                row["revoked"] == "",
                rx.button(
                    "Cabut",
                    color_scheme="red",
                    variant="soft",
                    size="3",
                    on_click=T.revoke(row["id"]),
                    id="display-revoke-" + row["id"],
                ),
            )
        ),
    )


def _create_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Tambah layar", size="4"),
                rx.hstack(
                    labelled(
                        "Nama layar",
                        rx.input(
                            name="name",
                            id="display-name",
                            placeholder="mis. TV ruang tunggu depan",
                            size="3",
                            width="100%",
                        ),
                        field_error(T.errors, "name"),
                    ),
                    labelled(
                        "Unit yang ditampilkan",
                        rx.select.root(
                            rx.select.trigger(width="100%", id="display-unit"),
                            rx.select.content(
                                rx.select.item("Semua unit", value="semua"),
                                rx.foreach(
                                    T.unit_options,
                                    lambda o: rx.select.item(o["label"], value=o["value"]),
                                ),
                            ),
                            name="unit_id",
                            default_value="semua",
                            size="3",
                        ),
                        field_error(T.errors, "unit_id"),
                    ),
                    width="100%",
                    spacing="3",
                    align="start",
                ),
                rx.button("Buat tautan", type="submit", size="3", id="display-create"),
                spacing="3",
                width="100%",
            ),
            on_submit=T.create,
            reset_on_submit=True,
        ),
        width="100%",
    )


def _new_url() -> rx.Component:
    # The field is always in the page (hidden until a link is made): the new link is
    # written into it by a script, never held in a state var.
    return rx.callout.root(
        rx.callout.icon(rx.icon("monitor-check")),
        rx.vstack(
            rx.text(
                "Buka tautan ini di browser TV ruang tunggu (layar penuh: tekan F11), lalu "
                "klik \u201cAktifkan suara\u201d sekali. Tautan hanya ditampilkan sekarang; "
                "bila hilang, cabut dan buat yang baru.",
                size="2",
            ),
            rx.input(id="display-token-url", read_only=True, size="3", width="100%"),
            rx.button("Tutup", variant="soft", size="3", on_click=T.hide_url),
            spacing="2",
            width="100%",
        ),
        display=rx.cond(T.url_shown, "flex", "none"),
        color_scheme="green",
        width="100%",
    )


@page(
    route=routes.PENGATURAN_LAYAR,
    title="Layar antrean",
    shell="Pengaturan",
    on_load=T.load,
)
def display_tokens_page() -> rx.Component:
    return rx.vstack(
        subnav(routes.PENGATURAN_TABS),
        rx.heading("Layar antrean", size="4"),
        rx.text(
            "Layar TV di ruang tunggu menampilkan nomor yang dipanggil dan nomor berikutnya "
            "(tanpa nama pasien). Nomor diawali huruf unit: huruf A, B, C, ... mengikuti urutan "
            "unit layanan di Referensi.",
            size="2",
            color=rx.color("gray", 11),
        ),
        _create_form(),
        _new_url(),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Nama layar"),
                    rx.table.column_header_cell("Unit"),
                    rx.table.column_header_cell("Dibuat"),
                    rx.table.column_header_cell("Status"),
                    rx.table.column_header_cell(""),
                )
            ),
            rx.table.body(rx.foreach(T.tokens, _token_row)),
            width="100%",
            id="display-tokens",
        ),
        spacing="4",
        width="100%",
    )
