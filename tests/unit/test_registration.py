"""Pendaftaran: registering visits with queue numbers, the rules, cancelling, the audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from klinikita.models import AuditLog, Employee, Patient, Room, ServiceUnit, Visit
from klinikita.models.clinical import Payer, QueueCounter, VisitStatus
from klinikita.models.enums import Duty, Sex
from klinikita.services import registration as reg
from klinikita.services.audit import Actor
from klinikita.services.errors import NotFound, PermissionDenied, ServiceError, ValidationFailed
from klinikita.services.visit_queue import local_today, todays_queue
from tests.factories import committed_read, make_branch, make_clinic, make_user
from tests.pg import sqlite_and_postgresql

# The queue number's upsert and the open-visit insert are written per dialect.
db = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)


def _actor(user, branch, duty) -> Actor:
    return Actor(user.id, user.username, user.full_name, duty, branch.id)


class Clinic:
    pass


@pytest.fixture
def clinic(db) -> Clinic:
    c = Clinic()
    c.branch, c.unit, c.room, c.doctor, c.patient = make_clinic(db)
    c.gigi = ServiceUnit(branch_id=c.branch.id, name="Poli Gigi")
    db.add(c.gigi)
    db.flush()
    c.gigi_room = Room(branch_id=c.branch.id, unit_id=c.gigi.id, name="Ruang Gigi")
    c.nurse = Employee(branch_id=c.branch.id, name="Sheila", main_duty=Duty.PERAWAT)
    c.other = Patient(
        branch_id=c.branch.id,
        mrn="000002",
        nik="9204014804000002",
        name="Claudia Sintia",
        sex=Sex.FEMALE,
        birth_date=datetime(1989, 11, 3).date(),
    )
    db.add_all([c.gigi_room, c.nurse, c.other])
    db.commit()
    desk = make_user(db, "daftar", branches=[c.branch], main_duty=Duty.PENDAFTARAN)
    nurse = make_user(db, "perawat", branches=[c.branch], main_duty=Duty.PERAWAT)
    c.desk = _actor(desk, c.branch, Duty.PENDAFTARAN)
    c.perawat = _actor(nurse, c.branch, Duty.PERAWAT)
    return c


def _input(c: Clinic, **changes) -> reg.VisitInput:
    values = dict(
        patient_id=c.patient.id,
        unit_id=c.unit.id,
        room_id=c.room.id,
        doctor_id=c.doctor.id,
        payer=Payer.BPJS.value,
        bpjs_number="0001234567890",  # the card of a BPJS visit
    )
    values.update(changes)
    return reg.VisitInput(**values)


def _register(db, c: Clinic, **changes) -> Visit:
    visit = reg.register_visit(db, c.desk, _input(c, **changes))
    db.commit()
    return visit


def _refused(db, c: Clinic, **changes) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as failed:
        reg.register_visit(db, c.desk, _input(c, **changes))
    db.rollback()
    return failed.value.errors


def _audits(db) -> list[AuditLog]:
    rows = list(db.exec(select(AuditLog).where(AuditLog.entity == "visit").order_by(AuditLog.id)))
    db.commit()
    return rows


def test_registration_stores_the_visit_of_the_branch_day_and_an_audit_row(db, clinic):
    c = clinic
    visit = _register(db, c)
    assert visit.queue_number == 1 and visit.status == VisitStatus.REGISTERED
    assert visit.visit_date == local_today(c.branch) and visit.payer == "bpjs"
    arrived = visit.arrived_at.replace(tzinfo=visit.arrived_at.tzinfo or UTC)
    assert abs(datetime.now(UTC) - arrived) < timedelta(minutes=1)
    [row] = _audits(db)
    assert row.action == "create" and row.entity_id == str(visit.id)
    assert row.username == "daftar" and row.after["queue_number"] == 1
    [queued] = committed_read(db, todays_queue, c.branch.id)
    assert queued.patient_name == "Ardianto Putra" and queued.status_label == "menunggu"


def test_the_visit_date_is_the_branch_local_date_not_utc(db, clinic):
    c = clinic
    c.branch.timezone = "Asia/Jayapura"
    db.add(c.branch)
    db.commit()
    # 16:30 UTC on the 25th is already 01:30 on the 26th in Jayapura.
    visit = reg.register_visit(
        db, c.desk, _input(c), now=datetime(2026, 11, 25, 16, 30, tzinfo=UTC)
    )
    db.commit()
    assert visit.visit_date.isoformat() == "2026-11-26"


def test_queue_numbers_count_per_unit_and_per_day(db, clinic):
    c = clinic
    third = Patient(branch_id=c.branch.id, mrn="000003", name="Elizabeth Dior", sex="female")
    third.birth_date = datetime(1976, 7, 7).date()
    db.add(third)
    db.commit()
    numbers = [_register(db, c, patient_id=p.id).queue_number for p in (c.patient, c.other, third)]
    assert numbers == [1, 2, 3]
    # Another unit starts at 1 on the same day.
    gigi = _register(db, c, unit_id=c.gigi.id, room_id=c.gigi_room.id)
    assert gigi.queue_number == 1
    # The next day starts at 1 again.
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    later = reg.register_visit(db, c.desk, _input(c), now=tomorrow)
    db.commit()
    assert later.queue_number == 1
    counters = {
        (q.unit_id, q.visit_date): q.last_number for q in db.exec(select(QueueCounter)).all()
    }
    db.commit()
    today = local_today(c.branch)
    assert counters == {
        (c.unit.id, today): 3,
        (c.gigi.id, today): 1,
        (c.unit.id, local_today(c.branch, tomorrow)): 1,
    }


def test_queue_counters_of_two_branches_do_not_mix(db, clinic):
    c = clinic
    other = make_branch(db, "Klinik B")
    day = local_today(c.branch)
    assert reg.next_queue_number(db, c.branch.id, c.unit.id, day) == 1
    assert reg.next_queue_number(db, other.id, c.unit.id, day) == 1
    assert reg.next_queue_number(db, c.branch.id, c.unit.id, day) == 2
    db.rollback()


def test_nothing_chosen_names_every_field(db, clinic):
    errors = _refused(
        db, clinic, patient_id=None, unit_id=None, room_id=None, doctor_id=None, payer=""
    )
    assert errors == {
        "patient_id": "Pilih pasien terlebih dahulu (cari atau tambah pasien baru).",
        "unit_id": "Pilih unit layanan.",
        "room_id": "Pilih ruangan.",
        "doctor_id": "Pilih dokter.",
        "payer": "Pilih penjamin: Umum, BPJS atau Asuransi.",
    }


def test_choices_must_be_active_of_the_branch_and_fit_together(db, clinic):
    c = clinic
    # A room of another unit, a nurse as doctor, an unknown payer.
    errors = _refused(db, c, room_id=c.gigi_room.id, doctor_id=c.nurse.id, payer="gratis")
    assert errors["room_id"] == "Ruangan 'Ruang Gigi' bukan ruangan unit 'Poli Umum'."
    assert errors["doctor_id"] == "Sheila bukan dokter; pilih dokter."
    assert "payer" in errors and "patient_id" not in errors
    # Inactive patient, unit, room and doctor.
    for row in (c.patient, c.gigi, c.room, c.doctor):
        row.is_active = False
        db.add(row)
    db.commit()
    errors = _refused(db, c)
    assert errors["patient_id"] == "Pasien Ardianto Putra sudah dinonaktifkan."
    assert errors["room_id"] == "Ruangan 'Ruang Periksa 1' nonaktif; pilih ruangan yang aktif."
    assert errors["doctor_id"] == "dr. Alexander sudah nonaktif; pilih dokter lain."
    errors = _refused(db, c, unit_id=c.gigi.id, room_id=c.gigi_room.id)
    assert errors["unit_id"] == "Unit 'Poli Gigi' nonaktif; pilih unit yang aktif."
    assert _audits(db) == [] and db.exec(select(Visit)).all() == []


def test_rows_of_another_branch_are_not_found(db, clinic):
    c = clinic
    b = make_branch(db, "Klinik B")
    stranger = Patient(branch_id=b.id, mrn="000001", name="Orang Lain", sex="male")
    stranger.birth_date = datetime(1990, 1, 1).date()
    unit_b = ServiceUnit(branch_id=b.id, name="Poli B")
    db.add_all([stranger, unit_b])
    db.commit()
    errors = _refused(db, c, patient_id=stranger.id, unit_id=unit_b.id)
    assert errors["patient_id"] == "Pasien tidak ditemukan di cabang aktif."
    assert errors["unit_id"] == "Unit layanan tidak ditemukan di cabang aktif."


def test_an_open_visit_today_in_the_unit_is_refused_with_its_number(db, clinic):
    c = clinic
    _register(db, c, patient_id=c.other.id)
    first = _register(db, c)
    errors = _refused(db, c)
    assert errors == {
        "patient_id": "Pasien ini sudah terdaftar hari ini di Poli Umum dengan nomor antrean 2 "
        "(status menunggu). Batalkan kunjungan itu dulu bila ingin mendaftar ulang."
    }
    # Being examined still counts as open; another unit is fine.
    first.status = VisitStatus.IN_EXAMINATION
    db.add(first)
    db.commit()
    assert "diperiksa" in _refused(db, c)["patient_id"]
    assert _register(db, c, unit_id=c.gigi.id, room_id=c.gigi_room.id).queue_number == 1


def test_the_database_itself_keeps_one_open_visit_per_patient_unit_and_day(db, clinic):
    """Whoever writes the visit (an admin tool, a script), not only Daftarkan."""
    c = clinic
    first = _register(db, c)
    twin = first.model_copy(update={"id": None, "uid": "x" * 32, "queue_number": 9})
    db.add(Visit.model_validate(twin.model_dump()))
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()
    # An ended visit does not count: after completion the patient may come again that day.
    done = db.get(Visit, first.id)
    done.status = VisitStatus.COMPLETE
    db.add(done)
    db.commit()
    assert _register(db, c).queue_number == 2


def test_after_cancelling_the_patient_can_register_again_with_a_new_number(db, clinic):
    c = clinic
    first = _register(db, c)
    reg.cancel_visit(db, c.desk, first.id, "Salah pilih poli")
    db.commit()
    again = _register(db, c)
    assert again.queue_number == 2  # the cancelled number is not reused


def test_refused_attempt_gives_the_number_back(db, clinic):
    c = clinic
    _register(db, c)
    _refused(db, c)  # same patient, same unit: refused after taking a number
    assert _register(db, c, patient_id=c.other.id).queue_number == 2


def test_cancel_needs_a_reason_and_records_it(db, clinic):
    c = clinic
    visit = _register(db, c)
    for blank in ("", "   "):
        with pytest.raises(ValidationFailed) as failed:
            reg.cancel_visit(db, c.desk, visit.id, blank)
        assert failed.value.errors == {"reason": "Alasan pembatalan wajib diisi."}
    with pytest.raises(ValidationFailed) as failed:
        reg.cancel_visit(db, c.desk, visit.id, "x" * 301)
    assert "300" in failed.value.errors["reason"]
    db.rollback()
    cancelled = reg.cancel_visit(db, c.desk, visit.id, "  Pasien  pulang,\nantrean lama ")
    db.commit()
    assert cancelled.status == VisitStatus.CANCELLED
    assert cancelled.cancel_reason == "Pasien pulang, antrean lama"
    assert cancelled.cancelled_at is not None
    create, cancel = _audits(db)
    assert cancel.action == "cancel" and cancel.before["status"] == "registered"
    assert cancel.after["status"] == "cancelled"
    assert cancel.after["cancel_reason"] == "Pasien pulang, antrean lama"
    [row] = committed_read(db, todays_queue, c.branch.id)
    assert row.status_label == "batal" and row.cancel_reason == "Pasien pulang, antrean lama"


def test_cancel_refuses_complete_cancelled_and_foreign_visits(db, clinic):
    c = clinic
    visit = _register(db, c)
    reg.cancel_visit(db, c.desk, visit.id, "Dobel")
    db.commit()
    with pytest.raises(ServiceError, match="sudah dibatalkan"):
        reg.cancel_visit(db, c.desk, visit.id, "Lagi")
    db.rollback()
    done = _register(db, c)
    done.status = VisitStatus.COMPLETE
    db.add(done)
    db.commit()
    with pytest.raises(ServiceError, match="sudah selesai diperiksa"):
        reg.cancel_visit(db, c.desk, done.id, "Terlambat")
    db.rollback()
    examined = _register(db, c, patient_id=c.other.id)
    examined.status = VisitStatus.IN_EXAMINATION
    db.add(examined)
    db.commit()
    assert reg.cancel_visit(db, c.desk, examined.id, "Pasien pergi").status == "cancelled"
    db.commit()
    b = make_branch(db, "Klinik B")
    elsewhere = Actor(c.desk.user_id, "daftar", "Daftar", Duty.PENDAFTARAN, b.id)
    with pytest.raises(NotFound):
        reg.cancel_visit(db, elsewhere, done.id, "Bukan cabangnya")
    db.rollback()
    with pytest.raises(NotFound):
        reg.cancel_visit(db, c.desk, 999_999, "Tidak ada")
    db.rollback()


def test_a_nurse_may_neither_register_nor_cancel(db, clinic):
    c = clinic
    with pytest.raises(PermissionDenied, match="Perawat"):
        reg.register_visit(db, c.perawat, _input(c))
    db.rollback()
    visit = _register(db, c)
    with pytest.raises(PermissionDenied):
        reg.cancel_visit(db, c.perawat, visit.id, "Coba")
    db.rollback()
    db.expire_all()
    assert db.get(Visit, visit.id).status == VisitStatus.REGISTERED
    assert [a.action for a in _audits(db)] == ["create"]


def test_options_list_active_rows_of_the_branch(db, clinic):
    c = clinic
    extra = Room(branch_id=c.branch.id, unit_id=c.unit.id, name="Ruang Periksa 2", is_active=False)
    db.add(extra)
    db.commit()
    units, doctors = committed_read(db, reg.desk_options, c.branch.id)
    assert [o.label for o in units] == ["Poli Gigi", "Poli Umum"]
    assert [o.label for o in doctors] == ["dr. Alexander"]
    rooms = committed_read(db, reg.room_options, c.branch.id, c.unit.id)
    assert [o.label for o in rooms] == ["Ruang Periksa 1"]
    assert committed_read(db, reg.room_options, c.branch.id, None) == []
    assert [o.label for o in reg.payer_options()] == ["Umum", "BPJS", "Asuransi"]


def test_the_desk_picks_only_an_active_patient_of_its_branch(db, clinic):
    c = clinic
    picked = committed_read(db, reg.patient_to_register, c.branch.id, c.patient.id)
    assert (picked.name, picked.mrn) == (c.patient.name, c.patient.mrn)
    assert committed_read(db, reg.patient_to_register, c.branch.id + 1, c.patient.id) is None
    c.patient.is_active = False
    db.add(c.patient)
    assert committed_read(db, reg.patient_to_register, c.branch.id, c.patient.id) is None


def test_the_queue_shows_arrivals_in_the_branch_time_zone_as_it_is_now(db, clinic):
    """A change to the branch's time zone holds at the very next read of the queue."""
    c = clinic
    visit = _register(db, c)
    arrived = visit.arrived_at.replace(tzinfo=visit.arrived_at.tzinfo or UTC)
    [first] = committed_read(db, todays_queue, c.branch.id)
    assert first.arrived_time == arrived.astimezone(ZoneInfo("Asia/Jakarta")).strftime("%H:%M")
    c.branch.timezone = "Asia/Jayapura"  # WIT, two hours ahead of WIB
    db.add(c.branch)
    db.commit()
    # The visit's own date: between 15:00 and 17:00 UTC it is already tomorrow in Jayapura.
    [moved] = committed_read(db, todays_queue, c.branch.id, on=visit.visit_date)
    assert moved.arrived_time == arrived.astimezone(ZoneInfo("Asia/Jayapura")).strftime("%H:%M")


def test_a_choice_of_rows_that_do_not_exist_is_told_at_its_fields_and_keeps_nothing(db, clinic):
    """Rows deleted since the page loaded (or never there) end in the rules' messages, not
    in a foreign key's refusal, and take no number."""
    c = clinic
    errors = _refused(db, c, room_id=987654, doctor_id=987655)
    assert errors == {
        "room_id": "Ruangan tidak ditemukan di cabang aktif.",
        "doctor_id": "Dokter tidak ditemukan di cabang aktif.",
    }
    assert db.exec(select(Visit)).all() == []
    assert db.exec(select(QueueCounter)).all() == []
    db.rollback()
    assert _register(db, c).queue_number == 1


def test_daftarkan_gives_the_desk_its_number_and_the_queue_with_the_visit_in_it(db, clinic):
    c = clinic
    _register(db, c)
    done = reg.register_at_desk(db, c.desk, _input(c, patient_id=c.other.id))
    db.commit()
    assert done.queue_number == 2
    assert [row.queue_number for row in done.queue.rows] == [1, 2]
    assert done.queue.rows[1].visit_id == done.visit_id
    # The desk's unit filter: another unit's list does not hold it.
    gigi = reg.register_at_desk(
        db, c.desk, _input(c, unit_id=c.gigi.id, room_id=c.gigi_room.id), queue_unit_id=c.gigi.id
    )
    db.commit()
    assert [row.visit_id for row in gigi.queue.rows] == [gigi.visit_id]


def test_a_time_zone_changed_elsewhere_holds_at_the_next_registration(db, clinic):
    """The visit's day comes from the branch's time zone as stored when Daftarkan is
    pressed, even when another process changed it a moment before."""
    c = clinic
    late = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)  # 23:30 in Jakarta
    first = reg.register_visit(db, c.desk, _input(c), now=late)
    db.commit()
    assert first.visit_date == datetime(2026, 11, 27).date()
    with db.get_bind().begin() as other_process:
        other_process.execute(
            text("UPDATE branch SET timezone = 'Asia/Jayapura' WHERE id = :id"),
            {"id": c.branch.id},
        )
    # Already 01:30 of the next day in Jayapura.
    visit = reg.register_visit(db, c.desk, _input(c), now=late)
    db.commit()
    assert visit.visit_date == datetime(2026, 11, 28).date() and visit.queue_number == 1
