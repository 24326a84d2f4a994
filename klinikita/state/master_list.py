"""What the master-data pages share: a server-side page of rows, a form, live sync notices."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from klinikita.db import session_scope
from klinikita.services.audit import Actor
from klinikita.services.errors import StaleEdit, ValidationFailed
from klinikita.services.job_notices import JobNotice, wake_workers
from klinikita.services.permissions import Action, allows
from klinikita.services.sync_requests import resend_subject
from klinikita.services.text_input import payload_id, payload_text
from klinikita.state.auth import AuthState
from klinikita.state.paging import PagedList

# The key of `errors` under which a form shows a stale edit's refusal (its own error line).
STALE_ERROR = "stale"


class MasterListState(PagedList, AuthState, mixin=True):
    """Mixin of the Referensi and Kontak page states: each page gets its own copy of these
    vars and handlers (as a plain base class they would be one shared parent state, and a
    handler defined here would run on that parent, not on the page)."""

    rows: list[dict[str, str]] = []

    form_open: bool = False
    editing_id: int = 0  # 0: a new row
    editing_version: int = 0  # the edited row's version when the form was filled
    form: dict[str, str] = {}
    errors: dict[str, str] = {}

    can_create: bool = False
    can_edit: bool = False
    can_deactivate: bool = False
    can_resend: bool = False

    # The branch whose rows are on screen (set on load, used by live reloads).
    _list_branch_id: int = 0

    # ----- to implement ------------------------------------------------------------
    view_action: ClassVar[Action] = Action.VIEW_BERANDA
    create_action: ClassVar[Action] = Action.VIEW_BERANDA
    resend_kind: ClassVar[str] = ""  # the JobKind that "Kirim ulang" queues again
    resend_message: ClassVar[str] = "Dikirim ulang ke SATUSEHAT."
    # Mark a row active or not; returns what the toast calls it.
    _set_row_active: ClassVar = None

    def _reload(self) -> None:
        raise NotImplementedError

    def _active_message(self, name: str, active: bool) -> str:
        return f"{name} {'diaktifkan' if active else 'dinonaktifkan'}."

    # ----- handlers shared by every master list --------------------------------------
    @rx.event
    def load(self):
        if self._start(self._current_actor()):
            self._reload()

    def _save_row(self, create, update, make_input):  # noqa: ANN001
        """Create (or, when editing, update) through the services with this tab's token.

        Returns (the saved row, None), or (None, the error toast) with the field errors set
        (a stale edit's message under `STALE_ERROR`; the typed values stay)."""
        editing = self.editing_id
        actor = self._authorize(Action.RECORD_EDIT if editing else self.create_action)
        data = make_input()
        token = self._client_token()
        try:
            with session_scope() as session:
                if editing:
                    row = update(
                        session,
                        actor,
                        editing,
                        data,
                        client_token=token,
                        expected_version=self.editing_version,
                    )
                else:
                    row = create(session, actor, data, client_token=token)
        except ValidationFailed as failed:
            self.errors = failed.errors
            return None, rx.toast.error(failed.message)
        except StaleEdit as stale:
            self.errors = {STALE_ERROR: stale.message}
            return None, rx.toast.error(stale.message)
        wake_workers()
        self._close_form()
        self._reload()
        return row, None

    # ----- row actions shared by every master list -------------------------------------
    def _set_active(self, row_id: str, active: bool):
        actor = self._authorize(Action.RECORD_DELETE)
        with session_scope() as session:
            name = type(self)._set_row_active(
                session,
                actor,
                payload_id(row_id, "Data"),
                active,
                client_token=self._client_token(),
            )
        wake_workers()
        self._reload()
        return rx.toast.success(self._active_message(name, active))

    @rx.event
    def deactivate(self, row_id: str):
        return self._set_active(row_id, False)

    @rx.event
    def reactivate(self, row_id: str):
        return self._set_active(row_id, True)

    @rx.event
    def resend(self, row_id: str):
        """Kirim ulang: queue the row's SATUSEHAT job again for this tab."""
        actor = self._authorize(Action.SATUSEHAT_RESEND)
        with session_scope() as session:
            resend_subject(
                session,
                actor,
                self.resend_kind,
                payload_id(row_id, "Data"),
                client_token=self._client_token(),
            )
        wake_workers()
        self._reload()
        return rx.toast.info(self.resend_message)

    # ----- shared --------------------------------------------------------------------
    def _start(self, actor: Actor | None) -> bool:
        """Set the permission flags for `actor`; False when the page may not be shown."""
        if actor is None:
            self._list_branch_id = 0
            self.rows = []
            return False
        self.can_create = allows(actor.duty, self.create_action)
        self.can_edit = allows(actor.duty, Action.RECORD_EDIT)
        self.can_deactivate = allows(actor.duty, Action.RECORD_DELETE)
        self.can_resend = allows(actor.duty, Action.SATUSEHAT_RESEND)
        if not allows(actor.duty, self.view_action):
            self.page_allowed = False
            self._list_branch_id = 0
            self.rows = []
            return False
        self.page_allowed = True
        if self._list_branch_id != actor.branch_id:
            self.page = 1
            self.form_open = False
        self._list_branch_id = actor.branch_id
        return True

    def _on_sync_notice(self, notice: JobNotice) -> None:
        """A job of a row on this page ended: show the database's truth."""
        if self._list_branch_id and notice.branch_id == self._list_branch_id:
            self._reload()

    def _close_form(self) -> None:
        self.form_open = False
        self.editing_id = self.editing_version = 0
        self.errors = {}

    def _reload_for_viewer(self) -> None:
        """The list again, for whoever is behind this tab now: a tab whose login ended, or
        whose duty or branch changed elsewhere, gets nothing of the branch it showed."""
        if self._start(self._current_actor()):
            self._reload()

    def _load_page(self) -> None:
        self._reload_for_viewer()

    @rx.event
    def cancel_form(self):
        self._close_form()

    @rx.event
    def set_field(self, field: str, value: str):
        if not isinstance(field, str) or field not in self.form:  # the open form's fields only
            return
        self.form[field] = payload_text(value)
        self.errors.pop(field, None)
