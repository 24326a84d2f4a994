"""Branch settings: validation, the write-only SATUSEHAT secret, adding a branch, audit."""

from __future__ import annotations

import pytest
from sqlmodel import select

from klinikita.models import AuditLog, Branch, UserBranch
from klinikita.models.enums import Duty, SatusehatEnvironment
from klinikita.services import branches as svc
from klinikita.services.audit import Actor
from klinikita.services.errors import PermissionDenied, ValidationFailed
from klinikita.services.secrets_store import decrypt_secret, encrypt_secret
from tests.factories import make_branch, make_user

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


def test_branches_are_paged_in_sql(db, admin):
    for i in range(11):
        make_branch(db, f"Cabang {i:02d}")
    rows, total = svc.page_of_branches(db, 2, 5)
    assert total == 12 and [b.name for b in rows] == [f"Cabang {i:02d}" for i in range(4, 9)]
