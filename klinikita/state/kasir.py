"""Kasir: the visits waiting for payment today (live), the open bill, its lines, discount
and split payment; the nota print page."""

from __future__ import annotations

import asyncio
from dataclasses import asdict

import reflex as rx

from klinikita.db import read_scope, session_scope
from klinikita.models.billing import PaymentMethod
from klinikita.services import billing, nota_print, payments, print_render, tariffs
from klinikita.services.audit import Actor
from klinikita.services.errors import ServiceError, ValidationFailed
from klinikita.services.money import in_words
from klinikita.services.permissions import Action, allows
from klinikita.services.text_input import parse_id, payload_id, payload_search, payload_text
from klinikita.state import live
from klinikita.state.auth import AuthState

LINE_FIELDS = ("description", "unit_price", "quantity", "reason", "item_id", "item_name")
PAY_FIELDS = ("method", "amount", "cash_received", "reference")
MAX_PARTS = 5
MAX_FOLLOWED = 10  # the latest changes of an open bill shown above its lines
METHOD_OPTIONS = [{"value": m.value, "label": m.label} for m in PaymentMethod]


def _strings(values: dict) -> dict[str, str]:
    return {k: "" if v is None else str(v) for k, v in values.items()}


def _empty_line() -> dict[str, str]:
    return {k: "" for k in LINE_FIELDS} | {"quantity": "1"}


def _part(method: str = "tunai", amount: str = "") -> dict[str, str]:
    return {"method": method, "amount": amount, "cash_received": "", "reference": ""}


class KasirState(AuthState):
    rows: list[dict[str, str]] = []
    paid_rows: list[dict[str, str]] = []
    search: str = ""
    can_pay: bool = False
    can_discount: bool = False
    can_void: bool = False

    bill_id: int = 0
    bill: dict[str, str] = {}
    lines: list[dict[str, str]] = []
    paid_parts: list[dict[str, str]] = []
    notes: list[str] = []
    insurer_options: list[dict[str, str]] = []

    line_form: dict[str, str] = _empty_line()
    item_results: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    discount_form: dict[str, str] = {"kind": "percent", "value": "", "reason": ""}
    parts: list[dict[str, str]] = [_part()]
    change_text: str = ""
    pay_errors: list[str] = []
    # What changed on the open bill while it was shown, because its visit changed elsewhere
    # (the pharmacy handed drugs over or took them back), newest last.
    followed: list[str] = []
    # The total changed under parts the cashier had split or typed: they ask for a look.
    pay_review: str = ""

    remove_line_id: int = 0
    remove_reason: str = ""
    void_open: bool = False
    void_reason: str = ""
    sale_name: str = ""

    # ----- the list -------------------------------------------------------------------------
    def _viewer(self) -> Actor | None:
        actor = self._current_actor()
        if actor is None or not allows(actor.duty, Action.VIEW_KASIR):
            self.rows, self.paid_rows = [], []
            return None
        return actor

    def _reload_list(self, actor: Actor) -> None:
        with read_scope() as session:
            rows = billing.waiting_list(session, actor, self.search)
            paid = billing.paid_today(session, actor)
        views = [_strings(asdict(r)) for r in rows]
        if views != self.rows:
            self.rows = views
        if paid != self.paid_rows:
            self.paid_rows = paid
        live.watch(live.branch_topic(actor.branch_id), self._client_token(), KasirState)

    @rx.event
    def load(self):
        actor = self._viewer()
        self.page_allowed = actor is not None or self._current_actor() is None
        if actor is None:
            return
        self.can_pay = allows(actor.duty, Action.PAYMENT_RECORD)
        self.can_discount = allows(actor.duty, Action.BILL_DISCOUNT)
        self.can_void = allows(actor.duty, Action.BILL_VOID)
        self._clear_bill()
        self._reload_list(actor)

    def _on_board_change(self, topic: str, changed: live.Changed) -> None:
        """A doctor completed a visit or the pharmacy handed drugs over (or took them back):
        the list follows, and so does an open bill whose visit changed: it is brought up to
        date and says what changed. A paid or void bill is only shown again as it is."""
        del topic
        actor = self._viewer()
        if actor is None:
            return
        self._reload_list(actor)
        visit_id = int(self.bill.get("visit_id") or 0)
        if not visit_id or (changed and visit_id not in changed):
            return
        try:
            if self.bill.get("open") == "1" and allows(actor.duty, Action.PAYMENT_RECORD):
                self._follow_open_bill(actor)
            else:  # shown as it is now (voided elsewhere, say), never changed here
                self._show(actor, self.bill_id)
        except ServiceError:  # the bill is gone from this tab's branch meanwhile
            self._clear_bill()

    def _follow_open_bill(self, actor: Actor, *, show: bool = False) -> None:
        """Bring the open visit bill up to date with what happened and show it when it
        changed (or with `show`); what changed is added to `followed`. When the patient's
        total moved, a single payment part still holding the old total takes the new one;
        parts the cashier split or typed are kept and marked for review."""
        before = int(self.bill.get("patient_total") or 0)
        with session_scope() as session:
            followed = billing.follow_visit_bill(session, actor, self.bill_id)
        if followed.changes:
            self.followed = (self.followed + followed.changes)[-MAX_FOLLOWED:]
        elif not show:
            return
        self._show(actor, self.bill_id, followed.notes)
        after = int(self.bill.get("patient_total") or 0)
        if after == before:
            return
        part = self.parts[0]
        if len(self.parts) == 1 and part["amount"].strip() in ("", str(before)):
            self.parts = [{**part, "amount": str(after)}]
            self.pay_review = ""
        else:
            self.pay_review = (
                f"Total tagihan berubah dari {billing.rupiah(before)} menjadi "
                f"{billing.rupiah(after)}: periksa lagi pembagian pembayaran."
            )

    @rx.event(supersedes=True)
    def set_search(self, value: str):
        self._authorize(Action.VIEW_KASIR)
        self.search = payload_search(value)
        actor = self._viewer()
        if actor is not None:
            self._reload_list(actor)

    # ----- the bill -------------------------------------------------------------------------
    def _clear_bill(self) -> None:
        self.bill_id, self.bill, self.lines, self.paid_parts, self.notes = 0, {}, [], [], []
        self.errors, self.item_results, self.change_text, self.pay_errors = {}, [], "", []
        self.line_form = _empty_line()
        self.discount_form = {"kind": "percent", "value": "", "reason": ""}
        self.remove_line_id, self.remove_reason = 0, ""
        self.void_open, self.void_reason = False, ""
        self.followed, self.pay_review = [], ""

    def _show(self, actor: Actor, bill_id: int, notes: list[str] | None = None) -> None:
        with read_scope() as session:
            view = billing.bill_view(session, actor, bill_id, notes)
            if view.payer == "asuransi" and not self.insurer_options:
                self.insurer_options = [
                    {"value": str(i.id), "label": i.name}
                    for i in tariffs.list_insurers(session, actor.branch_id)
                ]
        self.bill_id = view.id
        data = asdict(view)
        self.lines = [_strings(li) for li in data.pop("lines")]
        self.paid_parts = [_strings(p) for p in data.pop("payments")]
        self.notes = data.pop("notes")
        self.bill = _strings(data) | {
            "open": "1" if view.status == "open" else "",
            "words": in_words(view.patient_total),
            "insurer_id": str(view.insurer_id or ""),
        }
        if view.status == "open" and len(self.parts) == 1 and not self.parts[0]["amount"]:
            self.parts = [_part(amount=str(view.patient_total))]

    @rx.event
    def open_visit(self, visit_id: str):
        """Open (or make) the bill of a visit waiting for payment."""
        actor = self._authorize(Action.PAYMENT_RECORD)
        with session_scope() as session:
            bill, notes = billing.open_visit_bill(session, actor, payload_id(visit_id, "Kunjungan"))
            bill_id = bill.id
        self._clear_bill()
        self.parts = [_part()]
        self._show(actor, bill_id, notes)
        self._reload_list(actor)

    @rx.event
    def open_bill(self, bill_id: str):
        """Show a bill as it is (a paid nota for a reprint, an over-the-counter sale)."""
        actor = self._authorize(Action.VIEW_KASIR)
        found = payload_id(bill_id, "Tagihan")
        self._clear_bill()
        self.parts = [_part()]
        self._show(actor, found)

    @rx.event
    def close_bill(self):
        self._clear_bill()

    @rx.event
    def set_sale_name(self, value: str):
        self.sale_name = payload_text(value, max_length=200)

    @rx.event
    def new_sale(self):
        """An over-the-counter sale (penjualan bebas)."""
        actor = self._authorize(Action.PAYMENT_RECORD)
        try:
            with session_scope() as session:
                bill_id = billing.new_counter_sale(session, actor, self.sale_name).id
        except ValidationFailed as failed:
            self.errors = failed.errors
            return rx.toast.error(failed.message)
        self._clear_bill()
        self.sale_name, self.parts = "", [_part()]
        self._show(actor, bill_id)
        self._reload_list(actor)
        return None

    # ----- lines ----------------------------------------------------------------------------
    @rx.event
    def set_line_field(self, field: str, value: str):
        if field not in LINE_FIELDS:
            return
        self.line_form[field] = payload_text(value, max_length=300)
        if field == "description":
            self.line_form["item_id"], self.line_form["item_name"] = "", ""
        self.errors.pop(field, None)

    @rx.event(supersedes=True)
    def search_items(self, value: str):
        actor = self._authorize(Action.PAYMENT_RECORD)
        text = payload_search(value)
        self.line_form["description"] = text
        self.line_form["item_id"], self.line_form["item_name"] = "", ""
        with read_scope() as session:
            self.item_results = billing.sellable_items(session, actor, text) if text else []

    @rx.event
    def pick_item(self, item_id: str, name: str):
        found = parse_id(item_id)
        if found is None:
            return
        self.line_form["item_id"] = str(found)
        self.line_form["item_name"] = payload_text(name, max_length=300)
        self.line_form["description"] = self.line_form["item_name"]
        self.item_results = []

    @rx.event
    def add_line(self):
        actor = self._authorize(Action.PAYMENT_RECORD)
        form = self.line_form
        data = billing.LineInput(
            quantity=form.get("quantity", ""),
            reason=form.get("reason", ""),
            item_id=parse_id(form.get("item_id", "")),
            description=form.get("description", ""),
            unit_price=form.get("unit_price", ""),
        )
        try:
            with session_scope() as session:
                billing.add_line(session, actor, self.bill_id, data)
        except ValidationFailed as failed:
            self.errors = failed.errors
            return rx.toast.error(failed.message)
        self.line_form, self.errors, self.parts = _empty_line(), {}, [_part()]
        self._show(actor, self.bill_id)
        return rx.toast.success("Baris ditambahkan.")

    @rx.event
    def ask_remove(self, line_id: str):
        self.remove_line_id = parse_id(line_id) or 0
        self.remove_reason = ""

    @rx.event
    def set_remove_reason(self, value: str):
        self.remove_reason = payload_text(value, max_length=300)

    @rx.event
    def cancel_remove(self):
        self.remove_line_id, self.remove_reason = 0, ""

    @rx.event
    def confirm_remove(self):
        actor = self._authorize(Action.PAYMENT_RECORD)
        try:
            with session_scope() as session:
                billing.remove_line(session, actor, self.remove_line_id, self.remove_reason)
        except ValidationFailed as failed:
            self.errors = failed.errors
            return rx.toast.error(failed.message)
        self.remove_line_id, self.remove_reason, self.parts = 0, "", [_part()]
        self._show(actor, self.bill_id)
        return rx.toast.success("Baris dihapus dari tagihan.")

    # ----- discount and insurer -------------------------------------------------------------
    @rx.event
    def set_discount_field(self, field: str, value: str):
        if field in ("kind", "value", "reason"):
            self.discount_form[field] = payload_text(value, max_length=300)

    @rx.event
    def apply_discount(self):
        actor = self._authorize(Action.BILL_DISCOUNT)
        form = self.discount_form
        try:
            with session_scope() as session:
                billing.set_discount(
                    session,
                    actor,
                    self.bill_id,
                    form.get("kind", ""),
                    form.get("value", ""),
                    form.get("reason", ""),
                )
        except ValidationFailed as failed:
            self.errors = failed.errors
            return rx.toast.error(failed.message)
        self.errors, self.parts = {}, [_part()]
        self._show(actor, self.bill_id)
        return rx.toast.success("Diskon diterapkan.")

    @rx.event
    def choose_insurer(self, insurer_id: str):
        actor = self._authorize(Action.PAYMENT_RECORD)
        with session_scope() as session:
            billing.set_insurer(session, actor, self.bill_id, parse_id(insurer_id))
        self.parts = [_part()]
        self._show(actor, self.bill_id)

    # ----- payment --------------------------------------------------------------------------
    @rx.event
    def set_part(self, index: int, field: str, value: str):
        if (
            field not in PAY_FIELDS
            or not isinstance(index, int)
            or not 0 <= index < len(self.parts)
        ):
            return
        self.parts[index][field] = payload_text(value, max_length=80)
        self.errors.pop("payments", None)
        self.pay_review = ""

    @rx.event
    def add_part(self):
        if len(self.parts) < MAX_PARTS:
            self.parts.append(_part(method="qris"))
            self.pay_review = ""

    @rx.event
    def remove_part(self, index: int):
        if isinstance(index, int) and 0 <= index < len(self.parts) and len(self.parts) > 1:
            self.parts.pop(index)
            self.pay_review = ""

    @rx.event
    def pay(self):
        actor = self._authorize(Action.PAYMENT_RECORD)
        parts = [payments.PaymentPart(**{k: p.get(k, "") for k in PAY_FIELDS}) for p in self.parts]
        if self.bill.get("patient_total") == "0":
            parts = []
        shown = parse_id(self.bill.get("version", ""))
        try:
            with session_scope() as session:
                paid = payments.pay(
                    session, actor, self.bill_id, parts, expected_version=shown or 0
                )
        except ValidationFailed as failed:
            self.pay_errors = list(failed.errors.values())
            return rx.toast.error(failed.message)
        except billing.BillChanged as changed:
            # Nothing was taken: the cashier sees the bill as it is now, then pays again.
            self._follow_open_bill(actor, show=True)
            self.pay_errors = [changed.message]
            return rx.toast.error(changed.message)
        self.errors, self.pay_errors, self.pay_review = {}, [], ""
        self._show(actor, paid.bill_id)
        self.change_text = billing.rupiah(paid.change) if paid.change else ""
        self._reload_list(actor)
        visit_id = int(self.bill.get("visit_id") or 0)
        live.publish(
            live.branch_topic(actor.branch_id),
            exclude=self._client_token(),
            visit_id=visit_id or None,
        )
        message = f"Lunas. Nota {paid.nota_number}."
        if paid.change:
            message += f" Kembalian {billing.rupiah(paid.change)}."
        return rx.toast.success(message)

    # ----- void -----------------------------------------------------------------------------
    @rx.event
    def set_void_open(self, value: bool):
        self.void_open, self.void_reason = value is True, ""

    @rx.event
    def set_void_reason(self, value: str):
        self.void_reason = payload_text(value, max_length=300)

    @rx.event
    def void(self):
        actor = self._authorize(Action.BILL_VOID)
        try:
            with session_scope() as session:
                payments.void_bill(session, actor, self.bill_id, self.void_reason)
        except ValidationFailed as failed:
            self.errors = failed.errors
            return rx.toast.error(failed.message)
        self.void_open, self.void_reason = False, ""
        self._show(actor, self.bill_id)
        self._reload_list(actor)
        # The visit waits for payment again in the other cashiers' lists.
        visit_id = int(self.bill.get("visit_id") or 0)
        live.publish(
            live.branch_topic(actor.branch_id),
            exclude=self._client_token(),
            visit_id=visit_id or None,
        )
        return rx.toast.success("Nota dibatalkan.")


PAPERS = {"58": "58 mm", "80": "80 mm", "a5": "A5"}


class NotaState(AuthState):
    """The nota's print page: /kasir/nota?tagihan=<id>&kertas=58|80|a5. It shows the nota
    as services/nota_print.py renders it: the same HTML is printed and made into the PDF."""

    bill: dict[str, str] = {}  # id, nota_number
    paper: str = "58"  # as asked: 58, 80, a5
    paper_size: str = ""  # the rendered paper (services/print_render.PAPER_MM)
    html: str = ""
    number: str = ""
    is_copy: bool = False
    message: str = ""

    def _show_rendered(self, rendered: print_render.Rendered) -> None:
        self.html, self.number, self.is_copy = rendered.html, rendered.number, rendered.copy
        self.paper_size = rendered.paper

    def _bill_id(self) -> int:
        bill_id = parse_id(self.bill.get("id", ""))
        if bill_id is None:
            raise ServiceError("Nota tidak ditemukan.")
        return bill_id

    @rx.event
    def load(self):
        actor = self._current_actor()
        self.bill, self.html, self.message = {}, "", ""
        if actor is None or not allows(actor.duty, Action.VIEW_KASIR):
            self.page_allowed = actor is None
            return
        self.page_allowed = True
        params = self.router.url.query_parameters
        self.paper = nota_print.paper_of(params.get("kertas", "58"))
        bill_id = parse_id(params.get("tagihan", ""))
        if bill_id is None:
            self.message = "Nota tidak ditemukan."
            return
        try:
            with read_scope() as session:
                rendered = nota_print.preview(session, actor, bill_id, self.paper)
        except ServiceError as refused:
            self.message = refused.message
            return
        self.bill = {"id": str(bill_id), "nota_number": rendered.number}
        self._show_rendered(rendered)

    @rx.event
    def print_nota(self):
        """Count the print (every print after the first is a SALINAN), then print."""
        actor = self._authorize(Action.VIEW_KASIR)
        try:
            bill_id = self._bill_id()
            with session_scope() as session:
                rendered = nota_print.print_nota(session, actor, bill_id, self.paper)
        except ServiceError as refused:
            return rx.toast.error(refused.message)
        self._show_rendered(rendered)
        # Printed once the page shows what was counted (SALINAN on a reprint).
        return rx.call_script("setTimeout(() => window.print(), 300)")

    @rx.event
    async def download_pdf(self):
        """Count the download like a print and send the PDF (the same HTML, WeasyPrint),
        laid out in a thread so other tabs' events go on."""
        actor = self._authorize(Action.VIEW_KASIR)
        try:
            bill_id = self._bill_id()
            with session_scope() as session:
                rendered = nota_print.print_nota(session, actor, bill_id, self.paper, pdf=True)
        except ServiceError as refused:
            return rx.toast.error(refused.message)
        pdf = await asyncio.to_thread(print_render.pdf_bytes, rendered)
        self.is_copy = True  # the next print is a SALINAN
        return rx.download(data=pdf, filename=rendered.filename, mime_type="application/pdf")
