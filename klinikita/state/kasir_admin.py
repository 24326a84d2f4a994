"""Kasir -> Tarif (the branch's prices and insurers) and Kasir -> Shift (open, close, the
close report)."""

from __future__ import annotations

from dataclasses import asdict

import reflex as rx

from klinikita.db import read_scope, session_scope
from klinikita.models.billing import PaymentMethod, TariffKind
from klinikita.services import icd9cm, shifts, tariffs
from klinikita.services.audit import Actor
from klinikita.services.errors import ValidationFailed
from klinikita.services.permissions import Action, allows
from klinikita.services.text_input import payload_id, payload_text
from klinikita.services.visit_queue import local_today
from klinikita.state.auth import AuthState

TARIFF_FIELDS = (
    "kind",
    "name",
    "amount",
    "valid_from",
    "unit_id",
    "doctor_id",
    "code",
    "payer",
    "insurer_id",
    "covered",
)
ANY = "semua"  # the select's value for "no unit / doctor / insurer": "" is not allowed
CODE_RESULTS = 8


def _options(pairs: list[tuple[str, str]], any_label: str) -> list[dict[str, str]]:
    return [{"value": ANY, "label": any_label}] + [{"value": v, "label": n} for v, n in pairs]


def _empty_tariff() -> dict[str, str]:
    return {
        "kind": TariffKind.CONSULTATION.value,
        "name": "",
        "amount": "",
        "valid_from": local_today(None).strftime("%d/%m/%Y"),
        "unit_id": ANY,
        "doctor_id": ANY,
        "code": "",
        "payer": ANY,
        "insurer_id": ANY,
        "covered": "1",
    }


class TariffState(AuthState):
    rows: list[dict[str, str]] = []
    show_ended: bool = False
    can_edit: bool = False
    form: dict[str, str] = _empty_tariff()
    errors: dict[str, str] = {}
    unit_options: list[dict[str, str]] = []
    doctor_options: list[dict[str, str]] = []
    insurer_options: list[dict[str, str]] = []
    insurers: list[dict[str, str]] = []
    insurer_form: dict[str, str] = {"name": "", "percent": "100"}
    # ICD-9-CM codes offered for a procedure tariff's code field (code, display).
    code_results: list[dict[str, str]] = []

    def _viewer(self) -> Actor | None:
        actor = self._current_actor()
        if actor is None or not allows(actor.duty, Action.VIEW_KASIR):
            self.rows, self.insurers = [], []
            self.page_allowed = actor is None
            return None
        self.page_allowed = True
        return actor

    def _reload(self, actor: Actor) -> None:
        with read_scope() as session:
            rows = tariffs.list_tariffs(session, actor.branch_id, include_ended=self.show_ended)
            options = tariffs.form_options(session, actor.branch_id)
            insurers = [
                {"id": str(i.id), "name": i.name, "percent": f"{i.coverage_percent}%"}
                for i in tariffs.list_insurers(session, actor.branch_id)
            ]
        self.rows = [
            {k: "" if v is None else str(v) for k, v in asdict(r).items()}
            | {
                "valid_from": r.valid_from.strftime("%d/%m/%Y"),
                "ended_on": r.ended_on.strftime("%d/%m/%Y") if r.ended_on else "",
                "covered": "ya" if r.covered else "tidak",
            }
            for r in rows
        ]
        self.unit_options = _options(options.units, "Semua unit")
        self.doctor_options = _options(options.doctors, "Semua dokter")
        self.insurer_options = _options(options.insurers, "Semua asuransi")
        self.insurers = insurers

    @rx.event
    def load(self):
        actor = self._viewer()
        if actor is None:
            return
        self.can_edit = allows(actor.duty, Action.TARIFF_EDIT)
        self.form, self.errors = _empty_tariff(), {}
        self._reload(actor)

    @rx.event
    def set_show_ended(self, value: bool):
        self._authorize(Action.VIEW_KASIR)
        self.show_ended = value is True
        actor = self._viewer()
        if actor is not None:
            self._reload(actor)

    @rx.event
    def set_field(self, field: str, value: str):
        if field in TARIFF_FIELDS:
            self.form[field] = payload_text(value, max_length=300)
            self.errors.pop(field, None)

    @rx.event
    def search_code(self, query: str):
        """Debounced in the page: the code field of a procedure tariff, typed as a code or
        words; ICD-9-CM codes matching it are offered (services/icd9cm, in memory)."""
        text = payload_text(query, max_length=300)
        self.form["code"] = text
        self.errors.pop("code", None)
        if self.form.get("kind") != TariffKind.PROCEDURE or len(text.strip()) < 2:
            self.code_results = []
            return
        self.code_results = [
            {"code": t.code, "display": t.name} for t in icd9cm.search(text, CODE_RESULTS)
        ]

    @rx.event
    def pick_code(self, code: str):
        """An offered code fills the field (and the name, when it is still empty)."""
        chosen = next((r for r in self.code_results if r["code"] == str(code)), None)
        if chosen is None:
            return
        self.form["code"] = chosen["code"]
        if not self.form.get("name", "").strip():
            self.form["name"] = chosen["display"]
        self.errors.pop("code", None)
        self.code_results = []

    @rx.event
    def save(self):
        actor = self._authorize(Action.TARIFF_EDIT)
        form = {k: ("" if v == ANY else v) for k, v in self.form.items()}
        data = tariffs.TariffInput(
            kind=form.get("kind", ""),
            name=form.get("name", ""),
            amount=form.get("amount", ""),
            valid_from=form.get("valid_from", ""),
            unit_id=form.get("unit_id", ""),
            doctor_id=form.get("doctor_id", ""),
            code=form.get("code", ""),
            payer=form.get("payer", ""),
            insurer_id=form.get("insurer_id", ""),
            covered=form.get("covered", "") == "1",
        )
        try:
            with session_scope() as session:
                tariffs.add_tariff(session, actor, data)
        except ValidationFailed as failed:
            self.errors = failed.errors
            return rx.toast.error(failed.message)
        self.form, self.errors, self.code_results = _empty_tariff(), {}, []
        self._reload(actor)
        return rx.toast.success("Tarif disimpan.")

    @rx.event
    def end_tariff(self, tariff_id: str):
        """The price stops from today (bills already made keep it)."""
        actor = self._authorize(Action.TARIFF_EDIT)
        with session_scope() as session:
            tariffs.end_tariff(session, actor, payload_id(tariff_id, "Tarif"))
        self._reload(actor)
        return rx.toast.success("Tarif diakhiri mulai hari ini.")

    @rx.event
    def set_insurer_field(self, field: str, value: str):
        if field in ("name", "percent"):
            self.insurer_form[field] = payload_text(value, max_length=200)

    @rx.event
    def add_insurer(self):
        actor = self._authorize(Action.TARIFF_EDIT)
        try:
            with session_scope() as session:
                tariffs.add_insurer(
                    session,
                    actor,
                    self.insurer_form.get("name", ""),
                    self.insurer_form.get("percent", ""),
                )
        except ValidationFailed as failed:
            self.errors = failed.errors
            return rx.toast.error(failed.message)
        self.insurer_form = {"name": "", "percent": "100"}
        self._reload(actor)
        return rx.toast.success("Asuransi ditambahkan.")


def _empty_counts() -> dict[str, str]:
    return {m.value: "" for m in PaymentMethod}


class ShiftState(AuthState):
    can_work: bool = False
    open_id: int = 0  # the user's open shift
    opening_cash: str = ""
    counts: dict[str, str] = _empty_counts()
    close_note: str = ""
    errors: dict[str, str] = {}
    shifts: list[dict[str, str]] = []
    report: dict[str, str] = {}
    report_rows: list[dict[str, str]] = []

    def _viewer(self) -> Actor | None:
        actor = self._current_actor()
        if actor is None or not allows(actor.duty, Action.VIEW_KASIR):
            self.shifts, self.report, self.report_rows = [], {}, []
            self.page_allowed = actor is None
            return None
        self.page_allowed = True
        return actor

    def _reload(self, actor: Actor) -> None:
        with read_scope() as session:
            mine = shifts.open_shift_of(session, actor)
            recent = shifts.recent_shifts(session, actor)
            self.open_id = mine.id if mine else 0
        self.shifts = recent

    def _show_report(self, actor: Actor, shift_id: int) -> None:
        with read_scope() as session:
            report = shifts.shift_report(session, actor, shift_id)
        data = asdict(report)
        self.report_rows = [
            {k: str(v) if not isinstance(v, bool) else ("1" if v else "") for k, v in r.items()}
            for r in data.pop("rows")
        ]
        self.report = {k: str(v) for k, v in data.items()}

    @rx.event
    def load(self):
        actor = self._viewer()
        if actor is None:
            return
        self.can_work = allows(actor.duty, Action.PAYMENT_RECORD)
        self.errors, self.counts, self.close_note = {}, _empty_counts(), ""
        self.report, self.report_rows = {}, []
        self._reload(actor)
        if self.open_id:
            self._show_report(actor, self.open_id)

    @rx.event
    def set_opening_cash(self, value: str):
        self.opening_cash = payload_text(value, max_length=40)

    @rx.event
    def set_count(self, method: str, value: str):
        if method in self.counts:
            self.counts[method] = payload_text(value, max_length=40)

    @rx.event
    def set_close_note(self, value: str):
        self.close_note = payload_text(value, max_length=300)

    @rx.event
    def open_shift(self):
        actor = self._authorize(Action.PAYMENT_RECORD)
        try:
            with session_scope() as session:
                shift_id = shifts.open_shift(session, actor, self.opening_cash).id
        except ValidationFailed as failed:
            self.errors = failed.errors
            return rx.toast.error(failed.message)
        self.opening_cash, self.errors = "", {}
        self._reload(actor)
        self._show_report(actor, shift_id)
        return rx.toast.success("Shift dibuka.")

    @rx.event
    def close_shift(self):
        actor = self._authorize(Action.PAYMENT_RECORD)
        try:
            with session_scope() as session:
                shift_id = shifts.close_shift(session, actor, dict(self.counts), self.close_note).id
        except ValidationFailed as failed:
            self.errors = failed.errors
            return rx.toast.error(failed.message)
        self.counts, self.close_note, self.errors = _empty_counts(), "", {}
        self._reload(actor)
        self._show_report(actor, shift_id)
        return rx.toast.success("Shift ditutup.")

    @rx.event
    def show_report(self, shift_id: str):
        actor = self._authorize(Action.VIEW_KASIR)
        self._show_report(actor, payload_id(shift_id, "Shift"))
