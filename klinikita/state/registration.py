"""Pendaftaran: find or add the patient, register the visit, today's queue live, cancel."""

from __future__ import annotations

import reflex as rx
from sqlmodel import Session

from klinikita.db import read_scope, session_scope
from klinikita.models.clinical import Payer, VisitStatus
from klinikita.services import registration as reg
from klinikita.services.audit import Actor
from klinikita.services.errors import StaleEdit, ValidationFailed
from klinikita.services.patients import SearchKind, format_date, search_patients
from klinikita.services.permissions import Action, allows
from klinikita.services.text_input import parse_id, payload_text
from klinikita.services.visit_queue import QueueRow, ShownQueue, list_key, todays_list
from klinikita.state import live
from klinikita.state.auth import AuthState

RESULT_LIMIT = 8
ALL_UNITS = "all"  # the unit filter's "Semua unit" (a select item needs a non-empty value)
CHOICES = ("unit_id", "room_id", "doctor_id", "payer", "bpjs_number")
# One id for the desk's error toasts (and the app's service errors): the next success
# dismisses a stale one instead of leaving it beside the success.
ERROR_TOAST = "desk-error"
_STALE_TOASTS = (ERROR_TOAST, "service-error")


def dismiss_errors() -> list:
    """Close the error toasts an earlier attempt left open."""
    return [rx.toast.dismiss(toast_id) for toast_id in _STALE_TOASTS]


def desk_error(message: str):
    return rx.toast.error(message, id=ERROR_TOAST)


CANCELLABLE = (VisitStatus.REGISTERED.value, VisitStatus.IN_EXAMINATION.value)


def _options(items: list[reg.Option]) -> list[dict[str, str]]:
    return [{"value": o.value, "label": o.label} for o in items]


def _payer_label(payer: str) -> str:
    try:
        return reg.PAYER_LABELS[Payer(payer)]
    except ValueError:
        return payer


def _queue_view(row: QueueRow) -> dict[str, str]:
    return {
        "id": str(row.visit_id),
        "number": str(row.queue_number),
        "unit": row.unit_name,
        "patient": row.patient_name,
        "mrn": row.mrn,
        "room": row.room_name,
        "doctor": row.doctor_name,
        "payer": _payer_label(row.payer),
        "arrived": row.arrived_time,
        "status": row.status,
        "status_label": row.status_label,
        "cancel_reason": row.cancel_reason,
        "cancellable": "1" if row.status in CANCELLABLE else "",
    }


def _int(value: str) -> int | None:
    return parse_id(value)


class RegistrationState(AuthState):
    # What the active duty may do (the handlers check again on the server).
    can_register: bool = False
    can_cancel: bool = False
    can_create_patient: bool = False
    # Finding the patient.
    search_term: str = ""
    search_problem: str = ""
    searched: bool = False
    results: list[dict[str, str]] = []
    results_more: str = ""  # "8 dari 23": more match than are shown
    patient: dict[str, str] = {}  # the chosen patient: id, name, mrn, nik, birth_date
    # The visit.
    unit_options: list[dict[str, str]] = []
    room_options: list[dict[str, str]] = []
    doctor_options: list[dict[str, str]] = []
    payer_options: list[dict[str, str]] = _options(reg.payer_options())
    choice: dict[str, str] = {}
    # What the branch lacks before anyone can be registered (message, link label, href).
    setup_gaps: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    # The last registration at this desk, shown big.
    last_number: str = ""
    last_unit: str = ""
    last_patient: str = ""
    # Today's queue.
    queue: list[dict[str, str]] = []
    queue_unit: str = ALL_UNITS
    queue_all: bool = False  # finished and cancelled visits all listed, not the last few
    queue_hidden: int = 0
    # The cancel dialog.
    cancel_open: bool = False
    cancel_id: int = 0
    cancel_version: int = 0  # the visit's version when the dialog opened
    cancel_label: str = ""
    cancel_reason: str = ""
    cancel_error: str = ""

    # ----- loading ------------------------------------------------------------------------
    def _viewer(self) -> Actor | None:
        actor = self._current_actor()
        if actor is None or not allows(actor.duty, Action.VIEW_PENDAFTARAN):
            self.queue = []
            return None
        return actor

    def _reload_queue(self, *, shared: bool = False, rows: ShownQueue | None = None) -> None:
        """Today's queue; `shared` (a live push) reuses the read that other tabs showing the
        same list just made, and `rows` is the list a service already returned."""
        actor = self._viewer()
        if actor is None:
            return
        topic = live.branch_topic(actor.branch_id)
        if rows is None:

            def read() -> ShownQueue:
                with read_scope() as session:
                    return self._queue_list(session, actor.branch_id)

            key = list_key(_int(self.queue_unit), self.queue_all)
            rows = live.shared(topic, key, read) if shared else read()
        views = [_queue_view(r) for r in rows.rows]
        if views != self.queue:  # an unchanged list is not sent to the browser again
            self.queue = views
        if rows.hidden != self.queue_hidden:
            self.queue_hidden = rows.hidden
        # Follow the branch the tab works in now (it may have been switched meanwhile).
        live.watch(topic, self._client_token(), RegistrationState)

    def _queue_list(self, session: Session, branch_id: int) -> ShownQueue:
        return todays_list(
            session, branch_id, unit_id=_int(self.queue_unit), show_all=self.queue_all
        )

    def _default_choice(self) -> dict[str, str]:
        choice = {
            "unit_id": "",
            "room_id": "",
            "doctor_id": "",
            "payer": Payer.UMUM.value,
            "bpjs_number": "",
        }
        if len(self.unit_options) == 1:
            choice["unit_id"] = self.unit_options[0]["value"]
        if len(self.doctor_options) == 1:
            choice["doctor_id"] = self.doctor_options[0]["value"]
        return choice

    def _load_rooms(self, branch_id: int) -> None:
        with read_scope() as session:
            rooms = reg.room_options(session, branch_id, _int(self.choice.get("unit_id", "")))
        self._show_rooms(rooms)

    def _show_rooms(self, rooms: list[reg.Option]) -> None:
        self.room_options = _options(rooms)
        if len(self.room_options) == 1:  # one room: nothing to choose
            self.choice["room_id"] = self.room_options[0]["value"]

    @rx.event
    def load(self):
        """on_load: permissions, the choices of the branch, a clean form, today's queue."""
        actor = self._viewer()
        if actor is None:
            self.page_allowed = False
            return
        self.page_allowed = True
        self.can_register = allows(actor.duty, Action.VISIT_REGISTER)
        self.can_cancel = allows(actor.duty, Action.VISIT_CANCEL)
        self.can_create_patient = allows(actor.duty, Action.PATIENT_CREATE)
        with read_scope() as session:
            view = reg.desk_view(session, actor.branch_id)
        self.unit_options, self.doctor_options = _options(view.units), _options(view.doctors)
        self.setup_gaps = [
            {"key": g.key, "message": g.message, "link": g.link_label, "href": g.href}
            for g in view.gaps
        ]
        self.search_term, self.search_problem, self.searched = "", "", False
        self.results, self.patient, self.errors = [], {}, {}
        self.last_number = self.last_unit = self.last_patient = ""
        self.choice = self._default_choice()
        self._show_rooms(view.rooms)
        self.queue_unit, self.queue_all = ALL_UNITS, False
        self.cancel_open = False
        self._reload_queue(rows=view.queue)

    def _on_board_change(self, topic: str, changed: live.Changed) -> None:
        """Another desk or an examination room changed a visit of this branch."""
        del topic, changed
        self._reload_queue(shared=True)

    # ----- the patient --------------------------------------------------------------------
    @rx.event
    def set_search_term(self, value: str):
        """Search as you type (the box sends its text after a short pause)."""
        self.search_term = payload_text(value, max_length=200)
        self._search()

    @rx.event
    def search(self):
        self._search()

    @rx.event
    def search_on_enter(self, key: str):
        """Enter: search now; when exactly one patient is listed, pick that one."""
        if key != "Enter":
            return
        self._search()
        if len(self.results) == 1:
            return self.pick_patient(self.results[0]["id"])

    def _search(self) -> None:
        actor = self._viewer()
        if actor is None:
            return
        self.searched = bool(self.search_term.strip())
        if not self.searched:
            self.results, self.search_problem, self.results_more = [], "", ""
            return
        with read_scope() as session:
            found = search_patients(
                session,
                actor.branch_id,
                self.search_term,
                SearchKind.AUTO,
                page_size=RESULT_LIMIT,
            )
        self.search_problem = found.problem
        more = found.total_capped or found.total > len(found.rows)
        self.results_more = f"{len(found.rows)} dari {found.total_label}" if more else ""
        self.results = [
            {
                "id": str(r.id),
                "name": r.name,
                "mrn": r.mrn,
                "nik": r.nik or "-",
                "birth_date": r.birth_date,
                "sex": r.sex,
            }
            for r in found.rows
        ]

    @rx.event
    def pick_patient(self, patient_id: str):
        """A search result (or the patient just added) becomes the visit's patient."""
        actor = self._viewer()
        if actor is None:
            return
        with read_scope() as session:
            patient = reg.patient_to_register(session, actor.branch_id, _int(patient_id) or 0)
        if patient is None:
            self.errors = {**self.errors, "patient_id": "Pasien tidak ditemukan."}
            return
        self.patient = {
            "id": str(patient.id),
            "name": patient.name,
            "mrn": patient.mrn,
            "nik": patient.nik or "-",
            "birth_date": format_date(patient.birth_date),
            "bpjs_number": patient.bpjs_number or "",
        }
        self.choice["bpjs_number"] = patient.bpjs_number or ""
        self.errors.pop("patient_id", None)
        self.errors.pop("bpjs_number", None)
        self.results, self.searched, self.search_term = [], False, ""
        self.last_number = ""
        # Keyboard: the patient is chosen, Enter on the focused button registers.
        return rx.set_focus("reg-submit")

    @rx.event
    def clear_patient(self):
        self.patient = {}

    # ----- the visit ----------------------------------------------------------------------
    @rx.event
    def pick_unit(self, unit_id: str):
        actor = self._viewer()
        if actor is None:
            return
        self.choice["unit_id"] = payload_text(unit_id, max_length=20)
        self.choice["room_id"] = ""
        self.errors.pop("unit_id", None)
        self.errors.pop("room_id", None)
        self._load_rooms(actor.branch_id)

    @rx.event
    def set_choice(self, field: str, value: str):
        if field in CHOICES and field != "unit_id":
            self.choice[field] = payload_text(value, max_length=20)
            self.errors.pop(field, None)

    @rx.event
    def register_on_enter(self, key: str):
        """Enter in the visit's last field (No. BPJS) registers, as Daftarkan does."""
        if key == "Enter":
            return self.register()

    @rx.event
    def register(self):
        """Daftarkan: the visit with the unit's next queue number."""
        actor = self._authorize(Action.VISIT_REGISTER)
        data = reg.VisitInput(
            patient_id=_int(self.patient.get("id", "")),
            unit_id=_int(self.choice.get("unit_id", "")),
            room_id=_int(self.choice.get("room_id", "")),
            doctor_id=_int(self.choice.get("doctor_id", "")),
            payer=self.choice.get("payer", ""),
            bpjs_number=self.choice.get("bpjs_number", ""),
        )
        try:
            with session_scope() as session:
                done = reg.register_at_desk(
                    session,
                    actor,
                    data,
                    queue_unit_id=_int(self.queue_unit),
                    show_all=self.queue_all,
                )
        except ValidationFailed as failed:
            self.errors = failed.errors
            return desk_error(failed.message)
        live.publish(
            live.branch_topic(actor.branch_id), exclude=self._client_token(), visit_id=done.visit_id
        )
        # The unit was just validated as one of the branch's: its name is in the options.
        unit_value = str(data.unit_id)
        unit_name = next((o["label"] for o in self.unit_options if o["value"] == unit_value), "")
        self.errors = {}
        number = done.queue_number
        self.last_number, self.last_unit = str(number), unit_name
        self.last_patient = self.patient.get("name", "")
        self.patient = {}  # ready for the next patient; unit, room, doctor stay
        self.choice["bpjs_number"] = ""
        self._reload_queue(rows=done.queue)
        return [
            *dismiss_errors(),
            rx.toast.success(
                f"{self.last_patient} terdaftar di {unit_name}, nomor antrean {number}."
            ),
            rx.set_focus("reg-patient-search"),
        ]

    # ----- today's queue ------------------------------------------------------------------
    @rx.event
    def set_queue_unit(self, value: str):
        self.queue_unit = payload_text(value, max_length=20) or ALL_UNITS
        self._reload_queue()

    @rx.event
    def toggle_queue_all(self):
        self.queue_all = not self.queue_all
        self._reload_queue()

    @rx.event
    def open_cancel(self, visit_id: str):
        actor = self._authorize(Action.VISIT_CANCEL)
        row = next((r for r in self.queue if r["id"] == visit_id), None)
        if row is None:
            return rx.toast.error("Kunjungan tidak ditemukan di antrean hari ini.")
        with read_scope() as session:
            self.cancel_version = reg.cancel_form_version(session, actor, int(visit_id))
        self.cancel_id = int(visit_id)
        self.cancel_label = f"{row['unit']} nomor {row['number']}: {row['patient']}"
        self.cancel_reason, self.cancel_error = "", ""
        self.cancel_open = True

    @rx.event
    def set_cancel_reason(self, value: str):
        self.cancel_reason = payload_text(value)
        self.cancel_error = ""

    @rx.event
    def set_cancel_open(self, open_: bool):
        self.cancel_open = bool(open_)
        if not open_:
            self.cancel_id, self.cancel_error = 0, ""

    @rx.event
    def confirm_cancel(self):
        """Batalkan: the visit is cancelled with the reason typed in the dialog."""
        actor = self._authorize(Action.VISIT_CANCEL)
        try:
            with session_scope() as session:
                visit = reg.cancel_visit(
                    session,
                    actor,
                    self.cancel_id,
                    self.cancel_reason,
                    expected_version=self.cancel_version,
                )
                number = visit.queue_number
        except ValidationFailed as failed:
            self.cancel_error = failed.errors.get("reason", failed.message)
            return
        except StaleEdit as stale:
            self.cancel_error = stale.message
            return desk_error(stale.message)
        live.publish(
            live.branch_topic(actor.branch_id),
            exclude=self._client_token(),
            visit_id=self.cancel_id,
        )
        self.cancel_open, self.cancel_id, self.cancel_reason = False, 0, ""
        self._reload_queue()
        return [
            *dismiss_errors(),
            rx.toast.success(f"Kunjungan nomor antrean {number} dibatalkan."),
        ]
