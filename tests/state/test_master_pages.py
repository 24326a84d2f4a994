"""Referensi and Kontak -> Karyawan handlers, called directly as a browser could."""

from __future__ import annotations

import pytest
from reflex.istate.data import RouterData, SessionData
from sqlmodel import select

from klinikita.models import AuditLog, Employee, Room, ServiceUnit, SyncJob
from klinikita.models.enums import Duty, SyncStatus
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.services.errors import PermissionDenied
from klinikita.services.job_notices import JobNotice
from klinikita.state import live
from klinikita.state.employees import EmployeeState
from klinikita.state.referensi import RoomState, UnitState
from tests.factories import make_branch, make_user
from tests.state.conftest import logged_in

TAB = "tab-token-42"


@pytest.fixture
def clinic(db):
    a = make_branch(db, "Klinik A")
    b = make_branch(db, "Klinik B")
    make_user(db, "admin", branches=[a, b], main_duty=Duty.ADMIN)
    make_user(db, "dokter", branches=[a], main_duty=Duty.DOKTER_UMUM)
    make_user(db, "perawat", branches=[a], main_duty=Duty.PERAWAT)
    unit = ServiceUnit(branch_id=a.id, name="Poli Umum")
    db.add(unit)
    db.flush()
    room = Room(branch_id=a.id, unit_id=unit.id, name="Ruang 1")
    nurse = Employee(branch_id=a.id, name="Sari", main_duty=Duty.PERAWAT)
    db.add_all([room, nurse])
    db.commit()
    return a, b, unit, room, nurse


def _open(db, root, cls, username):
    state = logged_in(db, root, cls, username)
    root.router = RouterData(session=SessionData(client_token=TAB))
    state.load()
    return state


def _audit_count(db) -> int:
    entities = ("service_unit", "room", "employee")
    return len(db.exec(select(AuditLog).where(AuditLog.entity.in_(entities))).all())


def test_admin_creates_a_unit_and_the_job_carries_this_tabs_token(db, root, clinic):
    state = _open(db, root, UnitState, "admin")
    assert state.can_create and state.can_edit and [r["name"] for r in state.rows] == ["Poli Umum"]
    state.start_create()
    state.set_field("name", "Poli Gigi")
    state.save()
    assert not state.form_open
    assert {r["name"]: r["status"] for r in state.rows}["Poli Gigi"] == SyncStatus.SENDING
    db.expire_all()
    unit = db.exec(select(ServiceUnit).where(ServiceUnit.name == "Poli Gigi")).one()
    job = db.exec(select(SyncJob).where(SyncJob.subject_id == unit.id)).one()
    assert job.kind == JobKind.ORGANIZATION_CREATE and job.client_token == TAB


def test_a_duplicate_name_stays_in_the_form_with_its_message(db, root, clinic):
    state = _open(db, root, UnitState, "admin")
    state.start_create()
    state.set_field("name", "poli umum")
    state.save()
    assert state.form_open and "sudah dipakai" in state.errors["name"]
    assert _audit_count(db) == 0


def test_a_doctor_sees_units_read_only_and_is_refused_on_the_server(db, root, clinic):
    _, _, unit, room, _ = clinic
    state = _open(db, root, UnitState, "dokter")
    assert state.page_allowed and state.rows and not state.can_edit and not state.can_create
    for call in (
        state.start_create,
        lambda: state.start_edit(str(unit.id)),
        lambda: state.deactivate(str(unit.id)),
    ):
        with pytest.raises(PermissionDenied):
            call()
    state.editing_id = unit.id
    state.form = {"name": "Diganti Dokter"}
    with pytest.raises(PermissionDenied):
        state.save()
    rooms = _open(db, root, RoomState, "dokter")
    with pytest.raises(PermissionDenied):
        rooms.deactivate(str(room.id))
    db.expire_all()
    assert db.get(ServiceUnit, unit.id).name == "Poli Umum"
    assert db.get(ServiceUnit, unit.id).is_active and db.get(Room, room.id).is_active
    assert db.exec(select(SyncJob)).all() == [] and _audit_count(db) == 0


def test_a_nurse_may_not_even_list_referensi(db, root, clinic):
    _, _, unit, _, _ = clinic
    state = _open(db, root, UnitState, "perawat")
    assert not state.page_allowed and state.rows == []
    state.form = {"name": "Poli Perawat"}
    with pytest.raises(PermissionDenied):
        state.save()
    with pytest.raises(PermissionDenied):
        state.resend(str(unit.id))
    assert db.exec(select(ServiceUnit)).all() == [db.get(ServiceUnit, unit.id)]


def test_admin_creates_a_room_of_a_unit_and_deactivates_it(db, root, clinic):
    _, _, unit, _, _ = clinic
    state = _open(db, root, RoomState, "admin")
    assert state.unit_options == [{"value": str(unit.id), "label": "Poli Umum"}]
    state.start_create()
    assert state.form["unit_id"] == str(unit.id)  # the only unit is picked already
    state.set_field("name", "Ruang 2")
    state.save()
    db.expire_all()
    room = db.exec(select(Room).where(Room.name == "Ruang 2")).one()
    job = db.exec(select(SyncJob).where(SyncJob.kind == JobKind.LOCATION_CREATE)).one()
    assert job.subject_id == room.id and job.client_token == TAB
    db.commit()  # end this read (SQLite: every transaction holds the write lock)
    state.deactivate(str(room.id))
    db.expire_all()
    assert db.get(Room, room.id).is_active is False
    assert {r["name"]: r["active"] for r in state.rows}["Ruang 2"] == "0"


def test_a_sync_notice_reloads_the_visible_rows(db, root, clinic):
    a, _, unit, _, _ = clinic
    state = _open(db, root, UnitState, "admin")
    assert UnitState in live.listeners("service_unit")
    unit = db.get(ServiceUnit, unit.id)
    unit.ihs_id, unit.sync_status = "org-uuid-1", SyncStatus.SENT
    db.add(unit)
    db.commit()
    state._on_sync_notice(
        JobNotice(1, JobKind.ORGANIZATION_CREATE, a.id, "service_unit", unit.id, "done", "", TAB)
    )
    assert state.rows[0]["ihs_id"] == "org-uuid-1" and state.rows[0]["status"] == "sent"


def test_resend_of_a_failed_unit_requeues_with_the_tab_token(db, root, clinic):
    a, _, unit, _, _ = clinic
    job = SyncJob(
        kind=JobKind.ORGANIZATION_CREATE,
        branch_id=a.id,
        subject_type="service_unit",
        subject_id=unit.id,
        status=JobStatus.FAILED,
        attempts=1,
        client_token="old-tab",
    )
    unit = db.get(ServiceUnit, unit.id)
    raw = "HTTP 400: Organization.partOf is required (Organization.partOf)"
    unit.sync_status, unit.sync_error = SyncStatus.FAILED, raw
    db.add_all([job, unit])
    db.commit()
    state = _open(db, root, UnitState, "admin")
    # In words, with SATUSEHAT's own text kept for Detail.
    assert state.rows[0]["error"].startswith("Organization ID cabang tidak diterima")
    assert state.rows[0]["error_detail"] == raw
    state.resend(str(unit.id))
    db.expire_all()
    job = db.get(SyncJob, job.id)
    assert job.status == JobStatus.PENDING and job.client_token == TAB
    assert state.rows[0]["status"] == SyncStatus.SENDING and state.rows[0]["error"] == ""


def test_admin_adds_a_doctor_and_the_lookup_carries_this_tabs_token(db, root, clinic):
    a, b, *_ = clinic
    state = _open(db, root, EmployeeState, "admin")
    state.start_create()
    assert state.form["branch_id"] == str(a.id)
    for field, value in {
        "name": "dr. Alexander",
        "main_duty": Duty.DOKTER_UMUM,
        "nik": "7209061211900001",
        "sex": "female",
    }.items():
        state.set_field(field, value)
    assert state.nik_required and "jenis kelamin" in state.nik_warning
    state.save()
    assert not state.form_open
    db.expire_all()
    doctor = db.exec(select(Employee).where(Employee.name == "dr. Alexander")).one()
    job = db.exec(select(SyncJob).where(SyncJob.kind == JobKind.PRACTITIONER_LOOKUP)).one()
    assert job.subject_id == doctor.id and job.client_token == TAB
    row = next(r for r in state.rows if r["name"] == "dr. Alexander")
    assert row["practitioner"] == "1" and row["status"] == SyncStatus.SENDING


def test_a_nurse_saved_before_nurses_were_practitioners_can_be_looked_up(db, root, clinic):
    """An existing nurse with a NIK and no IHS number shows "Kirim", which looks her up."""
    *_, nurse = clinic
    nurse = db.get(Employee, nurse.id)
    nurse.nik = "3313096403900009"
    db.add(nurse)
    db.commit()
    state = _open(db, root, EmployeeState, "admin")
    [row] = [r for r in state.rows if r["name"] == "Sari"]
    assert row["practitioner"] == "1" and row["status"] == SyncStatus.NOT_SENT
    state.resend(str(nurse.id))
    db.expire_all()
    job = db.exec(select(SyncJob).where(SyncJob.kind == JobKind.PRACTITIONER_LOOKUP)).one()
    assert job.subject_id == nurse.id and job.client_token == TAB


def test_a_doctor_without_nik_gets_the_message_at_the_nik_field(db, root, clinic):
    state = _open(db, root, EmployeeState, "admin")
    state.start_create()
    state.set_field("name", "dr. Tanpa NIK")
    state.set_field("main_duty", Duty.DOKTER_GIGI)
    state.save()
    assert state.form_open and "wajib" in state.errors["nik"]
    assert db.exec(select(Employee).where(Employee.name == "dr. Tanpa NIK")).all() == []


def test_non_admin_is_refused_on_every_employee_change_and_nothing_changes(db, root, clinic):
    *_, nurse = clinic
    state = _open(db, root, EmployeeState, "perawat")
    assert state.page_allowed and state.rows and not state.can_edit and not state.can_create
    for call in (
        state.start_create,
        lambda: state.start_edit(str(nurse.id)),
        lambda: state.deactivate(str(nurse.id)),
    ):
        with pytest.raises(PermissionDenied):
            call()
    state.editing_id = nurse.id
    state.form = {"name": "Diganti", "main_duty": Duty.PERAWAT, "branch_id": "1"}
    with pytest.raises(PermissionDenied):
        state.save()
    db.expire_all()
    assert db.get(Employee, nurse.id).name == "Sari" and db.get(Employee, nurse.id).is_active
    assert _audit_count(db) == 0


def test_employee_search_reloads_the_first_page(db, root, clinic):
    state = _open(db, root, EmployeeState, "admin")
    state.set_search("tidak ada")
    assert state.rows == [] and state.total == 0 and state.page == 1
    state.set_search("sar")
    assert [r["name"] for r in state.rows] == ["Sari"]


def test_each_list_pages_through_its_own_rows(db, root, clinic):
    branch = clinic[0]
    db.add_all([ServiceUnit(branch_id=branch.id, name=f"Unit {n:02d}") for n in range(30)])
    db.commit()
    units = _open(db, root, UnitState, "admin")
    rooms = _open(db, root, RoomState, "admin")
    assert units.page_count == 2 and rooms.page_count == 1
    first = [r["name"] for r in units.rows]
    units.next_page()
    second = [r["name"] for r in units.rows]
    assert units.page == 2 and second and not set(first) & set(second)
    assert len(first) + len(second) == 31
    # The room list next to it keeps its own page and rows.
    assert rooms.page == 1 and [r["name"] for r in rooms.rows] == ["Ruang 1"]
    units.prev_page()
    assert [r["name"] for r in units.rows] == first
