"""Kontak -> Karyawan: employees of the active branch; practitioners' IHS numbers live."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from klinikita.db import read_scope, session_scope
from klinikita.models import Employee
from klinikita.models.enums import Duty, Sex
from klinikita.models.satusehat import JobKind
from klinikita.services import employees as employee_service
from klinikita.services import satusehat_errors
from klinikita.services.dates import typed_date
from klinikita.services.permissions import Action
from klinikita.services.text_input import parse_id, payload_id, payload_search, payload_text
from klinikita.state import live
from klinikita.state.auth import AuthState
from klinikita.state.master_list import MasterListState

FORM_FIELDS = (
    "name",
    "nik",
    "sex",
    "birth_date",
    "phone",
    "email",
    "main_duty",
    "branch_id",
    "sip_number",
)
_SEXES = {s.value for s in Sex}
_DUTIES = {d.value for d in Duty}


def _row(e: Employee) -> dict[str, str]:
    return {
        "id": str(e.id),
        "name": e.name,
        "nik": e.nik or "",
        "sex": Sex(e.sex).label if e.sex in _SEXES else "",
        "duty": Duty(e.main_duty).label if e.main_duty in _DUTIES else e.main_duty,
        "phone": e.phone,
        "email": e.email,
        "active": "1" if e.is_active else "0",
        "practitioner": "1" if employee_service.is_practitioner(e.main_duty) else "0",
        "status": e.sync_status,
        **satusehat_errors.row_hint(e.sync_error),
        "ihs_number": e.ihs_number or "",
    }


def _employee_active(session, actor, employee_id: int, active: bool, *, client_token: str) -> str:  # noqa: ANN001, ARG001
    return employee_service.set_employee_active(session, actor, employee_id, active).name


class EmployeeState(MasterListState, AuthState):
    view_action: ClassVar[Action] = Action.VIEW_KONTAK
    create_action: ClassVar[Action] = Action.EMPLOYEE_CREATE
    resend_kind: ClassVar[str] = JobKind.PRACTITIONER_LOOKUP
    resend_message: ClassVar[str] = "Nomor IHS dicari ulang di SATUSEHAT."
    _set_row_active: ClassVar = staticmethod(_employee_active)

    search: str = ""
    nik_warning: str = ""
    nik_required: bool = False

    def _reload(self) -> None:
        with read_scope() as session:
            got = employee_service.list_employees(
                session,
                self._list_branch_id,
                search=self.search,
                page=self.page,
                page_size=self.page_size,
            )
            self.rows = [_row(e) for e in got.rows]
        self._show_page(got)

    def _input(self) -> employee_service.EmployeeInput:
        f = self.form
        branch = f.get("branch_id", "")
        return employee_service.EmployeeInput(
            name=f.get("name", ""),
            nik=f.get("nik", ""),
            sex=f.get("sex", ""),
            birth_date=f.get("birth_date", ""),
            phone=f.get("phone", ""),
            email=f.get("email", ""),
            main_duty=f.get("main_duty", ""),
            branch_id=parse_id(branch),
            sip_number=f.get("sip_number", ""),
        )

    def _refresh_hints(self) -> None:
        data = self._input()
        self.nik_warning = employee_service.warning_for(data) or ""
        self.nik_required = employee_service.is_practitioner(data.main_duty)

    @rx.event(supersedes=True)
    def set_search(self, value: str):
        self.search = payload_search(value)
        self.page = 1
        self._reload_for_viewer()

    @rx.event
    def set_field(self, field: str, value: str):
        if field not in FORM_FIELDS:
            return
        self.form[field] = payload_text(value)
        self.errors.pop(field, None)
        self._refresh_hints()

    @rx.event
    def start_create(self):
        actor = self._authorize(Action.EMPLOYEE_CREATE)
        self.form_open, self.editing_id, self.errors = True, 0, {}
        self.form = {k: "" for k in FORM_FIELDS}
        self.form["branch_id"] = str(actor.branch_id)
        self._refresh_hints()

    @rx.event
    def start_edit(self, employee_id: str):
        actor = self._authorize(Action.RECORD_EDIT)
        with session_scope() as session:
            e = employee_service.get_employee(session, actor, payload_id(employee_id, "Karyawan"))
            self.form = {
                "name": e.name,
                "nik": e.nik or "",
                "sex": e.sex or "",
                "birth_date": typed_date(e.birth_date),
                "phone": e.phone,
                "email": e.email,
                "main_duty": e.main_duty,
                "branch_id": str(e.branch_id),
                "sip_number": e.sip_number,
            }
            self.editing_id, self.editing_version = e.id, e.version
        self.form_open, self.errors = True, {}
        self._refresh_hints()

    @rx.event
    def save(self):
        employee, error = self._save_row(
            employee_service.create_employee, employee_service.update_employee, self._input
        )
        if error is not None:
            return error
        if employee_service.is_practitioner(employee.main_duty):
            return rx.toast.success("Karyawan disimpan; nomor IHS dicari di SATUSEHAT.")
        return rx.toast.success("Karyawan disimpan.")


live.register("employee", EmployeeState)
