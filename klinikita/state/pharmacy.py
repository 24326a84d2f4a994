"""Apotek -> Resep: today's dispensing queue (live), the review of one prescription with the
patient's allergies, dispensing (FEFO batches, quantities changed with a reason), hand-over,
cancellation, the resep's print, and the labels (etiket) page."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import reflex as rx

from klinikita import routes
from klinikita.db import read_scope, session_scope
from klinikita.models.pharmacy import DispenseStatus
from klinikita.services import dispensing, label_print, print_render
from klinikita.services.audit import Actor
from klinikita.services.dispensing import Change, DispenseDetail, QueueItem
from klinikita.services.errors import ServiceError, ValidationFailed
from klinikita.services.job_notices import JobNotice
from klinikita.services.permissions import Action, allows
from klinikita.services.text_input import parse_id, payload_id, payload_text
from klinikita.state import live
from klinikita.state.auth import AuthState
from klinikita.state.documents import open_prescription

QUANTITY_DIGITS = 6


def _queue_view(row: QueueItem) -> dict[str, str]:
    return {
        "id": str(row.dispense_id),
        "number": str(row.queue_number),
        "time": row.queued_time,
        "patient": row.patient_name,
        "mrn": row.mrn,
        "doctor": row.doctor_name,
        "unit": row.unit_name,
        "lines": str(row.lines),
        "status": row.status,
        "status_label": row.status_label,
        "sync": row.sync_status,
    }


def _expiry(take: dispensing.Take) -> str:
    return take.expiry.strftime("%d/%m/%Y")


def _rows(detail: DispenseDetail) -> list[dict[str, str]]:
    """The review as flat rows: a prescription line ("line"), then what it takes from stock
    ("need": an item, or each ingredient of a racikan)."""
    out: list[dict[str, str]] = []
    waiting = detail.status == DispenseStatus.WAITING
    for line in detail.lines:
        out.append(
            {
                "kind": "line",
                "key": str(line.prescription_id),
                "name": line.name,
                "racikan": "1" if line.is_compound else "",
                "quantity": line.quantity,
                "signa": line.signa,
                "allergy": "1" if line.allergy_match else "",
                "no_stock": "" if line.needs else "1",
            }
        )
        for need in line.needs:
            taken = detail.batches.get(need.key, ())
            given, reason = detail.dispensed.get(need.key, (0, ""))
            dose = next((i.dose_text for i in line.ingredients if i.item_id == need.item_id), "")
            out.append(
                {
                    "kind": "need",
                    "key": need.key,
                    "name": need.item_name + (f" ({dose})" if dose else ""),
                    "unit": need.unit,
                    "prescribed": str(need.prescribed),
                    "qty": str(need.prescribed) if waiting else str(given),
                    "reason": "" if waiting else reason,
                    "batches": "; ".join(
                        f"{t.batch_number} (ED {_expiry(t)}): {t.quantity}" for t in taken
                    ),
                    "shortage": detail.shortages.get(need.key, ""),
                }
            )
    return out


class PharmacyState(AuthState):
    can_dispense: bool = False
    can_cancel: bool = False
    queue: list[dict[str, str]] = []
    # The prescription under review.
    selected_id: int = 0
    selected_version: int = 0
    _selected_visit: int = 0  # the visit of the prescription under review (board changes)
    head: dict[str, str] = {}
    rows: list[dict[str, str]] = []
    allergies: list[dict[str, str]] = []
    no_known_allergy: bool = False
    errors: dict[str, str] = {}
    # The cancel dialog; also the return (retur obat) of a handed-over prescription.
    cancel_open: bool = False
    returning: bool = False
    cancel_reason: str = ""
    cancel_error: str = ""

    # ----- loading ------------------------------------------------------------------------
    def _viewer(self) -> Actor | None:
        actor = self._current_actor()
        if actor is None or not allows(actor.duty, Action.VIEW_APOTEK):
            self.queue = []
            self._clear_selection()
            return None
        return actor

    def _clear_selection(self) -> None:
        self.selected_id = self.selected_version = self._selected_visit = 0
        self.head, self.rows, self.allergies, self.errors = {}, [], [], {}
        self.no_known_allergy = False
        self.cancel_open = False

    def _reload_queue(self, actor: Actor, *, shared: bool = False) -> None:
        topic = live.branch_topic(actor.branch_id)

        def read() -> tuple[QueueItem, ...]:
            with read_scope() as session:
                return tuple(dispensing.todays_queue(session, actor))

        found = live.shared(topic, ("apotek",), read) if shared else read()
        views = [_queue_view(r) for r in found]
        if views != self.queue:
            self.queue = views
        live.watch(topic, self._client_token(), PharmacyState)

    def _reload_detail(self, actor: Actor, *, keep_typed: bool = False) -> None:
        if not self.selected_id:
            return
        with read_scope() as session:
            try:
                detail = dispensing.detail(session, actor, self.selected_id)
            except ServiceError:
                self._clear_selection()
                return
        if keep_typed and detail.version == self.selected_version:
            return  # nothing changed: what the pharmacist typed stays
        self._show(detail)

    def _show(self, detail: DispenseDetail) -> None:
        self.selected_version = detail.version
        self._selected_visit = detail.visit_id
        self.head = {
            "id": str(detail.dispense_id),
            "patient": detail.patient_name,
            "mrn": detail.mrn,
            "doctor": detail.doctor_name,
            "unit": detail.unit_name,
            "number": str(detail.queue_number),
            "status": detail.status,
            "status_label": detail.status_label,
            "note": detail.note,
            "sync": detail.sync_status,
            "sync_error": detail.sync_error,
            "short": "1" if detail.shortages else "",
            "etiket_kecil": f"{routes.APOTEK_ETIKET}?resep={detail.dispense_id}&ukuran=kecil",
            "etiket_a4": f"{routes.APOTEK_ETIKET}?resep={detail.dispense_id}&ukuran=a4",
        }
        self.rows = _rows(detail)
        # As components/allergy_banner.py reads them; "tidak ada alergi" as its one row.
        self.allergies = [
            {
                "display": a.display,
                "reaction": a.reaction,
                "severity": a.severity,
                "severity_label": a.severity_label,
                "is_none": "False",
            }
            for a in detail.allergies
        ] or (
            [{"display": "Tidak ada alergi", "reaction": "", "severity": "",
              "severity_label": "", "is_none": "True"}]
            if detail.no_known_allergy
            else []
        )  # fmt: skip
        self.no_known_allergy = detail.no_known_allergy
        self.errors = {}

    @rx.event
    def load(self):
        """on_load: the duty's flags and today's queue (live); ?resep=<id> opens one."""
        actor = self._viewer()
        if actor is None:
            self.page_allowed = False
            return
        self.page_allowed = True
        self.can_dispense = allows(actor.duty, Action.DISPENSE_RECORD)
        self.can_cancel = allows(actor.duty, Action.DISPENSE_CANCEL)
        self._clear_selection()
        self._reload_queue(actor)
        wanted = parse_id(self.router.url.query_parameters.get("resep", ""))
        if wanted:
            self.selected_id = wanted
            self._reload_detail(actor)

    def _on_board_change(self, topic: str, changed: live.Changed) -> None:
        """A doctor completed a visit, or another pharmacist acted: the queue again, and the
        open prescription when someone else changed it."""
        del topic
        actor = self._viewer()
        if actor is None:
            return
        self._reload_queue(actor, shared=True)
        if not changed or self._selected_visit in changed:
            self._reload_detail(actor, keep_typed=True)

    def _on_sync_notice(self, notice: JobNotice) -> None:
        """The MedicationDispense job of this tab ended: its badge."""
        del notice
        actor = self._viewer()
        if actor is None:
            return
        self._reload_queue(actor)
        if self.selected_id:
            try:
                with read_scope() as session:
                    detail = dispensing.detail(session, actor, self.selected_id)
            except ServiceError:  # the tab moved to another branch or duty meanwhile
                self._clear_selection()
                return
            self.head = {**self.head, "sync": detail.sync_status, "sync_error": detail.sync_error}

    def _tell_others(self, actor: Actor) -> None:
        live.publish(
            live.branch_topic(actor.branch_id),
            exclude=self._client_token(),
            visit_id=self._selected_visit or None,
        )

    # ----- review ---------------------------------------------------------------------------
    @rx.event
    def open_dispense(self, dispense_id: str):
        wanted = payload_id(dispense_id, "Resep")
        actor = self._authorize(Action.VIEW_APOTEK)
        with read_scope() as session:
            detail = dispensing.detail(session, actor, wanted)
        self.selected_id = detail.dispense_id
        self.cancel_open = False
        self._show(detail)

    @rx.event
    def close_dispense(self):
        self._clear_selection()

    @rx.event
    def set_quantity(self, key: str, value: str):
        key = payload_text(key, max_length=40)
        text = payload_text(value, max_length=QUANTITY_DIGITS + 2).strip()
        self.rows = [
            {**r, "qty": text} if r["kind"] == "need" and r["key"] == key else r for r in self.rows
        ]
        self.errors.pop(f"qty:{key}", None)

    @rx.event
    def set_reason(self, key: str, value: str):
        key = payload_text(key, max_length=40)
        text = payload_text(value, max_length=dispensing.REASON_MAX + 50)
        self.rows = [
            {**r, "reason": text} if r["kind"] == "need" and r["key"] == key else r
            for r in self.rows
        ]
        self.errors.pop(f"reason:{key}", None)

    def _changes(self) -> dict[str, Change]:
        """The quantities typed, where they differ from the prescription (or carry a
        reason); a quantity that is not a whole number is refused at its field."""
        changes: dict[str, Change] = {}
        errors: dict[str, str] = {}
        for row in self.rows:
            if row["kind"] != "need":
                continue
            typed = row["qty"].strip()
            if not (typed.isascii() and typed.isdigit()) or len(typed) > QUANTITY_DIGITS:
                errors[f"qty:{row['key']}"] = "Isi jumlah dengan bilangan bulat."
                continue
            quantity = int(typed)
            if quantity != int(row["prescribed"]) or row["reason"].strip():
                changes[row["key"]] = Change(quantity, row["reason"])
        if errors:
            raise ValidationFailed(errors)
        return changes

    # ----- actions --------------------------------------------------------------------------
    @rx.event
    def dispense(self):
        actor = self._authorize(Action.DISPENSE_RECORD)
        if not self.selected_id:
            return rx.toast.error("Pilih resep terlebih dahulu.")
        try:
            changes = self._changes()
            with session_scope() as session:
                detail = dispensing.dispense_for_review(
                    session,
                    actor,
                    self.selected_id,
                    expected_version=self.selected_version,
                    changes=changes,
                    client_token=self._client_token(),
                )
        except ValidationFailed as bad:
            self.errors = bad.errors
            return rx.toast.error(bad.message)
        self._show(detail)  # as committed: no need to read it again
        self._after_change(actor, reread=False)
        return rx.toast.success("Obat disiapkan; stok sudah dikurangi. Cetak etiketnya.")

    @rx.event
    def hand_over(self):
        actor = self._authorize(Action.DISPENSE_RECORD)
        if not self.selected_id:
            return rx.toast.error("Pilih resep terlebih dahulu.")
        with session_scope() as session:
            row = dispensing.hand_over(
                session,
                actor,
                self.selected_id,
                expected_version=self.selected_version,
                client_token=self._client_token(),
            )
            saved = (row.version, row.status, row.sync_status, row.sync_error)
        # Handing over changes the status and nothing the review shows below it.
        self._show_status(*saved)
        self._after_change(actor, reread=False)
        return rx.toast.success("Obat sudah diserahkan kepada pasien.")

    @rx.event
    def print_prescription(self):
        """ "Cetak resep": the reviewed prescription's resep (issued once, reused while it is
        unchanged) on its print page."""
        actor = self._authorize(Action.DISPENSE_RECORD)
        if not self._selected_visit:
            return rx.toast.error("Pilih resep terlebih dahulu.")
        return open_prescription(actor, self._selected_visit)

    @rx.event
    def open_cancel(self):
        self.cancel_open, self.cancel_reason, self.cancel_error = True, "", ""
        self.returning = False

    @rx.event
    def open_return(self):
        """The cancel dialog, for the return (retur) of a handed-over prescription."""
        self.cancel_open, self.cancel_reason, self.cancel_error = True, "", ""
        self.returning = True

    @rx.event
    def set_cancel_open(self, value: bool):
        self.cancel_open = bool(value)

    @rx.event
    def set_cancel_reason(self, value: str):
        self.cancel_reason = payload_text(value, max_length=dispensing.REASON_MAX + 50)
        self.cancel_error = ""

    @rx.event
    def confirm_cancel(self):
        return self._take_back(
            dispensing.cancel, "Resep dibatalkan; obat yang sudah disiapkan kembali ke stok."
        )

    @rx.event
    def confirm_return(self):
        """The patient brought the handed-over drugs back: every unit back to its batch,
        while the visit has no paid bill."""
        return self._take_back(
            dispensing.return_handed_over, "Retur dicatat; obat kembali ke stok batch asalnya."
        )

    def _take_back(self, service: Callable[..., object], done: str):  # noqa: ANN202
        """The cancel dialog's confirmation through `service` (dispensing.cancel or
        return_handed_over); a refusal shows in the dialog."""
        actor = self._authorize(Action.DISPENSE_CANCEL)
        if not self.selected_id:
            return rx.toast.error("Pilih resep terlebih dahulu.")
        try:
            with session_scope() as session:
                service(
                    session,
                    actor,
                    self.selected_id,
                    expected_version=self.selected_version,
                    reason=self.cancel_reason,
                    client_token=self._client_token(),
                )
        except ValidationFailed as bad:
            self.cancel_error = bad.errors.get("reason", bad.message)
            return None
        except ServiceError as refused:
            self.cancel_error = refused.message
            return None
        self.cancel_open = False
        self._after_change(actor)
        return rx.toast.success(done)

    def _after_change(self, actor: Actor, *, reread: bool = True) -> None:
        """After this tab's change is committed: tell the other tabs, then read the queue
        once for all of them (`live.shared`) and, with `reread`, the prescription again."""
        self._tell_others(actor)
        self._reload_queue(actor, shared=True)
        if reread:
            self._reload_detail(actor)

    def _show_status(
        self, version: int, status: str, sync_status: str, sync_error: str | None
    ) -> None:
        """The prescription's new version and status, its lines as shown."""
        self.selected_version = version
        self.head = {
            **self.head,
            "status": status,
            "status_label": DispenseStatus(status).label,
            "sync": sync_status,
            "sync_error": sync_error or "",
        }


live.register("dispense", PharmacyState)


class LabelState(AuthState):
    """/apotek/etiket?resep=<id>&ukuran=kecil|a4: the labels of one prescription as
    services/label_print.py renders them, for a small label printer (60 x 40 mm, one per
    page) or A4 (several per page); the same HTML is printed and made into the PDF."""

    labels: list[dict[str, str]] = []
    small: bool = True
    dispense_id: int = 0
    html: str = ""
    paper: str = ""
    is_copy: bool = False
    problem: str = ""

    def _size(self) -> str:
        return "kecil" if self.small else "a4"

    def _show_rendered(self, rendered: print_render.Rendered) -> None:
        self.html, self.paper, self.is_copy = rendered.html, rendered.paper, rendered.copy
        self.labels = [
            {k: str(v) for k, v in label.items()} for label in rendered.content.get("labels", [])
        ]

    @rx.event
    def load(self):
        params = self.router.url.query_parameters
        self.small = label_print.size_of(params.get("ukuran", "kecil")) == "kecil"
        self.labels, self.html, self.problem, self.dispense_id = [], "", "", 0
        actor = self._current_actor()
        if actor is None or not allows(actor.duty, Action.VIEW_PRESCRIPTION):
            self.problem = "Anda tidak berwenang membaca resep."
            return
        wanted = parse_id(params.get("resep", ""))
        if wanted is None:
            self.problem = "Resep tidak ditemukan."
            return
        try:
            with read_scope() as session:
                rendered = label_print.preview(session, actor, wanted, self._size())
        except ServiceError as refused:
            self.problem = refused.message
            return
        self.dispense_id = wanted
        self._show_rendered(rendered)

    @rx.event
    def print_labels(self):
        """Audit the print (SALINAN once printed before), then open the print dialog."""
        actor = self._authorize(Action.VIEW_PRESCRIPTION)
        try:
            with session_scope() as session:
                rendered = label_print.print_labels(session, actor, self.dispense_id, self._size())
        except ServiceError as refused:
            return rx.toast.error(refused.message)
        self._show_rendered(rendered)
        return rx.call_script("setTimeout(() => window.print(), 300)")

    @rx.event
    async def download_pdf(self):
        """Audit the download like a print and send the PDF (the same HTML, WeasyPrint),
        laid out in a thread so other tabs' events go on."""
        actor = self._authorize(Action.VIEW_PRESCRIPTION)
        try:
            with session_scope() as session:
                rendered = label_print.print_labels(
                    session, actor, self.dispense_id, self._size(), pdf=True
                )
        except ServiceError as refused:
            return rx.toast.error(refused.message)
        pdf = await asyncio.to_thread(print_render.pdf_bytes, rendered)
        self.is_copy = True  # the next print is a SALINAN
        return rx.download(
            data=pdf, filename=f"etiket-{self.dispense_id}.pdf", mime_type="application/pdf"
        )
