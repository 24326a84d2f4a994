"""/cetak?dok=<id>: an issued document as it prints (A5 letters, A4 resume), with Cetak and
Unduh PDF (layout only)."""

from __future__ import annotations

import reflex as rx

from klinikita import routes
from klinikita.components.letterhead import printed_document
from klinikita.components.page import page
from klinikita.state.documents import PrintState as S


def _toolbar() -> rx.Component:
    return rx.flex(
        rx.button(
            rx.icon("arrow-left", size=16),
            "Kembali",
            on_click=rx.call_script("window.history.back()"),
            variant="soft",
            color_scheme="gray",
            size="3",
            id="print-back",
        ),
        rx.vstack(
            rx.text(S.title, weight="bold", size="3"),
            rx.text("No. ", S.number, " · kertas ", S.paper, size="2", color=rx.color("gray", 11)),
            spacing="0",
        ),
        rx.cond(S.is_copy, rx.badge("SALINAN", color_scheme="amber", size="2", id="print-copy")),
        rx.spacer(),
        rx.button(
            rx.icon("printer", size=16),
            rx.cond(S.is_copy, "Cetak ulang", "Cetak"),
            on_click=S.print_now,
            size="3",
            id="print-now",
        ),
        rx.button(
            rx.icon("file-down", size=16),
            "Unduh PDF",
            on_click=S.download_pdf,
            variant="soft",
            size="3",
            id="print-pdf",
        ),
        spacing="3",
        align="center",
        wrap="wrap",
        width="100%",
        class_name="no-print",
    )


@page(route=routes.CETAK, title="Cetak dokumen", on_load=S.load)
def print_page() -> rx.Component:
    return rx.box(
        rx.vstack(
            _toolbar(),
            rx.cond(
                S.problem != "",
                rx.callout(S.problem, icon="file-x", color_scheme="red", id="print-problem"),
                rx.cond(S.html != "", printed_document(S.html, S.paper)),
            ),
            spacing="4",
            width="100%",
            max_width="900px",
            margin_x="auto",
        ),
        padding="16px",
        class_name="print-page",
        min_height="100vh",
        background=rx.color("gray", 3),
    )
