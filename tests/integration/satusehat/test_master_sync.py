"""Referensi and Karyawan against the real worker and simulator: the ids arrive, the
tab that asked is told, a rejection shows SATUSEHAT's own text and a resend succeeds."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from klinikita.models import Branch, Employee, Room, ServiceUnit, SyncJob
from klinikita.models.enums import Duty, SatusehatEnvironment, SyncStatus
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.services import branches, employees, facility
from klinikita.services.audit import Actor
from klinikita.services.secrets_store import encrypt_secret
from klinikita.services.sync_requests import resend_subject
from tests.factories import make_user
from tests.integration.satusehat.test_worker import fast_worker

TAB = "tab-referensi"
# A well-formed NIK (valid date part) that the simulator's practitioner registry lacks.
UNKNOWN_NIK = "3171011503900099"


@pytest.fixture
def admin(db) -> Actor:
    """An admin of a branch connected to the simulator's demo client, with no units or
    staff yet (everything is created through the services, as the pages do)."""
    branch = Branch(
        name="Klinik Simulator",
        ss_environment=SatusehatEnvironment.SIMULATOR,
        ss_organization_id="10000004",
        ss_client_id="demo-klinik",
        ss_secret_encrypted=encrypt_secret("demo-klinik-secret"),
        latitude=-6.2311,
        longitude=106.8324,
    )
    db.add(branch)
    db.commit()
    user = make_user(db, "admin", branches=[branch], main_duty=Duty.ADMIN)
    return Actor(user.id, user.username, user.full_name, Duty.ADMIN, branch.id)


def _doctor(name: str, nik: str, branch_id: int) -> employees.EmployeeInput:
    return employees.EmployeeInput(
        name=name, nik=nik, main_duty=Duty.DOKTER_UMUM, branch_id=branch_id
    )


async def test_ids_and_ihs_numbers_arrive_and_the_asking_tab_is_told(db, sim, admin):
    unit = facility.create_unit(db, admin, facility.UnitInput("Poli Anak"), client_token=TAB)
    room = facility.create_room(
        db, admin, facility.RoomInput("Ruang Anak", unit.id), client_token=TAB
    )
    doctor = employees.create_employee(
        db,
        admin,
        _doctor("dr. Alexander Baru", "7209061211900001", admin.branch_id),
        client_token=TAB,
    )
    unknown = employees.create_employee(
        db,
        admin,
        _doctor("dr. Belum Terdaftar", UNKNOWN_NIK, admin.branch_id),
        client_token=TAB,
    )
    db.commit()
    notices = []

    async def notifier(notice):
        notices.append(notice)

    await fast_worker(sim, notifier=notifier).drain()

    db.expire_all()
    unit, room = db.get(ServiceUnit, unit.id), db.get(Room, room.id)
    assert unit.sync_status == SyncStatus.SENT and unit.ihs_id
    assert room.sync_status == SyncStatus.SENT and room.ihs_id
    location = sim.simulator.get_resource("Location", room.ihs_id)
    assert location["managingOrganization"]["reference"] == f"Organization/{unit.ihs_id}"
    assert location["position"] == {"latitude": -6.2311, "longitude": 106.8324}
    assert sim.simulator.get_resource("Organization", unit.ihs_id)["name"] == "Poli Anak"
    doctor = db.get(Employee, doctor.id)
    assert doctor.sync_status == SyncStatus.SENT and doctor.ihs_number == "10009880728"
    unknown = db.get(Employee, unknown.id)
    assert unknown.sync_status == SyncStatus.NOT_FOUND and unknown.ihs_number is None
    assert "tidak ditemukan di SATUSEHAT" in unknown.sync_error
    assert "STR aktif" in unknown.sync_error
    done = {(n.subject_type, n.subject_id) for n in notices if n.status == JobStatus.DONE}
    assert {
        ("service_unit", unit.id),
        ("room", room.id),
        ("employee", doctor.id),
        ("employee", unknown.id),
    } <= done
    assert all(n.client_token == TAB for n in notices if n.status == JobStatus.DONE)


async def test_a_rejected_unit_shows_satusehat_text_then_a_resend_succeeds(db, sim, admin):
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "invalid",
                "diagnostics": "Organization.name: nama unit ditolak oleh validator",
            }
        ],
    }
    sim.simulator.faults.fail_next(
        "http_error",
        1,
        path="/fhir-r4/v1/Organization",
        status=400,
        body=json.dumps(outcome),
        content_type="application/json",
    )
    unit = facility.create_unit(db, admin, facility.UnitInput("Poli Mata"), client_token=TAB)
    db.commit()
    await fast_worker(sim).drain()

    db.expire_all()
    unit = db.get(ServiceUnit, unit.id)
    assert unit.sync_status == SyncStatus.FAILED and unit.ihs_id is None
    assert "nama unit ditolak oleh validator" in unit.sync_error
    job = db.exec(select(SyncJob).where(SyncJob.subject_id == unit.id)).one()
    assert job.status == JobStatus.FAILED
    db.commit()

    resend_subject(db, admin, JobKind.ORGANIZATION_CREATE, unit.id, client_token="tab-2")
    db.commit()
    await fast_worker(sim).drain()
    db.expire_all()
    unit = db.get(ServiceUnit, unit.id)
    assert unit.sync_status == SyncStatus.SENT and unit.ihs_id and unit.sync_error is None
    jobs = db.exec(select(SyncJob).where(SyncJob.subject_id == unit.id)).all()
    assert len(jobs) == 1 and jobs[0].status == JobStatus.DONE
    assert jobs[0].client_token == "tab-2"


def _coordinates(db, branch_id: int, lat: str, lon: str) -> branches.BranchInput:
    branch = db.get(Branch, branch_id)
    return branches.BranchInput(
        name=branch.name,
        facility_type=branch.facility_type,
        timezone=branch.timezone,
        latitude=lat,
        longitude=lon,
    )


async def test_rooms_wait_for_coordinates_and_follow_the_branch_when_they_change(db, sim, admin):
    branch = db.get(Branch, admin.branch_id)
    branch.latitude = branch.longitude = None
    db.add(branch)
    db.commit()
    unit = facility.create_unit(db, admin, facility.UnitInput("Poli Umum"))
    room = facility.create_room(db, admin, facility.RoomInput("Ruang 1", unit.id))
    db.commit()
    await fast_worker(sim).drain()
    db.expire_all()
    refused = db.get(Room, room.id)
    assert refused.sync_status == SyncStatus.FAILED and refused.ihs_id is None
    assert "Koordinat ruangan" in refused.sync_error and "Pengaturan > Cabang" in refused.sync_error
    assert sim.simulator.count_resources("Location") == 0  # refused here, nothing sent

    # The admin fills in the branch's coordinates: the refused room goes again, with them.
    branches.update_branch(
        db, admin, admin.branch_id, _coordinates(db, branch.id, "-6.26", "106.81")
    )
    db.commit()
    await fast_worker(sim).drain()
    db.expire_all()
    sent = db.get(Room, room.id)
    assert sent.sync_status == SyncStatus.SENT and sent.ihs_id
    location = sim.simulator.get_resource("Location", sent.ihs_id)
    assert location["position"] == {"latitude": -6.26, "longitude": 106.81}

    # The clinic moves: the Location SATUSEHAT holds is updated in place (PUT, same id).
    branches.update_branch(db, admin, admin.branch_id, _coordinates(db, branch.id, "-6.9", "107.6"))
    db.commit()
    await fast_worker(sim).drain()
    db.expire_all()
    assert db.get(Room, room.id).ihs_id == sent.ihs_id
    assert sim.simulator.get_resource("Location", sent.ihs_id)["position"] == {
        "latitude": -6.9,
        "longitude": 107.6,
    }
    assert sim.simulator.count_resources("Location") == 1
    assert sim.simulator.stats.requests_for("Location", "PUT") == 1
