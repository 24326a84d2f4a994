"""Menus whose pages are not built yet say so plainly."""

import reflex as rx

from klinikita.components.shell import app_shell


def not_available_page(title: str, what: str) -> rx.Component:
    return app_shell(
        title,
        rx.callout(
            f"Halaman {title} belum tersedia di versi ini. Di sini nantinya: {what}.",
            icon="construction",
            color_scheme="gray",
            size="3",
            id="not-available",
        ),
    )
