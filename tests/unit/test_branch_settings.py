"""Branch settings: validation, the write-only SATUSEHAT secret, adding a branch, audit,
and the branches an admin may see and change."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session, SQLModel, select

from klinikita.db import make_engine
from klinikita.integrations.satusehat.config import PLAIN_HTTP_REFUSED
from klinikita.integrations.satusehat.tokens import TokenCache
from klinikita.models import AuditLog, Branch, UserBranch
from klinikita.models.enums import Duty, SatusehatEnvironment
from klinikita.services import branches as svc
from klinikita.services.audit import Actor
from klinikita.services.errors import NotFound, PermissionDenied, ValidationFailed
from klinikita.services.readiness import branch_readiness
from klinikita.services.satusehat_connection import (
    check_branch_connection,
    check_connection_for_admin,
)
from klinikita.services.satusehat_credentials import open_secret
from klinikita.services.secrets_store import (
    SECRET_BOUND_ELSEWHERE,
    decrypt_secret,
    encrypt_secret,
)
from tests.factories import make_branch, make_user
from tests.pg import require_pg, temporary_pg_database
from tests.support.listener import recording_listener

SECRET = "rahasia-cabang-XYZ123"


@pytest.fixture
def admin(db):
    branch = make_branch(db, "Klinik A")
    user = make_user(db, "admin", branches=[branch], main_duty=Duty.ADMIN)
    return Actor(user.id, "admin", "Admin", Duty.ADMIN, branch.id)


def _general(branch: Branch, **changes) -> svc.BranchInput:
    values = {
        "name": branch.name,
        "facility_type": branch.facility_type,
        "address": branch.address,
        "phone": branch.phone,
        "timezone": branch.timezone,
    }
    return svc.BranchInput(**(values | changes))


def _branch(db) -> Branch:
    return db.exec(select(Branch).where(Branch.name == "Klinik A")).one()


def test_organization_id_must_be_digits():
    errors = svc.validate_satusehat_input(svc.SatusehatInput(organization_id="1000-0004"))
    assert "angka" in errors["ss_organization_id"]
    assert "ss_organization_id" not in svc.validate_satusehat_input(
        svc.SatusehatInput(organization_id=" 10000004 ")
    )
    # Arabic-Indic digits pass str.isdigit() but are not an Organization ID.
    assert "ss_organization_id" in svc.validate_satusehat_input(
        svc.SatusehatInput(organization_id="١٢٣")
    )


@pytest.mark.parametrize(
    ("auth_url", "fhir_url", "bad"),
    [
        ("", "", {"ss_auth_url", "ss_fhir_url"}),
        ("ftp://x.id/oauth2/v1", "https://x.id/fhir-r4/v1", {"ss_auth_url"}),
        ("https://x.id/oauth2/v1", "x.id/fhir-r4/v1", {"ss_fhir_url"}),
        ("https://", "http://localhost:9000/fhir-r4/v1", {"ss_auth_url"}),
        ("https://x.id/oauth2/v1", "http://localhost:9000/fhir-r4/v1", set()),
    ],
)
def test_custom_environment_needs_two_http_urls(auth_url, fhir_url, bad):
    data = svc.SatusehatInput(
        environment=SatusehatEnvironment.CUSTOM, auth_url=auth_url, fhir_url=fhir_url
    )
    errors = svc.validate_satusehat_input(data)
    assert {k for k in errors if k in {"ss_auth_url", "ss_fhir_url"}} == bad


def test_urls_are_ignored_and_cleared_outside_the_custom_environment(db, admin):
    branch = _branch(db)
    data = svc.SatusehatInput(
        environment=SatusehatEnvironment.SANDBOX, auth_url="bukan url", fhir_url="juga bukan"
    )
    assert svc.validate_satusehat_input(data) == {}
    svc.update_branch(db, admin, branch.id, _general(branch), data)
    db.commit()
    assert (branch.ss_auth_url, branch.ss_fhir_url) == ("", "")


def test_unknown_environment_is_refused():
    errors = svc.validate_satusehat_input(svc.SatusehatInput(environment="mars"))
    assert "ss_environment" in errors


def test_secret_is_encrypted_and_kept_when_the_field_is_left_empty(db, admin):
    branch = _branch(db)
    data = svc.SatusehatInput(organization_id="10000004", client_id="demo", new_secret=SECRET)
    svc.update_branch(db, admin, branch.id, _general(branch), data)
    db.commit()
    stored = branch.ss_secret_encrypted
    assert stored and SECRET not in stored and decrypt_secret(stored) == SECRET
    # Saved again with an empty secret field: the stored secret stays as it is.
    data = svc.SatusehatInput(organization_id="10000005", client_id="demo")
    svc.update_branch(db, admin, branch.id, _general(branch, phone="021-1"), data)
    db.commit()
    db.refresh(branch)
    assert branch.ss_secret_encrypted == stored
    assert branch.ss_organization_id == "10000005"
    assert svc.satusehat_view(branch).secret_saved is True
    assert SECRET not in repr(svc.satusehat_view(branch)) and SECRET not in repr(data)


def test_a_new_secret_replaces_the_old_one_and_the_audit_says_so_without_it(db, admin):
    branch = _branch(db)
    branch.ss_secret_encrypted = encrypt_secret("lama")
    db.add(branch)
    db.commit()
    data = svc.SatusehatInput(
        environment=SatusehatEnvironment.SANDBOX,
        organization_id="10000004",
        client_id="cid",
        new_secret=SECRET,
    )
    svc.update_branch(db, admin, branch.id, _general(branch), data)
    db.commit()
    assert decrypt_secret(branch.ss_secret_encrypted) == SECRET
    row = db.exec(select(AuditLog).where(AuditLog.entity == "branch")).one()
    assert row.before["ss_environment"] == SatusehatEnvironment.SIMULATOR
    assert row.after["ss_environment"] == SatusehatEnvironment.SANDBOX
    assert row.after["ss_client_id"] == "cid"
    assert row.before["ss_secret_encrypted"] == "***"
    assert row.after["ss_secret_encrypted"] == "*** (diganti)"
    for audit_row in db.exec(select(AuditLog)).all():
        text = str(audit_row.before) + str(audit_row.after)
        assert SECRET not in text and branch.ss_secret_encrypted not in text


def test_bad_satusehat_input_saves_nothing(db, admin):
    branch = _branch(db)
    data = svc.SatusehatInput(organization_id="abc", new_secret=SECRET)
    with pytest.raises(ValidationFailed) as failed:
        svc.update_branch(db, admin, branch.id, _general(branch, name="Baru"), data)
    db.rollback()
    assert "ss_organization_id" in failed.value.errors
    db.expire_all()
    fresh = _branch(db)
    assert fresh.ss_secret_encrypted == "" and fresh.name == "Klinik A"
    assert db.exec(select(AuditLog).where(AuditLog.entity == "branch")).first() is None


def test_admin_adds_a_branch_audited_and_may_work_in_it(db, admin):
    data = svc.SatusehatInput(organization_id="10000005", client_id="demo-pmd", new_secret=SECRET)
    general = svc.BranchInput(name="Praktik Baru", facility_type="pmd", phone="0812")
    branch = svc.create_branch(db, admin, general, data)
    db.commit()
    assert branch.id and decrypt_secret(branch.ss_secret_encrypted) == SECRET
    assert db.get(UserBranch, (admin.user_id, branch.id)) is not None
    row = db.exec(
        select(AuditLog).where(AuditLog.entity == "branch", AuditLog.action == "create")
    ).one()
    assert row.after["name"] == "Praktik Baru" and SECRET not in str(row.after)


def test_adding_a_branch_with_a_taken_name_is_refused(db, admin):
    with pytest.raises(ValidationFailed) as failed:
        svc.create_branch(
            db,
            admin,
            svc.BranchInput(name="Klinik A", facility_type="klinik"),
            svc.SatusehatInput(),
        )
    assert "sudah dipakai" in failed.value.errors["name"]


def test_only_admin_changes_branch_settings(db, admin):
    branch = _branch(db)
    nurse = Actor(admin.user_id, "perawat", "Perawat", Duty.PERAWAT, branch.id)
    with pytest.raises(PermissionDenied):
        svc.update_branch(db, nurse, branch.id, _general(branch), svc.SatusehatInput())
    with pytest.raises(PermissionDenied):
        svc.create_branch(
            db, nurse, svc.BranchInput(name="X", facility_type="klinik"), svc.SatusehatInput()
        )


def _grant(db, actor: Actor, branch: Branch) -> None:
    db.add(UserBranch(user_id=actor.user_id, branch_id=branch.id))
    db.commit()


def test_branches_granted_to_the_admin_are_paged_in_sql(db, admin):
    for i in range(11):
        _grant(db, admin, make_branch(db, f"Cabang {i:02d}"))
    make_branch(db, "Cabang orang lain")
    rows, total = svc.page_of_branches(db, admin, 2, 5)
    assert total == 12 and [b.name for b in rows] == [f"Cabang {i:02d}" for i in range(4, 9)]
    rows, _ = svc.page_of_branches(db, admin, 3, 5)
    assert [b.name for b in rows] == ["Cabang 09", "Cabang 10"]


# ----- an admin sees and changes only the branches granted to them --------------------------
@pytest.fixture
def stranger(db, admin):
    """The admin of another branch only (Klinik B)."""
    other = make_branch(db, "Klinik B")
    user = make_user(db, "admin_b", branches=[other], main_duty=Duty.ADMIN)
    return Actor(user.id, "admin_b", "Admin B", Duty.ADMIN, other.id)


async def test_another_branchs_admin_can_neither_see_nor_change_nor_test_it(db, admin, stranger):
    branch = _branch(db)
    data = svc.SatusehatInput(organization_id="10000004", client_id="demo", new_secret=SECRET)
    svc.update_branch(db, admin, branch.id, _general(branch), data)
    db.commit()
    branch_id = branch.id  # read before a rollback expires it (SQLite: no open transaction)
    rows, total = svc.page_of_branches(db, stranger, 1, 10)
    assert [b.name for b in rows] == ["Klinik B"] and total == 1
    with pytest.raises(NotFound):
        svc.managed_branch(db, stranger, branch.id)
    with pytest.raises(NotFound):
        svc.update_branch(db, stranger, branch.id, _general(branch, name="Diambil"), data)
    db.rollback()
    # The listener stands in for the simulator: a test that ran would reach it.
    with recording_listener() as listener:
        with pytest.raises(NotFound):
            await check_connection_for_admin(stranger, branch_id, listener.url)
        assert listener.received == []
        await check_connection_for_admin(admin, branch_id, listener.url, tokens=TokenCache())
        assert len(listener.received) == 1  # its own admin may
    db.expire_all()
    assert _branch(db).ss_client_id == "demo" and _branch(db).name == "Klinik A"


def test_a_new_branch_is_granted_to_its_creator_only(db, admin, stranger):
    created = svc.create_branch(
        db, stranger, svc.BranchInput(name="Klinik C", facility_type="klinik"), svc.SatusehatInput()
    )
    db.commit()
    assert [b.name for b in svc.page_of_branches(db, stranger, 1, 10)[0]] == [
        "Klinik B",
        "Klinik C",
    ]
    assert "Klinik C" not in [b.name for b in svc.page_of_branches(db, admin, 1, 10)[0]]
    assert svc.managed_branch(db, stranger, created.id).name == "Klinik C"
    with pytest.raises(NotFound):
        svc.managed_branch(db, admin, created.id)


# ----- the stored secret never follows new server addresses ----------------------------------
LEGIT_AUTH = "https://satusehat.contoh.id/oauth2/v1"
LEGIT_FHIR = "https://satusehat.contoh.id/fhir-r4/v1"


def _custom(auth_url: str = "", fhir_url: str = "", **changes) -> svc.SatusehatInput:
    values = {
        "environment": SatusehatEnvironment.CUSTOM,
        "organization_id": "10000004",
        "client_id": "cid",
        "auth_url": auth_url,
        "fhir_url": fhir_url,
    }
    return svc.SatusehatInput(**(values | changes))


def _saved_with_secret(db, admin) -> Branch:
    branch = _branch(db)
    svc.update_branch(
        db, admin, branch.id, _general(branch), _custom(LEGIT_AUTH, LEGIT_FHIR, new_secret=SECRET)
    )
    db.commit()
    return branch


@pytest.mark.parametrize(
    ("auth_url", "fhir_url", "bad"),
    [
        ("http://satusehat.contoh.id/oauth2/v1", LEGIT_FHIR, {"ss_auth_url"}),
        (LEGIT_AUTH, "http://10.0.0.5/fhir-r4/v1", {"ss_fhir_url"}),
        (
            "http://localhost.contoh.id/oauth2/v1",
            "http://127.0.0.1.nip.io/fhir",
            {
                "ss_auth_url",
                "ss_fhir_url",
            },
        ),
        (LEGIT_AUTH, LEGIT_FHIR, set()),
        ("http://127.0.0.1:8099/oauth2/v1", "http://localhost:8099/fhir-r4/v1", set()),
        ("http://[::1]:8099/oauth2/v1", "HTTPS://SATUSEHAT.CONTOH.ID/fhir-r4/v1", set()),
    ],
)
def test_custom_urls_need_https_except_to_this_machine(auth_url, fhir_url, bad):
    errors = svc.validate_satusehat_input(_custom(auth_url, fhir_url))
    assert {k for k in errors if k in {"ss_auth_url", "ss_fhir_url"}} == bad
    for key in bad:
        assert "https://" in errors[key] and "127.0.0.1" in errors[key]


@pytest.mark.parametrize(
    "moved",
    [
        {"environment": SatusehatEnvironment.SANDBOX},
        {"auth_url": "https://penyadap.contoh.id/oauth2/v1"},
        {"fhir_url": "https://penyadap.contoh.id/fhir-r4/v1"},
    ],
)
def test_new_addresses_without_a_new_secret_are_refused_and_nothing_changes(db, admin, moved):
    branch = _saved_with_secret(db, admin)
    stored = branch.ss_secret_encrypted
    data = _custom(**({"auth_url": LEGIT_AUTH, "fhir_url": LEGIT_FHIR} | moved))
    with pytest.raises(ValidationFailed) as failed:
        svc.update_branch(db, admin, branch.id, _general(branch, phone="0211"), data)
    db.rollback()
    assert failed.value.errors == {"ss_secret": svc.DESTINATION_CHANGED}
    db.expire_all()
    fresh = _branch(db)
    assert (fresh.ss_environment, fresh.ss_auth_url, fresh.ss_fhir_url, fresh.phone) == (
        SatusehatEnvironment.CUSTOM,
        LEGIT_AUTH,
        LEGIT_FHIR,
        "",
    )
    assert fresh.ss_secret_encrypted == stored
    assert (
        db.exec(select(AuditLog).where(AuditLog.action == "update")).all()[-1].after["ss_auth_url"]
        == LEGIT_AUTH
    )  # only the first save was recorded


def test_new_addresses_saved_with_a_newly_typed_secret(db, admin):
    branch = _saved_with_secret(db, admin)
    moved = _custom(
        "https://baru.contoh.id/oauth2/v1/", "https://baru.contoh.id/fhir-r4/v1", new_secret="baru"
    )
    svc.update_branch(db, admin, branch.id, _general(branch), moved)
    db.commit()
    db.refresh(branch)
    assert branch.ss_auth_url == "https://baru.contoh.id/oauth2/v1"
    assert open_secret(branch) == "baru"


def test_other_fields_and_the_same_addresses_keep_the_secret(db, admin):
    branch = _saved_with_secret(db, admin)
    stored = branch.ss_secret_encrypted
    # The same addresses, written with spaces and a trailing slash, are no move.
    same = _custom(f" {LEGIT_AUTH}/ ", LEGIT_FHIR + "/", organization_id="10000009", client_id="c2")
    svc.update_branch(db, admin, branch.id, _general(branch, name="Klinik A Baru"), same)
    db.commit()
    db.refresh(branch)
    assert branch.name == "Klinik A Baru" and branch.ss_client_id == "c2"
    assert branch.ss_secret_encrypted == stored and open_secret(branch) == SECRET
    # Without a stored secret, new addresses need none.
    branch.ss_secret_encrypted = ""
    db.add(branch)
    db.commit()
    svc.update_branch(db, admin, branch.id, _general(branch), _custom(LEGIT_AUTH, "https://x.id/f"))
    db.commit()
    assert branch.ss_fhir_url == "https://x.id/f"


async def test_a_stored_secret_moved_to_a_strangers_listener_is_never_sent(db, admin):
    """The issue's scenario through the service: new addresses with the stored secret kept
    are refused, and a secret whose addresses change behind the service does not open."""
    branch = _saved_with_secret(db, admin)
    branch_id = branch.id  # read before a rollback expires it (SQLite: no open transaction)
    with recording_listener() as listener:
        to_listener = _custom(listener.auth_url, listener.fhir_url)
        with pytest.raises(ValidationFailed) as failed:
            svc.update_branch(db, admin, branch.id, _general(branch), to_listener)
        db.rollback()
        assert "ketik ulang Secret Key" in failed.value.errors["ss_secret"]
        with pytest.raises(ValidationFailed) as failed:
            await check_connection_for_admin(admin, branch_id, "", shown=to_listener)
        assert "ss_secret" in failed.value.errors
        # Moved by hand in the database: the sealed secret refuses to open for the listener.
        db.expire_all()
        moved = _branch(db)
        moved.ss_auth_url, moved.ss_fhir_url = listener.auth_url, listener.fhir_url
        db.add(moved)
        db.commit()
        result = await check_branch_connection(branch_id, "", tokens=TokenCache())
        assert not result.ok and result.message == SECRET_BOUND_ELSEWHERE
        assert [item.key for item in branch_readiness(db, branch_id)][:1] == ["secret"]
        assert listener.received == []


async def test_custom_urls_in_plain_http_to_another_machine_never_get_the_secret(db, admin):
    """Addresses saved before https was required (written here by hand) are refused when
    used: the sending, the connection test and the readiness panel all say why."""
    branch = _saved_with_secret(db, admin)
    with recording_listener("127.0.0.2") as listener:  # another name than 127.0.0.1
        auth_url, fhir_url = listener.auth_url, listener.fhir_url
        data = _custom(auth_url, fhir_url, new_secret=SECRET)
        assert set(svc.validate_satusehat_input(data)) == {"ss_auth_url", "ss_fhir_url"}
        branch.ss_auth_url, branch.ss_fhir_url = auth_url, fhir_url
        branch.ss_secret_encrypted = encrypt_secret(SECRET, bound_to=svc.input_destination(data))
        db.add(branch)
        db.commit()
        result = await check_branch_connection(branch.id, "", tokens=TokenCache())
        assert not result.ok and result.message == PLAIN_HTTP_REFUSED
        assert [item.key for item in branch_readiness(db, branch.id)][:1] == ["secret"]
        assert listener.received == []


@pytest.mark.postgres
def test_addresses_moved_while_a_secret_is_being_saved_wait_and_are_refused_postgresql():
    """PostgreSQL: a save that moves the addresses while another admin's save of a new
    secret is still open waits for it (the row is locked when read), then sees the stored
    secret and is refused: the secret never ends up with addresses it was not typed for."""
    require_pg()
    with temporary_pg_database() as url:
        engine = make_engine(url)
        SQLModel.metadata.create_all(engine)
        with Session(engine, expire_on_commit=False) as setup:
            branch = make_branch(setup, "Klinik PG")
            user = make_user(setup, "admin", branches=[branch], main_duty=Duty.ADMIN)
            actor = Actor(user.id, "admin", "Admin", Duty.ADMIN, branch.id)
            general = _general(branch)
        refused: list[ValidationFailed] = []

        def move_addresses() -> None:
            with Session(engine) as other:
                try:
                    svc.update_branch(
                        other, actor, branch.id, general, _custom(LEGIT_AUTH, "https://x.id/f")
                    )
                    other.commit()
                except ValidationFailed as failed:
                    refused.append(failed)

        with Session(engine) as first:
            svc.update_branch(
                first, actor, branch.id, general, _custom(LEGIT_AUTH, LEGIT_FHIR, new_secret=SECRET)
            )
            mover = threading.Thread(target=move_addresses)
            mover.start()
            mover.join(timeout=0.5)
            assert mover.is_alive()  # waits for the open save
            first.commit()
        mover.join(timeout=10)
        assert [r.errors for r in refused] == [{"ss_secret": svc.DESTINATION_CHANGED}]
        with Session(engine) as check:
            saved = check.get(Branch, branch.id)
            assert saved.ss_fhir_url == LEGIT_FHIR and open_secret(saved) == SECRET
        engine.dispose()
