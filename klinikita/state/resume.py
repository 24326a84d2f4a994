"""Resume: pick a patient, read their visits newest first, print them."""

from __future__ import annotations

import reflex as rx

from klinikita import routes
from klinikita.db import read_scope, session_scope
from klinikita.services.audit import Actor
from klinikita.services.documents import issue_resume
from klinikita.services.patients import search_patients
from klinikita.services.permissions import Action, allows
from klinikita.services.resume import VisitCard, patient_visits
from klinikita.services.text_input import parse_id, payload_text
from klinikita.state import live
from klinikita.state.auth import AuthState
from klinikita.state.paging import PagedList

SEARCH_RESULTS = 10


class ResumeState(PagedList, AuthState):
    # The patient search.
    search_term: str = ""
    results: list[dict[str, str]] = []
    searched: bool = False
    search_problem: str = ""
    # The chosen patient and one page of visits.
    patient_id: int = 0
    patient: dict[str, str] = {}
    cards: list[VisitCard] = []
    # Which parts of a card the active duty reads (the server leaves the others out).
    show_clinical: bool = False
    show_prescriptions: bool = False
    # The patient's active allergies (components/allergy_banner.py), for whoever may read them.
    allergies: list[dict[str, str]] = []

    def _viewer(self) -> Actor | None:
        actor = self._current_actor()
        if actor is None or not allows(actor.duty, Action.VIEW_RESUME):
            self._clear_patient()
            self.results = []
            return None
        return actor

    def _clear_patient(self) -> None:
        self.patient_id = 0
        self.patient = {}
        self.cards = []
        self._first_page()
        self.show_clinical = self.show_prescriptions = False
        self.allergies = []

    def _load_visits(self) -> None:
        actor = self._viewer()
        if actor is None or not self.patient_id:
            return
        with read_scope() as session:
            found = patient_visits(
                session, actor.branch_id, self.patient_id, self.page, duty=actor.duty
            )
        if found.patient is None:  # not a patient of the active branch
            self._clear_patient()
            return
        p = found.patient
        self.patient = {
            "id": str(p.id),
            "mrn": p.mrn,
            "name": p.name,
            "nik": p.nik or "-",
            "birth_date": p.birth_date,
            "sex": p.sex,
            "ihs_number": p.ihs_number or "-",
        }
        self.cards = found.cards
        self.show_clinical, self.show_prescriptions = found.clinical, found.prescriptions
        self.allergies = [{k: str(v) for k, v in a.items()} for a in found.allergies]
        self._show_page(found)

    @rx.event
    def load(self):
        """on_load: the patient in ?pasien=<id>, if any (other pages link here)."""
        self.search_term, self.results, self.searched, self.search_problem = "", [], False, ""
        self._clear_patient()
        actor = self._viewer()
        if actor is None:
            return
        wanted = parse_id(self.router.url.query_parameters.get("pasien", ""))
        if wanted is not None:
            self.patient_id = wanted
            self._load_visits()
            if self.patient_id:
                live.watch(live.branch_topic(actor.branch_id), self._client_token(), type(self))

    @rx.event
    def set_search_term(self, value: str):
        self.search_term = payload_text(value, max_length=200)

    def _search(self) -> None:
        actor = self._viewer()
        if actor is None:
            return
        with read_scope() as session:
            found = search_patients(
                session, actor.branch_id, self.search_term, page_size=SEARCH_RESULTS
            )
        self.results = [
            {
                "id": str(r.id),
                "mrn": r.mrn,
                "name": r.name,
                "nik": r.nik or "-",
                "birth_date": r.birth_date,
                "sex": r.sex,
            }
            for r in found.rows
        ]
        self.search_problem = found.problem
        self.searched = True

    @rx.event
    def search(self):
        self._search()

    @rx.event
    def search_on_enter(self, key: str):
        if key == "Enter":
            self._search()

    @rx.event
    def pick_patient(self, patient_id: str):
        actor = self._viewer()
        wanted = parse_id(patient_id)
        if actor is None or wanted is None:
            return
        self.patient_id = wanted
        self.page = 1
        self.results, self.searched = [], False
        self._load_visits()
        live.watch(live.branch_topic(actor.branch_id), self._client_token(), type(self))
        # The address names the patient, so a reload or the back button keeps them.
        return rx.call_script(
            f"window.history.replaceState(null, '', '{routes.RESUME}?pasien={self.patient_id}')"
        )

    @rx.event
    def change_patient(self):
        self._clear_patient()
        return rx.call_script(f"window.history.replaceState(null, '', '{routes.RESUME}')")

    def _load_page(self) -> None:
        self._load_visits()

    @rx.event
    def print_page(self):
        return rx.call_script("window.print()")

    @rx.event
    def print_with_letterhead(self):
        """Number this page of the resume as a document and open its print page (A4, with
        the branch's letterhead; PDF there too)."""
        actor = self._authorize(Action.VIEW_CLINICAL)
        if not self.patient_id:
            return None
        with session_scope() as session:
            doc = issue_resume(session, actor, self.patient_id, self.page)
            doc_id = doc.id
        return rx.redirect(f"{routes.CETAK}?dok={doc_id}")

    def _on_board_change(self, topic: str, changed: live.Changed) -> None:  # noqa: ARG002
        """A visit of the branch changed (completed, sent): the codes shown stay current."""
        if self.patient_id:
            self._load_visits()
