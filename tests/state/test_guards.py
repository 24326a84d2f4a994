"""The shared guard, proven by calling handlers directly as a browser could."""

from __future__ import annotations

import pytest
from sqlmodel import select

from klinikita.models import AuditLog, Branch, LoginSession
from klinikita.models.enums import Duty
from klinikita.services import auth
from klinikita.services.errors import PermissionDenied
from klinikita.state.auth import AuthState, SessionExpired, check_credentials
from klinikita.state.branch_settings import BranchSettingsState
from tests.factories import GOOD_PASSWORD, make_branch, make_user
from tests.state.conftest import logged_in, substate


@pytest.fixture
def clinic(db):
    a = make_branch(db, "Klinik A")
    b = make_branch(db, "Klinik B")
    make_user(db, "admin", branches=[a, b], main_duty=Duty.ADMIN, extra_duties=(Duty.DOKTER_UMUM,))
    make_user(db, "perawat", branches=[a], main_duty=Duty.PERAWAT)
    return a, b


def _edit(state: BranchSettingsState, branch: Branch, **changes):
    state.editing_id, state.editing_version = branch.id, branch.version  # as start_edit does
    state.form = {
        "name": branch.name,
        "facility_type": branch.facility_type,
        "address": branch.address,
        "phone": branch.phone,
        "timezone": branch.timezone,
        **changes,
    }
    return state.save()


def _audit_count(db) -> int:
    return len(db.exec(select(AuditLog).where(AuditLog.entity == "branch")).all())


def test_non_admin_calling_the_admin_handler_is_refused_and_nothing_changes(db, root, clinic):
    branch, _ = clinic
    state = logged_in(db, root, BranchSettingsState, "perawat")
    with pytest.raises(PermissionDenied) as err:
        _edit(state, branch, name="Diganti Perawat")
    assert "Perawat" in err.value.message
    db.expire_all()
    assert db.get(Branch, branch.id).name == "Klinik A"
    assert _audit_count(db) == 0


def test_admin_who_switched_to_a_doctor_duty_is_refused_too(db, root, clinic):
    branch, _ = clinic
    state = logged_in(db, root, BranchSettingsState, "admin")
    substate(root, AuthState).switch_duty(Duty.DOKTER_UMUM)
    with pytest.raises(PermissionDenied):
        _edit(state, branch, name="Diganti Dokter")
    db.expire_all()
    assert db.get(Branch, branch.id).name == "Klinik A"


def test_admin_saves_and_the_change_is_audited_with_before_and_after(db, root, clinic):
    branch, _ = clinic
    state = logged_in(db, root, BranchSettingsState, "admin")
    _edit(state, branch, name="Klinik A Baru", phone="021-123")
    db.expire_all()
    assert db.get(Branch, branch.id).name == "Klinik A Baru"
    row = db.exec(select(AuditLog).where(AuditLog.entity == "branch")).one()
    assert (row.before["name"], row.after["name"]) == ("Klinik A", "Klinik A Baru")
    assert row.duty == Duty.ADMIN and row.username == "admin"


def test_bad_input_stays_in_the_form_with_field_messages_and_saves_nothing(db, root, clinic):
    branch, other = clinic
    state = logged_in(db, root, BranchSettingsState, "admin")
    _edit(state, branch, name="Klinik B", timezone="Europe/Paris")
    assert "sudah dipakai" in state.errors["name"] and "timezone" in state.errors
    assert state.editing_id == branch.id
    db.expire_all()
    assert db.get(Branch, branch.id).name == "Klinik A"
    assert _audit_count(db) == 0


def test_without_a_session_the_handler_is_refused(db, root, clinic):
    branch, _ = clinic
    state = substate(root, BranchSettingsState)
    with pytest.raises(SessionExpired):
        _edit(state, branch, name="Tanpa Login")
    state.auth_token = "forged-token"
    with pytest.raises(SessionExpired):
        _edit(state, branch, name="Token Palsu")
    db.expire_all()
    assert db.get(Branch, branch.id).name == "Klinik A"


def test_a_duty_or_branch_not_given_cannot_be_picked_even_by_calling_the_handler(db, root, clinic):
    _, other = clinic
    state = logged_in(db, root, AuthState, "perawat")
    with pytest.raises(PermissionDenied):
        state.switch_duty(Duty.ADMIN)
    with pytest.raises(PermissionDenied):
        state.switch_branch(str(other.id))
    db.expire_all()
    row = db.exec(select(LoginSession)).one()
    assert row.active_duty == Duty.PERAWAT and row.active_branch_id != other.id


def test_switching_duty_changes_the_menus_at_once(db, root, clinic):
    state = logged_in(db, root, AuthState, "admin")
    state.check_login()
    assert "Pengaturan" in [m["label"] for m in state.menu]
    state.switch_duty(Duty.DOKTER_UMUM)
    labels = [m["label"] for m in state.menu]
    assert "Pengaturan" not in labels and "Pemeriksaan" in labels
    assert state.duty_label == "Dokter umum"


def test_login_check_gives_one_message_for_wrong_user_and_wrong_password(db, clinic):
    # The login handler is a background event (bcrypt runs off the event loop); the check it
    # runs in a thread is this function.
    refused_password, wrong_password = check_credentials("perawat", "Salah#2026", "")
    refused_user, unknown_user = check_credentials("siapa", GOOD_PASSWORD, "")
    assert refused_password is None and refused_user is None
    assert wrong_password == unknown_user != ""
    accepted, message = check_credentials("perawat", GOOD_PASSWORD, "")
    assert accepted is not None and accepted.token and message == ""


def test_login_check_slows_down_one_address_not_the_others(db, clinic):
    for _ in range(5):
        refused, message = check_credentials("perawat", "Salah#2026", "", "10.0.0.1")
        assert refused is None and message == auth.WRONG_CREDENTIALS
    refused, message = check_credentials("perawat", GOOD_PASSWORD, "", "10.0.0.1")
    assert refused is None and message == auth.throttled_message()
    # The same for a name nobody has: the answers tell no account apart.
    for _ in range(5):
        check_credentials("siapa", "Salah#2026", "", "10.0.0.3")
    assert check_credentials("siapa", GOOD_PASSWORD, "", "10.0.0.3")[1] == message
    accepted, message = check_credentials("perawat", GOOD_PASSWORD, "", "10.0.0.2")
    assert accepted is not None and message == ""


def test_no_secret_reaches_the_browser_state(db, root, clinic):
    state = logged_in(db, root, AuthState, "admin")
    state.check_login()
    sent = str(root.dict())
    user_hash = db.exec(select(LoginSession)).first().token_hash
    assert user_hash not in sent
    assert "$2b$" not in sent  # no bcrypt hash
