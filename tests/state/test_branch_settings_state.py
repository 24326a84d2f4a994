"""Pengaturan -> Cabang handlers, called as the browser would call them."""

from __future__ import annotations

import json
import logging
import os

import pytest
from sqlmodel import select

from klinikita.models import AuditLog, Branch, SyncLog
from klinikita.models.base import utcnow
from klinikita.models.enums import Duty, SatusehatEnvironment
from klinikita.services.branches import DESTINATION_CHANGED, DESTINATION_NOT_SAVED
from klinikita.services.errors import PermissionDenied
from klinikita.services.secrets_store import decrypt_secret, encrypt_secret
from klinikita.settings import get_settings
from klinikita.state.branch_settings import BranchSettingsState
from tests.factories import make_branch, make_clinic, make_user
from tests.state.conftest import logged_in, tab_at
from tests.support.listener import Listener, recording_listener
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


def test_the_branch_list_says_when_satusehat_refused_the_keys(db, root, clinic):
    branch, other = clinic
    branch.ss_key_refused_at, branch.ss_key_refusal = utcnow(), "invalid_client"
    db.add(branch)
    db.commit()
    state = logged_in(db, root, BranchSettingsState, "admin")
    state.load()
    by_id = {b["id"]: b for b in state.branches}
    assert by_id[str(branch.id)]["key_refused"] == "1"
    assert by_id[str(other.id)]["key_refused"] == ""


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
    # The admin reads what to fix in Indonesian; SATUSEHAT's (the simulator's) own words
    # are kept under "Detail".
    assert state.conn_message.startswith("Kunci SATUSEHAT ditolak")
    assert "unacceptable" not in state.conn_message
    assert "client_id or client_secret combination is unacceptable" in state.conn_detail
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


# ----- the stored secret never follows new server addresses ----------------------------------
def _point_at(state: BranchSettingsState, branch: Branch, listener: Listener) -> None:
    """Open the branch's form and set custom URLs on `listener`."""
    _open_and_fill(
        state,
        branch,
        ss_environment=SatusehatEnvironment.CUSTOM,
        ss_auth_url=listener.auth_url,
        ss_fhir_url=listener.fhir_url,
    )


async def test_urls_moved_to_a_strangers_listener_never_receive_the_stored_secret(
    db, root, clinic, simulator_env
):
    """The issue's scenario: the admin points the branch at a listener of their own, keeps
    the stored secret and presses Simpan, then Tes koneksi. Both are refused at the secret
    field and the listener receives nothing."""
    branch, _ = clinic
    stored = branch.ss_secret_encrypted
    state = logged_in(db, root, BranchSettingsState, "admin")
    state.load()
    with recording_listener() as listener:
        _point_at(state, branch, listener)
        assert state.destination_changed is True  # the page asks for the secret again
        state.save({"ss_secret": ""})
        assert state.errors == {"ss_secret": DESTINATION_CHANGED}
        assert state.editing_id == branch.id
        await _check_connection(state, branch.id)
        assert state.errors["ss_secret"] == DESTINATION_NOT_SAVED
        assert state.conn_ok is False and state.conn_testing is False
        assert "Secret Key" in state.conn_message
        # The readiness card's button of the same branch is the same handler: refused too.
        state.errors = {}
        await _check_connection(state, branch.id)
        assert state.errors["ss_secret"] == DESTINATION_NOT_SAVED
        assert listener.received == []
    assert simulator_env.simulator.stats.token_requests == 0
    db.expire_all()
    saved = db.get(Branch, branch.id)
    assert (saved.ss_environment, saved.ss_auth_url, saved.ss_secret_encrypted) == (
        SatusehatEnvironment.SIMULATOR,
        "",
        stored,
    )
    assert db.exec(select(AuditLog).where(AuditLog.entity == "branch")).first() is None
    assert db.exec(select(SyncLog)).first() is None


async def test_moved_urls_saved_with_a_newly_typed_secret_send_only_that_secret(
    db, root, clinic, simulator_env
):
    branch, _ = clinic
    state = logged_in(db, root, BranchSettingsState, "admin")
    with recording_listener() as listener:
        _point_at(state, branch, listener)
        state.save({"ss_secret": "secret-untuk-alamat-baru"})
        assert state.errors == {} and state.editing_id == 0
        db.commit()
        await _check_connection(state, branch.id)
        assert len(listener.received) == 1
        assert "secret-untuk-alamat-baru" in listener.received[0]
        assert "demo-klinik-secret" not in listener.received[0]
    assert "secret-untuk-alamat-baru" not in _browser_state(root)


def test_the_hint_follows_the_form_and_other_fields_keep_the_secret(db, root, clinic):
    branch, _ = clinic
    stored = branch.ss_secret_encrypted
    state = logged_in(db, root, BranchSettingsState, "admin")
    _open_and_fill(state, branch, ss_environment=SatusehatEnvironment.SANDBOX)
    assert state.destination_changed is True
    state.set_field("ss_environment", SatusehatEnvironment.SIMULATOR)
    assert state.destination_changed is False
    _open_and_fill(state, branch, name="Klinik A Pusat", ss_organization_id="10000077")
    assert state.destination_changed is False
    state.save({"ss_secret": ""})
    assert state.errors == {}
    db.expire_all()
    saved = db.get(Branch, branch.id)
    assert (saved.name, saved.ss_organization_id) == ("Klinik A Pusat", "10000077")
    assert saved.ss_secret_encrypted == stored


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("http://satusehat.contoh.id/oauth2/v1", False),
        ("https://satusehat.contoh.id/oauth2/v1", True),
        ("http://127.0.0.1:9000/oauth2/v1", True),
        ("http://localhost:9000/oauth2/v1", True),
    ],
)
def test_custom_urls_need_https_except_to_this_machine(db, root, clinic, url, accepted):
    branch, _ = clinic
    state = logged_in(db, root, BranchSettingsState, "admin")
    _open_and_fill(
        state,
        branch,
        ss_environment=SatusehatEnvironment.CUSTOM,
        ss_auth_url=url,
        ss_fhir_url="https://satusehat.contoh.id/fhir-r4/v1",
    )
    state.save({"ss_secret": "secret-baru"})
    db.expire_all()
    saved = db.get(Branch, branch.id)
    if accepted:
        assert state.errors == {} and saved.ss_auth_url == url
    else:
        assert set(state.errors) == {"ss_auth_url"} and "https://" in state.errors["ss_auth_url"]
        assert saved.ss_environment == SatusehatEnvironment.SIMULATOR


# ----- an admin sees and changes only the branches granted to them --------------------------
@pytest.fixture
def admin_of_b(db, clinic):
    """An admin of Klinik B only."""
    _, other = clinic
    make_user(db, "admin_b", branches=[other], main_duty=Duty.ADMIN)
    return other


async def test_another_branchs_admin_is_refused_every_handler_and_sees_only_their_branch(
    db, root, clinic, admin_of_b, simulator_env
):
    branch, other = clinic
    stored = branch.ss_secret_encrypted
    state = logged_in(db, root, BranchSettingsState, "admin_b")
    state.load()
    assert [b["id"] for b in state.branches] == [str(other.id)] and state.total == 1
    assert {line["branch_id"] for line in state.readiness_lines} == {str(other.id)}
    state.start_edit(str(branch.id))
    assert state.editing_id == 0 and state.form == {}
    # Handlers called directly with Klinik A's id, as a forged browser would.
    state.editing_id = branch.id
    state.form = {
        "name": "Diambil alih",
        "facility_type": "klinik",
        "address": "",
        "phone": "",
        "timezone": "Asia/Jakarta",
        "ss_environment": SatusehatEnvironment.SIMULATOR,
        "ss_organization_id": "1",
        "ss_client_id": "x",
        "ss_auth_url": "",
        "ss_fhir_url": "",
    }
    state.save({"ss_secret": "secret-penyusup"})
    assert state.editing_id == 0  # refused: "Cabang tidak ditemukan."
    await _check_connection(state, branch.id)
    assert state.conn_ok is False and state.conn_message == "Cabang tidak ditemukan."
    assert simulator_env.simulator.stats.token_requests == 0
    assert db.exec(select(SyncLog)).first() is None
    db.expire_all()
    saved = db.get(Branch, branch.id)
    assert (saved.name, saved.ss_client_id, saved.ss_secret_encrypted) == (
        "Klinik A",
        "demo-klinik",
        stored,
    )
    assert db.exec(select(AuditLog).where(AuditLog.entity == "branch")).first() is None
    db.commit()  # every SQLite transaction holds the write lock: end ours first
    # A readiness link with Klinik A's id opens nothing either.
    tab_at(root, state.auth_token, f"/pengaturan?cabang={branch.id}")
    state.load()
    assert state.editing_id == 0


def test_a_branch_added_by_an_admin_is_granted_to_them_only(db, root, clinic, admin_of_b):
    state = logged_in(db, root, BranchSettingsState, "admin_b")
    state.start_create()
    state.set_field("name", "Klinik C")
    state.save({"ss_secret": ""})
    assert state.errors == {}
    assert [b["name"] for b in state.branches] == ["Klinik B", "Klinik C"]
    created = db.exec(select(Branch).where(Branch.name == "Klinik C")).one()
    db.commit()  # every SQLite transaction holds the write lock: end ours first
    state.start_edit(str(created.id))
    assert state.editing_id == created.id
    first = logged_in(db, root, BranchSettingsState, "admin")
    first.load()
    assert "Klinik C" not in [b["name"] for b in first.branches]
