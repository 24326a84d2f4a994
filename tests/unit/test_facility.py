"""Referensi services: units and rooms, their uniqueness, the jobs they queue, the audit."""

from __future__ import annotations

import pytest
from sqlmodel import select

from klinikita.models import AuditLog, Room, ServiceUnit, SyncJob
from klinikita.models.enums import Duty, SyncStatus
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.services import facility
from klinikita.services.audit import Actor
from klinikita.services.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from klinikita.services.sync_requests import resend_subject
from tests.factories import make_branch, make_user


def _actor(user, branch, duty=Duty.ADMIN) -> Actor:
    return Actor(user.id, user.username, user.full_name, duty, branch.id)


@pytest.fixture
def setup(db):
    a = make_branch(db, "Klinik A")
    b = make_branch(db, "Klinik B")
    admin = make_user(db, "admin", branches=[a, b], main_duty=Duty.ADMIN)
    return a, b, _actor(admin, a)


def _jobs(db, kind, subject_id) -> list[SyncJob]:
    return list(
        db.exec(select(SyncJob).where(SyncJob.kind == kind, SyncJob.subject_id == subject_id))
    )


def _audits(db, entity) -> list[AuditLog]:
    return list(db.exec(select(AuditLog).where(AuditLog.entity == entity).order_by(AuditLog.id)))


def test_creating_a_unit_queues_its_organization_with_the_tab_token_and_is_audited(db, setup):
    a, _, admin = setup
    unit = facility.create_unit(db, admin, facility.UnitInput("  Poli Umum "), client_token="tab-9")
    db.commit()
    assert unit.name == "Poli Umum" and unit.branch_id == a.id
    assert unit.sync_status == SyncStatus.SENDING
    [job] = _jobs(db, JobKind.ORGANIZATION_CREATE, unit.id)
    assert job.status == JobStatus.PENDING and job.client_token == "tab-9"
    assert job.subject_type == "service_unit" and job.branch_id == a.id
    [row] = _audits(db, "service_unit")
    assert row.action == "create" and row.before is None and row.after["name"] == "Poli Umum"


def test_unit_names_are_unique_per_branch_ignoring_case_but_free_across_branches(db, setup):
    a, b, admin = setup
    facility.create_unit(db, admin, facility.UnitInput("Poli Umum"))
    db.commit()
    with pytest.raises(ValidationFailed) as err:
        facility.create_unit(db, admin, facility.UnitInput("poli umum"))
    assert "sudah dipakai" in err.value.errors["name"]
    with pytest.raises(ValidationFailed) as err:
        facility.create_unit(db, admin, facility.UnitInput("   "))
    assert err.value.errors["name"] == "Nama unit layanan wajib diisi."
    other = facility.create_unit(
        db,
        Actor(admin.user_id, "admin", "Admin", Duty.ADMIN, b.id),
        facility.UnitInput("Poli Umum"),
    )
    assert other.branch_id == b.id


def test_rename_queues_again_but_an_unchanged_save_does_not(db, setup):
    _, _, admin = setup
    unit = facility.create_unit(db, admin, facility.UnitInput("Poli Umum"))
    db.commit()
    job = _jobs(db, JobKind.ORGANIZATION_CREATE, unit.id)[0]
    job.status = JobStatus.DONE
    unit.sync_status, unit.ihs_id = SyncStatus.SENT, "org-1"
    db.add_all([job, unit])
    db.commit()

    facility.update_unit(db, admin, unit.id, facility.UnitInput("Poli Umum"))
    db.commit()
    assert len(_jobs(db, JobKind.ORGANIZATION_CREATE, unit.id)) == 1
    assert db.get(ServiceUnit, unit.id).sync_status == SyncStatus.SENT

    facility.update_unit(db, admin, unit.id, facility.UnitInput("Poli Umum Dewasa"))
    db.commit()
    assert len(_jobs(db, JobKind.ORGANIZATION_CREATE, unit.id)) == 2
    audit = _audits(db, "service_unit")[-1]
    assert (audit.before["name"], audit.after["name"]) == ("Poli Umum", "Poli Umum Dewasa")


def test_only_admin_edits_or_deactivates_and_nothing_changes_when_refused(db, setup):
    a, _, admin = setup
    unit = facility.create_unit(db, admin, facility.UnitInput("Poli Umum"))
    db.commit()
    doctor = Actor(admin.user_id, "admin", "Admin", Duty.DOKTER_UMUM, a.id)
    with pytest.raises(PermissionDenied):
        facility.update_unit(db, doctor, unit.id, facility.UnitInput("Diganti"))
    with pytest.raises(PermissionDenied):
        facility.set_unit_active(db, doctor, unit.id, False)
    with pytest.raises(PermissionDenied):
        facility.create_unit(db, doctor, facility.UnitInput("Poli Baru"))
    db.rollback()
    assert db.get(ServiceUnit, unit.id).name == "Poli Umum"
    assert len(_audits(db, "service_unit")) == 1


def test_a_unit_of_another_branch_is_not_found(db, setup):
    _, b, admin = setup
    elsewhere = Actor(admin.user_id, "admin", "Admin", Duty.ADMIN, b.id)
    unit = facility.create_unit(db, elsewhere, facility.UnitInput("Poli B"))
    db.commit()
    with pytest.raises(NotFound):
        facility.update_unit(db, admin, unit.id, facility.UnitInput("Diambil"))


def test_deactivate_and_reactivate_a_unit_queue_and_audit(db, setup):
    _, _, admin = setup
    unit = facility.create_unit(db, admin, facility.UnitInput("Poli Gigi"))
    db.commit()
    facility.set_unit_active(db, admin, unit.id, False)
    db.commit()
    assert db.get(ServiceUnit, unit.id).is_active is False
    facility.set_unit_active(db, admin, unit.id, True)
    db.commit()
    assert db.get(ServiceUnit, unit.id).is_active is True
    actions = [r.action for r in _audits(db, "service_unit")]
    assert actions == ["create", "deactivate", "reactivate"]


def test_a_unit_with_active_rooms_stays_active(db, setup):
    _, _, admin = setup
    unit = facility.create_unit(db, admin, facility.UnitInput("Poli Umum"))
    room = facility.create_room(db, admin, facility.RoomInput("Ruang 1", unit.id))
    db.commit()
    with pytest.raises(ServiceError) as err:
        facility.set_unit_active(db, admin, unit.id, False)
    assert "1 ruangan aktif" in err.value.message
    facility.set_room_active(db, admin, room.id, False)
    facility.set_unit_active(db, admin, unit.id, False)
    db.commit()
    # A room of an inactive unit cannot come back alone.
    with pytest.raises(ServiceError):
        facility.set_room_active(db, admin, room.id, True)


def test_rooms_need_a_unit_of_the_branch_and_a_unique_name(db, setup):
    a, b, admin = setup
    unit = facility.create_unit(db, admin, facility.UnitInput("Poli Umum"))
    other = facility.create_unit(
        db, Actor(admin.user_id, "admin", "Admin", Duty.ADMIN, b.id), facility.UnitInput("Poli B")
    )
    db.commit()
    with pytest.raises(ValidationFailed) as err:
        facility.create_room(db, admin, facility.RoomInput("", None))
    assert set(err.value.errors) == {"name", "unit_id"}
    with pytest.raises(ValidationFailed) as err:
        facility.create_room(db, admin, facility.RoomInput("Ruang 1", other.id))
    assert "unit_id" in err.value.errors
    room = facility.create_room(
        db, admin, facility.RoomInput("Ruang 1", unit.id), client_token="tab-2"
    )
    db.commit()
    [job] = _jobs(db, JobKind.LOCATION_CREATE, room.id)
    assert job.client_token == "tab-2" and room.sync_status == SyncStatus.SENDING
    with pytest.raises(ValidationFailed) as err:
        facility.create_room(db, admin, facility.RoomInput("RUANG 1", unit.id))
    assert "sudah dipakai" in err.value.errors["name"]
    assert db.exec(select(Room)).all() == [room]


def test_listing_is_paged_on_the_server(db, setup):
    a, _, admin = setup
    for i in range(25):
        facility.create_unit(db, admin, facility.UnitInput(f"Unit {i:02d}"))
    db.commit()
    first = facility.list_units(db, a.id, 1, 10)
    last = facility.list_units(db, a.id, 3, 10)
    beyond = facility.list_units(db, a.id, 9, 10)
    assert (first.total, first.page_count, len(first.rows)) == (25, 3, 10)
    assert [u.name for u in last.rows] == ["Unit 20", "Unit 21", "Unit 22", "Unit 23", "Unit 24"]
    assert beyond.page == 3


def test_resend_puts_a_failed_job_back_and_queues_one_for_a_never_sent_row(db, setup):
    a, _, admin = setup
    unit = ServiceUnit(branch_id=a.id, name="Dari Seed")
    db.add(unit)
    db.commit()
    job = resend_subject(db, admin, JobKind.ORGANIZATION_CREATE, unit.id, client_token="t1")
    db.commit()
    assert job.status == JobStatus.PENDING and job.client_token == "t1"
    job.status, job.attempts, job.last_error = JobStatus.FAILED, 1, "ditolak"
    unit.sync_status = SyncStatus.FAILED
    db.add_all([job, unit])
    db.commit()
    again = resend_subject(db, admin, JobKind.ORGANIZATION_CREATE, unit.id, client_token="t2")
    db.commit()
    assert again.id == job.id and again.status == JobStatus.PENDING and again.attempts == 0
    assert again.client_token == "t2"
    assert db.get(ServiceUnit, unit.id).sync_status == SyncStatus.SENDING
