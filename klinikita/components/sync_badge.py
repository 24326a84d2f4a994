"""The SATUSEHAT status badge shown next to an IHS id, and its message."""

import reflex as rx

from klinikita.models.enums import SyncStatus

SYNC_LABELS = {
    SyncStatus.NOT_SENT: ("belum dikirim", "gray"),
    SyncStatus.SENDING: ("mengirim", "blue"),
    SyncStatus.SENT: ("terkirim", "green"),
    SyncStatus.NOT_FOUND: ("tidak ditemukan", "orange"),
    SyncStatus.FAILED: ("gagal", "red"),
}


def error_detail(detail: rx.Var | str, element_id: str | rx.Var = "") -> rx.Component:
    """SATUSEHAT's own text, folded under "Detail" (shown only when there is one)."""
    return rx.cond(
        detail != "",
        rx.el.details(
            rx.el.summary("Detail", style={"cursor": "pointer"}),
            rx.text(detail, size="1", color=rx.color("gray", 11), white_space="pre-wrap"),
            id=element_id,
            class_name="sync-detail",
        ),
    )


def fix_link(
    link: rx.Var | str, label: rx.Var | str, element_id: str | rx.Var = ""
) -> rx.Component:
    """'Perbaiki di <place>' when the message names somewhere to go."""
    return rx.cond(
        link != "",
        rx.link("Perbaiki di ", label, href=link, size="2", id=element_id, class_name="sync-fix"),
    )


def sync_badge(
    status: rx.Var,
    error: rx.Var | None = None,
    element_id: str | rx.Var = "",
    detail: rx.Var | None = None,
) -> rx.Component:
    """A badge for `status` (a SyncStatus value); `error` is shown under it when set, and
    `detail` (SATUSEHAT's own text) folded under "Detail"."""
    badge = rx.match(
        status,
        *[
            (
                value.value,
                rx.badge(
                    rx.cond(value == SyncStatus.SENDING, rx.spinner(size="1"), rx.fragment()),
                    label,
                    color_scheme=color,
                    size="2",
                ),
            )
            for value, (label, color) in SYNC_LABELS.items()
        ],
        rx.badge(status, size="2"),
    )
    parts = [badge]
    if error is not None:
        parts.append(rx.cond(error, rx.text(error, size="1", color=rx.color("red", 11))))
    if detail is not None:
        parts.append(error_detail(detail))
    return rx.vstack(
        *parts,
        spacing="1",
        align="start",
        id=element_id,
        class_name="sync-badge",
        data_status=status,
    )
