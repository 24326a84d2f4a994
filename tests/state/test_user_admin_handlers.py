"""Pengaturan -> Pengguna handlers, called directly as a browser could."""

from __future__ import annotations

import pytest
from sqlmodel import select

from klinikita.models import AuditLog, LoginSession, User
from klinikita.models.enums import Duty
from klinikita.services import auth
from klinikita.services.errors import PermissionDenied, ServiceError
from klinikita.state.auth import AuthState
from klinikita.state.user_admin import UserAdminState
from tests.factories import GOOD_PASSWORD, make_branch, make_user
from tests.state.conftest import logged_in, substate

NEW_PASSWORD = "Baru#Sandi2027"


@pytest.fixture
def clinic(db):
    a = make_branch(db, "Klinik A")
    make_user(db, "admin", branches=[a], main_duty=Duty.ADMIN, extra_duties=(Duty.DOKTER_UMUM,))
    make_user(db, "perawat", branches=[a], main_duty=Duty.PERAWAT, email="perawat@klinik.id")
    make_user(db, "meja", branches=[a], main_duty=Duty.LOGIN_KLINIK)
    make_user(db, "sari", branches=[a], main_duty=Duty.BIDAN)
    return a


def _user(db, username: str) -> User:
    # End the read at once: on SQLite every transaction holds the write lock, and the
    # handlers write through their own sessions.
    fresh = select(User).where(User.username == username)
    user = db.exec(fresh.execution_options(populate_existing=True)).one()
    db.commit()
    return user


def _resolves(db, token: str) -> bool:
    actor = auth.resolve(db, token)
    db.commit()
    return actor is not None


def _snapshot(db) -> tuple:
    fresh = select(User).order_by(User.id).execution_options(populate_existing=True)
    users = [u.model_dump() for u in db.exec(fresh).all()]
    audit = db.exec(select(AuditLog).where(AuditLog.entity == "user")).all()
    db.commit()
    return users, len(audit)


def _admin_calls(state: UserAdminState, sari_id: str, branch_id: int):
    """Every admin handler of the page, with arguments that would change something."""

    def save_new():
        state.mode = "create"
        state.form = {
            "username": "penyusup",
            "email": "",
            "full_name": "Penyusup",
            "employee_id": "none",
            "main_duty": Duty.ADMIN,
        }
        state.branch_ids = [str(branch_id)]
        return state.save({"password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD})

    def save_edit():
        state.mode, state.editing_id = "edit", int(sari_id)
        state.form = {
            "username": "sari",
            "email": "",
            "full_name": "Diubah",
            "employee_id": "none",
            "main_duty": Duty.ADMIN,
        }
        state.branch_ids = [str(branch_id)]
        return state.save({})

    def save_reset():
        state.reset_user_id = int(sari_id)
        return state.save_reset({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})

    return {
        "search_users": lambda: state.search_users("sari"),
        "next_page": state.next_page,
        "prev_page": state.prev_page,
        "start_create": state.start_create,
        "start_edit": lambda: state.start_edit(sari_id),
        "save(create)": save_new,
        "save(edit)": save_edit,
        "ask_deactivate": lambda: state.ask_deactivate(sari_id, "sari"),
        "deactivate": lambda: state.deactivate(sari_id),
        "reactivate": lambda: state.reactivate(sari_id),
        "unlock": lambda: state.unlock(sari_id),
        "open_reset": lambda: state.open_reset(sari_id, "sari"),
        "save_reset": save_reset,
    }


@pytest.mark.parametrize("username", ["perawat", "meja"])
def test_non_admin_calling_every_admin_handler_is_refused_and_nothing_changes(
    db, root, clinic, username
):
    sari = _user(db, "sari")
    sari.is_active = False  # so "reactivate" would change something too
    db.add(sari)
    db.commit()
    before = _snapshot(db)
    state = logged_in(db, root, UserAdminState, username)
    for name, call in _admin_calls(state, str(sari.id), clinic.id).items():
        with pytest.raises(PermissionDenied):
            call()
            pytest.fail(f"{name} was not refused")
    assert _snapshot(db) == before
    state.load()
    assert state.rows == [] and not state.page_allowed


def test_admin_lists_searches_and_pages(db, root, clinic):
    for i in range(22):
        make_user(db, f"staf{i:02d}", branches=[clinic])
    state = logged_in(db, root, UserAdminState, "admin")
    state.check_login()
    state.load()
    assert (state.total, state.page_count, len(state.rows)) == (26, 2, 20)
    state.next_page()
    assert state.page == 2 and len(state.rows) == 6
    state.next_page()
    assert state.page == 2
    state.search_users("Sari")
    assert [r["username"] for r in state.rows] == ["sari"] and state.page == 1
    row = state.rows[0]
    assert (row["main_duty"], row["extra_duties"], row["branches"], row["active"]) == (
        "Bidan",
        "-",
        "Klinik A",
        "1",
    )
    assert "$2b$" not in str(root.dict())


def test_admin_creates_a_user_and_a_weak_password_is_named_at_the_field(db, root, clinic):
    state = logged_in(db, root, UserAdminState, "admin")
    state.start_create()
    state.set_field("username", "Rina")
    state.set_field("full_name", "Rina Pendaftaran")
    state.set_field("email", "rina@klinik.id")
    state.set_field("main_duty", Duty.PENDAFTARAN)
    state.toggle_extra_duty(Duty.KASIR, True)
    state.save({"password": "rahasia2026", "password_confirm": "rahasia2026"})
    assert "huruf besar" in state.errors["password"] and "simbol" in state.errors["password"]
    assert state.mode == "create"
    assert db.exec(select(User).where(User.username == "rina")).first() is None
    db.commit()
    state.save({"password": GOOD_PASSWORD, "password_confirm": "Lain#2026"})
    assert state.errors == {"password_confirm": "Konfirmasi kata sandi tidak sama."}
    state.save({"password": GOOD_PASSWORD, "password_confirm": GOOD_PASSWORD})
    assert state.errors == {} and state.mode == ""
    rina = _user(db, "rina")
    assert rina.email == "rina@klinik.id"
    assert auth.login(db, "rina", GOOD_PASSWORD).actor.duty == Duty.PENDAFTARAN
    db.commit()
    assert any(r["username"] == "rina" for r in state.rows)


def test_admin_edits_a_user_and_cannot_drop_their_own_admin_duty(db, root, clinic):
    state = logged_in(db, root, UserAdminState, "admin")
    state.start_edit(str(_user(db, "sari").id))
    assert state.form["username"] == "sari" and state.branch_ids == [str(clinic.id)]
    state.toggle_extra_duty(Duty.PERAWAT, True)
    state.save({})
    assert state.mode == ""
    assert [r["extra_duties"] for r in state.rows if r["username"] == "sari"] == ["Perawat"]

    state.start_edit(str(_user(db, "admin").id))
    state.set_field("main_duty", Duty.DOKTER_UMUM)
    state.save({})
    assert "tugas admin dari akun Anda sendiri" in state.errors["main_duty"]
    assert _user(db, "admin").main_duty == Duty.ADMIN


def test_admin_deactivates_and_the_users_sessions_end(db, root, clinic):
    sari_token = auth.login(db, "sari", GOOD_PASSWORD).token
    db.commit()
    state = logged_in(db, root, UserAdminState, "admin")
    sari_id = str(_user(db, "sari").id)
    state.ask_deactivate(sari_id, "sari")
    assert state.confirm_user_id == int(sari_id)
    state.deactivate(sari_id)
    assert state.confirm_user_id == 0
    assert not _user(db, "sari").is_active
    assert not _resolves(db, sari_token)
    with pytest.raises(ServiceError) as err:
        state.deactivate(str(_user(db, "admin").id))
    assert "akun Anda sendiri" in err.value.message
    assert _user(db, "admin").is_active
    state.reactivate(sari_id)
    assert _user(db, "sari").is_active


def test_admin_resets_a_password_in_the_dialog(db, root, clinic):
    state = logged_in(db, root, UserAdminState, "admin")
    sari_id = str(_user(db, "sari").id)
    state.open_reset(sari_id, "sari")
    state.save_reset({"password": "pendek", "password_confirm": "pendek"})
    assert "minimal 8" in state.reset_errors["password"] and state.reset_user_id == int(sari_id)
    state.save_reset({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert state.reset_user_id == 0
    assert auth.login(db, "sari", NEW_PASSWORD).actor.username == "sari"


def test_admin_who_switched_to_doctor_is_refused(db, root, clinic):
    state = logged_in(db, root, UserAdminState, "admin")
    substate(root, AuthState).switch_duty(Duty.DOKTER_UMUM)
    with pytest.raises(PermissionDenied):
        state.deactivate(str(_user(db, "sari").id))
    assert _user(db, "sari").is_active
    open_rows = db.exec(select(LoginSession).where(LoginSession.ended_at == None)).all()  # noqa: E711
    assert len(open_rows) == 1
