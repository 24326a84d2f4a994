"""The role x action matrix: every handler of every page state, called directly for every
duty, for a logged-out tab and for an admin of another branch.

The expectations come from the one permission table (services/permissions.py) through
HANDLERS below, which names the action each handler needs. A handler missing from HANDLERS
fails `test_every_handler_is_in_the_table`, so a new one cannot slip past the matrix.

Each case starts from the same database (a snapshot restored before the call) and a fresh
browser state whose vars point at rows of branch A, as a stale tab or a forged `setvar`
would leave them. The call is then judged by what it did, not by how it said it:

- refused (the duty lacks the action, or no login): nothing in the database changed, and
  nothing of branch A's records reached the browser state or a download;
- allowed: no PermissionDenied; and for the reading handlers that list what they show
  (`shows`), it is there;
- an admin whose branches do not include A: nothing of branch A changed or reached them;
- for everyone: clinical content, prescriptions and SATUSEHAT bodies appear only for a
  duty with VIEW_CLINICAL, VIEW_PRESCRIPTION, VIEW_SATUSEHAT_BODIES.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import io
import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import reflex as rx
from sqlmodel import Session, SQLModel

from klinikita.db import get_engine
from klinikita.models import (
    Branch,
    Diagnosis,
    DisplayToken,
    Employee,
    Examination,
    Patient,
    Room,
    ServiceUnit,
    SyncJob,
    SyncLog,
    Visit,
)
from klinikita.models.allergies import PatientAllergy
from klinikita.models.billing import Bill, BillLine, BillStatus, CashierShift, Tariff
from klinikita.models.clinical import Prescription, Procedure, VisitStatus
from klinikita.models.documents import IssuedDocument
from klinikita.models.enums import Duty, Sex
from klinikita.models.pharmacy import Dispense, DispenseStatus, DrugItem, StockBatch
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.services import auth
from klinikita.services.actor_cache import forget_actors
from klinikita.services.errors import PermissionDenied, ServiceError
from klinikita.services.permissions import Action, allows
from klinikita.services.visit_queue import local_today
from klinikita.state import live
from klinikita.state.auth import AuthState
from tests.factories import GOOD_PASSWORD, make_user
from tests.state.conftest import substate, tab_at
from tests.support.print_samples import SAMPLES, TINY_PNG

# ----- who calls ---------------------------------------------------------------------------
LOGGED_OUT = "logged_out"
OTHER_ADMIN = "admin_other_branch"
SUBJECTS = [d.value for d in Duty] + [LOGGED_OUT, OTHER_ADMIN]

# ----- what a handler needs ----------------------------------------------------------------
PUBLIC = "public"  # no login needed (login, forgotten password, redirects)
SESSION = "session"  # any login, whatever the duty (the top bar: duty, branch, log out)
LOCAL = "local"  # changes only the tab's own form or dialog: no database, nothing read

# ----- what branch A holds, as text that can only come from its rows -------------------------
HOME = "home"  # branch A's name: every user of branch A sees it in the top bar
RECORD = "record"  # patients, units, rooms, employees, users of branch A
CLINICAL = "clinical"  # SOAP, diagnoses, procedures
PRESCRIPTION = "prescription"
BODY = "body"  # SATUSEHAT request/response bodies
MARKERS = {
    HOME: ("cabang-penanda",),
    RECORD: (
        "pasien-penanda",
        "unit-penanda",
        "ruang-penanda",
        "karyawan-penanda",
        "pengguna-penanda",
        "barang-penanda",
        "stok-penanda",
    ),
    CLINICAL: ("soap-penanda", "dx-penanda", "tindakan-penanda"),
    PRESCRIPTION: ("obat-penanda",),
    BODY: ("body-penanda",),
}
CONTENT_ACTION = {
    CLINICAL: Action.VIEW_CLINICAL,
    PRESCRIPTION: Action.VIEW_PRESCRIPTION,
    BODY: Action.VIEW_SATUSEHAT_BODIES,
}


@dataclass(frozen=True)
class Spec:
    needs: Action | str
    args: Callable[[World, str], tuple] = lambda w, s: ()  # noqa: E731
    preset: Callable[[World, rx.State], None] | None = None
    path: Callable[[World], str] | None = None
    shows: frozenset[str] = frozenset()  # marker kinds an allowed subject must receive
    raises: type[Exception] | None = None  # what every call raises (see FRAMEWORK)
    # An allowed call with this payload writes: so "nothing written" on refusal means
    # something. (Left False where an allowed call may find nothing to do.)
    writes: bool = False


@dataclass
class World:
    """Ids of branch A's rows, and the session token of each subject."""

    branch_a: int = 0
    branch_b: int = 0
    patient: int = 0
    unit: int = 0
    room: int = 0
    employee: int = 0
    user: int = 0
    done_visit: int = 0  # completed, with SOAP, diagnosis, procedure, prescription
    open_visit: int = 0  # today, in examination, with the same
    diagnosis: int = 0
    second_diagnosis: int = 0  # of the open visit, not the primary one
    new_patient: int = 0  # no visit yet: Daftarkan registers them
    empty_unit: int = 0  # no rooms: it may be deactivated
    idle_unit: int = 0  # inactive rows, for "aktifkan kembali"
    idle_room: int = 0
    idle_employee: int = 0
    idle_user: int = 0
    procedure: int = 0
    prescription: int = 0
    allergy: int = 0  # of the patient, recorded in the open visit
    drug_items: tuple[int, int] = (0, 0)  # two items of branch A's drug master
    sync_log: int = 0
    drug: int = 0  # a drug item of branch A's drug master
    idle_drug: int = 0
    stock_item: int = 0  # a drug item of branch A with one batch (stock_batch) of 10
    stock_batch: int = 0
    dispense: int = 0  # the done visit's prescription, waiting at the pharmacy
    dispensed: int = 0  # the open visit's, already dispensed
    document: int = 0  # an issued referral of the completed visit
    bill: int = 0  # the done visit's open bill, with one line
    bill_line: int = 0
    paid_bill: int = 0  # a paid over-the-counter nota
    tariff: int = 0
    shift: int = 0  # a closed shift of "pengguna-penanda"
    display_token: int = 0  # a waiting-room TV's token of branch A
    tokens: dict[str, str] = field(default_factory=dict)
    snapshot: sqlite3.Connection | None = None  # the database every case starts from
    baseline: dict = field(default_factory=dict)  # its _fingerprint


def _set(**values) -> Callable[[World, rx.State], None]:
    """A preset: state vars set to values computed from the world."""

    def apply(world: World, state: rx.State) -> None:
        for name, value in values.items():
            setattr(state, name, value(world) if callable(value) else value)

    return apply


def _paged(**more) -> Callable[[World, rx.State], None]:
    """A list on page 1 of 2 (or 2 of 2): the pager reads again."""
    return _set(page=1, page_count=2, **more)


def _id(name: str) -> Callable[[World, str], tuple]:
    return lambda w, s: (str(getattr(w, name)),)


def _const(*values) -> Callable[[World, str], tuple]:
    return lambda w, s: values


# Every edited record of the world is at version 1: the forms were filled from it.
_OPEN = {
    "visit_id": lambda w: w.open_visit,
    "_branch_id": lambda w: w.branch_a,
    "vitals_version": 1,
    "soap_version": 1,
}
_UNIT_FORM = {
    "editing_id": lambda w: w.unit,
    "editing_version": 1,
    "form": {"name": "Unit Diganti"},
}
_ROOM_FORM = {
    "editing_id": lambda w: w.room,
    "editing_version": 1,
    "form": lambda w: {"name": "Ruang Diganti", "unit_id": str(w.unit)},
}
_EMPLOYEE_FORM = {
    "editing_id": lambda w: w.employee,
    "editing_version": 1,
    "form": lambda w: {
        "name": "Karyawan Diganti",
        "nik": "",
        "sex": Sex.MALE.value,
        "birth_date": "",
        "phone": "",
        "email": "",
        "main_duty": Duty.KASIR.value,
        "branch_id": str(w.branch_a),
    },
}
_PATIENT_FORM = {
    "editing_id": lambda w: w.patient,
    "editing_version": 1,
    "form": {
        "name": "Pasien Diganti",
        "birth_date": "01/01/1990",
        "sex": Sex.FEMALE.value,
        "nik": "",
        "no_nik_reason": "WNA",
    },
    "flags": {"is_newborn": False, "is_foreigner": True, "no_nik": False},
}
_SEEN = frozenset({RECORD, CLINICAL, PRESCRIPTION})
# Laporan Dinkes around today (branch A's visits are today's).
_DINKES_RANGE = _set(
    date_from=lambda w: (datetime.now(UTC) - timedelta(days=2)).date().isoformat(),
    date_to=lambda w: (datetime.now(UTC) + timedelta(days=1)).date().isoformat(),
)
_DINKES_MONTH = _set(month=lambda w: local_today(None).strftime("%Y-%m"))


def _RX_LINE(w: World) -> dict[str, str]:  # noqa: N802
    """The single-line prescription form filled with branch A's first drug item."""
    return {"item_id": str(w.drug_items[0]), "dose": "1 tablet", "frequency": "3 x sehari",
            "route": "O", "quantity": "10"}  # fmt: skip


def _patient_search(state: str, view: Action) -> dict[str, Spec]:
    """A page's patient search, by button and by Enter (No. RM of branch A's patient)."""
    find = _set(search_term="000001")
    return {
        f"{state}.search": Spec(view, preset=find, shows=frozenset({RECORD})),
        f"{state}.search_on_enter": Spec(
            view, _const("Enter"), preset=find, shows=frozenset({RECORD})
        ),
    }


def _master_list(state: str, view: Action, create: Action, row: str) -> dict[str, Spec]:
    """What the Kontak and Referensi lists share (state/master_list.py); `row` names the
    world's row of that list, and "idle_<row>" its inactive one."""
    stale = {"_list_branch_id": lambda w: w.branch_a}
    return {
        f"{state}.load": Spec(view, shows=frozenset({RECORD})),
        f"{state}.next_page": Spec(view, preset=_paged(**stale)),
        f"{state}.prev_page": Spec(view, preset=_set(page=2, page_count=2, **stale)),
        f"{state}.start_create": Spec(create),
        f"{state}.reactivate": Spec(_A.RECORD_DELETE, _id(f"idle_{row}"), writes=True),
        f"{state}.resend": Spec(_A.SATUSEHAT_RESEND, _id(row), writes=True),
        f"{state}.cancel_form": Spec(LOCAL),
        f"{state}.set_field": Spec(LOCAL, _const("name", "Budi")),
    }


_A = Action


def _stock_handlers() -> dict[str, Spec]:
    """Apotek -> Stok (state/stock.py): branch A's item and batch, as a stale tab holds them."""
    shown = frozenset({RECORD})
    item = {"item_id": lambda w: w.stock_item, "_branch_id": lambda w: w.branch_a}
    batch = lambda w: [  # noqa: E731
        {"id": str(w.stock_batch), "batch_number": "B1", "expiry_date": "", "quantity": "10"}
    ]
    adjust = {"batch_id": "", "quantity": "", "reason": "", "reason_text": "", "take_reason": ""}
    return {
        "StockState.load": Spec(_A.VIEW_APOTEK, shows=shown),
        "StockState.set_tab": Spec(_A.VIEW_APOTEK, _const("stok"), shows=shown),
        "StockState.set_search": Spec(_A.VIEW_APOTEK, _const("penanda"), shows=shown),
        "StockState.next_page": Spec(_A.VIEW_APOTEK, preset=_paged(**item)),
        "StockState.prev_page": Spec(_A.VIEW_APOTEK, preset=_set(page=2, page_count=2, **item)),
        "StockState.search_items": Spec(_A.VIEW_APOTEK, _const("penanda"), shows=shown),
        "StockState.open_item": Spec(
            _A.VIEW_APOTEK, lambda w, s: (str(w.stock_item), "kartu"), shows=shown
        ),
        "StockState.card_next": Spec(
            _A.VIEW_APOTEK, preset=_set(card_page=1, card_page_count=2, **item)
        ),
        "StockState.card_prev": Spec(
            _A.VIEW_APOTEK, preset=_set(card_page=2, card_page_count=2, **item)
        ),
        "StockState.add_line": Spec(_A.STOCK_RECEIVE, _id("stock_item"), shows=shown),
        "StockState.save_receipt": Spec(
            _A.STOCK_RECEIVE,
            preset=_set(
                receipt={"supplier": "PBF", "invoice_number": "", "received_on": "", "note": ""},
                lines=lambda w: [
                    {
                        "item_id": str(w.stock_item),
                        "name": "x",
                        "unit": "tablet",
                        "batch_number": "B2",
                        "expiry_date": "01/01/2099",
                        "quantity": "5",
                    }
                ],
            ),
            writes=True,
        ),
        "StockState.save_adjustment": Spec(
            _A.STOCK_ADJUST,
            preset=_set(
                **item,
                adjust=lambda w: {
                    **adjust,
                    "batch_id": str(w.stock_batch),
                    "quantity": "-1",
                    "reason": "rusak",
                },
            ),
            writes=True,
        ),
        "StockState.save_stock_take": Spec(
            _A.STOCK_ADJUST,
            preset=_set(
                **item,
                batches=batch,
                counts=lambda w: {str(w.stock_batch): "7"},
                adjust={**adjust, "take_reason": "Opname"},
            ),
            writes=True,
        ),
        "StockState.set_receipt_field": Spec(LOCAL, _const("supplier", "PBF")),
        "StockState.set_line_field": Spec(LOCAL, _const(0, "quantity", "5")),
        "StockState.remove_line": Spec(LOCAL, _const(0)),
        "StockState.clear_receipt": Spec(LOCAL),
        "StockState.set_adjust_field": Spec(LOCAL, _const("quantity", "-1")),
        "StockState.set_count": Spec(LOCAL, _const("1", "5")),
    }


HANDLERS: dict[str, Spec] = {
    # ----- passwords and login (no login needed) ----------------------------------------
    "ResetPasswordState.load": Spec(PUBLIC),
    "ResetPasswordState.submit": Spec(PUBLIC, _const({"new_password": ""})),
    "ForgotPasswordState.open": Spec(PUBLIC),
    "ForgotPasswordState.submit": Spec(PUBLIC, _const({"identifier": ""})),
    "LoginState.check_already_logged_in": Spec(PUBLIC),
    "LoginState.submit": Spec(PUBLIC, _const({"username": "", "password": ""})),
    "KontakState.open_default": Spec(PUBLIC),
    "UnitState.open_referensi": Spec(PUBLIC),
    # ----- the top bar and the own password --------------------------------------------
    "AuthState.check_login": Spec(SESSION),
    "AuthState.logout": Spec(SESSION),
    "AuthState.switch_branch": Spec(SESSION, lambda w, s: (str(w.branch_a),)),
    "AuthState.switch_duty": Spec(
        SESSION, lambda w, s: (s if s in {d.value for d in Duty} else Duty.ADMIN.value,)
    ),
    "ChangePasswordState.open": Spec(LOCAL),
    "ChangePasswordState.submit": Spec(
        SESSION,
        _const({"current_password": "Salah#2026", "new_password": "", "new_password_confirm": ""}),
    ),
    # ----- Pendaftaran ------------------------------------------------------------------
    "RegistrationState.load": Spec(_A.VIEW_PENDAFTARAN, shows=frozenset({RECORD})),
    **_patient_search("RegistrationState", _A.VIEW_PENDAFTARAN),
    "RegistrationState.pick_patient": Spec(
        _A.VIEW_PENDAFTARAN, _id("patient"), shows=frozenset({RECORD})
    ),
    "RegistrationState.pick_unit": Spec(
        _A.VIEW_PENDAFTARAN, _id("unit"), shows=frozenset({RECORD})
    ),
    "RegistrationState.set_queue_unit": Spec(
        _A.VIEW_PENDAFTARAN, _id("unit"), shows=frozenset({RECORD})
    ),
    "RegistrationState.toggle_queue_all": Spec(_A.VIEW_PENDAFTARAN, shows=frozenset({RECORD})),
    "RegistrationState.register": Spec(
        _A.VISIT_REGISTER,
        preset=_set(
            patient=lambda w: {"id": str(w.new_patient)},
            choice=lambda w: {
                "unit_id": str(w.unit),
                "room_id": str(w.room),
                "doctor_id": str(w.employee),
                "payer": "umum",
            },
        ),
        writes=True,
    ),
    "RegistrationState.open_cancel": Spec(_A.VISIT_CANCEL, _id("open_visit")),
    "RegistrationState.confirm_cancel": Spec(
        _A.VISIT_CANCEL,
        preset=_set(
            cancel_id=lambda w: w.open_visit,
            cancel_version=1,
            cancel_reason="Pasien pulang lebih dulu",
        ),
        writes=True,
    ),
    "RegistrationState.clear_patient": Spec(LOCAL),
    "RegistrationState.set_cancel_open": Spec(LOCAL, _const(False)),
    "RegistrationState.set_cancel_reason": Spec(LOCAL, _const("alasan")),
    "RegistrationState.set_choice": Spec(LOCAL, _const("payer", "bpjs")),
    "RegistrationState.set_search_term": Spec(
        _A.VIEW_PENDAFTARAN, _const("000001"), shows=frozenset({RECORD})
    ),
    "RegistrationState.register_on_enter": Spec(
        _A.VISIT_REGISTER,
        _const("Enter"),
        preset=_set(
            patient=lambda w: {"id": str(w.new_patient)},
            choice=lambda w: {
                "unit_id": str(w.unit),
                "room_id": str(w.room),
                "doctor_id": str(w.employee),
                "payer": "bpjs",
                "bpjs_number": "0001234567890",
            },
        ),
        writes=True,
    ),
    # ----- Pemeriksaan ------------------------------------------------------------------
    "ExaminationState.load": Spec(
        _A.VIEW_PEMERIKSAAN,
        path=lambda w: f"/pemeriksaan?kunjungan={w.done_visit}",
        shows=_SEEN,
    ),
    "ExaminationState.open_visit": Spec(_A.VIEW_PEMERIKSAAN, _id("done_visit"), shows=_SEEN),
    "ExaminationState.close_visit": Spec(
        _A.VIEW_PEMERIKSAAN, preset=_set(**_OPEN), shows=frozenset({RECORD})
    ),
    "ExaminationState.toggle_rows_all": Spec(
        _A.VIEW_PEMERIKSAAN,
        preset=_set(_branch_id=lambda w: w.branch_a),
        shows=frozenset({RECORD}),
    ),
    "ExaminationState.start_exam": Spec(_A.EXAM_VITALS, preset=_set(**_OPEN)),
    # The waiting-room display: Panggil (today's open visit; nobody waits uncalled), the TV
    # (public: without its token it shows nothing) and its tokens (admin).
    "ExaminationState.call_visit": Spec(_A.QUEUE_CALL, _id("open_visit"), writes=True),
    "ExaminationState.call_next": Spec(_A.QUEUE_CALL),
    "QueueDisplayState.load": Spec(PUBLIC),
    "DisplayTokenState.load": Spec(_A.QUEUE_DISPLAY_MANAGE, shows=frozenset({RECORD})),
    "DisplayTokenState.create": Spec(
        _A.QUEUE_DISPLAY_MANAGE, _const({"name": "TV Ruang Tunggu", "unit_id": ""}), writes=True
    ),
    "DisplayTokenState.revoke": Spec(_A.QUEUE_DISPLAY_MANAGE, _id("display_token"), writes=True),
    "DisplayTokenState.hide_url": Spec(LOCAL),
    "ExaminationState.save_vitals": Spec(
        _A.EXAM_VITALS, preset=_set(**_OPEN, vitals={"pulse": "88"}, vitals_dirty=True), writes=True
    ),
    "ExaminationState.save_soap": Spec(
        _A.EXAM_MEDICAL,
        preset=_set(**_OPEN, soap={"plan": "Kontrol 3 hari"}, soap_dirty=True),
        writes=True,
    ),
    "ExaminationState.add_diagnosis": Spec(
        _A.EXAM_MEDICAL, _const("A09.0"), preset=_set(**_OPEN), writes=True
    ),
    "ExaminationState.set_primary": Spec(
        _A.EXAM_MEDICAL, _id("second_diagnosis"), preset=_set(**_OPEN), writes=True
    ),
    "ExaminationState.remove_diagnosis": Spec(
        _A.EXAM_MEDICAL, _id("diagnosis"), preset=_set(**_OPEN), writes=True
    ),
    "ExaminationState.add_procedure": Spec(
        _A.EXAM_MEDICAL,
        preset=_set(**_OPEN, procedure_form={"code": "", "description": "Nebu", "note": ""}),
        writes=True,
    ),
    "ExaminationState.remove_procedure": Spec(
        _A.EXAM_MEDICAL, _id("procedure"), preset=_set(**_OPEN), writes=True
    ),
    "ExaminationState.add_rx_line": Spec(
        _A.EXAM_MEDICAL, preset=_set(**_OPEN, rx_form=lambda w: _RX_LINE(w)), writes=True
    ),
    "ExaminationState.confirm_rx_allergy": Spec(
        _A.EXAM_MEDICAL,
        preset=_set(**_OPEN, rx_form=lambda w: _RX_LINE(w), _rx_pending="line"),
        writes=True,
    ),
    "ExaminationState.add_racikan": Spec(
        _A.EXAM_MEDICAL,
        preset=_set(
            **_OPEN,
            racikan_form={
                "name": "Puyer",
                "form": "puyer",
                "quantity": "10",
                "dose": "1",
                "frequency": "3 x sehari",
                "route": "O",
            },
            racikan_rows=lambda w: [
                {"item_id": str(i), "quantity": "2", "dose_text": ""} for i in w.drug_items
            ],
        ),
        writes=True,
    ),  # fmt: skip
    "ExaminationState.search_rx_item": Spec(_A.EXAM_MEDICAL, _const("penanda")),
    "ExaminationState.search_racikan_item": Spec(_A.EXAM_MEDICAL, _const("penanda")),
    "ExaminationState.pick_rx_item": Spec(LOCAL, _const("1")),
    "ExaminationState.pick_racikan_item": Spec(LOCAL, _const("1")),
    "ExaminationState.set_rx_field": Spec(LOCAL, _const("dose", "1")),
    "ExaminationState.set_racikan_field": Spec(LOCAL, _const("name", "Puyer")),
    "ExaminationState.set_racikan_row": Spec(LOCAL, _const(0, "quantity", "2")),
    "ExaminationState.remove_racikan_row": Spec(LOCAL, _const(0)),
    "ExaminationState.cancel_rx_allergy": Spec(LOCAL),
    "ExaminationState.remove_prescription": Spec(
        _A.EXAM_MEDICAL, _id("prescription"), preset=_set(**_OPEN), writes=True
    ),
    "ExamAllergyState.refresh_allergies": Spec(_A.VIEW_PEMERIKSAAN, preset=_set(**_OPEN)),
    "ExamAllergyState.set_allergy_field": Spec(LOCAL, _const("reaction", "gatal")),
    "ExamAllergyState.ask_withdraw_allergy": Spec(LOCAL, _const("1")),
    "ExamAllergyState.pick_allergy_drug": Spec(LOCAL, _const("1", "Obat")),
    "ExamAllergyState.search_allergy_drug": Spec(_A.ALLERGY_RECORD, _const("amok")),
    "ExamAllergyState.record_allergy": Spec(
        _A.ALLERGY_RECORD,
        preset=_set(**_OPEN, allergy_form={"kind": "substance", "allergen": "telur"}),
        writes=True,
    ),
    "ExamAllergyState.record_no_allergy": Spec(_A.ALLERGY_RECORD, preset=_set(**_OPEN)),
    "ExamAllergyState.withdraw_allergy": Spec(
        _A.ALLERGY_RECORD,
        preset=_set(
            **_OPEN,
            allergy_withdrawing=lambda w: str(w.allergy),
            allergy_form={"reason": "Salah catat"},
        ),
        writes=True,
    ),
    "ExaminationState.complete": Spec(_A.EXAM_COMPLETE, preset=_set(**_OPEN)),
    "ExaminationState.resend": Spec(
        _A.SATUSEHAT_RESEND,
        preset=_set(visit_id=lambda w: w.done_visit, _branch_id=lambda w: w.branch_a),
        writes=True,
    ),
    # The ICD-10 list, the branch's most used diagnoses first.
    "ExaminationState.search_icd": Spec(_A.EXAM_MEDICAL, _const("demam"), preset=_set(**_OPEN)),
    # The branch's procedure tariffs (its own names), then the ICD-9-CM list.
    "ExaminationState.search_procedure": Spec(_A.EXAM_MEDICAL, _const("hecting")),
    "ExaminationState.pick_procedure": Spec(LOCAL, _const("86.59")),
    "ExaminationState.set_vital": Spec(LOCAL, _const("pulse", "90")),
    "ExaminationState.set_soap": Spec(LOCAL, _const("plan", "istirahat")),
    "ExaminationState.set_procedure_field": Spec(LOCAL, _const("note", "x")),
    # ----- Resume -----------------------------------------------------------------------
    "ResumeState.load": Spec(
        _A.VIEW_RESUME, path=lambda w: f"/resume?pasien={w.patient}", shows=_SEEN
    ),
    "ResumeState.pick_patient": Spec(_A.VIEW_RESUME, _id("patient"), shows=_SEEN),
    "ResumeState.next_page": Spec(
        _A.VIEW_RESUME, preset=_paged(patient_id=lambda w: w.patient), shows=_SEEN
    ),
    "ResumeState.prev_page": Spec(
        _A.VIEW_RESUME,
        preset=_set(page=2, page_count=2, patient_id=lambda w: w.patient),
        shows=_SEEN,
    ),
    **_patient_search("ResumeState", _A.VIEW_RESUME),
    "ResumeState.change_patient": Spec(LOCAL),
    "ResumeState.print_page": Spec(LOCAL),
    "ResumeState.print_with_letterhead": Spec(
        _A.VIEW_CLINICAL, preset=_set(patient_id=lambda w: w.patient), writes=True
    ),
    # ----- Letters and the print page ---------------------------------------------------
    "DocumentIssueState.show_documents": Spec(_A.VIEW_CLINICAL, _id("done_visit")),
    "DocumentIssueState.open_issue": Spec(_A.EXAM_MEDICAL, lambda w, s: ("sks", str(w.open_visit))),
    "DocumentIssueState.issue": Spec(
        _A.EXAM_MEDICAL,
        preset=_set(
            issue_kind="sks",
            issue_visit_id=lambda w: w.open_visit,
            issue_form=lambda w: {
                "start": local_today(None).strftime("%d/%m/%Y"),
                "end": local_today(None).strftime("%d/%m/%Y"),
            },
        ),
        writes=True,
    ),
    "DocumentIssueState.issue_prescription": Spec(_A.EXAM_MEDICAL, _id("open_visit"), writes=True),
    "DocumentIssueState.close_issue": Spec(LOCAL),
    "DocumentIssueState.set_issue_field": Spec(LOCAL, _const("reason", "x")),
    "DocumentIssueState.set_include_diagnosis": Spec(LOCAL, _const(True)),
    "PrintState.load": Spec(
        _A.VIEW_CLINICAL, path=lambda w: f"/cetak?dok={w.document}", shows=frozenset({CLINICAL})
    ),
    "PrintState.print_now": Spec(
        _A.VIEW_CLINICAL,
        preset=_set(doc_id=lambda w: w.document),
        shows=frozenset({CLINICAL}),
        writes=True,
    ),
    "PrintState.download_pdf": Spec(
        _A.VIEW_CLINICAL,
        preset=_set(doc_id=lambda w: w.document),
        shows=frozenset({CLINICAL}),
        writes=True,
    ),
    "ResumeState.set_search_term": Spec(LOCAL, _const("budi")),
    # ----- Kontak: patients -------------------------------------------------------------
    "PatientState.load": Spec(_A.VIEW_KONTAK, shows=frozenset({RECORD})),
    **_patient_search("PatientState", _A.VIEW_KONTAK),
    "PatientState.set_search_kind": Spec(_A.VIEW_KONTAK, _const("auto"), shows=frozenset({RECORD})),
    "PatientState.next_page": Spec(_A.VIEW_KONTAK, preset=_paged()),
    "PatientState.prev_page": Spec(_A.VIEW_KONTAK, preset=_set(page=2, page_count=2)),
    "PatientState.open_create": Spec(_A.PATIENT_CREATE),
    "PatientState.open_create_for_registration": Spec(_A.PATIENT_CREATE),
    "PatientState.start_edit": Spec(_A.RECORD_EDIT, _id("patient"), shows=frozenset({RECORD})),
    "PatientState.save": Spec(_A.RECORD_EDIT, preset=_set(**_PATIENT_FORM), writes=True),
    "PatientState.confirm_save": Spec(_A.RECORD_EDIT, preset=_set(**_PATIENT_FORM), writes=True),
    "PatientState.deactivate": Spec(_A.RECORD_DELETE, _id("patient"), writes=True),
    "PatientState.resend": Spec(_A.SATUSEHAT_RESEND, _id("patient"), writes=True),
    "PatientState.cancel": Spec(LOCAL),
    "PatientState.set_form_open": Spec(LOCAL, _const(False)),
    "PatientState.set_field": Spec(LOCAL, _const("name", "Budi")),
    "PatientState.set_flag": Spec(LOCAL, _const("is_newborn", True)),
    "PatientState.set_search_term": Spec(
        _A.VIEW_KONTAK, _const("000001"), shows=frozenset({RECORD})
    ),
    "PatientState.set_region_term": Spec(LOCAL, _const("cilandak")),  # public list
    "PatientState.region_on_enter": Spec(LOCAL, _const("Enter")),
    "PatientState.pick_village": Spec(LOCAL, _const("31.71.01.1001")),  # public list
    "PatientState.save_on_enter": Spec(
        _A.RECORD_EDIT, _const("Enter"), preset=_set(**_PATIENT_FORM), writes=True
    ),
    "PatientState.pick_region": Spec(LOCAL, _const("province_code", "31")),  # public list
    # ----- Apotek: Obat & BHP ----------------------------------------------------------
    "DrugState.load": Spec(_A.VIEW_APOTEK, shows=frozenset({RECORD})),
    "DrugState.set_search": Spec(_A.VIEW_APOTEK, _const("barang"), shows=frozenset({RECORD})),
    "DrugState.set_unmapped_only": Spec(_A.VIEW_APOTEK, _const(False), shows=frozenset({RECORD})),
    "DrugState.next_page": Spec(_A.VIEW_APOTEK, preset=_paged()),
    "DrugState.prev_page": Spec(_A.VIEW_APOTEK, preset=_set(page=2, page_count=2)),
    "DrugState.start_create": Spec(_A.DRUG_MASTER_EDIT),
    "DrugState.start_edit": Spec(_A.DRUG_MASTER_EDIT, _id("drug"), shows=frozenset({RECORD})),
    "DrugState.save": Spec(
        _A.DRUG_MASTER_EDIT,
        preset=_set(
            editing_id=lambda w: w.drug,
            editing_version=1,
            form={"name": "Obat Diganti", "form": "Tablet", "unit": "tablet", "price": "500"},
        ),
        writes=True,
    ),
    "DrugState.deactivate": Spec(_A.DRUG_MASTER_EDIT, _id("drug"), writes=True),
    "DrugState.reactivate": Spec(_A.DRUG_MASTER_EDIT, _id("idle_drug"), writes=True),
    "DrugState.open_kfa": Spec(_A.DRUG_MASTER_EDIT, _id("drug"), shows=frozenset({RECORD})),
    "DrugState.open_kfa_for_form": Spec(_A.DRUG_MASTER_EDIT),
    "DrugState.search_kfa": Spec(_A.DRUG_MASTER_EDIT, preset=_set(kfa_keyword="amlodipine")),
    "DrugState.pick_kfa": Spec(_A.DRUG_MASTER_EDIT, _const("93001019")),
    "DrugState.choose_kfa": Spec(
        _A.DRUG_MASTER_EDIT,
        preset=_set(
            kfa_item_id=lambda w: w.drug,
            kfa_item_version=1,
            kfa_chosen={"code": "93001019", "name": "Produk KFA"},
        ),
        writes=True,
    ),
    "DrugState.handle_upload": Spec(
        _A.DRUG_MASTER_EDIT,
        lambda w, s: ([rx.UploadFile(file=io.BytesIO(b"nama;jenis;satuan\nKasa;bhp;lembar\n"))],),
        writes=True,
    ),
    "DrugState.cancel_form": Spec(LOCAL),
    "DrugState.set_field": Spec(LOCAL, _const("name", "Budi")),
    "DrugState.set_kfa_keyword": Spec(LOCAL, _const("amox")),
    "DrugState.close_kfa": Spec(LOCAL),
    "DrugState.close_import": Spec(LOCAL),
    # ----- Kontak: employees; Referensi: units and rooms ----------------------------------
    "EmployeeState.set_search": Spec(
        _A.VIEW_KONTAK, _const("karyawan"), preset=_set(_list_branch_id=lambda w: w.branch_a)
    ),
    **_master_list("EmployeeState", _A.VIEW_KONTAK, _A.EMPLOYEE_CREATE, "employee"),
    "EmployeeState.save": Spec(_A.RECORD_EDIT, preset=_set(**_EMPLOYEE_FORM), writes=True),
    "EmployeeState.deactivate": Spec(_A.RECORD_DELETE, _id("employee"), writes=True),
    "EmployeeState.start_edit": Spec(_A.RECORD_EDIT, _id("employee"), shows=frozenset({RECORD})),
    **_master_list("UnitState", _A.VIEW_REFERENSI, _A.UNIT_CREATE, "unit"),
    "UnitState.save": Spec(_A.RECORD_EDIT, preset=_set(**_UNIT_FORM), writes=True),
    "UnitState.deactivate": Spec(_A.RECORD_DELETE, _id("empty_unit"), writes=True),
    "UnitState.start_edit": Spec(_A.RECORD_EDIT, _id("unit")),
    **_master_list("RoomState", _A.VIEW_REFERENSI, _A.ROOM_CREATE, "room"),
    "RoomState.save": Spec(_A.RECORD_EDIT, preset=_set(**_ROOM_FORM), writes=True),
    "RoomState.deactivate": Spec(_A.RECORD_DELETE, _id("room"), writes=True),
    "RoomState.start_edit": Spec(_A.RECORD_EDIT, _id("room")),
    # ----- Pengaturan: users and branches -----------------------------------------------
    "UserAdminState.load": Spec(_A.VIEW_PENGATURAN, shows=frozenset({RECORD})),
    "UserAdminState.search_users": Spec(
        _A.VIEW_PENGATURAN, _const("pengguna"), shows=frozenset({RECORD})
    ),
    "UserAdminState.next_page": Spec(_A.VIEW_PENGATURAN, preset=_paged()),
    "UserAdminState.prev_page": Spec(_A.VIEW_PENGATURAN, preset=_set(page=2, page_count=2)),
    "UserAdminState.start_create": Spec(_A.USER_CREATE),
    "UserAdminState.start_edit": Spec(_A.RECORD_EDIT, _id("user"), shows=frozenset({RECORD})),
    "UserAdminState.save": Spec(
        _A.RECORD_EDIT,
        _const({}),
        preset=_set(
            mode="edit",
            editing_id=lambda w: w.user,
            editing_version=1,
            form={"username": "diganti", "full_name": "Diganti", "main_duty": "kasir"},
            branch_ids=lambda w: [str(w.branch_a)],
        ),
        writes=True,
    ),
    "UserAdminState.ask_deactivate": Spec(_A.RECORD_DELETE, lambda w, s: (str(w.user), "x")),
    "UserAdminState.deactivate": Spec(_A.RECORD_DELETE, _id("user"), writes=True),
    "UserAdminState.reactivate": Spec(_A.RECORD_EDIT, _id("idle_user"), writes=True),
    "UserAdminState.unlock": Spec(_A.RECORD_EDIT, _id("user"), writes=True),
    "UserAdminState.open_reset": Spec(_A.RECORD_EDIT, lambda w, s: (str(w.user), "x")),
    "UserAdminState.save_reset": Spec(
        _A.RECORD_EDIT,
        _const({"password": "Baru#Sekali2026", "password_confirm": "Baru#Sekali2026"}),
        preset=_set(reset_user_id=lambda w: w.user),
        writes=True,
    ),
    "UserAdminState.cancel": Spec(LOCAL),
    "UserAdminState.close_confirm": Spec(LOCAL),
    "UserAdminState.close_reset": Spec(LOCAL),
    "UserAdminState.reset_open_changed": Spec(LOCAL, _const(False)),
    "UserAdminState.set_field": Spec(LOCAL, _const("full_name", "Budi")),
    "UserAdminState.toggle_branch": Spec(LOCAL, lambda w, s: (str(w.branch_a), True)),
    "UserAdminState.toggle_extra_duty": Spec(LOCAL, _const("kasir", True)),
    "BranchSettingsState.load": Spec(_A.VIEW_PENGATURAN, shows=frozenset({HOME})),
    "BranchSettingsState.next_page": Spec(_A.VIEW_PENGATURAN, preset=_paged()),
    "BranchSettingsState.prev_page": Spec(_A.VIEW_PENGATURAN, preset=_set(page=2, page_count=2)),
    "BranchSettingsState.start_create": Spec(_A.BRANCH_SETTINGS),
    "BranchSettingsState.start_edit": Spec(
        _A.BRANCH_SETTINGS, _id("branch_a"), shows=frozenset({HOME})
    ),
    "BranchSettingsState.save": Spec(
        _A.BRANCH_SETTINGS,
        _const({}),
        preset=_set(
            editing_id=lambda w: w.branch_a,
            editing_version=1,
            form={"name": "Cabang Diganti", "facility_type": "klinik", "timezone": "Asia/Jakarta"},
        ),
        writes=True,
    ),
    "BranchSettingsState.check_connection": Spec(_A.BRANCH_SETTINGS, _id("branch_a")),
    "BranchSettingsState.cancel_edit": Spec(LOCAL),
    "BranchSettingsState.cancel_replace_secret": Spec(LOCAL),
    "BranchSettingsState.start_replace_secret": Spec(LOCAL),
    "BranchSettingsState.set_field": Spec(LOCAL, _const("name", "x")),
    "BranchSettingsState.upload_logo": Spec(
        _A.BRANCH_SETTINGS,
        lambda w, s: ([rx.UploadFile(file=io.BytesIO(TINY_PNG))],),
        preset=_set(editing_id=lambda w: w.branch_a),
        writes=True,
    ),
    "BranchSettingsState.remove_logo": Spec(
        _A.BRANCH_SETTINGS, preset=_set(editing_id=lambda w: w.branch_a)
    ),
    # ----- Laporan ----------------------------------------------------------------------
    "LaporanState.open_default": Spec(_A.VIEW_LAPORAN),
    "AuditReportState.load": Spec(_A.VIEW_AUDIT),
    "AuditReportState.next_page": Spec(_A.VIEW_AUDIT, preset=_paged()),
    "AuditReportState.prev_page": Spec(_A.VIEW_AUDIT, preset=_set(page=2, page_count=2)),
    "AuditReportState.set_filter": Spec(_A.VIEW_AUDIT, _const("action", "semua")),
    "AuditReportState.reset_filters": Spec(_A.VIEW_AUDIT),
    "AuditReportState.export_csv": Spec(_A.VIEW_AUDIT),
    "SyncLogState.load": Spec(_A.VIEW_SATUSEHAT_LOG, shows=frozenset({RECORD})),
    "SyncLogState.next_page": Spec(_A.VIEW_SATUSEHAT_LOG, preset=_paged()),
    "SyncLogState.prev_page": Spec(
        _A.VIEW_SATUSEHAT_LOG, preset=_set(page=2, page_count=2), shows=frozenset({RECORD})
    ),
    "SyncLogState.set_filter": Spec(
        _A.VIEW_SATUSEHAT_LOG, _const("result", "semua"), shows=frozenset({RECORD})
    ),
    "SyncLogState.reset_filters": Spec(_A.VIEW_SATUSEHAT_LOG, shows=frozenset({RECORD})),
    "SyncLogState.search_patient": Spec(
        _A.VIEW_SATUSEHAT_LOG,
        preset=_set(patient_text="000001"),
        shows=frozenset({RECORD}),
    ),
    "SyncLogState.patient_on_enter": Spec(
        _A.VIEW_SATUSEHAT_LOG,
        _const("Enter"),
        preset=_set(patient_text="000001"),
        shows=frozenset({RECORD}),
    ),
    "SyncLogState.open_detail": Spec(
        _A.VIEW_SATUSEHAT_LOG, _id("sync_log"), shows=frozenset({RECORD, BODY})
    ),
    "SyncLogState.export_csv": Spec(_A.VIEW_SATUSEHAT_LOG, shows=frozenset({RECORD})),
    "SyncLogState.set_detail_open": Spec(LOCAL, _const(False)),
    "SyncLogState.set_patient_text": Spec(LOCAL, _const("budi")),
    # ----- Apotek: the dispensing queue and labels ---------------------------------------
    "PharmacyState.load": Spec(_A.VIEW_APOTEK, shows=frozenset({RECORD})),
    "PharmacyState.open_dispense": Spec(
        _A.VIEW_APOTEK, _id("dispense"), shows=frozenset({RECORD, PRESCRIPTION})
    ),
    "PharmacyState.dispense": Spec(
        _A.DISPENSE_RECORD,
        preset=_set(selected_id=lambda w: w.dispense, selected_version=1),
        writes=True,
    ),
    "PharmacyState.hand_over": Spec(
        _A.DISPENSE_RECORD,
        preset=_set(selected_id=lambda w: w.dispensed, selected_version=1),
        writes=True,
    ),
    "PharmacyState.confirm_cancel": Spec(
        _A.DISPENSE_CANCEL,
        preset=_set(
            selected_id=lambda w: w.dispense, selected_version=1, cancel_reason="salah resep"
        ),
        writes=True,
    ),
    "PharmacyState.print_prescription": Spec(
        _A.DISPENSE_RECORD,
        preset=_set(selected_id=lambda w: w.dispense, _selected_visit=lambda w: w.done_visit),
        writes=True,
    ),
    # A dispensed (not handed-over) prescription: refused by the rule, judged by its effects
    # (returning is tested in tests/unit/test_dispensing.py).
    "PharmacyState.confirm_return": Spec(
        _A.DISPENSE_CANCEL,
        preset=_set(selected_id=lambda w: w.dispensed, selected_version=1, cancel_reason="retur"),
    ),
    "PharmacyState.close_dispense": Spec(LOCAL),
    "PharmacyState.open_cancel": Spec(LOCAL),
    "PharmacyState.open_return": Spec(LOCAL),
    "PharmacyState.set_cancel_open": Spec(LOCAL, _const(False)),
    "PharmacyState.set_cancel_reason": Spec(LOCAL, _const("alasan")),
    "PharmacyState.set_quantity": Spec(LOCAL, _const("1:1", "5")),
    "PharmacyState.set_reason": Spec(LOCAL, _const("1:1", "alasan")),
    "LabelState.load": Spec(
        _A.VIEW_PRESCRIPTION,
        path=lambda w: f"/apotek/etiket?resep={w.dispense}&ukuran=a4",
        shows=frozenset({RECORD, PRESCRIPTION}),
    ),
    "LabelState.print_labels": Spec(
        _A.VIEW_PRESCRIPTION,
        preset=_set(dispense_id=lambda w: w.dispense),
        shows=frozenset({RECORD, PRESCRIPTION}),
        writes=True,
    ),
    "LabelState.download_pdf": Spec(
        _A.VIEW_PRESCRIPTION, preset=_set(dispense_id=lambda w: w.dispense), writes=True
    ),
    "DashboardState.load": Spec(_A.VIEW_LAPORAN, shows=frozenset({RECORD})),
    "DashboardState.refresh": Spec(_A.VIEW_LAPORAN, shows=frozenset({RECORD})),
    "DashboardState.export_csv": Spec(_A.VIEW_LAPORAN),
    "DashboardState.export_jobs_csv": Spec(_A.VIEW_LAPORAN, shows=frozenset({RECORD})),
    "DashboardState.resend_all_failed": Spec(_A.SATUSEHAT_RESEND, writes=True),
    "DashboardState.set_backfill_day": Spec(
        _A.SATUSEHAT_BACKFILL, _const("backfill_from", "2026-01-01")
    ),
    **_stock_handlers(),
    "DashboardState.send_unsent": Spec(
        _A.SATUSEHAT_BACKFILL,
        preset=_set(
            backfill_from=lambda w: (datetime.now(UTC) - timedelta(days=30)).date().isoformat(),
            backfill_to=lambda w: (datetime.now(UTC) + timedelta(days=1)).date().isoformat(),
        ),
        writes=True,
    ),
    # Beranda: counts of the duty's work (no names, no clinical content).
    "HomeState.load": Spec(_A.VIEW_BERANDA),
    "HomeState.refresh": Spec(_A.VIEW_BERANDA),
    # Laporan Dinkes: counts for every Laporan duty, diagnoses only with VIEW_CLINICAL.
    "DinkesReportState.load": Spec(_A.VIEW_LAPORAN, shows=frozenset({CLINICAL})),
    "DinkesReportState.set_filter": Spec(_A.VIEW_LAPORAN, _const("date_from", "2026-01-01")),
    "DinkesReportState.set_month": Spec(
        _A.VIEW_LAPORAN, lambda w, s: (datetime.now(UTC).strftime("%Y-%m"),)
    ),
    "DinkesReportState.export_visits": Spec(_A.VIEW_LAPORAN, preset=_DINKES_RANGE),
    "DinkesReportState.export_new_returning": Spec(_A.VIEW_LAPORAN, preset=_DINKES_RANGE),
    "DinkesReportState.export_top": Spec(
        _A.VIEW_LAPORAN, preset=_DINKES_MONTH, shows=frozenset({CLINICAL})
    ),
    "DinkesReportState.export_lb1": Spec(_A.VIEW_LAPORAN, preset=_DINKES_MONTH),
    # Laporan pendapatan: cashiers and admin (the open bill names branch A's patient).
    "PendapatanState.load": Spec(_A.VIEW_PENDAPATAN, shows=frozenset({RECORD})),
    "PendapatanState.set_filter": Spec(
        _A.VIEW_PENDAPATAN,
        _const("date_to", (datetime.now(UTC) + timedelta(days=1)).date().isoformat()),
        preset=_set(date_from=lambda w: (datetime.now(UTC) - timedelta(days=2)).date().isoformat()),
        shows=frozenset({RECORD}),
    ),
    "PendapatanState.set_month": Spec(
        _A.VIEW_PENDAPATAN,
        _const(local_today(None).strftime("%Y-%m")),
        shows=frozenset({RECORD}),
    ),
    "PendapatanState.export_revenue": Spec(_A.VIEW_PENDAPATAN, preset=_DINKES_RANGE),
    "PendapatanState.export_shifts": Spec(_A.VIEW_PENDAPATAN, preset=_DINKES_RANGE),
    "PendapatanState.export_unpaid": Spec(
        _A.VIEW_PENDAPATAN, preset=_DINKES_RANGE, shows=frozenset({RECORD})
    ),
    # ----- Kasir ------------------------------------------------------------------------
    "KasirState.load": Spec(_A.VIEW_KASIR, shows=frozenset({RECORD})),
    "KasirState.set_search": Spec(_A.VIEW_KASIR, _const("000001"), shows=frozenset({RECORD})),
    "KasirState.open_visit": Spec(_A.PAYMENT_RECORD, _id("done_visit"), shows=frozenset({RECORD})),
    "KasirState.open_bill": Spec(_A.VIEW_KASIR, _id("bill"), shows=frozenset({RECORD})),
    "KasirState.new_sale": Spec(_A.PAYMENT_RECORD, writes=True),
    "KasirState.search_items": Spec(_A.PAYMENT_RECORD, _const("barang"), shows=frozenset({RECORD})),
    "KasirState.add_line": Spec(
        _A.PAYMENT_RECORD,
        preset=_set(
            bill_id=lambda w: w.bill,
            line_form={
                "description": "Materai",
                "unit_price": "10000",
                "quantity": "1",
                "reason": "surat",
                "item_id": "",
                "item_name": "",
            },
        ),
        writes=True,
    ),
    "KasirState.confirm_remove": Spec(
        _A.PAYMENT_RECORD,
        preset=_set(
            bill_id=lambda w: w.bill,
            remove_line_id=lambda w: w.bill_line,
            remove_reason="salah input",
        ),
        writes=True,
    ),
    "KasirState.apply_discount": Spec(
        _A.BILL_DISCOUNT,
        preset=_set(
            bill_id=lambda w: w.bill,
            discount_form={"kind": "amount", "value": "1000", "reason": "keluarga"},
        ),
        writes=True,
    ),
    # A Umum visit has no insurer: refused by the rule, judged by its effects.
    "KasirState.choose_insurer": Spec(
        _A.PAYMENT_RECORD, _const(""), preset=_set(bill_id=lambda w: w.bill)
    ),
    # No open shift in the world: refused by the rule (paying is tested in tests/unit).
    "KasirState.pay": Spec(
        _A.PAYMENT_RECORD,
        preset=_set(
            bill_id=lambda w: w.bill,
            bill={"patient_total": "10000"},
            parts=[{"method": "tunai", "amount": "10000", "cash_received": "", "reference": ""}],
        ),
    ),
    "KasirState.void": Spec(
        _A.BILL_VOID, preset=_set(bill_id=lambda w: w.bill, void_reason="salah"), writes=True
    ),
    "KasirState.close_bill": Spec(LOCAL),
    "KasirState.set_sale_name": Spec(LOCAL, _const("Bu Sari")),
    "KasirState.set_line_field": Spec(LOCAL, _const("quantity", "2")),
    "KasirState.pick_item": Spec(LOCAL, _const("1", "Obat")),
    "KasirState.ask_remove": Spec(LOCAL, _const("1")),
    "KasirState.set_remove_reason": Spec(LOCAL, _const("x")),
    "KasirState.cancel_remove": Spec(LOCAL),
    "KasirState.set_discount_field": Spec(LOCAL, _const("value", "10")),
    "KasirState.set_part": Spec(LOCAL, _const(0, "amount", "5000")),
    "KasirState.add_part": Spec(LOCAL),
    "KasirState.remove_part": Spec(LOCAL, _const(0)),
    "KasirState.set_void_open": Spec(LOCAL, _const(False)),
    "KasirState.set_void_reason": Spec(LOCAL, _const("x")),
    "NotaState.load": Spec(
        _A.VIEW_KASIR,
        path=lambda w: f"/kasir/nota?tagihan={w.paid_bill}&kertas=80",
        shows=frozenset({RECORD}),
    ),
    "NotaState.print_nota": Spec(
        _A.VIEW_KASIR, preset=_set(bill=lambda w: {"id": str(w.paid_bill)}), writes=True
    ),
    "NotaState.download_pdf": Spec(
        _A.VIEW_KASIR, preset=_set(bill=lambda w: {"id": str(w.paid_bill)}), writes=True
    ),
    "TariffState.load": Spec(_A.VIEW_KASIR, shows=frozenset({RECORD})),
    "TariffState.set_show_ended": Spec(_A.VIEW_KASIR, _const(True), shows=frozenset({RECORD})),
    "TariffState.save": Spec(
        _A.TARIFF_EDIT,
        preset=_set(
            form={
                "kind": "registration",
                "name": "Pendaftaran",
                "amount": "10000",
                "valid_from": "01/01/2027",
                "unit_id": "semua",
                "doctor_id": "semua",
                "code": "",
                "payer": "semua",
                "insurer_id": "semua",
                "covered": "1",
            }
        ),
        writes=True,
    ),
    "TariffState.end_tariff": Spec(_A.TARIFF_EDIT, _id("tariff"), writes=True),
    "TariffState.add_insurer": Spec(
        _A.TARIFF_EDIT,
        preset=_set(insurer_form={"name": "Asuransi Baru", "percent": "90"}),
        writes=True,
    ),
    "TariffState.set_field": Spec(LOCAL, _const("name", "x")),
    "TariffState.search_code": Spec(LOCAL, _const("nebulizer")),  # the ICD-9-CM list
    "TariffState.pick_code": Spec(LOCAL, _const("93.94")),
    "TariffState.set_insurer_field": Spec(LOCAL, _const("name", "x")),
    "ShiftState.load": Spec(_A.VIEW_KASIR, shows=frozenset({RECORD})),
    "ShiftState.open_shift": Spec(
        _A.PAYMENT_RECORD, preset=_set(opening_cash="100000"), writes=True
    ),
    "ShiftState.close_shift": Spec(_A.PAYMENT_RECORD),  # none open: refused by the rule
    "ShiftState.show_report": Spec(_A.VIEW_KASIR, _id("shift"), shows=frozenset({RECORD})),
    "ShiftState.set_opening_cash": Spec(LOCAL, _const("1000")),
    "ShiftState.set_count": Spec(LOCAL, _const("tunai", "1000")),
    "ShiftState.set_close_note": Spec(LOCAL, _const("x")),
}
# Reflex gives every state `setvar(name, value)`, which only calls the state's own
# `set_<name>` handler (listed above where one exists): a var without one, such as the row
# a form edits, cannot be set from the browser.
FRAMEWORK = {"setvar": Spec(LOCAL, _const("editing_id", 1), raises=AttributeError)}


# ----- the app's handlers ------------------------------------------------------------------
def _page_states() -> list[type[rx.State]]:
    found, todo = [], [rx.State]
    while todo:
        cls = todo.pop()
        todo.extend(cls.get_substates())
        if cls.__module__.startswith("klinikita."):
            found.append(cls)
    return sorted(found, key=lambda c: c.__name__)


STATES = {cls.__name__: cls for cls in _page_states()}
APP_HANDLERS = sorted(
    f"{name}.{handler}" for name, cls in STATES.items() for handler in cls.event_handlers
)


def _spec(key: str) -> Spec:
    name, handler = key.split(".", 1)
    return FRAMEWORK[handler] if handler in FRAMEWORK else HANDLERS[key]


def test_every_handler_is_in_the_table():
    """A new handler (or a renamed one) must be given its action here first."""
    own = {k for k in APP_HANDLERS if k.split(".", 1)[1] not in FRAMEWORK}
    assert sorted(own - set(HANDLERS)) == [], "handlers missing from HANDLERS"
    assert sorted(set(HANDLERS) - own) == [], "HANDLERS names handlers that are gone"


# ----- the world: two branches, branch A's records, one login per subject --------------------
def _build(session: Session) -> World:
    w = World()
    a = Branch(name="Cabang-Penanda A", facility_type="klinik")
    b = Branch(name="Klinik Lain", facility_type="klinik")
    session.add_all([a, b])
    session.flush()
    w.branch_a, w.branch_b = a.id, b.id
    unit = ServiceUnit(branch_id=a.id, name="Unit-Penanda")
    session.add(unit)
    session.flush()
    room = Room(branch_id=a.id, unit_id=unit.id, name="Ruang-Penanda")
    doctor = Employee(
        branch_id=a.id, name="Karyawan-Penanda", nik="7209061211900001", main_duty="dokter_umum"
    )
    patient = Patient(
        branch_id=a.id,
        mrn="000001",
        nik="9271060312000001",
        name="Pasien-Penanda",
        sex=Sex.MALE,
        birth_date=datetime(1992, 1, 9).date(),
        sync_status="failed",
    )
    session.add_all([room, doctor, patient])
    session.flush()
    w.unit, w.room, w.employee, w.patient = unit.id, room.id, doctor.id, patient.id
    now = datetime.now(UTC)
    visits = []
    for status in (VisitStatus.COMPLETE, VisitStatus.IN_EXAMINATION):
        visit = Visit(
            branch_id=a.id,
            patient_id=patient.id,
            unit_id=unit.id,
            room_id=room.id,
            doctor_id=doctor.id,
            visit_date=local_today(a),
            queue_number=len(visits) + 101,  # the queue counter starts at 1
            status=status,
            arrived_at=now,
            exam_started_at=now,
            completed_at=now if status == VisitStatus.COMPLETE else None,
            sync_status="failed" if status == VisitStatus.COMPLETE else "not_sent",
        )
        session.add(visit)
        session.flush()
        session.add(
            Examination(visit_id=visit.id, pulse=80, subjective="SOAP-Penanda", vitals_at=now)
        )
        dx = Diagnosis(visit_id=visit.id, rank=1, icd10_code="J06.9", display="DX-Penanda")
        proc = Procedure(visit_id=visit.id, description="Tindakan-Penanda")
        line = Prescription(visit_id=visit.id, medicine="Obat-Penanda", quantity=10)
        session.add_all([dx, proc, line])
        session.flush()
        visits.append(visit.id)
        w.diagnosis, w.procedure, w.prescription = dx.id, proc.id, line.id
    w.done_visit, w.open_visit = visits
    allergy = PatientAllergy(
        patient_id=patient.id, branch_id=a.id, kind="substance", category="medication",
        code="764146007", display="Obat-Penanda Alergi", recorded_visit_id=w.open_visit,
        recorded_at=now,
    )  # fmt: skip
    session.add(allergy)
    session.flush()
    w.allergy = allergy.id
    second = Diagnosis(visit_id=w.open_visit, rank=2, icd10_code="R50.9", display="DX-Penanda")
    idle_unit = ServiceUnit(branch_id=a.id, name="Unit-Penanda Lama", is_active=False)
    empty_unit = ServiceUnit(branch_id=a.id, name="Unit-Penanda Kosong")
    new_patient = Patient(
        branch_id=a.id,
        mrn="000002",
        name="Pasien-Penanda Baru",
        sex=Sex.FEMALE,
        birth_date=datetime(1990, 5, 1).date(),
    )
    session.add_all([second, idle_unit, empty_unit, new_patient])
    session.flush()
    w.new_patient, w.empty_unit = new_patient.id, empty_unit.id
    idle_room = Room(branch_id=a.id, unit_id=unit.id, name="Ruang-Penanda Lama", is_active=False)
    idle_employee = Employee(
        branch_id=a.id, name="Karyawan-Penanda Lama", main_duty="kasir", is_active=False
    )
    drugs = [
        DrugItem(branch_id=a.id, name=f"Obat-Penanda {n}", unit="tablet", kfa_code=code)
        for n, code in ((1, "92000486"), (2, "92000347"))
    ]
    session.add_all([idle_room, idle_employee, *drugs])
    session.flush()
    w.drug_items = (drugs[0].id, drugs[1].id)
    w.second_diagnosis, w.idle_unit = second.id, idle_unit.id
    w.idle_room, w.idle_employee = idle_room.id, idle_employee.id
    drug = DrugItem(branch_id=a.id, name="Barang-Penanda 500 mg", unit="tablet", form_code="BS066")
    idle_drug = DrugItem(branch_id=a.id, name="Barang-Penanda Lama", unit="pcs", active=False)
    session.add_all([drug, idle_drug])
    session.flush()
    w.drug, w.idle_drug = drug.id, idle_drug.id
    bill = Bill(
        branch_id=a.id,
        visit_id=w.done_visit,
        patient_id=patient.id,
        bill_date=local_today(a),
        subtotal=10000,
        patient_total=10000,
    )
    paid = Bill(
        branch_id=a.id,
        customer_name="Pasien-Penanda",
        bill_date=local_today(a),
        status=BillStatus.PAID,
        nota_number="20260101-0001",
        subtotal=5000,
        patient_total=5000,
        paid_at=now,
    )
    tariff = Tariff(
        branch_id=a.id,
        kind="consultation",
        name="Konsultasi Unit-Penanda",
        unit_id=unit.id,
        amount=50000,
        valid_from=local_today(a),
    )
    session.add_all([bill, paid, tariff])
    session.flush()
    line = BillLine(
        bill_id=bill.id,
        source="manual",
        description="Jasa Barang-Penanda",
        quantity=1,
        unit_price=10000,
        amount=10000,
        patient_amount=10000,
    )
    session.add(line)
    session.flush()
    w.bill, w.bill_line, w.paid_bill, w.tariff = bill.id, line.id, paid.id, tariff.id
    tv = DisplayToken(branch_id=a.id, name="TV-Penanda", token_hash="0" * 64)
    session.add(tv)
    session.flush()
    w.display_token = tv.id
    log = SyncLog(
        branch_id=a.id,
        patient_id=patient.id,
        resource_type="Condition",
        method="POST",
        url="https://sim/Condition",
        status_code=201,
        ok=True,
        request_body='{"note": "Body-Penanda"}',
        response_body='{"id": "c-1"}',
    )
    job = SyncJob(
        kind=JobKind.PATIENT_LOOKUP,
        branch_id=a.id,
        subject_type="patient",
        subject_id=patient.id,
        status=JobStatus.FAILED,
        attempts=1,
        last_error="NIK tidak ditemukan",
    )
    document = IssuedDocument(
        branch_id=a.id,
        kind="rujukan",
        number="SR/2026/12/0001",
        visit_id=w.done_visit,
        patient_id=patient.id,
        content=SAMPLES["rujukan"] | {"anamnesis": "SOAP-Penanda", "reason": "DX-Penanda"},
    )
    session.add_all([log, job, document])
    session.flush()
    waiting = Dispense(branch_id=a.id, visit_id=w.done_visit, queued_at=now)
    dispensed = Dispense(
        branch_id=a.id,
        visit_id=w.open_visit,
        queued_at=now,
        status=DispenseStatus.DISPENSED,
        dispensed_at=now,
    )
    session.add_all([waiting, dispensed])
    session.commit()
    w.sync_log, w.document = log.id, document.id
    drug = DrugItem(branch_id=a.id, name="Stok-Penanda Parasetamol", unit="tablet", min_stock=50)
    session.add(drug)
    session.flush()
    batch = StockBatch(
        branch_id=a.id,
        item_id=drug.id,
        batch_number="B1",
        expiry_date=datetime(2099, 1, 1).date(),
        quantity=10,
    )
    session.add(batch)
    session.commit()
    w.stock_item, w.stock_batch = drug.id, batch.id
    w.dispense, w.dispensed = waiting.id, dispensed.id
    for duty in Duty:
        make_user(session, f"t-{duty.value.replace('_', '-')}", branches=[a], main_duty=duty)
    make_user(session, "t-admin-b", branches=[b], main_duty=Duty.ADMIN)
    staff = make_user(session, "pengguna-penanda", branches=[a], main_duty=Duty.KASIR)
    w.user = staff.id
    shift = CashierShift(
        branch_id=a.id,
        user_id=staff.id,
        opened_at=now,
        opening_cash=1000,
        closed_at=now,
        expected={"tunai": 1000},
        counted={"tunai": 1000},
    )
    session.add(shift)
    session.flush()
    w.shift = shift.id
    idle = make_user(session, "pengguna-penanda-lama", branches=[a], main_duty=Duty.KASIR)
    idle.is_active = False
    staff.failed_logins, staff.locked_until = 5, datetime.now(UTC) + timedelta(hours=1)
    session.add_all([idle, staff])
    w.idle_user = idle.id
    for duty in Duty:
        username = f"t-{duty.value.replace('_', '-')}"
        w.tokens[duty.value] = auth.login(session, username, GOOD_PASSWORD).token
    w.tokens[OTHER_ADMIN] = auth.login(session, "t-admin-b", GOOD_PASSWORD).token
    session.commit()
    return w


def _raw(engine) -> sqlite3.Connection:  # noqa: ANN001
    return engine.raw_connection().driver_connection


@pytest.fixture(scope="module")
def world():
    """One database for the whole matrix, kept as a snapshot each case starts from."""
    engine = get_engine()
    if engine.dialect.name != "sqlite":
        pytest.skip("the matrix restores its snapshot with SQLite's backup API")
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        w = _build(session)
    engine.dispose()
    snapshot = sqlite3.connect(":memory:")
    live_db = engine.raw_connection()
    try:
        live_db.driver_connection.backup(snapshot)
    finally:
        live_db.close()
    w.snapshot = snapshot
    w.baseline = _fingerprint(engine, w)
    yield w
    snapshot.close()


def _restore(world: World) -> None:
    engine = get_engine()
    engine.dispose()  # no pooled connection holds a read open while the pages are copied
    target = engine.raw_connection()
    try:
        world.snapshot.backup(target.driver_connection)
    finally:
        target.close()
    forget_actors()
    live.forget_boards()


# ----- what changed, what was shown ----------------------------------------------------------
_SKIP_COLUMNS = {("login_session", "last_seen_at")}


_TABLES = [
    (t.name, [c.name for c in t.columns if (t.name, c.name) not in _SKIP_COLUMNS])
    for t in SQLModel.metadata.sorted_tables
]


def _fingerprint(engine, world: World) -> dict[str, dict[str, set]]:  # noqa: ANN001
    """Every row of every table, as ("all" | "a") -> table -> set of rows; "a" holds the
    rows of branch A only (by branch, visit or user)."""
    out: dict[str, dict[str, set]] = {"all": {}, "a": {}}
    a = world.branch_a
    conn = engine.raw_connection()
    try:
        cur = conn.driver_connection.cursor()
        a_visits = {r[0] for r in cur.execute("SELECT id FROM visit WHERE branch_id = ?", (a,))}
        a_users = {
            r[0] for r in cur.execute("SELECT user_id FROM user_branch WHERE branch_id = ?", (a,))
        }
        for name, names in _TABLES:
            rows = cur.execute(f'SELECT {", ".join(names)} FROM "{name}"').fetchall()  # noqa: S608
            out["all"][name] = set(rows)
            if name == "branch":
                key, wanted = "id", {a}
            elif "branch_id" in names:
                key, wanted = "branch_id", {a}
            elif "visit_id" in names:
                key, wanted = "visit_id", a_visits
            elif name == "app_user":
                key, wanted = "id", a_users
            elif "user_id" in names:
                key, wanted = "user_id", a_users
            else:
                out["a"][name] = out["all"][name]
                continue
            at = names.index(key)
            out["a"][name] = {r for r in rows if r[at] in wanted}
        cur.close()
    finally:
        conn.close()
    return out


def _changed(before: dict[str, set], after: dict[str, set]) -> list[str]:
    return [name for name in before if before[name] != after.get(name)]


_CSV_DATA = re.compile(r"data:text/csv;base64,([A-Za-z0-9+/=]+)")


def _shown_text(root: rx.State, returned: object) -> str:
    """What reached the browser: every state var sent, and what the handler returned
    (downloads decoded)."""
    events = str(returned)
    downloads = [base64.b64decode(m).decode("utf-8", "replace") for m in _CSV_DATA.findall(events)]
    sent = json.dumps(root.dict(), default=str, ensure_ascii=False)
    return "\n".join([sent, events, *downloads]).lower()


def _kinds_in(text: str) -> set[str]:
    return {kind for kind, words in MARKERS.items() if any(w in text for w in words)}


def _call(state: rx.State, handler_name: str, args: tuple) -> object:
    handler = type(state).event_handlers[handler_name]
    result = handler.fn(state, *args)
    if inspect.iscoroutine(result):
        result = asyncio.run(result)
    elif inspect.isgenerator(result):
        result = list(result)
    return result


# ----- the expectations, from the table --------------------------------------------------------
def _duty(subject: str) -> str | None:
    if subject == LOGGED_OUT:
        return None
    return Duty.ADMIN.value if subject == OTHER_ADMIN else subject


def _permitted(spec: Spec, subject: str) -> bool:
    """May `subject` run the handler at all, as the table says."""
    duty = _duty(subject)
    if spec.needs in (PUBLIC, LOCAL):
        return True
    if duty is None:
        return False
    return spec.needs == SESSION or allows(duty, spec.needs)


def _may_see(spec: Spec, subject: str) -> set[str]:
    """The marker kinds of branch A that may reach `subject` through this handler."""
    if subject in (LOGGED_OUT, OTHER_ADMIN):
        return set()
    kinds = {HOME}
    if isinstance(spec.needs, Action) and allows(subject, spec.needs):
        kinds.add(RECORD)
        kinds |= {k for k, action in CONTENT_ACTION.items() if allows(subject, action)}
    return kinds


CASES = [
    pytest.param(key, subject, id=f"{key}-{subject}")
    for key in APP_HANDLERS
    for subject in SUBJECTS
]
RESULTS: list[str] = []  # one outcome per case, for the summary (tests/state/conftest.py)


@pytest.mark.parametrize(("key", "subject"), CASES)
def test_matrix(world, key, subject):
    RESULTS.append(key)
    spec = _spec(key)
    class_name, handler_name = key.split(".", 1)
    root = rx.State()
    token = world.tokens.get(subject, "")
    path = spec.path(world) if spec.path else "/"
    tab_at(root, f"tab-{subject}", path)
    state = substate(root, STATES[class_name])
    if isinstance(state, AuthState):  # the password pages outside the login have no token
        state.auth_token = token
    if spec.preset:
        spec.preset(world, state)
    engine = get_engine()
    denied: PermissionDenied | None = None
    returned: object = None
    try:
        try:
            if spec.raises:
                with pytest.raises(spec.raises):
                    _call(state, handler_name, spec.args(world, subject))
            else:
                returned = _call(state, handler_name, spec.args(world, subject))
        except PermissionDenied as refusal:
            denied = refusal
        except ServiceError:
            pass  # refused by a rule (not found, not valid): judged by its effects below
        after = _fingerprint(engine, world)
        shown = _kinds_in(_shown_text(root, returned))
    finally:
        _restore(world)

    baseline = world.baseline
    permitted = _permitted(spec, subject)
    may_see = _may_see(spec, subject)
    assert shown <= may_see, f"{subject} received {sorted(shown - may_see)} through {key}"
    if subject == OTHER_ADMIN:
        assert _changed(baseline["a"], after["a"]) == [], f"{key} changed branch A's rows"
    elif not permitted:
        assert _changed(baseline["all"], after["all"]) == [], f"{key} wrote for {subject}"
    else:
        assert denied is None or spec.needs == SESSION, f"{subject} refused: {denied}"
        if spec.writes:
            assert _changed(baseline["all"], after["all"]), (
                f"{key} wrote nothing for {subject}: {returned} {getattr(state, 'errors', '')}"
            )
        missing = (spec.shows & may_see) - shown
        assert not missing, f"{key} did not show {sorted(missing)} to {subject}"
