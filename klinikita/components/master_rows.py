"""Pieces of the master-data tables: active flag, SATUSEHAT column, row buttons."""

from __future__ import annotations

import reflex as rx

from klinikita.components.sync_badge import sync_badge
from klinikita.models.enums import SyncStatus


def active_badge(row: rx.Var) -> rx.Component:
    return rx.cond(
        row["active"] == "1",
        rx.badge("aktif", color_scheme="green", variant="soft", size="2"),
        rx.badge("nonaktif", color_scheme="gray", variant="soft", size="2"),
    )


def satusehat_cell(row: rx.Var, prefix: str, id_key: str) -> rx.Component:
    """The badge (with SATUSEHAT's own message when it failed) and the id it gave."""
    return rx.vstack(
        sync_badge(
            row["status"],
            rx.cond(row["status"] == SyncStatus.FAILED.value, row["error"], ""),
            element_id=f"{prefix}-sync-" + row["id"],
            detail=rx.cond(row["status"] == SyncStatus.FAILED.value, row["error_detail"], ""),
        ),
        rx.cond(
            row[id_key] != "",
            rx.code(row[id_key], size="2", id=f"{prefix}-ihs-" + row["id"]),
        ),
        spacing="1",
        align="start",
    )


def resend_button(row: rx.Var, prefix: str, on_click, allowed: rx.Var) -> rx.Component:  # noqa: ANN001
    """'Kirim ulang' for a failed (or not found) row, 'Kirim' for one never sent."""
    status = row["status"]
    return rx.cond(
        allowed & (row["active"] == "1"),
        rx.match(
            status,
            (
                SyncStatus.FAILED.value,
                _button("Kirim ulang", "refresh-cw", on_click, f"{prefix}-resend-", row),
            ),
            (
                SyncStatus.NOT_FOUND.value,
                _button("Kirim ulang", "refresh-cw", on_click, f"{prefix}-resend-", row),
            ),
            (
                SyncStatus.NOT_SENT.value,
                _button("Kirim", "send", on_click, f"{prefix}-resend-", row),
            ),
            rx.fragment(),
        ),
    )


def _button(label: str, icon: str, on_click, id_prefix: str, row: rx.Var) -> rx.Component:  # noqa: ANN001
    return rx.button(
        rx.icon(icon, size=16),
        label,
        on_click=on_click(row["id"]),
        size="3",
        variant="soft",
        color_scheme="orange",
        id=id_prefix + row["id"],
    )


def row_actions(
    row: rx.Var,
    prefix: str,
    *,
    can_edit: rx.Var,
    can_deactivate: rx.Var,
    can_resend: rx.Var,
    on_edit,  # noqa: ANN001
    on_deactivate,  # noqa: ANN001
    on_reactivate,  # noqa: ANN001
    on_resend,  # noqa: ANN001
) -> rx.Component:
    return rx.flex(
        resend_button(row, prefix, on_resend, can_resend),
        rx.cond(
            can_edit & (row["active"] == "1"),
            rx.button(
                rx.icon("pencil", size=16),
                "Ubah",
                on_click=on_edit(row["id"]),
                size="3",
                variant="soft",
                id=f"{prefix}-edit-" + row["id"],
            ),
        ),
        rx.cond(
            can_deactivate,
            rx.cond(
                row["active"] == "1",
                rx.button(
                    "Nonaktifkan",
                    on_click=on_deactivate(row["id"]),
                    size="3",
                    variant="soft",
                    color_scheme="red",
                    id=f"{prefix}-deactivate-" + row["id"],
                ),
                rx.button(
                    "Aktifkan",
                    on_click=on_reactivate(row["id"]),
                    size="3",
                    variant="soft",
                    color_scheme="green",
                    id=f"{prefix}-reactivate-" + row["id"],
                ),
            ),
        ),
        direction="column",
        spacing="2",
        align="stretch",
        min_width="max-content",
    )


def header(*labels: str) -> rx.Component:
    return rx.table.header(rx.table.row(*[rx.table.column_header_cell(x) for x in labels]))


def scrolling_table(*children: rx.Component, element_id: str) -> rx.Component:
    return rx.box(
        rx.table.root(*children, width="100%", variant="surface", size="2"),
        width="100%",
        overflow_x="auto",
        id=element_id,
    )


def form_buttons(on_save, on_cancel, prefix: str) -> rx.Component:  # noqa: ANN001
    return rx.hstack(
        rx.button("Simpan", on_click=on_save, size="3", id=f"{prefix}-save"),
        rx.button(
            "Batal",
            on_click=on_cancel,
            size="3",
            variant="soft",
            color_scheme="gray",
            id=f"{prefix}-cancel",
        ),
        spacing="3",
    )


def read_only_note(visible: rx.Var, text: str) -> rx.Component:
    return rx.cond(
        visible,
        rx.callout(text, icon="eye", color_scheme="gray", size="1", id="read-only-note"),
    )
