"""The waiting-room display's rules: display tokens (stored hashed, checked, revoked), the
queue letters, calling the next number and calling again, and what the TV shows."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import pytest
from sqlmodel import select

from klinikita.models import AuditLog, DisplayToken, QueueCall, Room, ServiceUnit
from klinikita.models.clinical import VisitStatus
from klinikita.models.enums import Duty
from klinikita.services import display_tokens, queue_calls
from klinikita.services.audit import Actor
from klinikita.services.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from tests.factories import make_clinic, make_patient, make_user, make_visit

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clinic(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    admin = make_user(db, "admin1", branches=[branch], main_duty=Duty.ADMIN)
    nurse = make_user(db, "perawat1", branches=[branch], main_duty=Duty.PERAWAT)
    desk = make_user(db, "daftar1", branches=[branch], main_duty=Duty.PENDAFTARAN)
    gigi = ServiceUnit(branch_id=branch.id, name="Poli Gigi")
    db.add(gigi)
    db.flush()
    gigi_room = Room(branch_id=branch.id, unit_id=gigi.id, name="Ruang Gigi")
    db.add(gigi_room)
    db.commit()

    def actor(user, duty):  # noqa: ANN001, ANN202
        return Actor(user.id, user.username, user.full_name, duty, branch.id)

    return {
        "branch": branch,
        "unit": unit,
        "room": room,
        "doctor": doctor,
        "patient": patient,
        "gigi": gigi,
        "gigi_room": gigi_room,
        "admin": actor(admin, Duty.ADMIN),
        "nurse": actor(nurse, Duty.PERAWAT),
        "desk": actor(desk, Duty.PENDAFTARAN),
    }


def _visit(db, c, index: int, number: int, *, unit="unit", minutes_ago=30):  # noqa: ANN001, ANN202
    patient = c["patient"] if index == 0 else make_patient(db, c["branch"], index)
    room = c["room"] if unit == "unit" else c["gigi_room"]
    return make_visit(
        db,
        c["branch"],
        c[unit],
        room,
        c["doctor"],
        patient,
        queue_number=number,
        minutes_ago=minutes_ago,
    )


# ----- tokens -------------------------------------------------------------------------------
def test_a_token_is_stored_hashed_and_checked(db, clinic):
    created = display_tokens.create_token(db, clinic["admin"], "TV depan", "")
    db.commit()
    row = db.get(DisplayToken, created.token_id)
    assert row.token_hash == display_tokens.hash_token(created.token)
    assert created.token not in row.token_hash
    assert len(created.token) >= 40  # 256 random bits
    scope = display_tokens.scope_for_token(db, created.token)
    assert scope == display_tokens.DisplayScope(row.id, clinic["branch"].id, None)
    assert display_tokens.scope_for_token(db, created.token + "x") is None
    assert display_tokens.scope_for_token(db, "") is None
    # Neither the token nor its hash is in the audit trail.
    audit = db.exec(select(AuditLog).where(AuditLog.entity == "display_token")).one()
    assert created.token not in str(audit.after) and row.token_hash not in str(audit.after)


def test_a_unit_token_and_its_checks(db, clinic):
    created = display_tokens.create_token(db, clinic["admin"], "TV gigi", str(clinic["gigi"].id))
    db.commit()
    scope = display_tokens.scope_for_token(db, created.token)
    assert scope.unit_id == clinic["gigi"].id
    clinic["gigi"].is_active = False
    db.add(clinic["gigi"])
    db.commit()
    assert display_tokens.scope_for_token(db, created.token) is None


def test_creating_needs_admin_a_name_and_a_unit_of_the_branch(db, clinic):
    with pytest.raises(PermissionDenied):
        display_tokens.create_token(db, clinic["nurse"], "TV", "")
    with pytest.raises(ValidationFailed) as failed:
        display_tokens.create_token(db, clinic["admin"], "  ", "999")
    assert set(failed.value.errors) == {"name", "unit_id"}


def test_a_revoked_token_shows_nothing(db, clinic):
    created = display_tokens.create_token(db, clinic["admin"], "TV depan", "")
    db.commit()
    with pytest.raises(PermissionDenied):
        display_tokens.revoke_token(db, clinic["nurse"], created.token_id)
    assert display_tokens.revoke_token(db, clinic["admin"], created.token_id) == "TV depan"
    db.commit()
    assert display_tokens.scope_for_token(db, created.token) is None
    with pytest.raises(NotFound):
        display_tokens.revoke_token(db, clinic["admin"], created.token_id)
    rows = display_tokens.list_tokens(db, clinic["branch"].id)
    assert [(r.name, r.unit_name, bool(r.revoked)) for r in rows] == [
        ("TV depan", "Semua unit", True)
    ]


# ----- letters, calls ------------------------------------------------------------------------
def test_queue_letters_follow_the_units_order():
    assert [queue_calls.letter_for(i) for i in (0, 1, 25, 26, 27)] == ["A", "B", "Z", "AA", "AB"]


def test_call_next_takes_the_first_arrived_not_yet_called(db, clinic):
    later = _visit(db, clinic, 1, 1, minutes_ago=10)
    first = _visit(db, clinic, 2, 1, unit="gigi", minutes_ago=40)
    called = queue_calls.call_next(db, clinic["nurse"])
    db.commit()
    assert (called.visit_id, called.label, called.room_name) == (first.id, "B 1", "Ruang Gigi")
    assert called.speech == "Nomor antrean B 1, silakan ke Ruang Gigi"
    assert not called.again
    second = queue_calls.call_next(db, clinic["nurse"])
    db.commit()
    assert (second.visit_id, second.label) == (later.id, "A 1")
    with pytest.raises(ServiceError, match="Tidak ada pasien menunggu"):
        queue_calls.call_next(db, clinic["nurse"])
    assert queue_calls.called_visit_ids(db, clinic["branch"].id) == {first.id, later.id}


def test_a_visit_can_be_called_again(db, clinic):
    visit = _visit(db, clinic, 1, 7)
    queue_calls.call_visit(db, clinic["nurse"], visit.id)
    again = queue_calls.call_visit(db, clinic["nurse"], visit.id)
    db.commit()
    assert again.again and again.label == "A 7"
    calls = db.exec(select(QueueCall).where(QueueCall.visit_id == visit.id)).all()
    assert len(calls) == 2 and {c.called_by_user_id for c in calls} == {clinic["nurse"].user_id}
    actions = db.exec(select(AuditLog.action).where(AuditLog.entity == "visit")).all()
    assert sorted(actions) == ["queue_call", "queue_recall"]


def test_calling_is_refused_for_the_desk_and_for_finished_visits(db, clinic):
    visit = _visit(db, clinic, 1, 3)
    with pytest.raises(PermissionDenied):
        queue_calls.call_visit(db, clinic["desk"], visit.id)
    visit.status = VisitStatus.CANCELLED
    db.add(visit)
    db.commit()
    with pytest.raises(ServiceError, match="dibatalkan"):
        queue_calls.call_visit(db, clinic["nurse"], visit.id)
    with pytest.raises(NotFound):
        queue_calls.call_visit(db, clinic["nurse"], visit.id + 100)


# ----- the board -----------------------------------------------------------------------------
def test_the_board_shows_numbers_rooms_and_no_names(db, clinic):
    visits = [_visit(db, clinic, i, i + 1, minutes_ago=60 - i) for i in range(4)]
    _visit(db, clinic, 5, 1, unit="gigi")
    queue_calls.call_visit(db, clinic["nurse"], visits[0].id)
    queue_calls.call_visit(db, clinic["nurse"], visits[1].id)
    db.commit()
    created = display_tokens.create_token(db, clinic["admin"], "TV", "")
    db.commit()
    board = queue_calls.display_board(db, display_tokens.scope_for_token(db, created.token))
    assert board.clinic_name == "Klinik Simulator"
    assert (board.current.label, board.current.room_name) == ("A 2", "Ruang Periksa 1")
    assert [c.label for c in board.recent] == ["A 1"]
    assert [(u.letter, u.waiting) for u in board.units] == [
        ("A", ("A 3", "A 4")),
        ("B", ("B 1",)),
    ]
    shown = repr(board)
    assert clinic["patient"].name not in shown and "000001" not in shown
    # A unit's TV shows that unit only.
    gigi = display_tokens.create_token(db, clinic["admin"], "TV gigi", str(clinic["gigi"].id))
    db.commit()
    board = queue_calls.display_board(db, display_tokens.scope_for_token(db, gigi.token))
    assert board.current is None
    assert [(u.letter, u.waiting) for u in board.units] == [("B", ("B 1",))]


def test_the_chime_is_what_the_script_writes():
    import runpy

    script = runpy.run_path(str(ROOT / "scripts" / "make_chime.py"))
    written = (ROOT / "assets" / "chime.wav").read_bytes()
    assert written == script["chime_bytes"]()
    with wave.open(io.BytesIO(written)) as wav:
        assert wav.getnchannels() == 1 and 1.0 < wav.getnframes() / wav.getframerate() < 2.5
