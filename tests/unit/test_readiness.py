"""Kesiapan SATUSEHAT: one item per blocker, with a link to the fix and SQL counts."""

from __future__ import annotations

from klinikita import routes
from klinikita.models import Employee, Room, ServiceUnit, SyncJob
from klinikita.models.enums import Duty, SatusehatEnvironment
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.services.readiness import branch_edit_link, branch_readiness
from tests.factories import make_branch, make_clinic


def _keys(items) -> dict[str, object]:
    return {i.key: i for i in items}


def test_a_complete_branch_is_ready(db):
    branch, unit, room, doctor, _ = make_clinic(db)
    unit.ihs_id, room.ihs_id, doctor.ihs_number = "org-1", "loc-1", "N10000001"
    db.add_all([unit, room, doctor])
    db.commit()
    assert branch_readiness(db, branch.id) == []


def test_missing_credentials_link_to_the_branch_form(db):
    branch = make_branch(db, "Klinik Kosong")
    items = _keys(branch_readiness(db, branch.id))
    item = items["credentials"]
    assert item.link == branch_edit_link(branch.id) == f"{routes.PENGATURAN}?cabang={branch.id}"
    assert "Organization ID" in item.message and "Secret Key" in item.message
    assert item.count == 3
    branch.ss_environment = SatusehatEnvironment.CUSTOM
    db.add(branch)
    db.commit()
    assert "URL" in _keys(branch_readiness(db, branch.id))["credentials"].message


def test_units_rooms_and_practitioners_without_ids_are_counted(db):
    branch, unit, room, doctor, _ = make_clinic(db)
    other, *_ = make_clinic(db, name="Klinik Lain")
    db.add_all(
        [
            ServiceUnit(branch_id=branch.id, name="Poli Gigi", ihs_id=""),
            ServiceUnit(branch_id=branch.id, name="Poli Lama", is_active=False),
            ServiceUnit(branch_id=branch.id, name="Poli KIA", ihs_id="org-9"),
            Room(branch_id=branch.id, unit_id=unit.id, name="Ruang 2"),
            Employee(branch_id=branch.id, name="drg. Gita", main_duty=Duty.DOKTER_GIGI),
            Employee(branch_id=branch.id, name="Perawat", main_duty=Duty.PERAWAT),
            Employee(branch_id=branch.id, name="Bidan", main_duty=Duty.BIDAN, ihs_number=""),
            Employee(branch_id=branch.id, name="Kasir", main_duty=Duty.KASIR),
            Employee(
                branch_id=branch.id,
                name="dr. Ada",
                main_duty=Duty.DOKTER_UMUM,
                ihs_number="N1",
            ),
        ]
    )
    db.commit()
    items = _keys(branch_readiness(db, branch.id))
    assert "credentials" not in items
    assert (items["units"].count, items["units"].link) == (2, routes.REFERENSI_UNIT)
    assert (items["rooms"].count, items["rooms"].link) == (2, routes.REFERENSI_RUANGAN)
    # The doctor and the dentist, the nurse and the midwife; not the cashier.
    assert (items["doctors"].count, items["doctors"].link) == (4, routes.KONTAK_KARYAWAN)
    assert "4 tenaga kesehatan" in items["doctors"].message
    # The other branch's rows are its own business.
    assert _keys(branch_readiness(db, other.id))["units"].count == 1


def test_failed_and_dead_jobs_are_counted(db):
    branch, unit, room, doctor, _ = make_clinic(db)
    unit.ihs_id, room.ihs_id, doctor.ihs_number = "org-1", "loc-1", "N10000001"
    for status, subject in (
        (JobStatus.FAILED, 1),
        (JobStatus.DEAD, 2),
        (JobStatus.DONE, 3),
        (JobStatus.PENDING, 4),
    ):
        db.add(
            SyncJob(
                kind=JobKind.PATIENT_LOOKUP,
                branch_id=branch.id,
                subject_type="patient",
                subject_id=subject,
                status=status,
            )
        )
    db.commit()
    items = branch_readiness(db, branch.id)
    assert [(i.key, i.count) for i in items] == [("jobs", 2)]
    assert "2 pengiriman" in items[0].message


def test_a_secret_the_server_cannot_open_is_a_blocker(db):
    branch, unit, room, doctor, _ = make_clinic(db)
    branch.ss_secret_encrypted = "bukan-fernet"
    db.add(branch)
    db.commit()
    items = _keys(branch_readiness(db, branch.id))
    assert "masukkan ulang" in items["secret"].message
    assert items["secret"].link == branch_edit_link(branch.id)


def test_missing_coordinates_are_listed_with_the_rooms_that_need_them(db):
    branch, unit, room, doctor, _ = make_clinic(db)
    unit.ihs_id, room.ihs_id, doctor.ihs_number = "org-1", "loc-1", "N10000001"
    branch.latitude = branch.longitude = None
    own = Room(branch_id=branch.id, unit_id=unit.id, name="Ruang 2", ihs_id="loc-2")
    own.latitude, own.longitude = -6.9, 107.6
    db.add_all([unit, room, doctor, branch, own])
    db.commit()
    item = _keys(branch_readiness(db, branch.id))["position"]
    assert item.link == branch_edit_link(branch.id)
    assert item.count == 1  # the room with its own coordinates does not need the branch's
    assert "Koordinat cabang" in item.message
    # Once every active room has its own, the branch's are not needed.
    room.latitude, room.longitude = -6.2, 106.8
    db.add(room)
    db.commit()
    assert branch_readiness(db, branch.id) == []
    room.latitude = room.longitude = None
    branch.latitude, branch.longitude = -6.2311, 106.8324
    db.add_all([room, branch])
    db.commit()
    assert branch_readiness(db, branch.id) == []
