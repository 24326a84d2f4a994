"""Pemeriksaan: today's patients, one visit's examination, Selesai and the SATUSEHAT result.

Thin: the rules are in services/examination.py and services/visit_completion.py. The list
follows the branch board (new registrations appear live); the open visit follows its
SATUSEHAT job (the encounter id or the error appears without a reload).
"""

from __future__ import annotations

import reflex as rx
from sqlmodel import Session

from klinikita.db import read_scope, session_scope
from klinikita.models.clinical import VisitStatus
from klinikita.models.enums import SyncStatus
from klinikita.services import allergies as allergy_service
from klinikita.services import examination as exam_service
from klinikita.services import icd9cm, icd10, prescribing, satusehat_errors, tariffs
from klinikita.services import visit_completion as completion
from klinikita.services.errors import NotFound, PermissionDenied, StaleEdit, ValidationFailed
from klinikita.services.examination_view import LISTS, VisitRecord, as_completed, visit_record
from klinikita.services.job_notices import JobNotice, wake_workers
from klinikita.services.permissions import Action, allows
from klinikita.services.text_input import parse_id, payload_id, payload_search, payload_text
from klinikita.services.visit_queue import ShownQueue, list_key, todays_list
from klinikita.state import live
from klinikita.state.auth import AuthState
from klinikita.state.master_list import STALE_ERROR
from klinikita.state.queue_display import QueueCallMixin

PROCEDURE_FIELDS = ("code", "description", "note")
# The prescription forms (services/prescribing.py); item_name and unit are shown only.
RX_FIELDS = ("item_id", "item_name", "unit", "dose", "dose_amount", "frequency",
             "times_per_day", "route", "duration_days", "quantity", "instructions")  # fmt: skip
RX_ROUTE_OPTIONS = [(r.code, f"{r.code} · {r.label}") for r in prescribing.ROUTES]
RACIKAN_FORM_OPTIONS = [(f.key, f.label) for f in prescribing.COMPOUND_FORMS]
RACIKAN_FIELDS = ("name", "form", "quantity", "dose", "dose_amount", "frequency",
                  "times_per_day", "route", "duration_days", "instructions")  # fmt: skip
ICD_RESULTS = 15
VITALS_EMPTY = exam_service.VITALS_EMPTY  # the error key of a vitals form saved empty


def _queue_view(row) -> dict[str, str]:  # noqa: ANN001
    return {
        "id": str(row.visit_id),
        "queue_number": str(row.queue_number),
        "patient_name": row.patient_name,
        "mrn": row.mrn,
        "unit_name": row.unit_name,
        "room_name": row.room_name,
        "doctor_name": row.doctor_name,
        "status": row.status,
        "status_label": row.status_label,
        "arrived_time": row.arrived_time,
        "sync_status": row.sync_status,
    }


def _blocker_views(blockers: list[completion.Blocker]) -> list[dict[str, str]]:
    return [
        {"key": b.key, "message": b.message, "link": b.link, "link_label": b.link_label}
        for b in blockers
    ]


class ExaminationState(QueueCallMixin, AuthState):
    # Today's list (the visible rows only).
    rows: list[dict[str, str]] = []
    rows_all: bool = False  # finished and cancelled visits all listed, not the last few
    rows_hidden: int = 0
    # What the active duty may do (handlers check again on the server).
    can_vitals: bool = False
    can_medical: bool = False
    can_complete: bool = False
    can_resend: bool = False
    can_edit_record: bool = False
    # The open visit (0 = the list is shown).
    visit_id: int = 0
    header: dict[str, str] = {}
    status: str = ""
    sync_status: str = ""
    sync_error: str = ""
    encounter_id: str = ""
    sync_waiting: str = ""
    # What staff can do about a failed or held send (services/satusehat_errors.py).
    key_refused: bool = False
    # The branch's keys refused (shown above today's list): message and link, or empty.
    branch_key_refused: dict[str, str] = {}
    sync_hint: str = ""
    sync_link: str = ""
    sync_link_label: str = ""
    sync_detail: str = ""
    vitals: dict[str, str] = {}
    vitals_time: str = ""
    vitals_errors: dict[str, str] = {}
    vitals_dirty: bool = False
    soap: dict[str, str] = {}
    soap_errors: dict[str, str] = {}
    soap_dirty: bool = False
    # The examination's version each form was filled from (0: none yet): a save passes it,
    # so a change saved by another tab meanwhile is refused, not overwritten.
    vitals_version: int = 0
    soap_version: int = 0
    # What each form was filled with (server only): a save of the other section in between
    # is then no conflict.
    _vitals_filled_from: dict[str, str] = {}
    _soap_filled_from: dict[str, str] = {}
    diagnoses: list[dict[str, str]] = []
    icd_query: str = ""
    icd_results: list[dict[str, str]] = []
    icd_error: str = ""
    # A category picked that has subcodes: offered before it is added (SATUSEHAT flags it).
    icd_category: str = ""
    icd_subcodes: list[dict[str, str]] = []
    procedures: list[dict[str, str]] = []
    procedure_query: str = ""
    procedure_results: list[dict[str, str]] = []
    procedure_form: dict[str, str] = {}
    procedure_errors: dict[str, str] = {}
    prescriptions: list[dict[str, str]] = []
    # Resep: the single-line form (an item picked from the search) and the racikan form with
    # its ingredient rows; `rx_warning`: the allergy warning awaiting the doctor's answer.
    rx_query: str = ""
    rx_results: list[dict[str, str]] = []
    rx_form: dict[str, str] = {}
    rx_errors: dict[str, str] = {}
    racikan_form: dict[str, str] = {}
    racikan_rows: list[dict[str, str]] = []
    racikan_query: str = ""
    racikan_results: list[dict[str, str]] = []
    racikan_errors: dict[str, str] = {}
    rx_warning: str = ""
    _rx_pending: str = ""  # "line" or "compound": what the warning's confirmation adds
    blockers: list[dict[str, str]] = []
    _branch_id: int = 0
    _shown: VisitRecord | None = None  # the open visit as last read (Selesai builds on it)

    # ----- derived ------------------------------------------------------------------
    @rx.var
    def can_change(self) -> bool:
        """The open examination may be changed: not finished, or finished and admin."""
        if self.status == VisitStatus.CANCELLED:
            return False
        return self.status != VisitStatus.COMPLETE or self.can_edit_record

    @rx.var
    def can_prescribe(self) -> bool:
        """The prescription may change: a doctor, before Selesai (then the pharmacy has it)."""
        open_ = self.status not in (VisitStatus.COMPLETE, VisitStatus.CANCELLED)
        return self.can_medical and open_ and bool(self.visit_id)

    @rx.var
    def rx_quantity_label(self) -> str:
        unit = self.rx_form.get("unit", "")
        return f"Jumlah ({unit})" if unit else "Jumlah"

    @rx.var
    def is_complete(self) -> bool:
        return self.status == VisitStatus.COMPLETE

    @rx.var
    def duty_hint(self) -> str:
        if self.can_medical:
            return "Anda dapat mengisi seluruh pemeriksaan dan menyelesaikannya."
        if self.can_vitals:
            return "Tugas Anda mengisi tanda vital. SOAP, diagnosis dan Selesai diisi dokter."
        return "Tugas Anda hanya dapat melihat pemeriksaan."

    # ----- loading ------------------------------------------------------------------
    def _load_rows(self, *, shared: bool = False) -> None:
        """Today's list; `shared` (a live push) reuses the read other tabs just made."""
        branch_id = self._branch_id
        if not branch_id:
            self.rows = []
            return

        show_all = self.rows_all

        def read() -> ShownQueue:
            with read_scope() as session:
                return todays_list(session, branch_id, show_all=show_all)

        key = list_key(None, show_all)
        shown = live.shared(live.branch_topic(branch_id), key, read) if shared else read()
        views = [_queue_view(r) for r in shown.rows]
        if views != self.rows:  # an unchanged list is not sent to the browser again
            self.rows = views
        if shown.hidden != self.rows_hidden:
            self.rows_hidden = shown.hidden
        self._load_called(shared=shared)  # "Panggil" or "Panggil ulang" per row

    @rx.event
    def toggle_rows_all(self):
        self._branch_id = self._authorize(Action.VIEW_PEMERIKSAAN).branch_id
        self.rows_all = not self.rows_all
        self._load_rows()

    def _read_record(self, session: Session, lists: tuple[str, ...]) -> VisitRecord | None:
        try:
            return visit_record(session, self._branch_id, self.visit_id, lists=lists)
        except NotFound:
            return None

    def _load_record(self, *, keep_forms: bool = False, lists: tuple[str, ...] = LISTS) -> None:
        """Read the open visit (of its lists, only `lists`); `keep_forms` leaves what the
        user is typing alone."""
        if not self.visit_id or not self._branch_id:
            return
        with read_scope() as session:
            record = self._read_record(session, lists)
        self._show_record(record, keep_forms=keep_forms)

    def _show_record(self, record: VisitRecord | None, *, keep_forms: bool) -> None:
        if record is None:
            self._close()
            return
        self._shown = record
        header = {
            "queue_number": str(record.queue_number),
            "patient_name": record.patient_name,
            "mrn": record.mrn,
            "nik": record.patient_nik or "-",
            "sex": record.sex_label,
            "age": record.age,
            "payer": record.payer.upper(),
            "unit_name": record.unit_name,
            "room_name": record.room_name,
            "doctor_name": record.doctor_name,
            "status_label": record.status_label,
            "arrived_time": record.arrived_time,
            "exam_started_time": record.exam_started_time or "-",
            "completed_time": record.completed_time or "-",
        }
        shown = {
            "header": header,
            "status": record.status,
            "sync_status": record.sync_status,
            "sync_error": record.sync_error,
            "encounter_id": record.encounter_id,
            "sync_waiting": record.sync_waiting,
            "vitals_time": record.vitals_time,
        }
        hint = satusehat_errors.visit_sync_message(
            sync_status=record.sync_status,
            sync_error=record.sync_error,
            key_refused=record.key_refused,
            subject=satusehat_errors.Subject(self._branch_id, record.patient_id, record.visit_id),
            may_fix=allows(self.duty, Action.BRANCH_SETTINGS),
        )
        shown |= {
            "key_refused": record.key_refused and record.sync_status == SyncStatus.SENDING,
            "sync_hint": hint.message,
            "sync_link": hint.link,
            "sync_link_label": hint.link_label,
            "sync_detail": hint.detail,
        }
        for name in LISTS:
            if getattr(record, name) is not None:  # None: not read this time
                shown[name] = getattr(record, name)
        if not (keep_forms and self.vitals_dirty):
            shown["vitals"], self.vitals_dirty = record.vitals, False
            shown["vitals_version"] = record.exam_version
            self._vitals_filled_from = dict(record.vitals)
        if not (keep_forms and self.soap_dirty):
            shown["soap"], self.soap_dirty = record.soap, False
            shown["soap_version"] = record.exam_version
            self._soap_filled_from = dict(record.soap)
        # Only what differs is assigned: every assigned var travels to the browser again.
        for name, value in shown.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    def _close(self) -> None:
        self.visit_id, self._shown = 0, None
        live.focus(self._client_token(), 0)
        self.header, self.vitals, self.soap = {}, {}, {}
        self.diagnoses, self.procedures, self.prescriptions = [], [], []
        self._clear_inputs()

    def _clear_inputs(self) -> None:
        self.vitals_errors, self.soap_errors = {}, {}
        self.vitals_dirty = self.soap_dirty = False
        self.icd_query, self.icd_results, self.icd_error = "", [], ""
        self.procedure_query, self.procedure_results = "", []
        self.procedure_form = {f: "" for f in PROCEDURE_FIELDS}
        self.procedure_errors = {}
        self._rx_reset()
        self.blockers = []

    def _refresh_blockers(self) -> None:
        """A shown blocker list shrinks as things are fixed (it appears on Selesai)."""
        if not self.blockers or not self.visit_id:
            return
        try:
            with read_scope() as session:
                blockers = completion.completion_blockers(session, self.visit_id)
        except NotFound:
            blockers = []
        self.blockers = _blocker_views(blockers)

    def _after_change(
        self, *, saved: str = "", lists: tuple[str, ...] = LISTS, recheck_blockers: bool = True
    ) -> None:
        """This tab changed the open visit (committed): reload it and tell the other tabs
        (the list is hidden while a visit is open; closing the visit reloads it). `saved`
        names the form ("vitals", "soap") whose typing is now what is stored; of the visit's
        lists only `lists`, those the change touched, are read again (another tab's changes
        to them come as a live update). A shown blocker list is checked again unless
        `recheck_blockers` is off."""
        if saved == "vitals":
            self.vitals_errors, self.vitals_dirty = {}, False
        elif saved == "soap":
            self.soap_errors, self.soap_dirty = {}, False
        self._load_record(keep_forms=True, lists=lists)
        if recheck_blockers:
            self._refresh_blockers()
        self._tell_others()

    def _tell_others(self) -> None:
        if self._branch_id:
            live.publish(
                live.branch_topic(self._branch_id),
                exclude=self._client_token(),
                visit_id=self.visit_id or None,
            )

    @rx.event
    def load(self):
        """on_load: the duty's flags, today's list, the visit in ?kunjungan= if any."""
        actor = self._current_actor()
        if actor is None:
            return
        self.page_allowed = allows(actor.duty, Action.VIEW_PEMERIKSAAN)
        if not self.page_allowed:
            self._branch_id = 0
            self.rows = []
            self._close()
            return
        self.can_vitals = allows(actor.duty, Action.EXAM_VITALS)
        self.can_medical = allows(actor.duty, Action.EXAM_MEDICAL)
        self.can_complete = allows(actor.duty, Action.EXAM_COMPLETE)
        self.can_resend = allows(actor.duty, Action.SATUSEHAT_RESEND)
        self.can_edit_record = allows(actor.duty, Action.RECORD_EDIT)
        if self._branch_id != actor.branch_id:
            self._close()
        self._branch_id = actor.branch_id
        live.watch(live.branch_topic(actor.branch_id), self._client_token(), type(self))
        self._load_rows()
        with read_scope() as session:
            notice = satusehat_errors.branch_key_notice(
                session, actor.branch_id, may_fix=allows(actor.duty, Action.BRANCH_SETTINGS)
            )
        self.branch_key_refused = notice.shown() if notice else {}
        wanted = parse_id(self.router.url.query_parameters.get("kunjungan", ""))
        if wanted is None:
            self._close()  # the plain menu link shows today's list
        elif wanted != self.visit_id:
            self._open(wanted)
        else:
            live.focus(self._client_token(), self.visit_id)  # `watch` above forgot it
            self._load_record()

    def _open(self, visit_id: int) -> None:
        self._clear_inputs()
        self.visit_id = visit_id
        live.focus(self._client_token(), visit_id)
        self._load_record()

    @rx.event
    def open_visit(self, visit_id: str):
        wanted = payload_id(visit_id, "Kunjungan")
        actor = self._authorize(Action.VIEW_PEMERIKSAAN)
        self._branch_id = actor.branch_id
        self._open(wanted)
        if not self.visit_id:
            return rx.toast.error("Kunjungan tidak ditemukan di cabang aktif.")

    @rx.event
    def close_visit(self):
        self._close()
        self._branch_id = self._authorize(Action.VIEW_PEMERIKSAAN).branch_id
        self._load_rows()

    def _on_board_change(self, topic: str, changed: live.Changed) -> None:
        """Another tab changed today's visits (a registration, a nurse's vitals): the list,
        or the open visit when the change is about it."""
        del topic
        if not self.visit_id:
            self._load_rows(shared=True)
        elif not changed or self.visit_id in changed:
            self._load_record(keep_forms=True)
            self._refresh_blockers()

    def _on_sync_notice(self, notice: JobNotice) -> None:
        """The worker finished this tab's job: show the encounter id or SATUSEHAT's error."""
        if not self.visit_id:
            self._load_rows()
        elif notice.subject_type == "visit" and notice.subject_id == self.visit_id:
            self._load_record(keep_forms=True)

    # ----- examination start and vitals -----------------------------------------------
    @rx.event
    def start_exam(self):
        actor = self._authorize(Action.EXAM_VITALS)
        with session_scope() as session:
            exam_service.start_examination(session, actor, self.visit_id)
        self._after_change(lists=())

    @rx.event
    def set_vital(self, field: str, value: str):
        if field in exam_service.VITAL_FIELDS:
            self.vitals[field] = payload_text(value, max_length=100)
            self.vitals_errors.pop(field, None)
            self.vitals_dirty = True

    @rx.event
    def save_vitals(self):
        actor = self._authorize(Action.EXAM_VITALS)
        try:
            with session_scope() as session:
                exam_service.save_vitals(
                    session,
                    actor,
                    self.visit_id,
                    dict(self.vitals),
                    client_token=self._client_token(),
                    expected_version=self.vitals_version,
                    filled_from=dict(self._vitals_filled_from),
                )
        except ValidationFailed as failed:
            self.vitals_errors = failed.errors
            return rx.toast.error(failed.errors.get(exam_service.VITALS_EMPTY, failed.message))
        except StaleEdit as stale:
            self.vitals_errors = {STALE_ERROR: stale.message}
            return rx.toast.error(stale.message)
        self._after_change(saved="vitals", lists=())  # unsaved SOAP typing stays
        return rx.toast.success("Tanda vital disimpan.")

    # ----- SOAP --------------------------------------------------------------------
    @rx.event
    def set_soap(self, field: str, value: str):
        if field in exam_service.SOAP_FIELDS:
            self.soap[field] = payload_text(value)
            self.soap_errors.pop(field, None)
            self.soap_dirty = True

    @rx.event
    def save_soap(self):
        actor = self._authorize(Action.EXAM_MEDICAL)
        try:
            with session_scope() as session:
                exam_service.save_soap(
                    session,
                    actor,
                    self.visit_id,
                    dict(self.soap),
                    expected_version=self.soap_version,
                    filled_from=dict(self._soap_filled_from),
                )
        except ValidationFailed as failed:
            self.soap_errors = failed.errors
            return rx.toast.error(failed.message)
        except StaleEdit as stale:
            self.soap_errors = {STALE_ERROR: stale.message}
            return rx.toast.error(stale.message)
        self._after_change(saved="soap", lists=())  # unsaved vitals typing stays
        return rx.toast.success("SOAP disimpan.")

    # ----- diagnoses ------------------------------------------------------------------
    @rx.event
    def search_icd(self, query: str):
        """Debounced in the page: by code, English or Indonesian words, the branch's most
        used diagnoses first (services/icd10)."""
        actor = self._authorize(Action.EXAM_MEDICAL)
        query = payload_search(query)
        self.icd_query = query
        self.icd_error = ""
        self.icd_category, self.icd_subcodes = "", []
        if len(query.strip()) < 2:
            self.icd_results = []
            return
        with read_scope() as session:
            found = icd10.search_for_branch(session, actor.branch_id, query, ICD_RESULTS)
        taken = {d["code"] for d in self.diagnoses}
        self.icd_results = [
            {
                "code": term.code,
                "display": term.name,
                "english": term.english if term.indonesian else "",
                "taken": "1" if term.code in taken else "",
            }
            for term in found
        ]

    @rx.event
    def add_diagnosis(self, code: str):
        """A category with subcodes is first offered them; picking it again keeps it."""
        actor = self._authorize(Action.EXAM_MEDICAL)
        code = payload_search(code, max_length=16)
        offered = icd10.subcodes(code)
        if offered and self.icd_category != icd10.normalize(code):
            self.icd_category = icd10.normalize(code)
            self.icd_subcodes = [
                {"code": c, "display": icd10.shown_names(c, text)[0]} for c, text in offered
            ]
            return
        try:
            with session_scope() as session:
                added = exam_service.add_diagnosis(
                    session, actor, self.visit_id, code, client_token=self._client_token()
                )
        except ValidationFailed as failed:
            self.icd_error = failed.errors.get("icd10", failed.message)
            return rx.toast.error(self.icd_error)
        self.icd_query, self.icd_results, self.icd_error = "", [], ""
        self.icd_category, self.icd_subcodes = "", []
        self._after_change(lists=("diagnoses",))
        label = f"{added.icd10_code} ({'utama' if added.rank == 1 else 'sekunder'})"
        return rx.toast.success(f"Diagnosis {label} ditambahkan.")

    @rx.event
    def set_primary(self, diagnosis_id: str):
        actor = self._authorize(Action.EXAM_MEDICAL)
        with session_scope() as session:
            exam_service.set_primary(
                session,
                actor,
                self.visit_id,
                payload_id(diagnosis_id, "Diagnosis"),
                client_token=self._client_token(),
            )
        self._after_change()

    @rx.event
    def remove_diagnosis(self, diagnosis_id: str):
        actor = self._authorize(Action.EXAM_MEDICAL)
        with session_scope() as session:
            exam_service.remove_diagnosis(
                session,
                actor,
                self.visit_id,
                payload_id(diagnosis_id, "Diagnosis"),
                client_token=self._client_token(),
            )
        self._after_change()

    # ----- procedures -------------------------------------------------
    @rx.event
    def set_procedure_field(self, field: str, value: str):
        if field in PROCEDURE_FIELDS:
            self.procedure_form[field] = payload_text(value, max_length=1000)
            self.procedure_errors.pop(field, None)

    @rx.event
    def search_procedure(self, query: str):
        """Debounced in the page: the branch's own names for procedures (its procedure
        tariffs, "Tindakan klinik"), then ICD-9-CM by Indonesian words, code or English
        (services/icd9cm, in memory)."""
        actor = self._authorize(Action.EXAM_MEDICAL)
        query = payload_search(query)
        self.procedure_query = query
        if len(query.strip()) < 2:
            self.procedure_results = []
            return
        with read_scope() as session:
            own = tariffs.clinic_procedures(session, actor.branch_id, query)
        self.procedure_results = [
            {
                "key": f"klinik-{number}",
                "code": p.code,
                "display": p.name,
                "english": icd9cm.describe(p.code) or "",
                "clinic": "1",
            }
            for number, p in enumerate(own)
        ] + [
            {
                "key": t.code,
                "code": t.code,
                "display": t.name,
                "english": t.english if t.indonesian else "",
                "clinic": "",
            }
            for t in icd9cm.search(query, ICD_RESULTS)
        ]

    @rx.event
    def pick_procedure(self, key: str):
        """A result shown fills the form's code and name (the name stays editable): a
        clinic's procedure its own name, an ICD-9-CM one its Indonesian name, else its
        English title."""
        chosen = next((r for r in self.procedure_results if r["key"] == str(key)), None)
        if chosen is None:
            return
        self.procedure_form["code"] = chosen["code"]
        self.procedure_form["description"] = chosen["display"]
        self.procedure_errors.pop("code", None)
        self.procedure_errors.pop("description", None)
        self.procedure_query, self.procedure_results = "", []

    @rx.event
    def add_procedure(self):
        actor = self._authorize(Action.EXAM_MEDICAL)
        try:
            with session_scope() as session:
                exam_service.add_procedure(
                    session,
                    actor,
                    self.visit_id,
                    dict(self.procedure_form),
                    client_token=self._client_token(),
                )
        except ValidationFailed as failed:
            self.procedure_errors = failed.errors
            return rx.toast.error(failed.message)
        self.procedure_form = {f: "" for f in PROCEDURE_FIELDS}
        self.procedure_errors = {}
        self._after_change()

    @rx.event
    def remove_procedure(self, procedure_id: str):
        actor = self._authorize(Action.EXAM_MEDICAL)
        with session_scope() as session:
            exam_service.remove_procedure(
                session,
                actor,
                self.visit_id,
                payload_id(procedure_id, "Tindakan"),
                client_token=self._client_token(),
            )
        self._after_change()

    # ----- prescriptions (services/prescribing.py) ---------------------------------------
    def _rx_reset(self) -> None:
        self.rx_query, self.rx_results = "", []
        self.rx_form = {f: "" for f in RX_FIELDS} | {"route": "O"}
        self.racikan_form = {f: "" for f in RACIKAN_FIELDS} | {"route": "O", "form": "puyer"}
        self.racikan_rows, self.racikan_query, self.racikan_results = [], "", []
        self.rx_errors, self.racikan_errors = {}, {}
        self.rx_warning, self._rx_pending = "", ""

    def _rx_search(self, query: object) -> tuple[str, list[dict[str, str]]]:
        actor = self._authorize(Action.EXAM_MEDICAL)
        text = payload_search(query)
        if len(text.strip()) < 2:
            return text, []
        with read_scope() as session:
            return text, prescribing.search_items(session, actor, text)

    @rx.event
    def search_rx_item(self, query: str):
        """The drug master items for the single-line form (debounced in the page)."""
        self.rx_query, self.rx_results = self._rx_search(query)

    @rx.event
    def pick_rx_item(self, item_id: str):
        """Take an item of the results shown into the single-line form."""
        chosen = next((r for r in self.rx_results if r["id"] == str(item_id)), None)
        if chosen is None:
            return
        self.rx_form = self.rx_form | {"item_id": chosen["id"], "item_name": chosen["name"],
                                       "unit": chosen["unit"]}  # fmt: skip
        self.rx_query, self.rx_results = "", []
        self.rx_errors.pop("item_id", None)

    @rx.event
    def set_rx_field(self, field: str, value: str):
        if field in RX_FIELDS and field not in ("item_id", "item_name", "unit"):
            self.rx_form[field] = payload_text(value, max_length=1000)
            self.rx_errors.pop(field, None)

    @rx.event
    def set_racikan_field(self, field: str, value: str):
        if field in RACIKAN_FIELDS:
            self.racikan_form[field] = payload_text(value, max_length=1000)
            self.racikan_errors.pop(field, None)

    @rx.event
    def search_racikan_item(self, query: str):
        self.racikan_query, self.racikan_results = self._rx_search(query)

    @rx.event
    def pick_racikan_item(self, item_id: str):
        """Add an item of the results shown as an ingredient row of the racikan."""
        chosen = next((r for r in self.racikan_results if r["id"] == str(item_id)), None)
        if chosen is None or any(r["item_id"] == chosen["id"] for r in self.racikan_rows):
            return
        row = {"item_id": chosen["id"], "name": chosen["name"], "unit": chosen["unit"],
               "quantity": "", "dose_text": ""}  # fmt: skip
        self.racikan_rows = [*self.racikan_rows, row]
        self.racikan_query, self.racikan_results = "", []
        self.racikan_errors.pop("ingredients", None)

    @rx.event
    def set_racikan_row(self, index: int, field: str, value: str):
        if field in ("quantity", "dose_text") and isinstance(index, int):
            if 0 <= index < len(self.racikan_rows):
                rows = [dict(r) for r in self.racikan_rows]
                rows[index][field] = payload_text(value, max_length=100)
                self.racikan_rows = rows
                self.racikan_errors.pop(f"ingredients.{index}.{field}", None)

    @rx.event
    def remove_racikan_row(self, index: int):
        if isinstance(index, int) and 0 <= index < len(self.racikan_rows):
            self.racikan_rows = [r for i, r in enumerate(self.racikan_rows) if i != index]
            self.racikan_errors = {}

    def _rx_write(self, kind: str, *, confirm: bool):
        """Add the single line (`kind` "line") or the racikan ("compound"); an allergy
        warning opens the dialog instead, and its confirmation calls this again."""
        actor = self._authorize(Action.EXAM_MEDICAL)
        if kind == "line":
            data, add = dict(self.rx_form), prescribing.add_line
        else:
            data = dict(self.racikan_form) | {
                "ingredients": [
                    {k: r.get(k, "") for k in ("item_id", "quantity", "dose_text")}
                    for r in self.racikan_rows
                ]
            }
            add = prescribing.add_compound
        try:
            with session_scope() as session:
                line = add(session, actor, self.visit_id, data, confirm=confirm)
        except ValidationFailed as failed:
            if kind == "line":
                self.rx_errors = failed.errors
            else:
                self.racikan_errors = failed.errors
            return rx.toast.error(failed.message)
        except prescribing.AllergyWarning as warned:
            self.rx_warning, self._rx_pending = warned.message, kind
            return None
        name = line.medicine
        self.rx_warning, self._rx_pending = "", ""
        if kind == "line":
            self.rx_form = {f: "" for f in RX_FIELDS} | {"route": "O"}
            self.rx_errors = {}
        else:
            self.racikan_form = {f: "" for f in RACIKAN_FIELDS} | {"route": "O",
                                                                   "form": "puyer"}  # fmt: skip
            self.racikan_rows, self.racikan_errors = [], {}
        self._after_change(lists=("prescriptions",))
        return rx.toast.success(f"R/{line.line_no} {name} ditambahkan ke resep.")

    @rx.event
    def add_rx_line(self):
        return self._rx_write("line", confirm=False)

    @rx.event
    def add_racikan(self):
        return self._rx_write("compound", confirm=False)

    @rx.event
    def confirm_rx_allergy(self):
        """The doctor confirms the line the allergy warning was about (audited)."""
        if self._rx_pending not in ("line", "compound"):
            self._authorize(Action.EXAM_MEDICAL)
            self.rx_warning = ""
            return None
        return self._rx_write(self._rx_pending, confirm=True)

    @rx.event
    def cancel_rx_allergy(self):
        self.rx_warning, self._rx_pending = "", ""

    @rx.event
    def remove_prescription(self, prescription_id: str):
        actor = self._authorize(Action.EXAM_MEDICAL)
        with session_scope() as session:
            prescribing.remove_line(
                session, actor, self.visit_id, payload_id(prescription_id, "Resep")
            )
        self._after_change(lists=("prescriptions",))

    # ----- Selesai and SATUSEHAT -----------------------------------------------------
    @rx.event
    def complete(self):
        """Selesai: the readiness check; when ready, complete and queue the sending."""
        actor = self._authorize(Action.EXAM_COMPLETE)
        if self.vitals_dirty or self.soap_dirty:
            return rx.toast.warning(
                "Ada tanda vital atau SOAP yang belum disimpan. Simpan dulu, lalu tekan Selesai."
            )
        visit_id, shown = self.visit_id, self._shown
        try:
            with session_scope() as session:
                visit = completion.complete_visit(
                    session, actor, visit_id, client_token=self._client_token()
                )
        except completion.VisitNotReady as refused:
            self.blockers = _blocker_views(refused.blockers)
            return rx.toast.error("Belum bisa diselesaikan. Lihat daftar yang harus dilengkapi.")
        if shown is not None and shown.visit_id == visit_id:
            # What Selesai changes is known: the visit is not read again; another tab's
            # changes come as live updates.
            self._show_record(as_completed(shown, visit), keep_forms=True)
            self._tell_others()
        else:
            self._after_change(lists=(), recheck_blockers=False)  # none left to show
        self.blockers = []
        wake_workers()
        return rx.toast.success("Pemeriksaan selesai. Mengirim ke SATUSEHAT...")

    @rx.event
    def resend(self):
        """Kirim ulang a visit whose sending failed."""
        actor = self._authorize(Action.SATUSEHAT_RESEND)
        with session_scope() as session:
            completion.resend_visit(
                session, actor, self.visit_id, client_token=self._client_token()
            )
        wake_workers()
        self._after_change()
        return rx.toast.info("Kunjungan dikirim ulang ke SATUSEHAT.")

    @rx.var
    def sync_sending(self) -> bool:
        return self.sync_status == SyncStatus.SENDING

    @rx.var
    def sync_failed(self) -> bool:
        return self.sync_status == SyncStatus.FAILED


live.register("visit", ExaminationState)


ALLERGY_FIELDS = ("kind", "allergen", "item_id", "item_name", "reaction", "severity", "reason")
ALLERGY_OPTIONS = allergy_service.allergen_options()


def _allergy_form() -> dict[str, str]:
    return {f: "" for f in ALLERGY_FIELDS} | {"kind": "substance"}


class ExamAllergyState(ExaminationState):
    """Alergi at the top of the open visit: the patient's active allergies, recording one
    (a common allergen, a drug of the branch's drug master, or "tidak ada alergi") and
    withdrawing one with a reason. Rules: services/allergies.py."""

    allergies: list[dict[str, str]] = []
    allergy_status: str = ""  # allergies.STATUS_*: the banner's colour
    allergy_form: dict[str, str] = _allergy_form()
    allergy_errors: dict[str, str] = {}
    allergy_drugs: list[dict[str, str]] = []
    allergy_withdrawing: str = ""  # the id whose reason is being asked
    allergy_options: list[dict[str, str]] = ALLERGY_OPTIONS
    can_allergy: bool = False
    _allergy_visit: int = 0

    def _show_allergies(self, patient_id: int) -> None:
        actor = self._current_actor()
        if actor is None or not patient_id:
            shown: list[dict] = []
        else:
            try:
                with read_scope() as session:
                    shown = allergy_service.patient_allergies(session, actor, patient_id)
            except PermissionDenied:
                shown = []
        self.can_allergy = actor is not None and allows(actor.duty, Action.ALLERGY_RECORD)
        self.allergies = [{k: str(v) for k, v in row.items()} for row in shown]
        self.allergy_status = allergy_service.status_of(shown)

    @rx.event
    def refresh_allergies(self):
        """Read the open visit's patient's allergies (when the section shows a visit)."""
        self._authorize(Action.VIEW_PEMERIKSAAN)
        if self._shown is None or not self.visit_id:
            self.allergies, self.allergy_status = [], ""
            return
        if self._allergy_visit != self.visit_id:
            self._allergy_visit = self.visit_id
            self.allergy_form, self.allergy_errors = _allergy_form(), {}
            self.allergy_drugs, self.allergy_withdrawing = [], ""
        self._show_allergies(self._shown.patient_id)

    @rx.event
    def set_allergy_field(self, field: str, value: str):
        if field in ALLERGY_FIELDS:
            self.allergy_form[field] = payload_text(value, max_length=1000)
            self.allergy_errors.pop(field, None)

    @rx.event
    def search_allergy_drug(self, text: str):
        actor = self._authorize(Action.ALLERGY_RECORD)
        self.allergy_form = {**self.allergy_form, "item_name": payload_search(text), "item_id": ""}
        with read_scope() as session:
            self.allergy_drugs = allergy_service.search_drugs(session, actor, text)

    @rx.event
    def pick_allergy_drug(self, item_id: str, name: str):
        picked = {"item_id": payload_text(item_id, max_length=20)}
        picked["item_name"] = payload_text(name, max_length=200)
        self.allergy_form = {**self.allergy_form, **picked}
        self.allergy_drugs = []
        self.allergy_errors.pop("item_id", None)

    def _record(self, data: dict[str, str]):
        actor = self._authorize(Action.ALLERGY_RECORD)
        try:
            with session_scope() as session:
                allergy_service.record_allergy(session, actor, self.visit_id, data)
        except ValidationFailed as failed:
            self.allergy_errors = failed.errors
            return rx.toast.error(failed.message)
        self.allergy_form, self.allergy_errors, self.allergy_drugs = _allergy_form(), {}, []
        self._show_allergies(self._shown.patient_id if self._shown else 0)
        self._tell_others()
        return rx.toast.success("Alergi tercatat.")

    @rx.event
    def record_allergy(self):
        return self._record(dict(self.allergy_form))

    @rx.event
    def record_no_allergy(self):
        return self._record({"kind": "none"})

    @rx.event
    def ask_withdraw_allergy(self, allergy_id: str):
        self.allergy_withdrawing = payload_text(allergy_id, max_length=20)
        self.allergy_form = {**self.allergy_form, "reason": ""}
        self.allergy_errors = {k: v for k, v in self.allergy_errors.items() if k != "reason"}

    @rx.event
    def withdraw_allergy(self):
        actor = self._authorize(Action.ALLERGY_RECORD)
        allergy_id = payload_id(self.allergy_withdrawing, "Alergi")
        try:
            with session_scope() as session:
                allergy_service.withdraw_allergy(
                    session, actor, allergy_id, self.allergy_form.get("reason", "")
                )
        except ValidationFailed as failed:
            self.allergy_errors = failed.errors
            return rx.toast.error(failed.message)
        self.allergy_withdrawing = ""
        self.allergy_form = {**self.allergy_form, "reason": ""}
        self._show_allergies(self._shown.patient_id if self._shown else 0)
        self._tell_others()
        return rx.toast.success("Alergi dicabut.")
