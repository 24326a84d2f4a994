"""Pengaturan -> Cabang: the branch list, its edit form with the SATUSEHAT connection, the
connection test and the readiness panels (admin only).

The SATUSEHAT Secret Key is write-only: it arrives once in the form's submit payload, goes
straight to the service (encrypted there) and is never kept in any state var. The page only
learns whether a secret is stored (`secret_saved`).
"""

from __future__ import annotations

import logging
import math

import reflex as rx

from klinikita.db import session_scope
from klinikita.models import Branch
from klinikita.models.enums import BranchTimeZone, FacilityType, SatusehatEnvironment
from klinikita.satusehat_runtime import simulator_base
from klinikita.services import branches as branch_service
from klinikita.services.errors import NotFound, ValidationFailed
from klinikita.services.mrn import DEFAULT_FORMAT as DEFAULT_MRN_FORMAT
from klinikita.services.permissions import Action, allows
from klinikita.services.readiness import branch_readiness
from klinikita.services.satusehat_connection import ConnectionResult, check_branch_connection
from klinikita.services.text_input import parse_id, payload_form, payload_id, payload_text
from klinikita.state import toasts
from klinikita.state.auth import AuthState

log = logging.getLogger("klinikita.settings")

PAGE_SIZE = 10
SECRET_FIELD = "ss_secret"  # the form's name for the new secret; never a key of `form`
_GENERAL_FIELDS = ("name", "facility_type", "address", "phone", "timezone", "mrn_format")
_SATUSEHAT_FIELDS = (
    "ss_environment",
    "ss_organization_id",
    "ss_client_id",
    "ss_auth_url",
    "ss_fhir_url",
)
_FORM_FIELDS = frozenset(_GENERAL_FIELDS + _SATUSEHAT_FIELDS)


def _blank_form() -> dict[str, str]:
    return {
        "name": "",
        "facility_type": FacilityType.KLINIK.value,
        "address": "",
        "phone": "",
        "timezone": BranchTimeZone.WIB.value,
        "mrn_format": DEFAULT_MRN_FORMAT,
        "ss_environment": SatusehatEnvironment.SIMULATOR.value,
        "ss_organization_id": "",
        "ss_client_id": "",
        "ss_auth_url": "",
        "ss_fhir_url": "",
    }


def _form_of(branch: Branch) -> dict[str, str]:
    view = branch_service.satusehat_view(branch)
    return {
        "name": branch.name,
        "facility_type": branch.facility_type,
        "address": branch.address,
        "phone": branch.phone,
        "timezone": branch.timezone,
        "mrn_format": branch.mrn_format,
        "ss_environment": view.environment,
        "ss_organization_id": view.organization_id,
        "ss_client_id": view.client_id,
        "ss_auth_url": view.auth_url,
        "ss_fhir_url": view.fhir_url,
    }


class BranchSettingsState(AuthState):
    branches: list[dict[str, str]] = []
    page: int = 1
    page_count: int = 1
    total: int = 0
    can_edit: bool = False
    # One line per blocker of the branches on this page (branch_id, key, message, link, count).
    readiness_lines: list[dict[str, str]] = []

    editing_id: int = 0  # the branch being edited; 0 = none
    creating: bool = False  # the form adds a new branch
    form: dict[str, str] = {}
    errors: dict[str, str] = {}
    secret_saved: bool = False  # whether the edited branch has a secret; never the secret
    replacing_secret: bool = False

    conn_branch_id: str = ""  # the branch whose connection test is shown
    conn_testing: bool = False
    conn_ok: bool = False
    conn_message: str = ""

    # ----- list and readiness ---------------------------------------------------------
    def _reload(self) -> None:
        with session_scope() as session:
            rows, total = branch_service.page_of_branches(session, self.page, PAGE_SIZE)
            if not rows and self.page > 1:
                self.page = 1
                rows, total = branch_service.page_of_branches(session, 1, PAGE_SIZE)
            readiness = {b.id: branch_readiness(session, b.id) for b in rows}
        self.total = total
        self.page_count = max(1, math.ceil(total / PAGE_SIZE))
        self.branches = [
            {
                "id": str(b.id),
                "name": b.name,
                "facility": FacilityType(b.facility_type).label,
                "timezone": BranchTimeZone(b.timezone).label,
                "address": b.address,
                "phone": b.phone,
                "blockers": str(len(readiness[b.id])),
            }
            for b in rows
        ]
        self.readiness_lines = [
            {
                "branch_id": str(branch_id),
                "key": item.key,
                "message": item.message,
                "link": item.link,
                "count": str(item.count),
            }
            for branch_id, items in readiness.items()
            for item in items
        ]

    @rx.event
    def load(self):
        actor = self._current_actor()
        if actor is None:
            return
        self.can_edit = allows(actor.duty, Action.BRANCH_SETTINGS) and allows(
            actor.duty, Action.RECORD_EDIT
        )
        if not allows(actor.duty, Action.VIEW_PENGATURAN):
            return
        self._reload()
        # A readiness line links here with ?cabang=<id>: open that branch's form.
        wanted = str(self.router.url.query_parameters.get("cabang", "") or "")
        if self.can_edit and wanted.isdigit():
            return BranchSettingsState.start_edit(wanted)

    @rx.event
    def next_page(self):
        if self.page < self.page_count:
            self.page += 1
            self._reload()

    @rx.event
    def prev_page(self):
        if self.page > 1:
            self.page -= 1
            self._reload()

    # ----- the form ---------------------------------------------------------------------
    @rx.event
    def start_edit(self, branch_id: str):
        self._authorize(Action.BRANCH_SETTINGS)
        with session_scope() as session:
            wanted = parse_id(branch_id)
            branch = session.get(Branch, wanted) if wanted is not None else None
            if branch is None:
                return toasts.error("Cabang tidak ditemukan.")
            self.editing_id = branch.id
            self.form = _form_of(branch)
            self.secret_saved = bool(branch.ss_secret_encrypted)
        self.creating = False
        self.errors = {}
        self.replacing_secret = False

    @rx.event
    def start_create(self):
        self._authorize(Action.BRANCH_SETTINGS)
        self.editing_id = 0
        self.creating = True
        self.form = _blank_form()
        self.errors = {}
        self.secret_saved = False
        self.replacing_secret = False

    def _close_form(self) -> None:
        self.editing_id = 0
        self.creating = False
        self.errors = {}
        self.secret_saved = False
        self.replacing_secret = False

    @rx.event
    def cancel_edit(self):
        self._close_form()

    @rx.event
    def set_field(self, field: str, value: str):
        if not isinstance(field, str) or field not in _FORM_FIELDS:  # never the secret
            return
        self.form[field] = payload_text(value)
        self.errors.pop(field, None)

    @rx.event
    def start_replace_secret(self):
        """Show the new-secret field; the stored secret stays until a new one is saved."""
        self.replacing_secret = True

    @rx.event
    def cancel_replace_secret(self):
        self.replacing_secret = False
        self.errors.pop(SECRET_FIELD, None)

    def _inputs(
        self, form_data: dict | None
    ) -> tuple[branch_service.BranchInput, branch_service.SatusehatInput | None]:
        general = branch_service.BranchInput(
            name=self.form.get("name", ""),
            facility_type=self.form.get("facility_type", ""),
            address=self.form.get("address", ""),
            phone=self.form.get("phone", ""),
            timezone=self.form.get("timezone", ""),
            mrn_format=self.form.get("mrn_format"),
        )
        if "ss_environment" not in self.form:
            return general, None  # a form without the SATUSEHAT section leaves it as it is
        satusehat = branch_service.SatusehatInput(
            environment=self.form.get("ss_environment", ""),
            organization_id=self.form.get("ss_organization_id", ""),
            client_id=self.form.get("ss_client_id", ""),
            auth_url=self.form.get("ss_auth_url", ""),
            fhir_url=self.form.get("ss_fhir_url", ""),
            new_secret=payload_form(form_data or {}, SECRET_FIELD, max_length=1000),
        )
        return general, satusehat

    @rx.event
    def save(self, form_data: dict | None = None):
        """Save the form. `form_data` is the browser's submit payload: only the write-only
        secret is read from it (everything else is in `form`)."""
        actor = self._authorize(Action.BRANCH_SETTINGS)
        general, satusehat = self._inputs(form_data)
        try:
            with session_scope() as session:
                if self.creating:
                    branch_service.create_branch(
                        session, actor, general, satusehat or branch_service.SatusehatInput()
                    )
                else:
                    branch_service.update_branch(
                        session, actor, self.editing_id, general, satusehat
                    )
        except ValidationFailed as failed:
            self.errors = failed.errors
            return toasts.error(failed.message)
        except NotFound as missing:
            self._close_form()
            return toasts.error(missing.message)
        created = self.creating
        self._close_form()
        self.conn_branch_id, self.conn_message = "", ""  # a test of the old settings is stale
        self._reload()
        # The top bar shows the branch name (and the branch switcher) too.
        self._show(self._current_actor())
        return toasts.success("Cabang ditambahkan." if created else "Pengaturan cabang disimpan.")

    # ----- Tes koneksi ---------------------------------------------------------------------
    @rx.event(background=True)
    async def check_connection(self, branch_id: str):
        """Ask SATUSEHAT for a token with the branch's saved settings (background: the HTTP
        call runs outside the state lock)."""
        async with self:
            self._authorize(Action.BRANCH_SETTINGS)
            wanted = payload_id(branch_id, "Cabang")
            if self.conn_testing:
                return
            self.conn_branch_id = str(wanted)
            self.conn_testing = True
            self.conn_ok = False
            self.conn_message = ""
        try:
            result = await check_branch_connection(wanted, simulator_base())
        except Exception as exc:  # the spinner must stop and say why
            log.exception("Connection test for branch %s failed", wanted)
            result = ConnectionResult(False, f"Kesalahan internal: {type(exc).__name__}")
        async with self:
            self.conn_testing = False
            self.conn_ok = result.ok
            self.conn_message = result.message
