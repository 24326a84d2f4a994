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


def sync_badge(
    status: rx.Var, error: rx.Var | None = None, element_id: str | rx.Var = ""
) -> rx.Component:
    """A badge for `status` (a SyncStatus value); `error` is shown under it when set."""
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
    return rx.vstack(
        *parts,
        spacing="1",
        align="start",
        id=element_id,
        class_name="sync-badge",
        data_status=status,
    )
