"""Pengaturan -> Cabang handlers, called as the browser would call them."""

from __future__ import annotations

import json
import logging
import os

import pytest
from sqlmodel import select

from klinikita.models import AuditLog, Branch, SyncLog
from klinikita.models.enums import Duty, SatusehatEnvironment
from klinikita.services.errors import PermissionDenied
from klinikita.services.secrets_store import decrypt_secret, encrypt_secret
from klinikita.settings import get_settings
from klinikita.state.branch_settings import BranchSettingsState
from tests.factories import make_branch, make_clinic, make_user
from tests.state.conftest import logged_in
from tests.support.simulator import start_simulator

SECRET = "sangat-rahasia-9f8e7d"


@pytest.fixture
def clinic(db):
    branch, *_ = make_clinic(db, name="Klinik A")
    other = make_branch(db, "Klinik B")
    make_user(db, "admin", branches=[branch, other], main_duty=Duty.ADMIN)
    make_user(db, "perawat", branches=[branch], main_duty=Duty.PERAWAT)
    return branch, other


@pytest.fixture
def simulator_env():
    """The real simulator over HTTP, and the app's settings pointing at it."""
    with start_simulator() as running:
        os.environ["KLINIKITA_SIMULATOR_URL"] = running.base_url
        get_settings.cache_clear()
        try:
            yield running
        finally:
            os.environ.pop("KLINIKITA_SIMULATOR_URL", None)
            get_settings.cache_clear()


def _open_and_fill(state: BranchSettingsState, branch: Branch, **changes: str) -> None:
    state.start_edit(str(branch.id))
    for field, value in changes.items():
        state.set_field(field, value)


async def _check_connection(state: BranchSettingsState, branch_id: int) -> None:
    """Run the background handler's body on this state (outside the event processor,
    `async with self` is a no-op), as reflex-notes 5.1 describes."""
    handler = BranchSettingsState.event_handlers["check_connection"]
    await handler.fn(state, str(branch_id))


def _browser_state(root) -> str:
    return json.dumps(root.dict(), default=str)


def test_admin_saves_satusehat_settings_and_the_secret_reaches_no_state_audit_or_log(
    db, root, clinic, caplog
):
    caplog.set_level(logging.DEBUG)
    branch, _ = clinic
    state = logged_in(db, root, BranchSettingsState, "admin")
    state.load()
    _open_and_fill(
        state,
        branch,
        ss_environment=SatusehatEnvironment.SANDBOX,
        ss_organization_id="10000099",
        ss_client_id="cid-baru",
    )
    state.set_field("ss_secret", SECRET)  # a forged setter call is ignored
    assert "ss_secret" not in state.form
    state.save({"ss_secret": SECRET, "name": "diabaikan"})
    assert state.errors == {} and state.editing_id == 0
    db.expire_all()
    saved = db.get(Branch, branch.id)
    assert decrypt_secret(saved.ss_secret_encrypted) == SECRET
    assert (saved.ss_environment, saved.ss_organization_id, saved.ss_client_id) == (
        SatusehatEnvironment.SANDBOX,
        "10000099",
        "cid-baru",
    )
    db.commit()  # every SQLite transaction holds the write lock: end ours first
    # Open the form again: only "a secret is stored" reaches the page.
    state.start_edit(str(branch.id))
    assert state.secret_saved is True
    sent = _browser_state(root)
    assert SECRET not in sent and saved.ss_secret_encrypted not in sent
    for row in db.exec(select(AuditLog)).all():
        text = json.dumps([row.before, row.after])
        assert SECRET not in text and saved.ss_secret_encrypted not in text
    audit = db.exec(
        select(AuditLog).where(AuditLog.entity == "branch", AuditLog.action == "update")
    ).one()
    assert audit.after["ss_secret_encrypted"] == "*** (diganti)"
    assert audit.after["ss_environment"] == SatusehatEnvironment.SANDBOX
    assert SECRET not in caplog.text


def test_an_empty_secret_field_keeps_the_stored_secret(db, root, clinic):
    branch, _ = clinic
    stored = branch.ss_secret_encrypted
    state = logged_in(db, root, BranchSettingsState, "admin")
    _open_and_fill(state, branch, ss_client_id="demo-klinik", phone="0211")
    state.start_replace_secret()  # "Ganti Secret Key" clicked, then nothing typed
    state.save({"ss_secret": ""})
    db.expire_all()
    saved = db.get(Branch, branch.id)
    assert saved.ss_secret_encrypted == stored and saved.phone == "0211"


def test_field_errors_for_satusehat_input_and_nothing_saved(db, root, clinic):
    branch, _ = clinic
    state = logged_in(db, root, BranchSettingsState, "admin")
    _open_and_fill(
        state,
        branch,
        ss_environment=SatusehatEnvironment.CUSTOM,
        ss_organization_id="12ab",
        ss_auth_url="ftp://contoh",
    )
    state.save({"ss_secret": SECRET})
    assert {"ss_organization_id", "ss_auth_url", "ss_fhir_url"} <= set(state.errors)
    assert state.editing_id == branch.id
    db.expire_all()
    assert db.get(Branch, branch.id).ss_environment == SatusehatEnvironment.SIMULATOR
    assert db.exec(select(AuditLog).where(AuditLog.entity == "branch")).first() is None


def test_non_admin_is_refused_everywhere_and_nothing_changes(db, root, clinic):
    branch, _ = clinic
    before = db.get(Branch, branch.id).ss_secret_encrypted
    db.commit()
    state = logged_in(db, root, BranchSettingsState, "perawat")
    state.editing_id = branch.id
    state.form = {
        "name": "Diganti",
        "facility_type": "klinik",
        "address": "",
        "phone": "",
        "timezone": "Asia/Jakarta",
        "ss_environment": SatusehatEnvironment.PRODUCTION,
        "ss_organization_id": "1",
        "ss_client_id": "x",
        "ss_auth_url": "",
        "ss_fhir_url": "",
    }
    with pytest.raises(PermissionDenied):
        state.save({"ss_secret": SECRET})
    with pytest.raises(PermissionDenied):
        state.start_edit(str(branch.id))
    with pytest.raises(PermissionDenied):
        state.start_create()
    state.creating = True
    with pytest.raises(PermissionDenied):
        state.save({"ss_secret": SECRET})
    db.expire_all()
    saved = db.get(Branch, branch.id)
    assert (saved.name, saved.ss_environment) == ("Klinik A", SatusehatEnvironment.SIMULATOR)
    assert saved.ss_secret_encrypted == before
    assert len(db.exec(select(Branch)).all()) == 2
    assert db.exec(select(AuditLog).where(AuditLog.entity == "branch")).first() is None


async def test_non_admin_cannot_run_the_connection_test(db, root, clinic):
    branch, _ = clinic
    state = logged_in(db, root, BranchSettingsState, "perawat")
    with pytest.raises(PermissionDenied):
        await _check_connection(state, branch.id)
    assert state.conn_testing is False and state.conn_message == ""
    assert db.exec(select(SyncLog)).first() is None


def test_admin_adds_a_branch_from_the_form(db, root, clinic):
    state = logged_in(db, root, BranchSettingsState, "admin")
    state.start_create()
    for field, value in {
        "name": "Klinik C",
        "ss_organization_id": "10000005",
        "ss_client_id": "demo-pmd",
    }.items():
        state.set_field(field, value)
    state.save({"ss_secret": "demo-pmd-secret"})
    assert state.errors == {} and not state.creating
    created = db.exec(select(Branch).where(Branch.name == "Klinik C")).one()
    assert decrypt_secret(created.ss_secret_encrypted) == "demo-pmd-secret"
    assert "Klinik C" in [b["name"] for b in state.branches]
    assert "Klinik C" in [b["label"] for b in state.branch_options]
    assert "demo-pmd-secret" not in _browser_state(root)


def test_load_lists_readiness_per_branch(db, root, clinic):
    branch, other = clinic
    state = logged_in(db, root, BranchSettingsState, "admin")
    state.load()
    assert state.can_edit is True
    by_id = {b["id"]: b for b in state.branches}
    assert by_id[str(other.id)]["blockers"] == "1"  # no credentials (it has no units yet)
    lines = {(line["branch_id"], line["key"]) for line in state.readiness_lines}
    assert (str(other.id), "credentials") in lines
    assert {(str(branch.id), k) for k in ("units", "rooms", "doctors")} <= lines


async def test_connection_test_succeeds_against_the_simulator_and_is_logged(
    db, root, clinic, simulator_env, caplog
):
    caplog.set_level(logging.DEBUG)
    branch, _ = clinic
    state = logged_in(db, root, BranchSettingsState, "admin")
    await _check_connection(state, branch.id)
    assert state.conn_ok is True and state.conn_testing is False
    assert state.conn_branch_id == str(branch.id)
    assert "berhasil" in state.conn_message
    assert simulator_env.simulator.stats.token_requests == 1
    log_row = db.exec(select(SyncLog).where(SyncLog.branch_id == branch.id)).one()
    assert log_row.status_code == 200 and log_row.resource_type == "token"
    assert "demo-klinik-secret" not in log_row.request_body + log_row.response_body
    assert "demo-klinik-secret" not in caplog.text
    assert "demo-klinik-secret" not in _browser_state(root)


async def test_connection_test_shows_the_simulator_error_for_a_wrong_secret(
    db, root, clinic, simulator_env
):
    branch, _ = clinic
    branch = db.get(Branch, branch.id)
    branch.ss_secret_encrypted = encrypt_secret("secret-yang-salah")
    db.add(branch)
    db.commit()
    state = logged_in(db, root, BranchSettingsState, "admin")
    await _check_connection(state, branch.id)
    assert state.conn_ok is False and state.conn_testing is False
    # SATUSEHAT's (the simulator's) own words reach the admin.
    assert "client_id or client_secret combination is unacceptable" in state.conn_message
    log_row = db.exec(select(SyncLog).where(SyncLog.branch_id == branch.id)).one()
    assert log_row.status_code == 401 and "secret-yang-salah" not in log_row.request_body


async def test_connection_test_of_an_incomplete_branch_says_what_is_missing(
    db, root, clinic, simulator_env
):
    _, other = clinic
    state = logged_in(db, root, BranchSettingsState, "admin")
    await _check_connection(state, other.id)
    assert state.conn_ok is False and "Organization ID" in state.conn_message
    assert simulator_env.simulator.stats.token_requests == 0
