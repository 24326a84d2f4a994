"""Pengaturan -> Pengguna: the user list and its create/edit form (admin only).

Passwords arrive only in a submitted form's data and go straight to the service; no
password, hash or token is ever kept in a state var.
"""

from __future__ import annotations

import reflex as rx

from klinikita.db import read_scope, session_scope
from klinikita.services import accounts, password_reset
from klinikita.services.errors import StaleEdit, ValidationFailed
from klinikita.services.permissions import Action, allows
from klinikita.services.text_input import parse_id, payload_form, payload_search, payload_text
from klinikita.state.auth import AuthState
from klinikita.state.master_list import STALE_ERROR
from klinikita.state.paging import PagedList

NO_EMPLOYEE = "none"
_EMPTY_FORM = {
    "username": "",
    "email": "",
    "full_name": "",
    "employee_id": NO_EMPLOYEE,
    "main_duty": "",
}
_CONFIRM_MISMATCH = "Konfirmasi kata sandi tidak sama."


def _parse_id(raw: str) -> int:
    return parse_id(raw) or 0


class UserAdminState(PagedList, AuthState):
    # False when no mail server is set: the page warns that reset mails cannot be sent.
    mail_ready: bool = True
    no_mail_warning: str = password_reset.NO_MAIL_ADMIN_WARNING
    rows: list[dict[str, str]] = []
    search: str = ""

    mode: str = ""  # "create", "edit" or "" (no form open)
    editing_id: int = 0
    editing_version: int = 0  # the edited user's version when the form was filled
    form: dict[str, str] = {}
    extra_duties: list[str] = []
    branch_ids: list[str] = []
    errors: dict[str, str] = {}
    employee_options: list[dict[str, str]] = []
    branch_choices: list[dict[str, str]] = []

    reset_user_id: int = 0
    reset_username: str = ""
    reset_errors: dict[str, str] = {}
    confirm_user_id: int = 0
    confirm_username: str = ""

    # ----- the list --------------------------------------------------------------------
    def _reload(self, actor) -> None:  # noqa: ANN001
        with read_scope() as session:
            result = accounts.list_users(
                session, actor, search=self.search, page=self.page, page_size=self.page_size
            )
        self._show_page(result)
        self.rows = [
            {
                "id": str(r.id),
                "username": r.username,
                "full_name": r.full_name,
                "email": r.email,
                "main_duty": r.main_duty,
                "extra_duties": r.extra_duties or "-",
                "branches": r.branches or "-",
                "active": "1" if r.is_active else "",
                "locked": "1" if r.is_locked else "",
            }
            for r in result.rows
        ]

    @rx.event
    def load(self):
        """on_load: the first page of users, for admins only."""
        actor = self._current_actor()
        if actor is None:
            return
        if not allows(actor.duty, Action.VIEW_PENGATURAN):
            self.page_allowed = False
            self.rows = []
            return
        self.mode, self.editing_id, self.reset_user_id, self.confirm_user_id = "", 0, 0, 0
        self.mail_ready = password_reset.mail_configured()
        self._reload(actor)

    @rx.event
    def search_users(self, value: str):
        actor = self._authorize(Action.VIEW_PENGATURAN)
        self.search = payload_search(value, max_length=100)
        self.page = 1
        self._reload(actor)

    def _load_page(self) -> None:
        self._reload(self._authorize(Action.VIEW_PENGATURAN))

    # ----- the form ----------------------------------------------------------------------
    def _load_choices(self, actor) -> None:  # noqa: ANN001
        with session_scope() as session:
            employees = accounts.employee_choices(session, actor)
            branches = accounts.branch_choices(session, actor)
        self.employee_options = [{"value": NO_EMPLOYEE, "label": "Tidak ditautkan"}] + [
            {"value": str(i), "label": label} for i, label in employees
        ]
        self.branch_choices = [{"value": str(i), "label": label} for i, label in branches]

    @rx.event
    def start_create(self):
        actor = self._authorize(Action.USER_CREATE)
        self._load_choices(actor)
        self.mode, self.editing_id, self.errors = "create", 0, {}
        self.form = dict(_EMPTY_FORM)
        self.extra_duties = []
        self.branch_ids = [str(actor.branch_id)]

    @rx.event
    def start_edit(self, user_id: str):
        actor = self._authorize(Action.RECORD_EDIT)
        with session_scope() as session:
            data = accounts.user_form(session, actor, _parse_id(user_id))
        self._load_choices(actor)
        known = {o["value"] for o in self.employee_options}
        employee = str(data.employee_id) if data.employee_id else NO_EMPLOYEE
        if employee not in known:  # linked to someone outside the admin's branches
            self.employee_options.append({"value": employee, "label": "(karyawan cabang lain)"})
        self.mode, self.editing_id, self.errors = "edit", _parse_id(user_id), {}
        self.editing_version = data.version
        self.form = {
            "username": data.username,
            "email": data.email,
            "full_name": data.full_name,
            "employee_id": employee,
            "main_duty": data.main_duty,
        }
        self.extra_duties = list(data.extra_duties)
        self.branch_ids = [str(b) for b in data.branch_ids]

    @rx.event
    def cancel(self):
        self.mode, self.editing_id, self.errors = "", 0, {}

    @rx.event
    def set_field(self, field: str, value: str):
        if not isinstance(field, str) or field not in _EMPTY_FORM:
            return
        self.form[field] = payload_text(value)
        self.errors.pop(field, None)

    @rx.event
    def toggle_extra_duty(self, duty: str, checked: bool):
        duty = payload_text(duty, max_length=32)
        self.extra_duties = [d for d in self.extra_duties if d != duty] + (
            [duty] if checked else []
        )
        self.errors.pop("extra_duties", None)

    @rx.event
    def toggle_branch(self, branch_id: str, checked: bool):
        branch_id = payload_text(branch_id, max_length=20)
        kept = [b for b in self.branch_ids if b != branch_id]
        self.branch_ids = kept + ([branch_id] if checked else [])
        self.errors.pop("branch_ids", None)

    def _input(self, password: str) -> accounts.UserInput:
        employee = self.form.get("employee_id", NO_EMPLOYEE)
        return accounts.UserInput(
            username=self.form.get("username", ""),
            full_name=self.form.get("full_name", ""),
            password=password,
            main_duty=self.form.get("main_duty", ""),
            branch_ids=[i for i in (_parse_id(b) for b in self.branch_ids) if i],
            email=self.form.get("email", ""),
            extra_duties=list(self.extra_duties),
            employee_id=None if employee == NO_EMPLOYEE else _parse_id(employee) or -1,
        )

    @rx.event
    def save(self, form_data: dict):
        """Create (with the password from the submitted form) or save the edit."""
        creating = self.mode == "create"
        actor = self._authorize(Action.USER_CREATE if creating else Action.RECORD_EDIT)
        if self.mode not in ("create", "edit"):
            return
        password = payload_form(form_data, "password", max_length=1000) if creating else ""
        if creating and password != payload_form(form_data, "password_confirm", max_length=1000):
            self.errors = {"password_confirm": _CONFIRM_MISMATCH}
            return rx.toast.error("Periksa kembali isian yang ditandai.")
        try:
            with session_scope() as session:
                if creating:
                    user = accounts.create_user(session, self._input(password), actor=actor)
                else:
                    user = accounts.update_user(
                        session,
                        actor,
                        self.editing_id,
                        self._input(""),
                        expected_version=self.editing_version,
                    )
                username = user.username
        except ValidationFailed as failed:
            self.errors = failed.errors
            return rx.toast.error(failed.message)
        except StaleEdit as stale:
            self.errors = {STALE_ERROR: stale.message}
            return rx.toast.error(stale.message)
        self.mode, self.editing_id, self.errors = "", 0, {}
        self._reload(actor)
        # The top bar shows the admin's own duties and branches, which may have changed.
        self._show(self._current_actor())
        verb = "ditambahkan" if creating else "disimpan"
        return rx.toast.success(f"Pengguna {username} {verb}.")

    # ----- status ----------------------------------------------------------------------
    @rx.event
    def ask_deactivate(self, user_id: str, username: str):
        self._authorize(Action.RECORD_DELETE)
        self.confirm_user_id = _parse_id(user_id)
        self.confirm_username = payload_text(username, max_length=64)

    @rx.event
    def close_confirm(self):
        self.confirm_user_id, self.confirm_username = 0, ""

    @rx.event
    def deactivate(self, user_id: str):
        actor = self._authorize(Action.RECORD_DELETE)
        with session_scope() as session:
            username = accounts.deactivate_user(session, actor, _parse_id(user_id)).username
        self.confirm_user_id, self.confirm_username = 0, ""
        self._reload(actor)
        return rx.toast.success(f"Pengguna {username} dinonaktifkan; sesi loginnya diakhiri.")

    @rx.event
    def reactivate(self, user_id: str):
        actor = self._authorize(Action.RECORD_EDIT)
        with session_scope() as session:
            username = accounts.reactivate_user(session, actor, _parse_id(user_id)).username
        self._reload(actor)
        return rx.toast.success(f"Pengguna {username} diaktifkan kembali.")

    @rx.event
    def unlock(self, user_id: str):
        actor = self._authorize(Action.RECORD_EDIT)
        with session_scope() as session:
            username = accounts.unlock_user(session, actor, _parse_id(user_id)).username
        self._reload(actor)
        return rx.toast.success(f"Kunci akun {username} dibuka.")

    # ----- password reset by the admin ---------------------------------------------------
    @rx.event
    def open_reset(self, user_id: str, username: str):
        self._authorize(Action.RECORD_EDIT)
        self.reset_user_id, self.reset_username, self.reset_errors = (
            _parse_id(user_id),
            payload_text(username, max_length=64),
            {},
        )

    @rx.event
    def close_reset(self):
        self.reset_user_id, self.reset_username, self.reset_errors = 0, "", {}

    @rx.event
    def reset_open_changed(self, is_open: bool):
        if not is_open:
            self.reset_user_id, self.reset_username, self.reset_errors = 0, "", {}

    @rx.event
    def save_reset(self, form_data: dict):
        actor = self._authorize(Action.RECORD_EDIT)
        password = payload_form(form_data, "password", max_length=1000)
        if password != payload_form(form_data, "password_confirm", max_length=1000):
            self.reset_errors = {"password_confirm": _CONFIRM_MISMATCH}
            return
        try:
            with session_scope() as session:
                username = accounts.reset_password_by_admin(
                    session, actor, self.reset_user_id, password
                ).username
        except ValidationFailed as failed:
            self.reset_errors = failed.errors
            return
        self.reset_user_id, self.reset_username, self.reset_errors = 0, "", {}
        self._reload(actor)
        return rx.toast.success(
            f"Kata sandi {username} diganti; sesi loginnya diakhiri. Sampaikan kata sandi baru "
            "secara langsung."
        )
