"""Pengaturan -> Cabang: the branch list, its edit form with the SATUSEHAT connection, the
connection test and the readiness panels (admin only).

The SATUSEHAT Secret Key is write-only: it arrives once in the form's submit payload, goes
straight to the service (encrypted there) and is never kept in any state var. The page only
learns whether a secret is stored (`secret_saved`).
"""

from __future__ import annotations

import logging
from typing import ClassVar

import reflex as rx

from klinikita.db import read_scope, session_scope
from klinikita.models import Branch
from klinikita.models.enums import BranchTimeZone, FacilityType, SatusehatEnvironment
from klinikita.services import branches as branch_service
from klinikita.services import letterhead
from klinikita.services.audit import Actor
from klinikita.services.coordinates import as_text
from klinikita.services.errors import NotFound, ServiceError, StaleEdit, ValidationFailed
from klinikita.services.mrn import DEFAULT_FORMAT as DEFAULT_MRN_FORMAT
from klinikita.services.permissions import Action, allows
from klinikita.services.readiness import branches_page
from klinikita.services.satusehat_connection import ConnectionResult, check_connection_for_admin
from klinikita.services.text_input import parse_id, payload_form, payload_id, payload_text
from klinikita.simulator_address import simulator_base
from klinikita.state.auth import AuthState
from klinikita.state.master_list import STALE_ERROR
from klinikita.state.paging import PagedList

log = logging.getLogger("klinikita.settings")

SECRET_FIELD = "ss_secret"  # the form's name for the new secret; never a key of `form`
_GENERAL_FIELDS = (
    "name",
    "facility_type",
    "address",
    "phone",
    "timezone",
    "mrn_format",
    "license_number",
)
_POSITION_FIELDS = ("latitude", "longitude")
_SATUSEHAT_FIELDS = (
    "ss_environment",
    "ss_organization_id",
    "ss_client_id",
    "ss_auth_url",
    "ss_fhir_url",
)
_FORM_FIELDS = frozenset(_GENERAL_FIELDS + _POSITION_FIELDS + _SATUSEHAT_FIELDS)
_DESTINATION_FIELDS = frozenset({"ss_environment", "ss_auth_url", "ss_fhir_url"})


def _blank_form() -> dict[str, str]:
    return {
        "name": "",
        "facility_type": FacilityType.KLINIK.value,
        "address": "",
        "phone": "",
        "timezone": BranchTimeZone.WIB.value,
        "mrn_format": DEFAULT_MRN_FORMAT,
        "license_number": "",
        "latitude": "",
        "longitude": "",
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
        "license_number": branch.license_number,
        "latitude": as_text(branch.latitude),
        "longitude": as_text(branch.longitude),
        "ss_environment": view.environment,
        "ss_organization_id": view.organization_id,
        "ss_client_id": view.client_id,
        "ss_auth_url": view.auth_url,
        "ss_fhir_url": view.fhir_url,
    }


class BranchSettingsState(PagedList, AuthState):
    page_size: ClassVar[int] = 10

    branches: list[dict[str, str]] = []
    can_edit: bool = False
    # One line per blocker of the branches on this page (branch_id, key, message, link, count).
    readiness_lines: list[dict[str, str]] = []

    editing_id: int = 0  # the branch being edited; 0 = none
    editing_version: int = 0  # its version when the form was filled
    creating: bool = False  # the form adds a new branch
    form: dict[str, str] = {}
    errors: dict[str, str] = {}
    secret_saved: bool = False  # whether the edited branch has a secret; never the secret
    replacing_secret: bool = False
    # The form names another environment or other URLs than the saved ones: the stored
    # secret will not follow them, a new one must be typed (the page says so).
    destination_changed: bool = False
    _saved_destination: str = ""

    # The edited branch's letterhead logo (a data URI, "" when none), for the form only.
    logo_preview: str = ""

    conn_branch_id: str = ""  # the branch whose connection test is shown
    conn_testing: bool = False
    conn_ok: bool = False
    conn_message: str = ""
    conn_detail: str = ""  # SATUSEHAT's own words, under "Detail"

    # ----- list and readiness ---------------------------------------------------------
    def _reload(self, actor: Actor) -> None:
        """The page of branches granted to `actor`, with their readiness."""
        with read_scope() as session:  # the rows are read before the session ends
            got = branches_page(session, actor, self.page, self.page_size)
            self._show_page(got)
            self.branches = [
                {
                    "id": str(row.branch.id),
                    "name": row.branch.name,
                    "facility": FacilityType(row.branch.facility_type).label,
                    "timezone": BranchTimeZone(row.branch.timezone).label,
                    "address": row.branch.address,
                    "phone": row.branch.phone,
                    "blockers": str(len(row.blockers)),
                    "key_refused": "1" if any(i.key == "key_refused" for i in row.blockers) else "",
                }
                for row in got.rows
            ]
            self.readiness_lines = [
                {
                    "branch_id": str(row.branch.id),
                    "key": item.key,
                    "message": item.message,
                    "link": item.link,
                    "count": str(item.count),
                }
                for row in got.rows
                for item in row.blockers
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
        self._reload(actor)
        # A readiness line links here with ?cabang=<id>: open that branch's form.
        wanted = str(self.router.url.query_parameters.get("cabang", "") or "")
        if self.can_edit and wanted.isdigit():
            return BranchSettingsState.start_edit(wanted)

    def _load_page(self) -> None:
        self._reload(self._authorize(Action.VIEW_PENGATURAN))

    # ----- the form ---------------------------------------------------------------------
    @rx.event
    def start_edit(self, branch_id: str):
        """Open the form of a branch granted to this admin."""
        actor = self._authorize(Action.BRANCH_SETTINGS)
        wanted = parse_id(branch_id)
        if wanted is None:
            return rx.toast.error("Cabang tidak ditemukan.")
        try:
            with session_scope() as session:
                branch = branch_service.managed_branch(session, actor, wanted)
                self.editing_id, self.editing_version = branch.id, branch.version
                self.form = _form_of(branch)
                view = branch_service.satusehat_view(branch)
                self.logo_preview = letterhead.logo_data_uri(session, branch.id)
        except NotFound as missing:
            return rx.toast.error(missing.message)
        self.secret_saved = view.secret_saved
        self._saved_destination = view.destination
        self.creating = False
        self.errors = {}
        self.replacing_secret = False
        self.destination_changed = False

    @rx.event
    def start_create(self):
        self._authorize(Action.BRANCH_SETTINGS)
        self.editing_id = 0
        self.creating = True
        self.form = _blank_form()
        self.errors = {}
        self.secret_saved = False
        self.replacing_secret = False
        self.destination_changed = False
        self._saved_destination = ""

    def _close_form(self) -> None:
        self.logo_preview = ""
        self.editing_id = 0
        self.creating = False
        self.errors = {}
        self.secret_saved = False
        self.replacing_secret = False
        self.destination_changed = False
        self._saved_destination = ""

    @rx.event
    def cancel_edit(self):
        self._close_form()

    @rx.event
    def set_field(self, field: str, value: str):
        if not isinstance(field, str) or field not in _FORM_FIELDS:  # never the secret
            return
        self.form[field] = payload_text(value)
        self.errors.pop(field, None)
        if field in _DESTINATION_FIELDS and self.editing_id:
            _, shown = self._inputs(None)
            moved = branch_service.input_destination(shown) != self._saved_destination
            self.destination_changed = moved

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
            latitude=self.form.get("latitude"),
            longitude=self.form.get("longitude"),
            license_number=self.form.get("license_number"),
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
                        session,
                        actor,
                        self.editing_id,
                        general,
                        satusehat,
                        expected_version=self.editing_version,
                    )
        except ValidationFailed as failed:
            self.errors = failed.errors
            return rx.toast.error(failed.message)
        except StaleEdit as stale:
            self.errors = {STALE_ERROR: stale.message}
            return rx.toast.error(stale.message)
        except NotFound as missing:
            self._close_form()
            return rx.toast.error(missing.message)
        created = self.creating
        self._close_form()
        # A test of the old settings is stale.
        self.conn_branch_id, self.conn_message, self.conn_detail = "", "", ""
        self._reload(actor)
        # The top bar shows the branch name (and the branch switcher) too.
        self._show(self._current_actor())
        return rx.toast.success("Cabang ditambahkan." if created else "Pengaturan cabang disimpan.")

    # ----- the letterhead logo ------------------------------------------------------------
    @rx.event
    async def upload_logo(self, files: list[rx.UploadFile]):
        """Store the chosen PNG/JPEG (at most 512 KB) as the edited branch's logo."""
        actor = self._authorize(Action.BRANCH_SETTINGS)
        if not self.editing_id:
            return rx.toast.error("Simpan cabangnya dulu, lalu unggah logo.")
        if not files:
            return rx.toast.error("Pilih berkas logo (PNG atau JPEG) dulu.")
        # One byte more than allowed is enough to refuse a larger file.
        data = await files[0].read(letterhead.LOGO_MAX_BYTES + 1)
        try:
            with session_scope() as session:
                letterhead.save_logo(session, actor, self.editing_id, data)
                self.logo_preview = letterhead.logo_data_uri(session, self.editing_id)
        except ValidationFailed as failed:
            self.errors = self.errors | failed.errors
            return rx.toast.error(failed.message)
        self.errors.pop("logo", None)
        return rx.toast.success("Logo cabang disimpan.")

    @rx.event
    def remove_logo(self):
        actor = self._authorize(Action.BRANCH_SETTINGS)
        if not self.editing_id:
            return None
        with session_scope() as session:
            letterhead.remove_logo(session, actor, self.editing_id)
        self.logo_preview = ""
        return rx.toast.success("Logo cabang dihapus.")

    # ----- Tes koneksi ---------------------------------------------------------------------
    @rx.event(background=True)
    async def check_connection(self, branch_id: str):
        """Ask SATUSEHAT for a token with the branch's saved settings (background: the HTTP
        call runs outside the state lock). Refused while the open form of that branch shows
        other server addresses than the saved ones."""
        async with self:
            actor = self._authorize(Action.BRANCH_SETTINGS)
            wanted = payload_id(branch_id, "Cabang")
            if self.conn_testing:
                return
            shown = None
            if self.editing_id == wanted and not self.creating:
                _, shown = self._inputs(None)
            self.conn_branch_id = str(wanted)
            self.conn_testing = True
            self.conn_ok = False
            self.conn_message, self.conn_detail = "", ""
        try:
            result = await check_connection_for_admin(actor, wanted, simulator_base(), shown=shown)
        except ValidationFailed as failed:
            async with self:
                self.errors = self.errors | failed.errors
                self.conn_testing = False
                self.conn_message = "Tes koneksi tidak dijalankan: lihat isian Secret Key."
            return rx.toast.error(failed.message)
        except ServiceError as refused:
            result = ConnectionResult(False, refused.message)
        except Exception as exc:  # the spinner must stop and say why
            log.exception("Connection test for branch %s failed", wanted)
            result = ConnectionResult(False, f"Kesalahan internal: {type(exc).__name__}")
        async with self:
            self.conn_testing = False
            self.conn_ok = result.ok
            self.conn_message, self.conn_detail = result.message, result.detail
