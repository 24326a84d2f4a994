"""Letters from the exam page (surat keterangan sakit, surat rujukan) and its resep, the
resume's print, and the print page that shows, prints and downloads any issued document."""

from __future__ import annotations

import asyncio

import reflex as rx

from klinikita import routes
from klinikita.db import read_scope, session_scope
from klinikita.services import documents as document_service
from klinikita.services import print_render
from klinikita.services.errors import NotFound, PermissionDenied, ValidationFailed
from klinikita.services.permissions import Action, allows
from klinikita.services.text_input import parse_id, payload_id, payload_text
from klinikita.state.auth import AuthState, SessionExpired

_ISSUE_FIELDS = frozenset({"start", "end", "destination", "destination_unit", "reason"})
_KINDS = frozenset({print_render.SICK_LEAVE.code, print_render.REFERRAL.code})


def _print_url(doc_id: int) -> str:
    return f"{routes.CETAK}?dok={doc_id}"


def open_prescription(actor, visit_id: int) -> list:  # noqa: ANN001 (an audit.Actor)
    """Issue (or reuse) the visit's resep and go to its print page; a refusal (no
    prescription lines) as a toast."""
    try:
        with session_scope() as session:
            doc = document_service.issue_prescription(session, actor, visit_id)
            doc_id, number = doc.id, doc.number
    except ValidationFailed as failed:
        return [rx.toast.error(next(iter(failed.errors.values()), failed.message))]
    return [rx.toast.success(f"Resep {number}."), rx.redirect(_print_url(doc_id))]


class DocumentIssueState(AuthState):
    """The "Buat surat" dialog of an open visit and the visit's issued documents."""

    issue_kind: str = ""  # "" = closed, else a kind code (sks, rujukan)
    issue_visit_id: int = 0
    issue_form: dict[str, str] = {}
    include_diagnosis: bool = False
    issue_errors: dict[str, str] = {}
    # The documents of the visit last shown: id, title, number, issued_at, printed.
    visit_documents: list[dict[str, str]] = []

    def _load_documents(self, visit_id: int) -> None:
        actor = self._current_actor()
        if actor is None or not allows(actor.duty, Action.VIEW_CLINICAL) or not visit_id:
            self.visit_documents = []
            return
        with read_scope() as session:
            rows = document_service.visit_documents(session, actor, visit_id)
        self.visit_documents = [
            {
                "id": str(r.id),
                "title": r.title,
                "number": r.number,
                "issued_at": r.issued_at,
                "printed": str(r.print_count),
            }
            for r in rows
        ]

    @rx.event
    def show_documents(self, visit_id: int):
        """The documents issued for `visit_id` (the exam page's open visit)."""
        self._load_documents(parse_id(visit_id) or 0)

    @rx.event
    def open_issue(self, kind: str, visit_id: int):
        """Open the dialog for a new letter of `kind` for `visit_id`."""
        self._authorize(Action.EXAM_MEDICAL)
        if kind not in _KINDS:
            return
        self.issue_visit_id = payload_id(visit_id, "Kunjungan")
        self.issue_kind = kind
        self.issue_form = {k: "" for k in _ISSUE_FIELDS}
        self.include_diagnosis = False
        self.issue_errors = {}

    @rx.event
    def issue_prescription(self, visit_id: int):
        """ "Cetak resep" on the exam page: the visit's resep (the one already issued while
        the prescription is unchanged) on its print page."""
        actor = self._authorize(Action.EXAM_MEDICAL)
        return open_prescription(actor, payload_id(visit_id, "Kunjungan"))

    @rx.event
    def close_issue(self):
        self.issue_kind, self.issue_visit_id, self.issue_errors = "", 0, {}

    @rx.event
    def set_issue_field(self, field: str, value: str):
        if field not in _ISSUE_FIELDS:
            return
        self.issue_form[field] = payload_text(value, max_length=2000)
        self.issue_errors.pop(field, None)

    @rx.event
    def set_include_diagnosis(self, value: bool):
        self.include_diagnosis = value is True

    @rx.event
    def issue(self):
        """Issue the letter and open its print page."""
        actor = self._authorize(Action.EXAM_MEDICAL)
        f = self.issue_form
        try:
            with session_scope() as session:
                if self.issue_kind == print_render.SICK_LEAVE.code:
                    doc = document_service.issue_sick_leave(
                        session,
                        actor,
                        self.issue_visit_id,
                        document_service.SickLeaveInput(
                            f.get("start", ""), f.get("end", ""), self.include_diagnosis
                        ),
                    )
                elif self.issue_kind == print_render.REFERRAL.code:
                    doc = document_service.issue_referral(
                        session,
                        actor,
                        self.issue_visit_id,
                        document_service.ReferralInput(
                            f.get("destination", ""),
                            f.get("destination_unit", ""),
                            f.get("reason", ""),
                        ),
                    )
                else:
                    return None
                doc_id, number = doc.id, doc.number
        except ValidationFailed as failed:
            self.issue_errors = failed.errors
            return rx.toast.error(next(iter(failed.errors.values()), failed.message))
        self.issue_kind, self.issue_errors = "", {}
        return [rx.toast.success(f"Surat {number} dibuat."), rx.redirect(_print_url(doc_id))]


class PrintState(AuthState):
    """/cetak?dok=<id>: one issued document as it will print, with Cetak and Unduh PDF."""

    doc_id: int = 0
    html: str = ""
    title: str = ""
    number: str = ""
    paper: str = ""
    is_copy: bool = False
    problem: str = ""

    def _show_rendered(self, rendered: print_render.Rendered) -> None:
        self.html, self.title, self.number = rendered.html, rendered.title, rendered.number
        self.paper, self.is_copy = rendered.paper, rendered.copy

    def _printer(self):  # noqa: ANN202 (an audit.Actor)
        """The logged-in actor; the service checks that their duty may read the document's
        kind (VIEW_CLINICAL, the resep VIEW_PRESCRIPTION)."""
        actor = self._current_actor()
        if actor is None:
            raise SessionExpired()
        return actor

    @rx.event
    def load(self):
        self.doc_id, self.html, self.problem = 0, "", ""
        actor = self._current_actor()
        if actor is None:
            return
        if not document_service.may_read_documents(actor.duty):
            self.problem = "Tugas aktif Anda tidak berwenang membaca dokumen klinis."
            return
        wanted = parse_id(self.router.url.query_parameters.get("dok", ""))
        try:
            with read_scope() as session:
                rendered = document_service.preview(session, actor, wanted or 0)
        except (NotFound, PermissionDenied) as refused:
            self.problem = refused.message
            return
        self.doc_id = wanted or 0
        self._show_rendered(rendered)

    @rx.event
    def print_now(self):
        """Count the print (a SALINAN after the first) and open the browser's print dialog."""
        actor = self._printer()
        with session_scope() as session:
            rendered = document_service.record_print(session, actor, self.doc_id)
        self._show_rendered(rendered)
        # Printed once the page shows what was counted (SALINAN on a reprint).
        return rx.call_script("setTimeout(() => window.print(), 300)")

    @rx.event
    async def download_pdf(self):
        """Count the download like a print and send the PDF (the same HTML, WeasyPrint).
        The layout (a fraction of a second) runs in a thread: other tabs' events go on."""
        actor = self._printer()
        with session_scope() as session:
            rendered = document_service.record_print(session, actor, self.doc_id, pdf=True)
        pdf = await asyncio.to_thread(print_render.pdf_bytes, rendered)
        # What the next print will be: a SALINAN from now on.
        with read_scope() as session:
            self._show_rendered(document_service.preview(session, actor, self.doc_id))
        return rx.download(data=pdf, filename=rendered.filename, mime_type="application/pdf")
