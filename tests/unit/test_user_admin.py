"""Managing users: edit, deactivate, unlock, passwords, and who may do it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from klinikita.models import AuditLog, Employee, LoginSession, User
from klinikita.models.enums import Duty
from klinikita.services import accounts, auth, rate_limits
from klinikita.services.accounts import UserInput
from klinikita.services.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from klinikita.services.permissions import Action, allows
from klinikita.settings import get_settings
from tests.factories import GOOD_PASSWORD, make_branch, make_user

NEW_PASSWORD = "Baru#Sandi2027"


@pytest.fixture
def clinic(db):
    a = make_branch(db, "Klinik A")
    b = make_branch(db, "Klinik B")
    make_user(db, "admin", branches=[a], main_duty=Duty.ADMIN, email="admin@klinik.id")
    make_user(db, "sari", branches=[a], main_duty=Duty.PERAWAT, email="sari@klinik.id")
    make_user(db, "budi", branches=[b], main_duty=Duty.KASIR)
    return a, b


def _actor(db, username: str):
    return auth.login(db, username, GOOD_PASSWORD).actor


def _user(db, username: str) -> User:
    return db.exec(select(User).where(User.username == username)).one()


def _edit_input(db, actor, who: str, **changes) -> UserInput:
    data = accounts.user_form(db, actor, _user(db, who).id)
    for key, value in changes.items():
        setattr(data, key, value)
    return data


def _audit(db, action: str) -> list[AuditLog]:
    return list(db.exec(select(AuditLog).where(AuditLog.action == action)).all())


def test_list_is_paginated_searched_and_limited_to_the_admins_branches(db, clinic):
    a, _ = clinic
    for i in range(25):
        make_user(db, f"staf{i:02d}", branches=[a])
    actor = _actor(db, "admin")
    first = accounts.list_users(db, actor, page=1, page_size=10)
    # budi works only in Klinik B, which the admin does not manage.
    assert first.total == 27 and first.page_count == 3 and len(first.rows) == 10
    assert "budi" not in [r.username for r in accounts.list_users(db, actor, page_size=50).rows]
    last = accounts.list_users(db, actor, page=9, page_size=10)
    assert last.page == 3 and len(last.rows) == 7
    found = accounts.list_users(db, actor, search="SARI")
    assert [r.username for r in found.rows] == ["sari"]
    by_name = accounts.list_users(db, actor, search="staf0")
    assert by_name.total == 10
    assert accounts.list_users(db, actor, search="%").total == 0  # no wildcard injection


def test_list_row_shows_duties_branches_and_status(db, clinic):
    a, b = clinic
    make_user(db, "dina", branches=[a, b], main_duty=Duty.DOKTER_UMUM, extra_duties=(Duty.PERAWAT,))
    actor = _actor(db, "admin")
    row = next(r for r in accounts.list_users(db, actor).rows if r.username == "dina")
    assert (row.main_duty, row.extra_duties, row.branches) == (
        "Dokter umum",
        "Perawat",
        "Klinik A, Klinik B",
    )
    assert row.is_active and not row.is_locked


def test_update_user_changes_duties_and_branches_and_is_audited(db, clinic):
    a, _ = clinic
    actor = _actor(db, "admin")
    data = _edit_input(
        db, actor, "sari", full_name="Sari Dewi", extra_duties=[Duty.BIDAN], email="S@Klinik.ID"
    )
    accounts.update_user(db, actor, _user(db, "sari").id, data)
    db.commit()
    sari = _user(db, "sari")
    assert sari.full_name == "Sari Dewi" and sari.email == "s@klinik.id"
    assert accounts.user_duties(db, sari) == [Duty.PERAWAT, Duty.BIDAN]
    row = _audit(db, "update")[0]
    assert row.before["full_name"] == "Sari" and row.after["full_name"] == "Sari Dewi"
    assert row.after["extra_duties"] == [Duty.BIDAN] and row.after["password_hash"] == "***"
    assert sari.password_hash not in str(row.before) + str(row.after)


def test_update_reuses_the_uniqueness_rules_but_not_against_itself(db, clinic):
    actor = _actor(db, "admin")
    sari_id = _user(db, "sari").id
    # Saving unchanged is fine (its own username and email are no clash).
    accounts.update_user(db, actor, sari_id, _edit_input(db, actor, "sari"))
    with pytest.raises(ValidationFailed) as err:
        accounts.update_user(
            db, actor, sari_id, _edit_input(db, actor, "sari", username="ADMIN", email="")
        )
    assert "sudah dipakai" in err.value.errors["username"]
    with pytest.raises(ValidationFailed) as err:
        accounts.update_user(
            db, actor, sari_id, _edit_input(db, actor, "sari", email="Admin@Klinik.id")
        )
    assert "sudah dipakai" in err.value.errors["email"]


def test_employee_link_must_be_from_the_admins_branches_and_not_taken(db, clinic):
    a, b = clinic
    mine = Employee(branch_id=a.id, name="Sari", main_duty=Duty.PERAWAT)
    other = Employee(branch_id=b.id, name="Budi", main_duty=Duty.KASIR)
    db.add_all([mine, other])
    db.commit()
    actor = _actor(db, "admin")
    assert [label for _, label in accounts.employee_choices(db, actor)] == ["Sari (Klinik A)"]
    sari_id = _user(db, "sari").id
    with pytest.raises(ValidationFailed) as err:
        accounts.update_user(
            db, actor, sari_id, _edit_input(db, actor, "sari", employee_id=other.id)
        )
    assert "bukan dari cabang Anda" in err.value.errors["employee_id"]
    accounts.update_user(db, actor, sari_id, _edit_input(db, actor, "sari", employee_id=mine.id))
    db.commit()
    data = UserInput(
        username="sari2",
        full_name="Sari Dua",
        password=GOOD_PASSWORD,
        main_duty=Duty.PERAWAT,
        branch_ids=[a.id],
        employee_id=mine.id,
    )
    with pytest.raises(ValidationFailed) as err:
        accounts.create_user(db, data, actor=actor)
    assert "sudah ditautkan" in err.value.errors["employee_id"]


def test_admin_can_only_grant_their_own_branches(db, clinic):
    a, b = clinic
    actor = _actor(db, "admin")
    data = UserInput(
        username="rina",
        full_name="Rina",
        password=GOOD_PASSWORD,
        main_duty=Duty.PENDAFTARAN,
        branch_ids=[a.id, b.id],
    )
    with pytest.raises(ValidationFailed) as err:
        accounts.create_user(db, data, actor=actor)
    assert "cabang Anda sendiri" in err.value.errors["branch_ids"]
    data.branch_ids = [a.id]
    accounts.create_user(db, data, actor=actor)
    db.commit()
    assert _audit(db, "create")[-1].username == "admin"


def test_admin_cannot_remove_their_own_admin_duty(db, clinic):
    actor = _actor(db, "admin")
    admin_id = _user(db, "admin").id
    with pytest.raises(ValidationFailed) as err:
        accounts.update_user(
            db, actor, admin_id, _edit_input(db, actor, "admin", main_duty=Duty.DOKTER_UMUM)
        )
    assert "tugas admin dari akun Anda sendiri" in err.value.errors["main_duty"]
    # Moving admin to an extra duty keeps it, so that is allowed.
    data = _edit_input(db, actor, "admin", main_duty=Duty.DOKTER_UMUM, extra_duties=[Duty.ADMIN])
    accounts.update_user(db, actor, admin_id, data)
    db.commit()
    assert Duty.ADMIN in accounts.user_duties(db, _user(db, "admin"))


def test_deactivating_ends_the_users_sessions_and_blocks_login(db, clinic):
    sari_token = auth.login(db, "sari", GOOD_PASSWORD).token
    db.commit()
    actor = _actor(db, "admin")
    accounts.deactivate_user(db, actor, _user(db, "sari").id)
    db.commit()
    assert auth.resolve(db, sari_token) is None
    open_rows = db.exec(
        select(LoginSession).where(
            LoginSession.user_id == _user(db, "sari").id,
            LoginSession.ended_at == None,  # noqa: E711
        )
    ).all()
    assert open_rows == []
    with pytest.raises(auth.LoginRefused) as err:
        auth.login(db, "sari", GOOD_PASSWORD)
    assert "dinonaktifkan" in err.value.message
    row = _audit(db, "deactivate")[0]
    assert row.after == {"is_active": False, "sessions_ended": 1}
    accounts.reactivate_user(db, actor, _user(db, "sari").id)
    db.commit()
    assert auth.login(db, "sari", GOOD_PASSWORD).actor.username == "sari"
    assert len(_audit(db, "reactivate")) == 1


def test_admin_cannot_deactivate_themselves(db, clinic):
    actor = _actor(db, "admin")
    with pytest.raises(ServiceError) as err:
        accounts.deactivate_user(db, actor, actor.user_id)
    assert "akun Anda sendiri" in err.value.message
    assert _user(db, "admin").is_active


def _fail_logins(db, username: str, count: int, *, addresses: int = 1) -> None:
    for n in range(count):
        with pytest.raises(auth.LoginRefused):
            auth.login(db, username, "Salah#2026", client_address=f"10.9.{n % addresses}.1")
        db.commit()


def test_unlock_clears_a_lockout_and_every_slowed_down_address(db, clinic):
    limit = rate_limits.ACCOUNT_LOCK_FACTOR * get_settings().login_max_failures
    _fail_logins(db, "sari", limit, addresses=limit // 5)  # five from each address
    actor = _actor(db, "admin")
    row = next(r for r in accounts.list_users(db, actor).rows if r.username == "sari")
    assert row.is_locked
    accounts.unlock_user(db, actor, _user(db, "sari").id)
    db.commit()
    # Even from an address that used up its tries at "sari".
    result = auth.login(db, "sari", GOOD_PASSWORD, client_address="10.9.0.1")
    assert result.actor.username == "sari"
    assert _audit(db, "unlock")[0].after == {"failed_logins": 0, "locked_until": None}


def test_a_new_password_lifts_the_slowdown_of_the_account(db, clinic):
    _fail_logins(db, "sari", 5)
    with pytest.raises(auth.LoginRefused) as refused:
        auth.login(db, "sari", GOOD_PASSWORD, client_address="10.9.0.1")
    assert refused.value.message == auth.throttled_message()
    accounts.reset_password_by_admin(db, _actor(db, "admin"), _user(db, "sari").id, NEW_PASSWORD)
    db.commit()
    assert auth.login(db, "sari", NEW_PASSWORD, client_address="10.9.0.1").actor.username == "sari"


def test_admin_resets_a_password_under_the_policy_and_the_users_sessions_end(db, clinic):
    sari_token = auth.login(db, "sari", GOOD_PASSWORD).token
    db.commit()
    actor = _actor(db, "admin")
    sari_id = _user(db, "sari").id
    with pytest.raises(ValidationFailed) as err:
        accounts.reset_password_by_admin(db, actor, sari_id, "pendek")
    assert "minimal 8" in err.value.errors["password"]
    with pytest.raises(ServiceError):
        accounts.reset_password_by_admin(db, actor, actor.user_id, NEW_PASSWORD)
    accounts.reset_password_by_admin(db, actor, sari_id, NEW_PASSWORD)
    db.commit()
    assert auth.resolve(db, sari_token) is None
    with pytest.raises(auth.LoginRefused):
        auth.login(db, "sari", GOOD_PASSWORD)
    assert auth.login(db, "sari", NEW_PASSWORD).actor.username == "sari"
    row = _audit(db, "reset_password")[0]
    assert "password_hash" not in row.after and "$2b$" not in str(row.after)


def test_change_own_password_needs_the_current_one_and_ends_other_sessions(db, clinic):
    other_token = auth.login(db, "sari", GOOD_PASSWORD).token
    mine = auth.login(db, "sari", GOOD_PASSWORD)
    db.commit()
    with pytest.raises(ValidationFailed) as err:
        accounts.change_own_password(db, mine.actor, "Salah#2026", NEW_PASSWORD)
    assert err.value.errors == {"current_password": "Kata sandi saat ini salah."}
    with pytest.raises(ValidationFailed) as err:
        accounts.change_own_password(db, mine.actor, GOOD_PASSWORD, "lemah")
    assert "huruf besar" in err.value.errors["new_password"]
    with pytest.raises(ValidationFailed) as err:
        accounts.change_own_password(db, mine.actor, GOOD_PASSWORD, GOOD_PASSWORD)
    assert "berbeda" in err.value.errors["new_password"]
    assert accounts.change_own_password(db, mine.actor, GOOD_PASSWORD, NEW_PASSWORD) == 1
    db.commit()
    assert auth.resolve(db, other_token) is None
    assert auth.resolve(db, mine.token).username == "sari"  # this session goes on
    assert auth.login(db, "sari", NEW_PASSWORD).actor.username == "sari"
    row = _audit(db, "change_password")[0]
    assert row.username == "sari" and row.after["sessions_ended"] == 1
    assert "$2b$" not in str(row.after)


def test_wrong_current_passwords_are_audited_and_limited(db, clinic):
    mine = auth.login(db, "sari", GOOD_PASSWORD)
    db.commit()
    tries = get_settings().login_max_failures
    for _ in range(tries):
        with pytest.raises(accounts.WrongCurrentPassword):
            accounts.change_own_password(db, mine.actor, "Salah#2026", NEW_PASSWORD)
        db.commit()  # as the page does: the audit row of a wrong password is kept
    rows = _audit(db, "change_password_failed")
    assert len(rows) == tries and {r.entity_id for r in rows} == {str(mine.actor.user_id)}
    # Beyond the limit not even the right current password is looked at.
    with pytest.raises(ValidationFailed) as err:
        accounts.change_own_password(db, mine.actor, GOOD_PASSWORD, NEW_PASSWORD)
    assert "Terlalu banyak" in err.value.errors["current_password"]
    db.rollback()
    assert len(_audit(db, "change_password_failed")) == tries
    assert auth.login(db, "sari", GOOD_PASSWORD).actor.username == "sari"
    # Another user's changes are not affected.
    admin = _actor(db, "admin")
    db.commit()
    assert accounts.change_own_password(db, admin, GOOD_PASSWORD, NEW_PASSWORD) == 0


def test_change_own_password_applies_the_strength_check(db, clinic):
    mine = auth.login(db, "sari", GOOD_PASSWORD)
    db.commit()
    for weak, reason in (("Password1!", "terlalu mudah"), ("Klinik A#2026", "memuat nama")):
        with pytest.raises(ValidationFailed) as err:
            accounts.change_own_password(db, mine.actor, GOOD_PASSWORD, weak)
        assert reason in err.value.errors["new_password"]
        db.rollback()


@pytest.mark.parametrize("duty", [Duty.LOGIN_KLINIK, Duty.LOGIN_PRAKTIK])
def test_shared_desk_duties_cannot_edit_or_delete_anything(duty):
    for action in (
        Action.RECORD_EDIT,
        Action.RECORD_DELETE,
        Action.USER_CREATE,
        Action.VIEW_PENGATURAN,
        Action.BRANCH_SETTINGS,
    ):
        assert not allows(duty, action), action


@pytest.mark.parametrize("duty", [Duty.PERAWAT, Duty.LOGIN_KLINIK])
def test_non_admin_services_refuse_and_change_nothing(db, clinic, duty):
    a, _ = clinic
    make_user(db, "meja", branches=[a], main_duty=duty)
    actor = _actor(db, "meja")
    sari_id = _user(db, "sari").id
    before = _user(db, "sari").model_dump()
    data = UserInput(
        username="baru", full_name="Baru", password=GOOD_PASSWORD, main_duty="admin",
        branch_ids=[a.id],
    )  # fmt: skip
    calls = [
        lambda: accounts.list_users(db, actor),
        lambda: accounts.user_form(db, actor, sari_id),
        lambda: accounts.create_user(db, data, actor=actor),
        lambda: accounts.update_user(db, actor, sari_id, data),
        lambda: accounts.deactivate_user(db, actor, sari_id),
        lambda: accounts.reactivate_user(db, actor, sari_id),
        lambda: accounts.unlock_user(db, actor, sari_id),
        lambda: accounts.reset_password_by_admin(db, actor, sari_id, NEW_PASSWORD),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    db.rollback()
    db.expire_all()
    assert _user(db, "sari").model_dump() == before
    assert db.exec(select(User).where(User.username == "baru")).first() is None


def test_users_outside_the_admins_branches_cannot_be_changed(db, clinic):
    actor = _actor(db, "admin")
    with pytest.raises(NotFound):
        accounts.deactivate_user(db, actor, _user(db, "budi").id)
    assert _user(db, "budi").is_active


def test_a_lock_in_the_past_is_not_shown_as_locked(db, clinic):
    sari = _user(db, "sari")
    sari.locked_until = datetime.now(UTC) - timedelta(minutes=1)
    db.add(sari)
    db.commit()
    assert not accounts.is_locked(sari)
