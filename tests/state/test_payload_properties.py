"""Every form handler against any payload a browser could send (hypothesis).

For each handler below: whatever JSON the page sends (wrong types, control and invisible
characters, huge texts, numbers and dates at their extremes, ids that do not exist), the
handler either saves clean data or refuses with a message for staff, never raises anything
but a ServiceError, and writes nothing when it refuses.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import reflex as rx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from reflex import constants
from reflex.istate.data import RouterData
from sqlalchemy import func, select
from sqlmodel import SQLModel

from klinikita.models.enums import Duty
from klinikita.services.errors import ServiceError
from klinikita.services.text_input import invisible_problem
from klinikita.state.branch_settings import BranchSettingsState
from klinikita.state.employees import EmployeeState
from klinikita.state.examination import (
    PROCEDURE_FIELDS,
    RACIKAN_FIELDS,
    RX_FIELDS,
    ExaminationState,
)
from klinikita.state.patients import TEXT_FIELDS, PatientState
from klinikita.state.queue_display import DisplayTokenState
from klinikita.state.referensi import RoomState, UnitState
from klinikita.state.registration import RegistrationState
from klinikita.state.reports import AuditReportState, SyncLogState
from klinikita.state.stock import StockState
from klinikita.state.user_admin import UserAdminState
from tests.factories import GOOD_PASSWORD, make_clinic, make_user, make_visit
from tests.patients_support import add_regions
from tests.state.conftest import logged_in
from tests.support.toasts import toasts_of

EXAMPLES = 60
OTHER_EXAMPLES = 20
# A number shown to staff as a float's word ("Suhu tubuh inf °C").
NO_NUMBER = re.compile(r"\b(inf|nan) (°C|mmHg|/menit|kg|cm|%)", re.IGNORECASE)

# ----- what a browser can send -------------------------------------------------------------
NASTY = [
    "",
    " ",
    "\u200b\u200b\u200b",  # zero-width spaces only
    "\u200bBudi",
    "Budi\x00Santoso",
    "\u202eoduB",  # right-to-left override
    "Budi\u2066x\u2069",  # isolates
    "\ufeffBudi",
    "Budi\nSantoso",
    "Budi\x1b[31m",
    "\ue000",  # private use
    "\U000e0041",  # tag character
    "\ud800",  # a lone surrogate (JSON can carry one)
    "３１７１０１２５１１９００００１",  # full-width digits
    "٣١٧١٠١٢٥١١٩٠٠٠٠١",  # Arabic-Indic digits
    "²³",
    "9" * 50,
    "9" * 400,
    "9" * 5000,
    "-1",
    "0",
    "1e308",
    "inf",
    "NaN",
    "36,5",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2026-02-30",
    "31/02/1990",
    "01/01/0001",
    "{seq:999999999d}",
    "x" * 30_000,
    "Ｂｕｄｉ",
]
GOOD = [
    "Budi Santoso",
    "3171012511900001",
    "081234567890",
    "25/11/1990",
    "1990-11-25",
    "2026-01-01",
    "male",
    "female",
    "120",
    "80",
    "36,7",
    "J06.9",
    "96.59",
    "Paracetamol 500 mg",
    "1",
    "2",
    "3",
]
text_values = st.one_of(
    st.sampled_from(NASTY + GOOD),
    st.text(max_size=40),
    st.text(st.characters(categories=["Cc", "Cf", "Co", "Zl", "Zp", "Nd", "No"]), max_size=20),
)
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(),
        text_values,
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)
# Mostly text (what the page sends), sometimes any JSON.
values = st.one_of(text_values, text_values, text_values, json_values)


def forms(fields: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(fields), values, max_size=len(fields))


def id_values() -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(["1", "2", "999999", "0", "-1", "1.5"]), values)


# ----- the handlers ------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """`act(state, example)` fills a form through its handlers and submits it."""

    name: str
    state: type[rx.State]
    setup: Callable[[Any], Any]
    example: st.SearchStrategy[Any]
    act: Callable[[Any, Any], Any]
    error_vars: tuple[str, ...] = ("errors",)
    examples: tuple[Any, ...] = ()  # always tried, besides the generated ones


def _fill(setter: str, submit: Callable[[Any], Any]):  # noqa: ANN202
    def act(state, form):  # noqa: ANN001, ANN202
        for field, value in form.items():
            getattr(state, setter)(field, value)
        return submit(state)

    return act


def _open_visit(state) -> None:  # noqa: ANN001
    state.load()
    state.open_visit("1")


USER_FIELDS = ("username", "email", "full_name", "employee_id", "main_duty")
BRANCH_FIELDS = ("name", "facility_type", "address", "phone", "timezone", "mrn_format")

FORM_CASES = [
    Case(
        "PatientState.save",
        PatientState,
        lambda s: (s.load(), s.open_create()),
        forms(TEXT_FIELDS),
        _fill("set_field", lambda s: s.save()),
        ("errors",),
        (
            {"name": "\u200b\u200b", "birth_date": "25/11/1990", "sex": "male", "no_nik": "1"},
            {"name": "Budi\x00", "nik": "３１７１０１２５１１９００００１"},
            {"name": "\u202eBudi", "nik": "٣١٧١٠١٢٥١١٩٠٠٠٠١", "birth_date": "25/11/1990"},
        ),
    ),
    Case(
        "PatientState.confirm_save",
        PatientState,
        lambda s: (s.load(), s.start_edit("1")),
        forms(TEXT_FIELDS),
        _fill("set_field", lambda s: s.confirm_save()),
    ),
    Case(
        "EmployeeState.save",
        EmployeeState,
        lambda s: (s.load(), s.start_create()),
        forms(("name", "nik", "sex", "birth_date", "phone", "email", "main_duty", "branch_id")),
        _fill("set_field", lambda s: s.save()),
    ),
    Case(
        "UnitState.save",
        UnitState,
        lambda s: (s.load(), s.start_create()),
        forms(("name",)),
        _fill("set_field", lambda s: s.save()),
    ),
    Case(
        "RoomState.save",
        RoomState,
        lambda s: (s.load(), s.start_create()),
        forms(("name", "unit_id")),
        _fill("set_field", lambda s: s.save()),
    ),
    Case(
        "UserAdminState.save",
        UserAdminState,
        lambda s: (s.load(), s.start_create()),
        st.tuples(forms(USER_FIELDS), values, values),
        lambda s, ex: (
            _fill("set_field", lambda s: None)(s, ex[0]),
            s.toggle_branch(ex[1], True),
            s.save({"password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD}),
        ),
    ),
    Case(
        "UserAdminState.save (submitted form)",
        UserAdminState,
        lambda s: (s.load(), s.start_create()),
        values,
        lambda s, v: s.save(v),
    ),
    Case(
        "UserAdminState.save_reset",
        UserAdminState,
        lambda s: s.load(),
        st.tuples(id_values(), values, values),
        lambda s, ex: (
            s.open_reset(ex[0], ex[1]),
            s.save_reset({"password": ex[2], "password_confirm": ex[2]}),
        ),
        ("reset_errors",),
    ),
    Case(
        "UserAdminState.save_reset (submitted form)",
        UserAdminState,
        lambda s: (s.load(), s.open_reset("1", "admin")),
        values,
        lambda s, v: s.save_reset(v),
        ("reset_errors",),
    ),
    Case(
        "BranchSettingsState.save",
        BranchSettingsState,
        lambda s: (s.load(), s.start_create()),
        st.tuples(forms(BRANCH_FIELDS), values),
        lambda s, ex: (_fill("set_field", lambda s: None)(s, ex[0]), s.save(ex[1])),
    ),
    Case(
        "DisplayTokenState.create",
        DisplayTokenState,
        lambda s: s.load(),
        st.one_of(forms(("name", "unit_id")), json_values),
        lambda s, ex: s.create(ex),
    ),
    Case(
        "ExaminationState.save_vitals",
        ExaminationState,
        _open_visit,
        forms(
            (
                "systolic",
                "diastolic",
                "pulse",
                "respiratory_rate",
                "temperature",
                "weight",
                "height",
                "spo2",
            )
        ),
        _fill("set_vital", lambda s: s.save_vitals()),
        ("vitals_errors",),
        ({"pulse": "9" * 400}, {"temperature": "9" * 50}, {"weight": 1e308}),
    ),
    Case(
        "ExaminationState.save_soap",
        ExaminationState,
        _open_visit,
        forms(("subjective", "objective", "assessment", "plan")),
        _fill("set_soap", lambda s: s.save_soap()),
        ("soap_errors",),
    ),
    Case(
        "ExaminationState.add_procedure",
        ExaminationState,
        _open_visit,
        forms(PROCEDURE_FIELDS),
        _fill("set_procedure_field", lambda s: s.add_procedure()),
        ("procedure_errors",),
    ),
    Case(
        "ExaminationState.add_rx_line",
        ExaminationState,
        _open_visit,
        forms(RX_FIELDS),
        _fill("set_rx_field", lambda s: s.add_rx_line()),
        ("rx_errors",),
    ),
    Case(
        "ExaminationState.add_racikan",
        ExaminationState,
        _open_visit,
        forms(RACIKAN_FIELDS),
        _fill("set_racikan_field", lambda s: s.add_racikan()),
        ("racikan_errors",),
    ),
    Case(
        "RegistrationState.register",
        RegistrationState,
        lambda s: s.load(),
        st.tuples(id_values(), forms(("room_id", "doctor_id", "payer")), values),
        lambda s, ex: (
            s.set_search_term(ex[2]),
            s.search(),
            s.pick_patient(ex[0]),
            s.pick_unit(ex[0]),
            _fill("set_choice", lambda s: s.register())(s, ex[1]),
        ),
    ),
    Case(
        "RegistrationState.confirm_cancel",
        RegistrationState,
        lambda s: s.load(),
        st.tuples(id_values(), values),
        lambda s, ex: (
            s.set_queue_unit(ex[0]),
            s.open_cancel(ex[0]),
            s.set_cancel_reason(ex[1]),
            s.confirm_cancel(),
        ),
        ("cancel_error",),
    ),
    Case(
        "AuditReportState.set_filter",
        AuditReportState,
        lambda s: s.load(),
        forms(("date_from", "date_to", "user_id", "action")),
        _fill("set_filter", lambda s: s.export_csv()),
        ("errors",),
        ({"date_from": "0001-01-01"}, {"date_to": "9999-12-31"}, {"user_id": "9" * 400}),
    ),
    Case(
        "SyncLogState.set_filter",
        SyncLogState,
        lambda s: s.load(),
        st.tuples(forms(("date_from", "date_to", "result", "resource_type")), values, values),
        lambda s, ex: (
            _fill("set_filter", lambda s: None)(s, ex[0]),
            s.set_patient_text(ex[1]),
            s.search_patient(),
            s.open_detail(ex[2]),
        ),
    ),
]

# Handlers that take a row id (or a code) from a list on the page: one call each.
ID_HANDLERS = [
    (PatientState, lambda s: s.load(), ("start_edit", "deactivate", "resend")),
    (UnitState, lambda s: s.load(), ("start_edit", "deactivate", "reactivate", "resend")),
    (RoomState, lambda s: s.load(), ("start_edit", "deactivate", "reactivate", "resend")),
    (EmployeeState, lambda s: s.load(), ("start_edit", "deactivate", "reactivate", "resend")),
    (UserAdminState, lambda s: s.load(), ("start_edit", "deactivate", "reactivate", "unlock")),
    (BranchSettingsState, lambda s: s.load(), ("start_edit",)),
    (
        ExaminationState,
        _open_visit,
        (
            "open_visit",
            "search_icd",
            "add_diagnosis",
            "set_primary",
            "remove_diagnosis",
            "remove_procedure",
            "remove_prescription",
        ),
    ),
    (RegistrationState, lambda s: s.load(), ("pick_patient", "pick_unit", "open_cancel")),
    (SyncLogState, lambda s: s.load(), ("open_detail",)),
    (DisplayTokenState, lambda s: s.load(), ("revoke",)),
]
ROW_CASES = [
    Case(
        f"{cls.__name__}.{name}",
        cls,
        setup,
        id_values(),
        lambda s, v, name=name: getattr(s, name)(v),
        ("icd_error",) if cls is ExaminationState else ("errors",),
    )
    for cls, setup, names in ID_HANDLERS
    for name in names
]

# Every other handler of these pages that takes arguments, each fed any JSON (fewer examples:
# most only keep what is typed).
PAGE_STATES = {
    PatientState: lambda s: (s.load(), s.open_create()),
    EmployeeState: lambda s: (s.load(), s.start_create()),
    UnitState: lambda s: (s.load(), s.start_create()),
    RoomState: lambda s: (s.load(), s.start_create()),
    UserAdminState: lambda s: (s.load(), s.start_create()),
    BranchSettingsState: lambda s: (s.load(), s.start_create()),
    ExaminationState: _open_visit,
    RegistrationState: lambda s: s.load(),
    AuditReportState: lambda s: s.load(),
    SyncLogState: lambda s: s.load(),
    StockState: lambda s: s.load(),
    DisplayTokenState: lambda s: s.load(),
}
NOT_FED = {
    "check_connection",  # a background task; its id is read like start_edit's
    "setvar",  # Reflex's own: it calls the set_<name> handler, each of which is fed here
}
_covered = {c.name for c in FORM_CASES + ROW_CASES}


def _arguments(handler) -> list[str]:  # noqa: ANN001
    return [p for p in inspect.signature(handler.fn).parameters if p != "self"]


def _call_with(name: str):  # noqa: ANN202
    return lambda s, args: getattr(s, name)(*args)


OTHER_CASES = [
    Case(
        f"{cls.__name__}.{name}",
        cls,
        setup,
        st.tuples(*[values for _ in _arguments(handler)]),
        _call_with(name),
        ("errors",) if "errors" in cls.vars else (),
    )
    for cls, setup in PAGE_STATES.items()
    for name, handler in sorted(cls.event_handlers.items())
    if _arguments(handler)
    and name not in NOT_FED
    and not name.startswith("_")
    and f"{cls.__name__}.{name}" not in _covered
]

# Handlers that take a submitted form (a dict) and are exercised above, or owned elsewhere:
# login and the password pages have their own tests (tests/state/test_password_handlers.py).
DICT_HANDLERS_COVERED = {
    "UserAdminState.save",
    "UserAdminState.save_reset",
    "BranchSettingsState.save",
    "DisplayTokenState.create",
}
DICT_HANDLERS_ELSEWHERE = {
    "LoginState.submit",
    "ChangePasswordState.submit",
    "ForgotPasswordState.submit",
    "ResetPasswordState.submit",
}


# ----- checks ------------------------------------------------------------------------------


def _counts(db) -> dict[str, int]:  # noqa: ANN001
    db.expire_all()
    counts = {
        name: db.execute(select(func.count()).select_from(table)).scalar_one()
        for name, table in SQLModel.metadata.tables.items()
        if name not in ("login_session", "sync_log")
    }
    db.commit()  # release SQLite's read snapshot before the next handler writes
    return counts


FORM_TABLES = (
    "patient",
    "employee",
    "service_unit",
    "room",
    "branch",
    "app_user",
    "visit",
    "examination",
    "procedure",
    "prescription",
    "diagnosis",
    "display_token",
)


def _is_text(column) -> bool:  # noqa: ANN001
    try:
        return column.type.python_type is str
    except NotImplementedError:
        return False


def _stored_texts_clean(db) -> None:  # noqa: ANN001
    """Every text stored in the tables a form writes is free of control and invisible
    characters (line breaks and tabs allowed)."""
    for name in FORM_TABLES:
        table = SQLModel.metadata.tables[name]
        columns = [c for c in table.columns if _is_text(c)]
        for row in db.execute(select(*columns)).all():
            for column, value in zip(columns, row, strict=True):
                if isinstance(value, str) and column.name != "password_hash":
                    assert invisible_problem(value, column.name, multiline=True) is None, (
                        name,
                        column.name,
                        value,
                    )
    db.commit()


@pytest.fixture
def world(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    add_regions(db)
    make_visit(db, branch, unit, room, doctor, patient)
    make_user(db, "admin", branches=[branch], main_duty=Duty.ADMIN)
    return branch


def test_every_dict_handler_is_covered():
    """A new handler taking a submitted form must be added to FORM_CASES (or named
    elsewhere)."""
    import klinikita.klinikita  # noqa: F401  (registers every state)
    from klinikita.state.auth import AuthState

    taking_dict = set()
    pending = [AuthState]
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        for name, handler in cls.event_handlers.items():
            params = inspect.signature(handler.fn).parameters.values()
            if any("dict" in str(p.annotation) for p in params):
                taking_dict.add(f"{cls.__name__}.{name}")
    assert taking_dict, "no handler found: the enumeration is broken"
    assert taking_dict <= DICT_HANDLERS_COVERED | DICT_HANDLERS_ELSEWHERE, taking_dict - (
        DICT_HANDLERS_COVERED | DICT_HANDLERS_ELSEWHERE
    )
    assert {c.name for c in FORM_CASES} >= DICT_HANDLERS_COVERED


def _exercise(db, state: rx.State, case: Case, examples: int) -> None:  # noqa: ANN001
    """Feed `case` its examples on `state`; see the module's docstring for what must hold."""
    case.setup(state)

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(example=case.example)
    def run(example: Any) -> None:
        for var in case.error_vars:
            setattr(state, var, "" if isinstance(getattr(state, var), str) else {})
        before = _counts(db)
        try:
            result = case.act(state, example)
        except ServiceError as refused:
            assert refused.message.strip(), "a refusal without a message"
            assert _counts(db) == before, "written although refused"
            return
        shown = toasts_of(result)
        refused = [m for level, m in shown if level in ("error", "warning")] + [
            m
            for var in case.error_vars
            for m in (
                getattr(state, var).values()
                if isinstance(getattr(state, var), dict)
                else [getattr(state, var)]
            )
            if m
        ]
        assert all(m.strip() for _, m in shown), "a toast without a message"
        assert not any(NO_NUMBER.search(m) for m in refused), refused
        if refused and not [level for level, _ in shown if level in ("success", "info")]:
            assert _counts(db) == before, f"written although refused: {refused}"
        _stored_texts_clean(db)

    for explicit in case.examples:
        run = example(example=explicit)(run)
    run()


def _tab(db, root, cls: type[rx.State]) -> rx.State:  # noqa: ANN001
    root.router = RouterData.from_router_data({constants.RouteVar.CLIENT_TOKEN: "tab-prop"})
    return logged_in(db, root, cls, "admin")


@pytest.mark.parametrize("case", FORM_CASES, ids=[c.name for c in FORM_CASES])
def test_a_form_handler_refuses_with_a_message_and_writes_nothing(db, root, world, case):  # noqa: ARG001
    _exercise(db, _tab(db, root, case.state), case, EXAMPLES)


FED_STATES = [cls for cls in PAGE_STATES if any(c.state is cls for c in ROW_CASES + OTHER_CASES)]


@pytest.mark.parametrize("cls", FED_STATES, ids=[c.__name__ for c in FED_STATES])
def test_every_other_handler_of_a_page_takes_any_payload(db, root, world, cls):  # noqa: ARG001
    """Row actions by id, setters and searches: each handler of the page on its own."""
    state = _tab(db, root, cls)
    for case in [c for c in ROW_CASES + OTHER_CASES if c.state is cls]:
        try:
            _exercise(db, state, case, OTHER_EXAMPLES)
        except BaseException as failed:
            failed.add_note(f"handler: {case.name}")
            raise


@pytest.mark.parametrize("odd", ["²", "٣", "9" * 400, "-1", "1.0", "%00"])
@pytest.mark.parametrize(
    "cls, path, shown",
    [
        (ExaminationState, "/pemeriksaan?kunjungan=", "visit_id"),
        (SyncLogState, "/laporan/satusehat?pasien=", "patient_id"),
        (BranchSettingsState, "/pengaturan/cabang?cabang=", "editing_id"),
    ],
    ids=["kunjungan", "pasien", "cabang"],
)
def test_an_odd_id_in_the_address_opens_the_plain_page(db, root, world, cls, path, shown, odd):  # noqa: ARG001
    state = _tab(db, root, cls)
    root.router = RouterData.from_router_data(
        {constants.RouteVar.CLIENT_TOKEN: "tab-prop", constants.RouteVar.ORIGIN: path + odd}
    )
    state.load()
    assert state.router.url.query_parameters  # the id did reach the page
    assert getattr(state, shown) == 0
