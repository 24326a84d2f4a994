"""The line under today's queue that lists the older finished visits, or hides them again."""

from __future__ import annotations

import reflex as rx


def finished_toggle(hidden: rx.Var, show_all: rx.Var, on_toggle, id_prefix: str) -> rx.Component:  # noqa: ANN001
    """`hidden`: how many finished or cancelled visits the short list leaves out;
    `show_all`: whether the list is long now; `on_toggle` switches."""
    return rx.cond(
        hidden > 0,
        rx.hstack(
            rx.cond(
                show_all,
                rx.text("Semua kunjungan hari ini ditampilkan.", size="2", color="gray"),
                rx.text(
                    hidden,
                    " kunjungan selesai atau batal sebelumnya tidak ditampilkan.",
                    size="2",
                    color="gray",
                ),
            ),
            rx.button(
                rx.cond(show_all, "Ringkas", "Tampilkan semua"),
                on_click=on_toggle,
                variant="soft",
                size="2",
                id=f"{id_prefix}-toggle-finished",
            ),
            align="center",
            wrap="wrap",
            id=f"{id_prefix}-finished",
        ),
    )
