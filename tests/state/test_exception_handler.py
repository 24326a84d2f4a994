"""The app's handler for what an event raised: refusals and races become messages."""

from __future__ import annotations

from sqlalchemy.orm.exc import StaleDataError

from klinikita.klinikita import CHANGED_MEANWHILE, handle_backend_exception
from klinikita.services.errors import ValidationFailed


def _says(events, text: str) -> bool:
    return any(text in str(event) for event in events)


def test_a_refusal_is_shown_as_its_message():
    assert _says(handle_backend_exception(ValidationFailed({"x": "Isi x."})), "Periksa")


def test_a_write_that_raced_a_save_of_the_same_record_asks_to_reload():
    events = handle_backend_exception(StaleDataError("0 rows matched"))
    assert _says(events, CHANGED_MEANWHILE)
    assert not _says(events, "Terjadi kesalahan di server")
