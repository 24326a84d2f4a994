"""Kontak -> Pasien: search, register, change (admin) and follow the SATUSEHAT lookup."""

from __future__ import annotations

import reflex as rx

from klinikita import routes
from klinikita.db import read_scope, session_scope
from klinikita.models.enums import SyncStatus
from klinikita.services import patient_records as records
from klinikita.services import regions as region_service
from klinikita.services import satusehat_errors
from klinikita.services.audit import Actor
from klinikita.services.dates import parse_typed_date, typed_date
from klinikita.services.errors import StaleEdit, ValidationFailed
from klinikita.services.job_notices import JobNotice, wake_workers
from klinikita.services.newborns import mother_nik_warning
from klinikita.services.nik import nik_problem, nik_warning
from klinikita.services.patients import (
    PatientRow,
    SearchKind,
    next_mrn_preview,
    search_patients,
)
from klinikita.services.permissions import Action, allows
from klinikita.services.text_input import parse_id, payload_id, payload_search, payload_text
from klinikita.state import live
from klinikita.state.auth import AuthState
from klinikita.state.master_list import STALE_ERROR
from klinikita.state.paging import PagedList
from klinikita.state.registration import RegistrationState, desk_error, dismiss_errors

REGION_FIELDS = ("province_code", "city_code", "district_code", "village_code")
TEXT_FIELDS = (
    "name",
    "birth_date",
    "sex",
    "nik",
    "kk_number",
    "bpjs_number",
    "phone",
    "street",
    "rt",
    "rw",
    "no_nik_reason",
    "mother_nik",
    "birth_order",
) + REGION_FIELDS
FLAGS = ("is_newborn", "is_foreigner", "no_nik")
RESENDABLE = (SyncStatus.FAILED, SyncStatus.NOT_FOUND)


def _sync_message(patient_id: int, raw: str) -> dict[str, str]:
    """SATUSEHAT's answer in words (`sync_error`) and as it came (`sync_detail`)."""
    hint = satusehat_errors.row_hint(raw, satusehat_errors.Subject(patient_id=patient_id))
    return {"sync_error": hint["error"], "sync_detail": hint["error_detail"]}


def _row_view(row: PatientRow) -> dict[str, str]:
    return {
        "id": str(row.id),
        "mrn": row.mrn,
        "nik": row.nik or "-",
        "name": row.name,
        "birth_date": row.birth_date,
        "sex": row.sex,
        "phone": row.phone or "-",
        "ihs_number": row.ihs_number,
        "sync_status": row.sync_status,
        **_sync_message(row.id, row.sync_error),
        "resendable": "1" if row.sync_status in RESENDABLE else "",
    }


def _options(items: list[region_service.RegionOption]) -> list[dict[str, str]]:
    return [{"value": r.code, "label": r.name} for r in items]


class PatientState(PagedList, AuthState):
    # The visible page of the list, never the table.
    rows: list[dict[str, str]] = []
    search_term: str = ""
    search_kind: str = SearchKind.AUTO.value
    search_problem: str = ""
    # What the active duty may do (the handlers check again on the server).
    can_create: bool = False
    can_edit: bool = False
    can_delete: bool = False
    can_resend: bool = False
    # The form.
    form_open: bool = False
    editing_id: int = 0
    editing_version: int = 0  # the patient's version when the form was filled
    form: dict[str, str] = {}
    flags: dict[str, bool] = {}
    errors: dict[str, str] = {}
    warnings: dict[str, str] = {}
    similar: list[dict[str, str]] = []
    mrn_label: str = ""
    # Opened from Pendaftaran: the saved patient is picked into the registration form.
    pick_after_save: bool = False
    province_options: list[dict[str, str]] = []
    city_options: list[dict[str, str]] = []
    district_options: list[dict[str, str]] = []
    village_options: list[dict[str, str]] = []
    # The region picker: type a kelurahan/desa (or kecamatan), pick one, all four filled.
    region_term: str = ""
    region_results: list[dict[str, str]] = []
    region_label: str = ""  # the chosen village with the levels above it

    # ----- list ---------------------------------------------------------------------
    def _allowed_viewer(self) -> Actor | None:
        actor = self._current_actor()
        if actor is None or not allows(actor.duty, Action.VIEW_KONTAK):
            self.rows = []
            return None
        return actor

    def _load_page(self) -> None:
        actor = self._allowed_viewer()
        if actor is None:
            return
        with read_scope() as session:
            found = search_patients(
                session, actor.branch_id, self.search_term, self.search_kind, page=self.page
            )
        if found.rows == [] and self.page > 1 and found.total:
            self.page = found.page_count
            return self._load_page()
        self.rows = [_row_view(r) for r in found.rows]
        self._show_page(found, found.total_label)
        self.search_problem = found.problem

    @rx.event
    def load(self):
        """on_load: permissions of the active duty, then the first page."""
        actor = self._current_actor()
        if actor is None:
            return
        self.page_allowed = allows(actor.duty, Action.VIEW_KONTAK)
        self.can_create = allows(actor.duty, Action.PATIENT_CREATE)
        self.can_edit = allows(actor.duty, Action.RECORD_EDIT)
        self.can_delete = allows(actor.duty, Action.RECORD_DELETE)
        self.can_resend = allows(actor.duty, Action.SATUSEHAT_RESEND)
        self.form_open = False
        self.page = 1
        self._load_page()
        # A message's "Perbaiki di Kontak > Pasien" opens that patient (?pasien=<id>) for
        # a duty that may change it.
        wanted = parse_id(self.router.url.query_parameters.get("pasien", ""))
        if wanted is not None and self.can_edit:
            self.start_edit(str(wanted))

    @rx.event
    def set_search_term(self, value: str):
        """Search as you type (the box sends its text after a short pause)."""
        self.search_term = payload_text(value, max_length=200)
        self.page = 1
        self._load_page()

    @rx.event
    def set_search_kind(self, value: str):
        self.search_kind = payload_text(value, max_length=20)
        self.page = 1
        self._load_page()

    @rx.event
    def search(self):
        self.page = 1
        self._load_page()

    @rx.event
    def search_on_enter(self, key: str):
        if key == "Enter":
            self.page = 1
            self._load_page()

    def _on_sync_notice(self, notice: JobNotice) -> None:
        """The worker finished a lookup: show the IHS number (or the error) at once."""
        if any(r["id"] == str(notice.subject_id) for r in self.rows):
            self._load_page()

    # ----- form ---------------------------------------------------------------------
    def _reset_form(self) -> None:
        self.form = {key: "" for key in TEXT_FIELDS}
        self.flags = {key: False for key in FLAGS}
        self.errors, self.warnings, self.similar = {}, {}, []
        self.city_options, self.district_options, self.village_options = [], [], []
        self.region_term, self.region_results, self.region_label = "", [], ""
        with session_scope() as session:
            self.province_options = _options(region_service.children(session, None))

    @rx.event
    def open_create(self):
        actor = self._authorize(Action.PATIENT_CREATE)
        self._reset_form()
        self.editing_id = 0
        with read_scope() as session:
            self.mrn_label = next_mrn_preview(session, actor.branch_id) + " (perkiraan)"
        self.form_open = True
        self.pick_after_save = False

    @rx.event
    def open_create_for_registration(self):
        """Pasien baru on Pendaftaran: the same form; saving picks the patient for the visit."""
        self.open_create()
        self.pick_after_save = True

    @rx.event
    def start_edit(self, patient_id: str):
        actor = self._authorize(Action.RECORD_EDIT)
        self._reset_form()
        with session_scope() as session:
            patient = records.get_for_edit(session, actor, payload_id(patient_id, "Pasien"))
            for key in TEXT_FIELDS:
                value = getattr(patient, key, "")
                self.form[key] = "" if value is None else str(value)
            self.form["birth_date"] = typed_date(patient.birth_date)
            self.form["birth_order"] = str(patient.birth_order) if patient.birth_order else ""
            self.flags = {
                "is_newborn": patient.is_newborn,
                "is_foreigner": patient.is_foreigner,
                "no_nik": bool(patient.no_nik_reason)
                and not (patient.is_newborn or patient.is_foreigner),
            }
            codes = [self.form[f] for f in REGION_FIELDS]
            lists = [region_service.children(session, code) if code else [] for code in codes]
            chosen = region_service.pick_for_code(session, self.form["village_code"])
        self.region_label = chosen.label if chosen else ""
        self.city_options, self.district_options, self.village_options = (
            _options(lists[0]),
            _options(lists[1]),
            _options(lists[2]),
        )
        self.editing_id, self.editing_version = patient.id, patient.version
        self.mrn_label = patient.mrn
        self.form_open = True

    @rx.event
    def cancel(self):
        self.form_open = False
        self.pick_after_save = False
        self.editing_id = 0
        self.errors, self.warnings, self.similar = {}, {}, []

    @rx.event
    def set_form_open(self, open_: bool):
        """A dialog around the form was closed (Esc or a click outside): same as Batal."""
        if not open_:
            self.cancel()

    def _check_nik_warning(self) -> None:
        nik = "".join(self.form.get("nik", "").split())
        self.warnings.pop("nik", None)
        if not nik or nik_problem(nik):
            return
        born = parse_typed_date(self.form.get("birth_date", ""))
        warning = nik_warning(nik, birth_date=born, sex=self.form.get("sex") or None)
        if warning:
            self.warnings["nik"] = warning

    @rx.event
    def set_field(self, field: str, value: str):
        if field not in TEXT_FIELDS:
            return
        self.form[field] = payload_text(value)
        self.errors.pop(field, None)
        self.similar = []
        if field in ("nik", "birth_date", "sex"):
            self._check_nik_warning()
        if field == "mother_nik":
            self.warnings.pop("mother_nik", None)
            warning = mother_nik_warning("".join(self.form["mother_nik"].split()))
            if warning:
                self.warnings["mother_nik"] = warning

    @rx.event
    def set_flag(self, field: str, value: bool):
        if field in FLAGS:
            self.flags[field] = bool(value)
            for key in ("nik", "no_nik_reason", "mother_nik", "kk_number", "village_code"):
                self.errors.pop(key, None)

    @rx.event
    def pick_region(self, field: str, code: str):
        """A region was picked: clear the levels below and load the next one's options."""
        if field not in REGION_FIELDS:
            return
        level = REGION_FIELDS.index(field)
        code = payload_search(code, max_length=13)
        self.form[field] = code
        self.region_label = ""
        for lower in REGION_FIELDS[level + 1 :]:
            self.form[lower] = ""
            self.errors.pop(lower, None)
        self.errors.pop(field, None)
        targets = ("city_options", "district_options", "village_options")
        for name in targets[level:]:
            setattr(self, name, [])
        if level < 3 and code:
            with session_scope() as session:
                setattr(self, targets[level], _options(region_service.children(session, code)))

    @rx.event
    def set_region_term(self, value: str):
        """The region picker's box: villages matching what is typed so far."""
        self.region_term = payload_search(value, max_length=100)
        with read_scope() as session:
            found = region_service.find_villages(session, self.region_term)
        self.region_results = [{"code": p.village_code, "label": p.label} for p in found]

    @rx.event
    def region_on_enter(self, key: str):
        """Enter in the region box picks the first village listed."""
        if key == "Enter" and self.region_results:
            self.pick_village(self.region_results[0]["code"])

    @rx.event
    def pick_village(self, village_code: str):
        """A village from the picker: province, city, district and village codes filled, and
        the four lists below loaded for a change by hand."""
        code = payload_search(village_code, max_length=13)
        with read_scope() as session:
            picked = region_service.picked_village(session, code)
        if picked is None:
            self.errors["village_code"] = "Kelurahan/desa tidak dikenal; cari lagi."
            return
        chosen = picked.pick
        self.city_options = _options(picked.cities)
        self.district_options = _options(picked.districts)
        self.village_options = _options(picked.villages)
        for field, value in zip(
            REGION_FIELDS,
            (chosen.province_code, chosen.city_code, chosen.district_code, chosen.village_code),
            strict=True,
        ):
            self.form[field] = value
            self.errors.pop(field, None)
        self.region_label = chosen.label
        self.region_term, self.region_results = "", []

    @rx.event
    def save_on_enter(self, key: str):
        """Enter in a text field of the form saves, as Simpan does."""
        if key == "Enter":
            return self.save()

    def _input(self) -> records.PatientInput:
        return records.PatientInput(
            **{key: self.form.get(key, "") for key in TEXT_FIELDS},
            **{key: bool(self.flags.get(key, False)) for key in FLAGS},
        )

    def _save(self, *, confirm_similar: bool):
        token = self._client_token()
        editing = self.editing_id != 0
        actor = self._authorize(Action.RECORD_EDIT if editing else Action.PATIENT_CREATE)
        try:
            with session_scope() as session:
                if editing:
                    patient = records.update_patient(
                        session,
                        actor,
                        self.editing_id,
                        self._input(),
                        client_token=token,
                        expected_version=self.editing_version,
                    )
                else:
                    patient = records.create_patient(
                        session,
                        actor,
                        self._input(),
                        confirm_similar=confirm_similar,
                        client_token=token,
                    )
                saved_id, saved_name, saved_mrn = patient.id, patient.name, patient.mrn
                queued = patient.sync_status == SyncStatus.SENDING
        except ValidationFailed as failed:
            self.errors = failed.errors
            return desk_error(failed.message)
        except StaleEdit as stale:
            self.errors = {STALE_ERROR: stale.message}
            return desk_error(stale.message)
        except records.SimilarPatientsFound as found:
            self.similar = [
                {"id": str(m.id), "mrn": m.mrn, "name": m.name, "birth_date": m.birth_date}
                for m in found.matches
            ]
            return rx.toast.warning(found.message)
        if queued:
            wake_workers()
        self.form_open = False
        self.editing_id = 0
        self.similar = []
        if not editing:
            # Show the new patient: its No. RM in the search box (Otomatis finds it).
            self.search_term, self.search_kind, self.page = saved_mrn, SearchKind.AUTO.value, 1
        self._load_page()
        verb = "diperbarui" if editing else "didaftarkan"
        done = [
            *dismiss_errors(),
            rx.toast.success(f"Pasien {saved_name} (No. RM {saved_mrn}) {verb}."),
        ]
        if self.pick_after_save and not editing:
            self.pick_after_save = False
            return [*done, RegistrationState.pick_patient(str(saved_id))]
        return done

    @rx.event
    def save(self):
        return self._save(confirm_similar=False)

    @rx.event
    def confirm_save(self):
        """Tetap simpan: the user checked the similar patients and this one is different."""
        return self._save(confirm_similar=True)

    # ----- row actions --------------------------------------------------------------
    @rx.event
    def deactivate(self, patient_id: str):
        actor = self._authorize(Action.RECORD_DELETE)
        with session_scope() as session:
            patient = records.deactivate_patient(session, actor, payload_id(patient_id, "Pasien"))
            name = patient.name
        self._load_page()
        return rx.toast.success(f"Pasien {name} dinonaktifkan.")

    @rx.event
    def resend(self, patient_id: str):
        """Kirim ulang the IHS lookup of a failed or not-found row."""
        actor = self._authorize(Action.SATUSEHAT_RESEND)
        with session_scope() as session:
            records.resend_lookup(
                session,
                actor,
                payload_id(patient_id, "Pasien"),
                client_token=self._client_token(),
            )
        wake_workers()
        self._load_page()
        return rx.toast.info("Pencarian IHS dikirim ulang.")


class KontakState(AuthState):
    @rx.event
    def open_default(self):
        """/kontak shows its first sub-page."""
        return rx.redirect(routes.KONTAK_PASIEN)


live.register("patient", PatientState)
