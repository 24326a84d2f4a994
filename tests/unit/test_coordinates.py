"""Facility coordinates: parsing as staff type them, where they are kept, and the Location
updates a change of them queues."""

from __future__ import annotations

import pytest
from sqlmodel import select

from klinikita.models import Branch, Room, SyncJob
from klinikita.models.enums import Duty, SyncStatus
from klinikita.models.satusehat import JobKind, JobStatus
from klinikita.services import branches, facility
from klinikita.services.audit import Actor
from klinikita.services.coordinates import parse_coordinates
from klinikita.services.errors import ValidationFailed
from tests.factories import make_clinic, make_user


@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [
        ("-6.2311", "106.8324", (-6.2311, 106.8324)),
        ("-6,2311", "106,8324", (-6.2311, 106.8324)),  # decimal comma
        ("-6.2311, 106.8324", "", (-6.2311, 106.8324)),  # pasted from Google Maps at once
        ("\u22128.65", "115.2167", (-8.65, 115.2167)),  # the minus sign of some maps
        (" 5.9 ", "95.3", (5.9, 95.3)),  # Sabang
        ("-8.4932", "140.4018", (-8.4932, 140.4018)),  # Merauke
        ("", "", (None, None)),  # no coordinates
    ],
)
def test_coordinates_inside_indonesia_are_accepted(lat, lon, expected):
    parsed = parse_coordinates(lat, lon)
    assert parsed.errors == {}
    assert (parsed.latitude, parsed.longitude) == expected


@pytest.mark.parametrize(
    ("lat", "lon", "field", "words"),
    [
        ("106.8324", "-6.2311", "latitude", "tertukar"),  # swapped, as in the ministry's example
        ("-6.2311", "-6.2311", "longitude", "di luar wilayah Indonesia"),
        ("48.85", "2.35", "latitude", "di luar wilayah Indonesia"),  # Paris
        ("-11.2", "106.8", "latitude", "antara -11.1 dan 6.1"),
        ("-6.2", "141.2", "longitude", "antara 94.7 dan 141.1"),
        ("abc", "106.8", "latitude", "angka desimal"),
        ("nan", "106.8", "latitude", "angka desimal"),
        ("-6.2311", "", "longitude", "wajib diisi"),
        ("", "106.8", "latitude", "wajib diisi"),
    ],
)
def test_bad_coordinates_are_refused_at_their_field_with_the_map_hint(lat, lon, field, words):
    parsed = parse_coordinates(lat, lon)
    assert words in parsed.errors[field]
    assert "Google Maps" in parsed.errors[field]
    assert (parsed.latitude, parsed.longitude) == (None, None)


@pytest.fixture
def clinic(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    user = make_user(db, "admin", branches=[branch], main_duty=Duty.ADMIN)
    actor = Actor(user.id, "admin", "Admin", Duty.ADMIN, branch.id)
    return branch, unit, room, actor


def _location_jobs(db, room_id: int) -> list[SyncJob]:
    stmt = select(SyncJob).where(
        SyncJob.kind == JobKind.LOCATION_CREATE, SyncJob.subject_id == room_id
    )
    return list(db.exec(stmt.order_by(SyncJob.id)))


def _general(branch: Branch, lat: str | None, lon: str | None) -> branches.BranchInput:
    return branches.BranchInput(
        name=branch.name,
        facility_type=branch.facility_type,
        timezone=branch.timezone,
        latitude=lat,
        longitude=lon,
    )


def test_new_branch_coordinates_send_the_rooms_that_take_them_again(db, clinic):
    branch, unit, room, actor = clinic
    # Sent earlier without a position; another room has its own; one failed for want of one.
    room.ihs_id, room.sync_status = "loc-1", SyncStatus.SENT
    own = Room(branch_id=branch.id, unit_id=unit.id, name="Ruang 2", ihs_id="loc-2")
    own.latitude, own.longitude = -6.9, 107.6
    refused = Room(branch_id=branch.id, unit_id=unit.id, name="Ruang 3")
    old = Room(branch_id=branch.id, unit_id=unit.id, name="Ruang Lama", is_active=False)
    db.add_all([room, own, refused, old])
    db.flush()
    failed = SyncJob(
        kind=JobKind.LOCATION_CREATE,
        branch_id=branch.id,
        subject_type="room",
        subject_id=refused.id,
        status=JobStatus.FAILED,
        last_error="Koordinat ruangan belum ada.",
    )
    db.add(failed)
    db.commit()

    branches.update_branch(db, actor, branch.id, _general(branch, "-6.2615", "106.8106"))
    db.commit()
    assert (db.get(Branch, branch.id).latitude, db.get(Branch, branch.id).longitude) == (
        -6.2615,
        106.8106,
    )
    [job] = _location_jobs(db, room.id)
    assert job.status == JobStatus.PENDING  # the room SATUSEHAT holds: a PUT (job_preparation.py)
    assert db.get(Room, room.id).sync_status == SyncStatus.SENDING
    # The refused room's failed job goes again instead of a second one beside it.
    [again] = _location_jobs(db, refused.id)
    assert again.id == failed.id and again.status == JobStatus.PENDING and again.attempts == 0
    assert _location_jobs(db, own.id) == []  # keeps its own position
    assert _location_jobs(db, old.id) == []  # inactive and never sent: nothing to update

    # Saving the same coordinates again queues nothing new.
    for job in _location_jobs(db, room.id):
        job.status = JobStatus.DONE
        db.add(job)
    db.commit()
    branches.update_branch(db, actor, branch.id, _general(branch, "-6.2615", "106.8106"))
    db.commit()
    assert [j.status for j in _location_jobs(db, room.id)] == [JobStatus.DONE]


def test_bad_branch_coordinates_save_nothing(db, clinic):
    branch, _, room, actor = clinic
    with pytest.raises(ValidationFailed) as caught:
        branches.update_branch(db, actor, branch.id, _general(branch, "106.8", "-6.2"))
    db.rollback()
    assert set(caught.value.errors) == {"latitude", "longitude"}
    assert db.get(Branch, branch.id).latitude == -6.2311
    assert _location_jobs(db, room.id) == []


def test_a_room_gets_its_own_coordinates_and_is_sent_again(db, clinic):
    branch, unit, room, actor = clinic
    data = facility.RoomInput(room.name, unit.id, latitude="-6.9175", longitude="107.6191")
    facility.update_room(db, actor, room.id, data)
    db.commit()
    saved = db.get(Room, room.id)
    assert (saved.latitude, saved.longitude) == (-6.9175, 107.6191)
    assert len(_location_jobs(db, room.id)) == 1
    with pytest.raises(ValidationFailed) as caught:
        facility.update_room(db, actor, room.id, facility.RoomInput(room.name, unit.id, "-6.9", ""))
    assert "longitude" in caught.value.errors
