"""Apotek -> Obat & BHP: the branch's drug master, its KFA mapping and CSV import."""

from __future__ import annotations

import reflex as rx

from klinikita.db import read_scope, session_scope
from klinikita.models.pharmacy import DrugItem, ItemCategory
from klinikita.services import drug_master, kfa_lookup
from klinikita.services.errors import ServiceError, StaleEdit, ValidationFailed
from klinikita.services.permissions import Action, allows
from klinikita.services.text_input import InputRefused, payload_id, payload_search, payload_text
from klinikita.simulator_address import simulator_base
from klinikita.state.auth import AuthState
from klinikita.state.paging import PagedList

FORM_FIELDS = (
    "name",
    "category",
    "form",
    "strength",
    "unit",
    "kfa_code",
    "kfa_display",
    "price",
    "min_stock",
)
STALE_ERROR = "stale"
UPLOAD_ID = "drug-csv"  # the page's file picker


def _rupiah(value: int) -> str:
    return "Rp " + f"{value:,}".replace(",", ".")


def _row(item: DrugItem) -> dict[str, str]:
    return {
        "id": str(item.id),
        "name": item.name,
        "category": ItemCategory(item.category).label,
        "form": item.form_name,
        "strength": item.strength,
        "unit": item.unit,
        "price": _rupiah(item.price),
        "min_stock": str(item.min_stock),
        "kfa_code": item.kfa_code or "",
        "kfa_display": item.kfa_display,
        "unmapped": "1" if drug_master.needs_kfa(item) else "0",
        "active": "1" if item.active else "0",
        "version": str(item.version),
    }


def _kfa_row(item) -> dict[str, str]:  # noqa: ANN001 (a KfaItem)
    return {
        "code": item.kfa_code,
        "name": item.name,
        "form": f"{item.form_name} ({item.form_code})" if item.form_code else "-",
        "manufacturer": item.manufacturer or "-",
        "brand": item.brand or "-",
        "ingredients": "; ".join(
            f"{i.name} {i.strength}" + (f" [{i.kfa_code}]" if i.kfa_code else "")
            for i in item.ingredients
        )
        or "-",
    }


class DrugState(PagedList, AuthState):
    rows: list[dict[str, str]] = []
    search: str = ""
    unmapped_only: bool = False
    can_edit: bool = False
    _list_branch_id: int = 0

    form_open: bool = False
    editing_id: int = 0
    editing_version: int = 0
    form: dict[str, str] = {}
    errors: dict[str, str] = {}

    # Petakan ke KFA: for a listed item (kfa_item_id) or for the open form (0).
    kfa_open: bool = False
    kfa_item_id: int = 0
    kfa_item_version: int = 0
    kfa_item_name: str = ""
    kfa_keyword: str = ""
    kfa_results: list[dict[str, str]] = []
    kfa_total: int = 0
    kfa_chosen: dict[str, str] = {}
    kfa_message: str = ""

    # The last CSV import's report.
    import_summary: str = ""
    import_failed: list[dict[str, str]] = []
    import_unmapped: list[dict[str, str]] = []

    # ----- the list ----------------------------------------------------------------
    def _start(self) -> bool:
        actor = self._current_actor()
        if actor is None or not allows(actor.duty, Action.VIEW_APOTEK):
            self.page_allowed = actor is None
            self.rows, self._list_branch_id = [], 0
            return False
        self.page_allowed = True
        self.can_edit = allows(actor.duty, Action.DRUG_MASTER_EDIT)
        if self._list_branch_id != actor.branch_id:
            self.page, self.form_open, self.kfa_open = 1, False, False
        self._list_branch_id = actor.branch_id
        return True

    def _reload(self) -> None:
        with read_scope() as session:
            got = drug_master.list_items(
                session,
                self._list_branch_id,
                search=self.search,
                unmapped_only=self.unmapped_only,
                page=self.page,
                page_size=self.page_size,
            )
            self.rows = [_row(i) for i in got.rows]
        self._show_page(got)

    def _load_page(self) -> None:
        self._authorize(Action.VIEW_APOTEK)
        if self._start():
            self._reload()

    @rx.event
    def load(self):
        if self._start():
            self._reload()

    @rx.event(supersedes=True)
    def set_search(self, value: str):
        self._authorize(Action.VIEW_APOTEK)
        self.search = payload_search(value)
        self.page = 1
        self._load_page()

    @rx.event
    def set_unmapped_only(self, value: bool):
        self._authorize(Action.VIEW_APOTEK)
        self.unmapped_only = value is True
        self.page = 1
        self._load_page()

    # ----- the form ----------------------------------------------------------------
    @rx.event
    def start_create(self):
        self._authorize(Action.DRUG_MASTER_EDIT)
        self.form = {k: "" for k in FORM_FIELDS} | {
            "category": ItemCategory.OBAT.value,
            "price": "0",
            "min_stock": "0",
        }
        self.form_open, self.editing_id, self.editing_version, self.errors = True, 0, 0, {}

    @rx.event
    def start_edit(self, item_id: str):
        actor = self._authorize(Action.DRUG_MASTER_EDIT)
        with read_scope() as session:
            item = drug_master.get_item(session, actor, payload_id(item_id, "Obat/BHP"))
            self.form = {
                "name": item.name,
                "category": item.category,
                "form": item.form_name,
                "strength": item.strength,
                "unit": item.unit,
                "kfa_code": item.kfa_code or "",
                "kfa_display": item.kfa_display,
                "price": str(item.price),
                "min_stock": str(item.min_stock),
            }
            self.editing_id, self.editing_version = item.id, item.version
        self.form_open, self.errors = True, {}

    @rx.event
    def cancel_form(self):
        self.form_open, self.editing_id, self.editing_version, self.errors = False, 0, 0, {}

    @rx.event
    def set_field(self, field: str, value: str):
        if field not in FORM_FIELDS or field not in self.form or field == "kfa_display":
            return
        self.form[field] = payload_text(value, max_length=400)
        if field == "kfa_code":
            self.form["kfa_display"] = ""  # a typed code names no product until mapped
        self.errors.pop(field, None)

    @rx.event
    def save(self):
        actor = self._authorize(Action.DRUG_MASTER_EDIT)
        data = drug_master.DrugInput(**{k: self.form.get(k, "") for k in FORM_FIELDS})
        try:
            with session_scope() as session:
                if self.editing_id:
                    drug_master.update_item(
                        session,
                        actor,
                        self.editing_id,
                        data,
                        expected_version=self.editing_version,
                    )
                else:
                    drug_master.create_item(session, actor, data)
        except ValidationFailed as failed:
            self.errors = failed.errors
            return rx.toast.error(failed.message)
        except StaleEdit as stale:
            self.errors = {STALE_ERROR: stale.message}
            return rx.toast.error(stale.message)
        self.cancel_form()
        self._load_page()
        return rx.toast.success("Obat/BHP disimpan.")

    def _set_active(self, item_id: str, active: bool):
        actor = self._authorize(Action.DRUG_MASTER_EDIT)
        with session_scope() as session:
            item = drug_master.set_item_active(
                session, actor, payload_id(item_id, "Obat/BHP"), active
            )
            name = item.name
        self._load_page()
        return rx.toast.success(f"{name} {'diaktifkan' if active else 'dinonaktifkan'}.")

    @rx.event
    def deactivate(self, item_id: str):
        return self._set_active(item_id, False)

    @rx.event
    def reactivate(self, item_id: str):
        return self._set_active(item_id, True)

    # ----- Petakan ke KFA ------------------------------------------------------------
    def _open_kfa(self, item_id: int, version: int, name: str) -> None:
        self.kfa_open, self.kfa_item_id, self.kfa_item_version = True, item_id, version
        self.kfa_item_name = name
        self.kfa_keyword = " ".join(name.split()[:2])
        self.kfa_results, self.kfa_total, self.kfa_chosen, self.kfa_message = [], 0, {}, ""

    @rx.event
    async def open_kfa(self, item_id: str):
        """The dialog for a listed item, searched at once by the first words of its name."""
        actor = self._authorize(Action.DRUG_MASTER_EDIT)
        with read_scope() as session:
            item = drug_master.get_item(session, actor, payload_id(item_id, "Obat/BHP"))
            self._open_kfa(item.id, item.version, item.name)
        await self._search_kfa(actor)

    @rx.event
    async def open_kfa_for_form(self):
        """The dialog for the open form: the chosen product goes into the form."""
        actor = self._authorize(Action.DRUG_MASTER_EDIT)
        self._open_kfa(0, 0, self.form.get("name", ""))
        if len(self.kfa_keyword) >= 3:
            await self._search_kfa(actor)

    @rx.event
    def set_kfa_keyword(self, value: str):
        self.kfa_keyword = payload_search(value)

    async def _search_kfa(self, actor) -> None:  # noqa: ANN001
        self.kfa_chosen = {}
        try:
            found = await kfa_lookup.search_kfa(actor, self.kfa_keyword, simulator_base())
        except InputRefused:
            raise
        except ServiceError as refused:
            self.kfa_results, self.kfa_total, self.kfa_message = [], 0, refused.message
            return
        self.kfa_results = [_kfa_row(i) for i in found.items]
        self.kfa_total = found.total
        self.kfa_message = "" if found.items else "Tidak ada produk KFA dengan nama itu."

    @rx.event
    async def search_kfa(self):
        await self._search_kfa(self._authorize(Action.DRUG_MASTER_EDIT))

    @rx.event
    async def pick_kfa(self, code: str):
        """Show the product's detail as the KFA gives it, before it is chosen."""
        actor = self._authorize(Action.DRUG_MASTER_EDIT)
        try:
            item = await kfa_lookup.kfa_detail(
                actor, payload_text(code, max_length=16), simulator_base()
            )
        except InputRefused:
            raise
        except ServiceError as refused:
            self.kfa_message = refused.message
            return
        self.kfa_chosen = _kfa_row(item)

    @rx.event
    def choose_kfa(self):
        actor = self._authorize(Action.DRUG_MASTER_EDIT)
        if not self.kfa_chosen:
            return rx.toast.error("Pilih produk KFA dulu.")
        code, name = self.kfa_chosen.get("code", ""), self.kfa_chosen.get("name", "")
        if not self.kfa_item_id:
            if self.form_open:
                self.form["kfa_code"], self.form["kfa_display"] = code, name
                self.errors.pop("kfa_code", None)
            self.kfa_open = False
            return None
        try:
            with session_scope() as session:
                drug_master.map_kfa(
                    session,
                    actor,
                    self.kfa_item_id,
                    code,
                    name,
                    expected_version=self.kfa_item_version,
                )
        except (ValidationFailed, StaleEdit) as refused:
            self.kfa_message = refused.message
            return rx.toast.error(refused.message)
        self.kfa_open = False
        self._load_page()
        return rx.toast.success(f"{self.kfa_item_name} dipetakan ke KFA {code}.")

    @rx.event
    def close_kfa(self):
        self.kfa_open, self.kfa_chosen, self.kfa_results = False, {}, []

    # ----- CSV import ----------------------------------------------------------------
    @rx.event
    async def handle_upload(self, files: list[rx.UploadFile]):
        actor = self._authorize(Action.DRUG_MASTER_EDIT)
        if not files:
            return rx.toast.error("Pilih berkas CSV dulu.")
        content = await files[0].read()
        try:
            with session_scope() as session:
                report = drug_master.import_csv(session, actor, content)
        except ValidationFailed as failed:
            self.import_summary, self.import_failed, self.import_unmapped = "", [], []
            return rx.toast.error(failed.message)
        self.import_summary = report.summary
        self.import_failed = [
            {"line": str(n.line), "name": n.name, "reason": n.reason} for n in report.failed
        ]
        self.import_unmapped = [
            {"line": str(n.line), "name": n.name, "reason": n.reason} for n in report.unmapped
        ]
        self.page = 1
        self._load_page()
        # The file is done with: picking it again is a new import, not this one repeated.
        return [rx.clear_selected_files(UPLOAD_ID), rx.toast.success(report.summary)]

    @rx.event
    def close_import(self):
        self.import_summary, self.import_failed, self.import_unmapped = "", [], []
