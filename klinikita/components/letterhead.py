"""Printed documents on a page: the HTML the services render (services/print_render.py) is
shown as it is, so the page prints exactly what the PDF holds.

- `printed_document(html)`: a whole document (letterhead, body, number, print time), on a
  sheet of its paper size on screen and alone on paper.
- `letterhead(html)`: only the branch letterhead (`print_render.letterhead_html`), for a
  page that lays out a printout of its own.
"""

from __future__ import annotations

import reflex as rx


def letterhead(html: rx.Var | str) -> rx.Component:
    return rx.html(html, class_name="print-letterhead", width="100%")


def printed_document(html: rx.Var | str, paper: rx.Var | str) -> rx.Component:
    """The document on a white sheet (screen); on paper only the document, its size set by
    its own `@page` rule."""
    return rx.box(
        rx.html(html, id="printed-document"),
        class_name="print-sheet",
        data_paper=paper,
        background="white",
        color="black",
        # The paper's margins (services/print_render.MARGINS_MM), so the screen shows the
        # sheet as it prints.
        padding=rx.match(
            paper,
            ("A4", "15mm 15mm 18mm 15mm"),
            ("58", "3mm 5mm 5mm 5mm"),
            ("80", "3mm 4mm 5mm 4mm"),
            ("60x40", "2mm 2.5mm"),
            "10mm 11mm 13mm 11mm",
        ),
        box_shadow="0 1px 6px rgba(0,0,0,0.25)",
        margin_x="auto",
        width="fit-content",
        max_width="100%",
        overflow_x="auto",
    )
