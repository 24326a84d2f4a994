"""Table helpers: server-side paging controls."""

import reflex as rx


def pager(
    page: rx.Var,
    page_count: rx.Var,
    total: rx.Var,
    on_prev,
    on_next,  # noqa: ANN001
    element_id: str = "pager",
) -> rx.Component:
    """'Halaman x dari y (n data)' with previous/next buttons; the state loads the page."""
    return rx.hstack(
        rx.text(
            "Halaman ",
            page,
            " dari ",
            page_count,
            " (",
            total,
            " data)",
            size="2",
            color=rx.color("gray", 11),
        ),
        rx.spacer(),
        rx.button(
            rx.icon("chevron-left", size=16),
            "Sebelumnya",
            on_click=on_prev,
            disabled=page <= 1,
            variant="soft",
            size="3",
            id=f"{element_id}-prev",
        ),
        rx.button(
            "Berikutnya",
            rx.icon("chevron-right", size=16),
            on_click=on_next,
            disabled=page >= page_count,
            variant="soft",
            size="3",
            id=f"{element_id}-next",
        ),
        width="100%",
        align="center",
        id=element_id,
    )


def subnav(items: list[tuple[str, str]]) -> rx.Component:
    """Tabs as links between the pages of one menu (e.g. Kontak: Karyawan, Pasien)."""
    return rx.hstack(
        *[
            rx.link(
                rx.button(
                    label,
                    variant=rx.cond(rx.State.router.page.path == route, "solid", "soft"),
                    size="3",
                ),
                href=route,
                underline="none",
            )
            for label, route in items
        ],
        spacing="2",
        margin_bottom="12px",
        wrap="wrap",
    )
