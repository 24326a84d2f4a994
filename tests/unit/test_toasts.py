"""The toasts handlers return are the events `rx.toast` would send, built without Vars."""

import pytest
import reflex as rx
from reflex_base.event import Event

from klinikita.state import toasts

MESSAGES = [
    "Tanda vital disimpan.",
    'Pasien "Budi" </script> terdaftar di Poli Umum, nomor antrean 12.',
    "Ny. Siti Ma'rifah — Poli Gigi\nbaris kedua \\ garis miring",
    "Ibu Ṣāliḥah 😀 {braces} ${template}",
]


@pytest.mark.parametrize("level", ["success", "error", "info", "warning"])
@pytest.mark.parametrize("message", MESSAGES)
def test_a_toast_is_the_event_rx_toast_sends(level: str, message: str) -> None:
    made = getattr(toasts, level)(message)
    (expected,) = Event.from_event_type(getattr(rx.toast, level)(message))
    assert made == expected


def test_each_level_calls_its_own_toast() -> None:
    assert '["error"]' in toasts.error("x").payload["function"]
    assert '["success"]' in toasts.success("x").payload["function"]
