"""Pengaturan -> Cabang: the branch list and its edit form (admin only)."""

from __future__ import annotations

import reflex as rx

from klinikita.db import session_scope
from klinikita.models.enums import BranchTimeZone, FacilityType
from klinikita.services import branches as branch_service
from klinikita.services.errors import ValidationFailed
from klinikita.services.permissions import Action
from klinikita.state.auth import AuthState


class BranchSettingsState(AuthState):
    branches: list[dict[str, str]] = []
    editing_id: int = 0
    form: dict[str, str] = {}
    errors: dict[str, str] = {}

    @rx.event
    def load(self):
        actor = self._current_actor()
        if actor is None:
            return
        with session_scope() as session:
            rows = branch_service.list_branches(session)
        self.branches = [
            {
                "id": str(b.id),
                "name": b.name,
                "facility": FacilityType(b.facility_type).label,
                "timezone": BranchTimeZone(b.timezone).label,
                "address": b.address,
                "phone": b.phone,
            }
            for b in rows
        ]

    @rx.event
    def start_edit(self, branch_id: str):
        self._authorize(Action.BRANCH_SETTINGS)
        with session_scope() as session:
            branch = next(
                (b for b in branch_service.list_branches(session) if b.id == int(branch_id)),
                None,
            )
        if branch is None:
            return rx.toast.error("Cabang tidak ditemukan.")
        self.editing_id = branch.id
        self.errors = {}
        self.form = {
            "name": branch.name,
            "facility_type": branch.facility_type,
            "address": branch.address,
            "phone": branch.phone,
            "timezone": branch.timezone,
            "mrn_format": branch.mrn_format,
        }

    @rx.event
    def cancel_edit(self):
        self.editing_id = 0
        self.errors = {}

    @rx.event
    def set_field(self, field: str, value: str):
        self.form[field] = value
        self.errors.pop(field, None)

    @rx.event
    def save(self):
        actor = self._authorize(Action.BRANCH_SETTINGS)
        data = branch_service.BranchInput(
            name=self.form.get("name", ""),
            facility_type=self.form.get("facility_type", ""),
            address=self.form.get("address", ""),
            phone=self.form.get("phone", ""),
            timezone=self.form.get("timezone", ""),
            mrn_format=self.form.get("mrn_format"),
        )
        try:
            with session_scope() as session:
                branch_service.update_branch(session, actor, self.editing_id, data)
        except ValidationFailed as failed:
            self.errors = failed.errors
            return rx.toast.error(failed.message)
        self.editing_id = 0
        self.errors = {}
        # The top bar shows the branch name too.
        self._show(self._current_actor())
        return [BranchSettingsState.load, rx.toast.success("Pengaturan cabang disimpan.")]
