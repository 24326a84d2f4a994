"""Today's queue: the branch's local date, names joined, filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from klinikita.models import Branch, Visit
from klinikita.models.clinical import VisitStatus
from klinikita.services.visit_queue import local_time_text, local_today, todays_queue
from tests.factories import committed_read, make_clinic
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
