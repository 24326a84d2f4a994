"""The app shell: sidebar with the active duty's menus, top bar with branch, user and switchers."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from klinikita import routes, styles
from klinikita.state.auth import AuthState


def _menu_link(item: rx.Var, on_click=None) -> rx.Component:  # noqa: ANN001
    active = AuthState.active_menu == item["key"]
    return rx.link(
        rx.hstack(
            rx.icon(item["icon"], size=18),
            rx.text(item["label"], size="3"),
            align="center",
            spacing="3",
            width="100%",
            padding_x="12px",
            min_height=styles.TOUCH_HEIGHT,
            border_radius="8px",
            background=rx.cond(active, rx.color("accent", 4), "transparent"),
            color=rx.cond(active, styles.accent_text, rx.color("gray", 12)),
            _hover={"background": rx.color("accent", 3)},
        ),
        href=item["route"],
        underline="none",
        width="100%",
        id=f"menu-{item['key']}",
        on_click=on_click,
    )


def _menu_list(on_click=None) -> rx.Component:  # noqa: ANN001
    return rx.vstack(
        rx.foreach(AuthState.menu, lambda item: _menu_link(item, on_click)),
        spacing="1",
        width="100%",
        id="sidebar-menu",
    )


def _brand() -> rx.Component:
    return rx.hstack(
        rx.icon("heart-pulse", size=24, color=styles.accent_text),
        rx.heading("Klinikita", size="5", weight="bold"),
        align="center",
        spacing="2",
    )


def sidebar() -> rx.Component:
    return rx.box(
        rx.vstack(
            _brand(),
            rx.divider(),
            _menu_list(),
            spacing="4",
            padding="16px",
            width="100%",
        ),
        width=styles.SIDEBAR_WIDTH,
        min_width=styles.SIDEBAR_WIDTH,
        height="100vh",
        position="sticky",
        top="0",
        background=styles.sidebar_bg,
        border_right=styles.border,
        # Shown from 992 px up; narrower screens (tablet portrait) use the drawer.
        display=["none", "none", "none", "block"],
        class_name="app-sidebar no-print",
    )


def _mobile_menu() -> rx.Component:
    return rx.drawer.root(
        rx.drawer.trigger(
            rx.icon_button(
                rx.icon("menu"), variant="soft", size="3", id="open-menu", aria_label="Buka menu"
            ),
        ),
        rx.drawer.overlay(),
        rx.drawer.portal(
            rx.drawer.content(
                rx.vstack(
                    rx.hstack(
                        _brand(),
                        rx.spacer(),
                        rx.drawer.close(
                            rx.icon_button(rx.icon("x"), variant="ghost", aria_label="Tutup menu")
                        ),
                        width="100%",
                    ),
                    rx.divider(),
                    rx.drawer.close(rx.box(_menu_list(), width="100%")),
                    spacing="4",
                    padding="16px",
                    width="100%",
                ),
                height="100%",
                width="260px",
                background=rx.color("gray", 1),
            )
        ),
        direction="left",
    )


def _switcher(
    label: str,
    current: rx.Var,
    options: rx.Var,
    on_pick: Callable,
    element_id: str,
    icon: str,
) -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.icon(icon, size=16),
                rx.text(label, white_space="nowrap"),
                rx.icon("chevron-down", size=14),
                variant="soft",
                size="3",
                id=element_id,
                aria_label=label,
            )
        ),
        rx.menu.content(
            rx.foreach(
                options,
                lambda opt: rx.menu.item(
                    rx.hstack(
                        rx.cond(
                            opt["value"] == current, rx.icon("check", size=14), rx.box(width="14px")
                        ),
                        rx.text(opt["label"]),
                        align="center",
                    ),
                    on_click=on_pick(opt["value"]),
                    min_height=styles.TOUCH_HEIGHT,
                    class_name=f"{element_id}-option",
                ),
            ),
        ),
    )


def topbar() -> rx.Component:
    # Texts that only fit next to the sidebar on wide desks (1280 px and up).
    wide_only = ["none", "none", "none", "none", "inline"]
    return rx.hstack(
        rx.box(_mobile_menu(), display=["block", "block", "block", "none"]),
        rx.vstack(
            rx.text("Cabang aktif", size="1", color=rx.color("gray", 10)),
            rx.text(
                AuthState.branch_name,
                weight="bold",
                size="3",
                id="active-branch",
                trim="both",
                white_space="nowrap",
                overflow="hidden",
                text_overflow="ellipsis",
                max_width="100%",
            ),
            spacing="0",
            min_width="0",
            flex="1",
        ),
        rx.hstack(
            rx.text(
                AuthState.full_name,
                weight="medium",
                size="2",
                id="current-user",
                display=wide_only,
                white_space="nowrap",
            ),
            rx.badge(AuthState.duty_label, size="2", id="active-duty"),
            spacing="2",
            align="center",
        ),
        _switcher(
            "Ganti tugas",
            AuthState.duty,
            AuthState.duty_options,
            AuthState.switch_duty,
            "switch-duty",
            "user-cog",
        ),
        _switcher(
            "Ganti cabang",
            AuthState.branch_id.to_string(),
            AuthState.branch_options,
            AuthState.switch_branch,
            "switch-branch",
            "building",
        ),
        rx.link(
            rx.button(
                rx.icon("key-round", size=16),  # icon only: the top bar is full
                variant="outline",
                color_scheme="gray",
                size="3",
                aria_label="Ganti kata sandi",
                title="Ganti kata sandi",
            ),
            href=routes.GANTI_SANDI,
            id="change-password",
            underline="none",
        ),
        rx.button(
            rx.icon("log-out", size=16),
            rx.text("Keluar", display=wide_only),
            on_click=AuthState.logout,
            variant="outline",
            color_scheme="gray",
            size="3",
            id="logout",
            aria_label="Keluar",
        ),
        align="center",
        spacing="3",
        padding_x="16px",
        min_height=styles.TOPBAR_HEIGHT,
        border_bottom=styles.border,
        background=rx.color("gray", 1),
        position="sticky",
        top="0",
        z_index="10",
        width="100%",
        class_name="app-topbar no-print",
    )


def not_allowed() -> rx.Component:
    return rx.callout(
        'Tugas aktif Anda tidak berwenang membuka halaman ini. Gunakan "Ganti tugas" '
        "bila Anda juga punya tugas yang berwenang.",
        icon="shield-alert",
        color_scheme="orange",
        id="page-not-allowed",
    )


def loading() -> rx.Component:
    return rx.center(rx.spinner(size="3"), height="100vh")


def app_shell(title: str, content: rx.Component) -> rx.Component:
    """A protected page: nothing is rendered until the server has confirmed the login."""
    return rx.cond(
        AuthState.is_authenticated,
        rx.hstack(
            sidebar(),
            rx.vstack(
                topbar(),
                rx.box(
                    rx.heading(title, size="6", margin_bottom="16px", id="page-title"),
                    rx.cond(AuthState.page_allowed, content, not_allowed()),
                    padding="20px",
                    width="100%",
                    max_width="1200px",
                ),
                spacing="0",
                width="100%",
                min_width="0",
            ),
            spacing="0",
            width="100%",
            align="start",
        ),
        loading(),
    )
