import pytest

from klinikita.models import AuditLog, User
from klinikita.models.enums import Duty
from klinikita.services.accounts import UserInput, create_user, user_branches, user_duties
from klinikita.services.errors import ValidationFailed
from tests.factories import GOOD_PASSWORD, make_branch, make_user


def _input(branch, **kw):
    base = dict(
        username="sari",
        full_name="Sari",
        password=GOOD_PASSWORD,
        main_duty=Duty.PERAWAT,
        branch_ids=[branch.id],
        email="sari@klinik.id",
    )
    base.update(kw)
    return UserInput(**base)


def test_username_is_unique_ignoring_case(db):
    branch = make_branch(db)
    make_user(db, "sari", branches=[branch])
    with pytest.raises(ValidationFailed) as err:
        create_user(db, _input(branch, username="SARI", email=""), actor=None)
    assert "sudah dipakai" in err.value.errors["username"]
    assert db.query(User).count() == 1


def test_email_is_unique_ignoring_case(db):
    branch = make_branch(db)
    make_user(db, "sari", branches=[branch], email="sari@klinik.id")
    with pytest.raises(ValidationFailed) as err:
        create_user(db, _input(branch, username="budi", email="Sari@Klinik.ID"), actor=None)
    assert "sudah dipakai" in err.value.errors["email"]


def test_weak_password_names_the_failed_rule_at_the_password_field(db):
    branch = make_branch(db)
    with pytest.raises(ValidationFailed) as err:
        create_user(db, _input(branch, password="rahasia#2026"), actor=None)
    assert set(err.value.errors) == {"password"}
    assert "huruf besar" in err.value.errors["password"]
    assert db.query(User).count() == 0


def test_user_without_branch_or_duty_is_refused(db):
    branch = make_branch(db)
    with pytest.raises(ValidationFailed) as err:
        create_user(db, _input(branch, branch_ids=[], main_duty="tukang"), actor=None)
    assert {"branch_ids", "main_duty"} <= set(err.value.errors)


def test_create_user_keeps_duties_branches_and_an_audit_row_without_the_hash(db):
    a, b = make_branch(db, "A"), make_branch(db, "B")
    user = make_user(
        db,
        "Dina",
        branches=[a, b],
        main_duty=Duty.DOKTER_UMUM,
        extra_duties=(Duty.ADMIN, Duty.DOKTER_UMUM),
    )
    assert user.username == "dina"
    assert user_duties(db, user) == [Duty.DOKTER_UMUM, Duty.ADMIN]
    assert [br.name for br in user_branches(db, user)] == ["A", "B"]
    row = db.query(AuditLog).filter(AuditLog.entity == "user").one()
    assert row.action == "create" and row.after["username"] == "dina"
    assert row.after["password_hash"] == "***"
    assert user.password_hash not in str(row.after)
