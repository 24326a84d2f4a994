import pytest
from sqlmodel import delete, select

from klinikita.models import AuditLog, LoginSession, User, UserBranch, UserDuty
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


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Password1!", "terlalu mudah ditebak"),
        ("Klinik Uji#2026", "memuat nama"),  # the branch's name
        ("Sari#Klinik2026", "nama pengguna"),
        ("Perawat#2026", "akun demo"),
    ],
)
def test_an_admin_cannot_create_a_user_with_an_easy_password(db, password, reason):
    branch = make_branch(db, "Klinik Uji")
    with pytest.raises(ValidationFailed) as err:
        create_user(db, _input(branch, password=password), actor=None)
    assert reason in err.value.errors["password"]
    assert db.query(User).count() == 0


def test_the_demo_keeps_its_public_passwords_but_nobody_may_set_them(db):
    from klinikita.services import accounts, auth
    from klinikita.services.seed import create_first_admin, seed_demo

    seed_demo(db, queue_satusehat=False)
    db.commit()
    admin = auth.login(db, "admin", "Admin#2026").actor
    perawat = db.exec(select(User).where(User.username == "perawat")).one()
    with pytest.raises(ValidationFailed) as err:
        accounts.reset_password_by_admin(db, admin, perawat.id, "Dokter#2026")
    assert "akun demo" in err.value.errors["password"]
    db.rollback()
    # The first admin of a real clinic is held to the policy as well.
    db.exec(delete(AuditLog))
    for model in (UserDuty, UserBranch, LoginSession, User):
        db.exec(delete(model))
    db.commit()
    with pytest.raises(ValidationFailed) as err:
        create_first_admin(
            db,
            username="kepala",
            password="Admin#2026",
            full_name="Kepala Klinik",
            email="kepala@klinik.id",
            branch_name="Klinik Sehat Sentosa",
            facility_type="klinik",
        )
    assert "akun demo" in err.value.errors["password"]
