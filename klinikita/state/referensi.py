"""Referensi: service units and rooms of the active branch, with their SATUSEHAT ids live."""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import quote

import reflex as rx

from klinikita import routes
from klinikita.db import read_scope
from klinikita.models import Room, ServiceUnit
from klinikita.models.satusehat import JobKind
from klinikita.services import facility, satusehat_errors
from klinikita.services.coordinates import as_text
from klinikita.services.permissions import Action
from klinikita.services.text_input import parse_id
from klinikita.state import live
from klinikita.state.auth import AuthState
from klinikita.state.master_list import MasterListState


def _sync_fields(row: ServiceUnit | Room) -> dict[str, str]:
    return {
        "id": str(row.id),
        "name": row.name,
        "active": "1" if row.is_active else "0",
        "status": row.sync_status,
        **satusehat_errors.row_hint(row.sync_error),
        "ihs_id": row.ihs_id or "",
        "version": str(row.version),
    }


def _unit_active(session, actor, unit_id: int, active: bool, *, client_token: str) -> str:  # noqa: ANN001
    return facility.set_unit_active(session, actor, unit_id, active, client_token=client_token).name


def _room_active(session, actor, room_id: int, active: bool, *, client_token: str) -> str:  # noqa: ANN001
    return facility.set_room_active(session, actor, room_id, active, client_token=client_token).name


class UnitState(MasterListState, AuthState):
    view_action: ClassVar[Action] = Action.VIEW_REFERENSI
    create_action: ClassVar[Action] = Action.UNIT_CREATE
    resend_kind: ClassVar[str] = JobKind.ORGANIZATION_CREATE
    _set_row_active: ClassVar = staticmethod(_unit_active)

    def _active_message(self, name: str, active: bool) -> str:
        return f"Unit '{name}' {'diaktifkan' if active else 'dinonaktifkan'}."

    def _reload(self) -> None:
        with read_scope() as session:
            got = facility.list_units(session, self._list_branch_id, self.page, self.page_size)
            self.rows = [_sync_fields(u) for u in got.rows]
        self._show_page(got)

    @rx.event
    def open_referensi(self):
        """/referensi: straight to the first tab (the login page when logged out)."""
        if self._current_actor() is None:
            return rx.redirect(f"{routes.LOGIN}?next={quote(routes.REFERENSI_UNIT)}")
        return rx.redirect(routes.REFERENSI_UNIT)

    @rx.event
    def start_create(self):
        self._authorize(Action.UNIT_CREATE)
        self.form_open, self.editing_id, self.errors = True, 0, {}
        self.form = {"name": ""}

    @rx.event
    def start_edit(self, unit_id: str):
        self._authorize(Action.RECORD_EDIT)
        row = next((r for r in self.rows if r["id"] == unit_id), None)
        if row is None:
            return rx.toast.error("Unit layanan tidak ditemukan.")
        self.form_open, self.editing_id, self.errors = True, int(unit_id), {}
        self.editing_version = int(row["version"])
        self.form = {"name": row["name"]}

    @rx.event
    def save(self):
        _, error = self._save_row(
            facility.create_unit,
            facility.update_unit,
            lambda: facility.UnitInput(name=self.form.get("name", "")),
        )
        return error or rx.toast.success("Unit layanan disimpan; dikirim ke SATUSEHAT.")


class RoomState(MasterListState, AuthState):
    view_action: ClassVar[Action] = Action.VIEW_REFERENSI
    create_action: ClassVar[Action] = Action.ROOM_CREATE
    resend_kind: ClassVar[str] = JobKind.LOCATION_CREATE
    _set_row_active: ClassVar = staticmethod(_room_active)

    def _active_message(self, name: str, active: bool) -> str:
        return f"Ruangan '{name}' {'diaktifkan' if active else 'dinonaktifkan'}."

    unit_options: list[dict[str, str]] = []

    def _reload(self) -> None:
        with read_scope() as session:
            got = facility.list_rooms(session, self._list_branch_id, self.page, self.page_size)
            rows = []
            for room, unit in got.rows:
                row = _sync_fields(room)
                row["unit_id"] = str(room.unit_id or "")
                row["unit"] = unit.name if unit is not None else "-"
                row["latitude"], row["longitude"] = as_text(room.latitude), as_text(room.longitude)
                rows.append(row)
            self.rows = rows
            self.unit_options = [
                {"value": str(u.id), "label": u.name}
                for u in facility.active_units(session, self._list_branch_id)
            ]
        self._show_page(got)

    @rx.event
    def start_create(self):
        self._authorize(Action.ROOM_CREATE)
        self.form_open, self.editing_id, self.errors = True, 0, {}
        first = self.unit_options[0]["value"] if len(self.unit_options) == 1 else ""
        self.form = {"name": "", "unit_id": first, "latitude": "", "longitude": ""}

    @rx.event
    def start_edit(self, room_id: str):
        self._authorize(Action.RECORD_EDIT)
        row = next((r for r in self.rows if r["id"] == room_id), None)
        if row is None:
            return rx.toast.error("Ruangan tidak ditemukan.")
        self.form_open, self.editing_id, self.errors = True, int(room_id), {}
        self.editing_version = int(row["version"])
        self.form = {
            "name": row["name"],
            "unit_id": row["unit_id"],
            "latitude": row["latitude"],
            "longitude": row["longitude"],
        }

    def _room_input(self) -> facility.RoomInput:
        unit_text = self.form.get("unit_id", "")
        return facility.RoomInput(
            name=self.form.get("name", ""),
            unit_id=parse_id(unit_text),
            latitude=self.form.get("latitude", ""),
            longitude=self.form.get("longitude", ""),
        )

    @rx.event
    def save(self):
        _, error = self._save_row(facility.create_room, facility.update_room, self._room_input)
        return error or rx.toast.success("Ruangan disimpan; dikirim ke SATUSEHAT.")


live.register("service_unit", UnitState)
live.register("room", RoomState)
