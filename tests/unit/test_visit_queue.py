"""Today's queue: the branch's local date, names joined, filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from klinikita.models import Branch, Room, ServiceUnit, Visit
from klinikita.models.clinical import VisitStatus
from klinikita.services.visit_queue import (
    local_time_text,
    local_today,
    todays_list,
    todays_queue,
)
from tests.factories import committed_read, make_clinic, make_patient
from tests.pg import sqlite_and_postgresql

# The read connection runs raw driver SQL: each database is checked.
db = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)


def test_local_today_follows_the_branch_zone():
    # 16:30 UTC is 23:30 in Jakarta but already 01:30 the next day in Jayapura.
    now = datetime(2026, 11, 25, 16, 30, tzinfo=UTC)
    assert local_today(Branch(name="a", timezone="Asia/Jakarta"), now).day == 25
    assert local_today(Branch(name="b", timezone="Asia/Jayapura"), now).day == 26


def test_local_time_text_reads_naive_values_as_utc():
    branch = Branch(name="a", timezone="Asia/Makassar")
    assert local_time_text(datetime(2026, 1, 1, 1, 5), branch) == "09:05"
    assert local_time_text(None, branch) == ""


def test_todays_queue_lists_only_the_branch_day_with_names(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    today = local_today(branch)
    now = datetime.now(UTC)
    for number, (day, status) in enumerate(
        [
            (today, VisitStatus.REGISTERED),
            (today, VisitStatus.COMPLETE),
            (today - timedelta(days=1), VisitStatus.REGISTERED),
        ],
        start=1,
    ):
        db.add(
            Visit(
                branch_id=branch.id,
                patient_id=patient.id,
                unit_id=unit.id,
                room_id=room.id,
                doctor_id=doctor.id,
                visit_date=day,
                queue_number=number,
                status=status,
                arrived_at=now,
            )
        )
    db.commit()
    rows = committed_read(db, todays_queue, branch.id)
    assert [r.queue_number for r in rows] == [1, 2]
    assert rows[0].patient_name == patient.name and rows[0].room_name == room.name
    assert [r.status_label for r in rows] == ["menunggu", "selesai"]
    waiting = committed_read(db, todays_queue, branch.id, statuses=(VisitStatus.REGISTERED,))
    assert [r.queue_number for r in waiting] == [1]


def test_a_busy_day_lists_every_open_visit_and_only_the_last_finished_ones(db):
    branch, unit, room, doctor, patient = make_clinic(db)
    other_unit = ServiceUnit(branch_id=branch.id, name="Poli Gigi")
    db.add(other_unit)
    db.flush()
    other_room = Room(branch_id=branch.id, unit_id=other_unit.id, name="Ruang Gigi")
    db.add(other_room)
    db.flush()
    today, now = local_today(branch), datetime.now(UTC)
    done, cancelled = VisitStatus.COMPLETE, VisitStatus.CANCELLED
    waiting, seen = VisitStatus.REGISTERED, VisitStatus.IN_EXAMINATION
    # Registered in this order: finished 1-8 (5 cancelled), then 9 waiting, 10 in
    # examination, 11 finished, and 12 waiting in the other unit.
    plan = [(done, unit, room)] * 8 + [(waiting, unit, room), (seen, unit, room)]
    plan += [(done, unit, room), (waiting, other_unit, other_room)]
    # One open visit per patient, unit and day: the open ones each have a patient.
    others = iter([make_patient(db, branch, 1), make_patient(db, branch, 2)])
    ids = []
    for number, (status, u, r) in enumerate(plan, start=1):
        who = next(others) if status == waiting and u is unit else patient
        visit = Visit(
            branch_id=branch.id, patient_id=who.id, unit_id=u.id, room_id=r.id,
            doctor_id=doctor.id, visit_date=today, queue_number=number,
            status=cancelled if number == 5 else status, arrived_at=now,
        )  # fmt: skip
        db.add(visit)
        db.flush()
        ids.append(visit.id)
    db.commit()

    short = committed_read(db, todays_list, branch.id, finished_shown=3)
    # Open ones all, finished ones the last three registered; by unit name, then number.
    assert [r.visit_id for r in short.rows] == [ids[11], ids[6], ids[7], ids[8], ids[9], ids[10]]
    assert short.hidden == 6  # of the 9 finished or cancelled
    full = committed_read(db, todays_list, branch.id, finished_shown=3, show_all=True)
    assert len(full.rows) == 12 and full.hidden == 6  # "Ringkas" is still offered
    own_unit = committed_read(db, todays_list, branch.id, unit_id=other_unit.id, finished_shown=3)
    assert [r.visit_id for r in own_unit.rows] == [ids[11]] and own_unit.hidden == 0
    quiet = committed_read(db, todays_list, branch.id, finished_shown=9)
    assert len(quiet.rows) == 12 and quiet.hidden == 0
