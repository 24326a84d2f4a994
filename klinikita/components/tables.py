"""Table helpers: server-side paging controls, tabs between the pages of one menu."""

import reflex as rx


def pager_controls(
    label: rx.Var,
    at_first: rx.Var,
    at_last: rx.Var,
    on_prev,  # noqa: ANN001
    on_next,  # noqa: ANN001
    element_id: str = "pager",
) -> rx.Component:
    """The page's label with previous/next buttons; the state loads the page."""
    return rx.hstack(
        rx.text(label, size="2", color=rx.color("gray", 11)),
        rx.spacer(),
        rx.button(
            rx.icon("chevron-left", size=16),
            "Sebelumnya",
            on_click=on_prev,
            disabled=at_first,
            variant="soft",
            size="3",
            id=f"{element_id}-prev",
        ),
        rx.button(
            "Berikutnya",
            rx.icon("chevron-right", size=16),
            on_click=on_next,
            disabled=at_last,
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
