"""The coordinate fields of Pengaturan -> Cabang and Referensi -> Ruangan, called as the
browser calls them: errors at the field, values kept, rooms sent again."""

from __future__ import annotations

import pytest
from reflex.istate.data import RouterData, SessionData
from sqlmodel import select

from klinikita.models import Branch, Room, SyncJob
from klinikita.models.enums import Duty
from klinikita.models.satusehat import JobKind
from klinikita.state.branch_settings import BranchSettingsState
from klinikita.state.referensi import RoomState
from tests.factories import make_clinic, make_user
from tests.state.conftest import logged_in


@pytest.fixture
def clinic(db):
    branch, unit, room, *_ = make_clinic(db, name="Klinik A")
    room.ihs_id = "loc-1"
    db.add(room)
    db.commit()
    make_user(db, "admin", branches=[branch], main_duty=Duty.ADMIN)
    return branch, unit, room


def test_branch_coordinates_are_shown_checked_at_their_field_and_saved(db, root, clinic):
    branch, _, room = clinic
    state = logged_in(db, root, BranchSettingsState, "admin")
    state.load()
    state.start_edit(str(branch.id))
    assert (state.form["latitude"], state.form["longitude"]) == ("-6.2311", "106.8324")
    state.set_field("latitude", "106.8")  # swapped with the longitude
    state.set_field("longitude", "-6.2")
    state.save()
    assert "tertukar" in state.errors["latitude"] and "Google Maps" in state.errors["latitude"]
    assert "longitude" in state.errors
    db.expire_all()
    assert db.get(Branch, branch.id).latitude == -6.2311  # nothing saved
    db.commit()  # end this read (SQLite: every transaction holds the write lock)
    state.set_field("latitude", "-6.2615, 106.8106")  # pasted from the map at once
    state.set_field("longitude", "")
    state.save()
    assert state.errors == {}
    db.expire_all()
    saved = db.get(Branch, branch.id)
    assert (saved.latitude, saved.longitude) == (-6.2615, 106.8106)
    # The room SATUSEHAT holds takes the branch's coordinates: its Location is sent again.
    [job] = db.exec(select(SyncJob).where(SyncJob.kind == JobKind.LOCATION_CREATE)).all()
    assert job.subject_id == room.id


def test_a_room_gets_its_own_coordinates_in_its_form(db, root, clinic):
    _, _, room = clinic
    state = logged_in(db, root, RoomState, "admin")
    root.router = RouterData(session=SessionData(client_token="tab-1"))
    state.load()
    state.start_edit(str(room.id))
    assert (state.form["latitude"], state.form["longitude"]) == ("", "")
    state.set_field("latitude", "-6.9175")
    state.save()
    assert "wajib diisi" in state.errors["longitude"]
    state.set_field("longitude", "107.6191")
    state.save()
    db.expire_all()
    assert (db.get(Room, room.id).latitude, db.get(Room, room.id).longitude) == (
        -6.9175,
        107.6191,
    )
    row = next(r for r in state.rows if r["id"] == str(room.id))
    assert (row["latitude"], row["longitude"]) == ("-6.9175", "107.6191")
