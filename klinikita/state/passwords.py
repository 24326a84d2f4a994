"""Passwords: changing one's own, asking for a reset link, and setting a new one through it.

Passwords arrive only in submitted form data and go straight to the services. The reset
token stays in the page's address (the browser's own link) and is read from there on
every call; it is never copied into a state var.
"""

from __future__ import annotations

import reflex as rx

from klinikita.db import session_scope
from klinikita.integrations import mail
from klinikita.services import accounts, password_reset
from klinikita.services.errors import ValidationFailed
from klinikita.services.passwords import PASSWORD_FIELD_MAX
from klinikita.services.text_input import payload_form
from klinikita.state.auth import AuthState, SessionExpired, client_address

_CONFIRM_MISMATCH = "Konfirmasi kata sandi baru tidak sama."


class ChangePasswordState(AuthState):
    errors: dict[str, str] = {}
    # Bumped after a change so the form is drawn afresh (empty fields).
    form_key: int = 0

    @rx.event
    def open(self):
        self.errors = {}

    @rx.event
    def submit(self, form_data: dict):
        """Ganti kata sandi: needs the current one; the user's other logins end."""
        actor = self._current_actor()
        if actor is None:
            raise SessionExpired()
        current = payload_form(form_data, "current_password", max_length=PASSWORD_FIELD_MAX)
        new = payload_form(form_data, "new_password", max_length=PASSWORD_FIELD_MAX)
        if new != payload_form(form_data, "new_password_confirm", max_length=PASSWORD_FIELD_MAX):
            self.errors = {"new_password_confirm": _CONFIRM_MISMATCH}
            return
        try:
            with session_scope() as session:
                try:
                    ended = accounts.change_own_password(session, actor, current, new)
                except accounts.WrongCurrentPassword as wrong:
                    # Committed with its audit row (leaving the block normally).
                    self.errors = wrong.errors
                    return
        except ValidationFailed as failed:
            self.errors = failed.errors
            return
        self.errors = {}
        self.form_key += 1
        others = f" {ended} sesi login lain diakhiri." if ended else ""
        return rx.toast.success(f"Kata sandi diganti.{others}")


class ForgotPasswordState(rx.State):
    sent: bool = False
    message: str = ""
    error: str = ""
    # False when no mail server is configured: the page says to contact the admin instead.
    mail_ready: bool = True
    no_mail_message: str = password_reset.NO_MAIL_REPLY

    @rx.event
    def open(self):
        self.sent, self.message, self.error = False, "", ""
        self.mail_ready = password_reset.mail_configured()

    @rx.event
    def submit(self, form_data: dict):
        """Ask for a reset link. The reply is the same whether or not the account exists."""
        identifier = payload_form(form_data, "identifier", max_length=254).strip()
        self.mail_ready = password_reset.mail_configured()
        if not self.mail_ready:
            self.error, self.sent = "", False
            return
        if not identifier:
            self.error = "Isi nama pengguna atau email."
            return
        with session_scope() as session:
            outgoing = password_reset.request_reset(
                session, identifier, client_address=client_address(self)
            )
        # Committed: now hand the mail to the background sender. Its failure is logged
        # there; the reply below never depends on it.
        if outgoing is not None:
            mail.send_later(outgoing, "password reset link")
        self.error = ""
        self.sent = True
        self.message = password_reset.REQUEST_REPLY


class ResetPasswordState(rx.State):
    checked: bool = False
    link_ok: bool = False
    done: bool = False
    errors: dict[str, str] = {}

    def _token(self) -> str:
        return str(self.router.url.query_parameters.get("token", ""))

    @rx.event
    def load(self):
        """on_load: show the form only for a link that still works."""
        with session_scope() as session:
            self.link_ok = password_reset.link_is_valid(session, self._token())
        self.checked, self.done, self.errors = True, False, {}

    @rx.event
    def submit(self, form_data: dict):
        new = payload_form(form_data, "new_password", max_length=PASSWORD_FIELD_MAX)
        if new != payload_form(form_data, "new_password_confirm", max_length=PASSWORD_FIELD_MAX):
            self.errors = {"new_password_confirm": _CONFIRM_MISMATCH}
            return
        try:
            with session_scope() as session:
                password_reset.reset_with_link(session, self._token(), new)
        except password_reset.InvalidResetLink as invalid:
            self.link_ok = False
            return rx.toast.error(invalid.message)
        except ValidationFailed as failed:
            self.errors = failed.errors
            return
        self.errors, self.done = {}, True
        return rx.toast.success("Kata sandi baru disimpan. Silakan masuk.")
