"""Kontak -> Karyawan services: validation, practitioner lookups, branches, audit, search."""

from __future__ import annotations

import pytest
from sqlmodel import select

from klinikita.models import AuditLog, Employee, SyncJob
from klinikita.models.enums import Duty, SyncStatus
from klinikita.models.satusehat import JobKind
from klinikita.services import employees as svc
from klinikita.services.audit import Actor
from klinikita.services.errors import NotFound, PermissionDenied, ValidationFailed
from tests.factories import make_branch, make_user

DOCTOR_NIK = "7209061211900001"


@pytest.fixture
def setup(db):
    a = make_branch(db, "Klinik A")
    b = make_branch(db, "Klinik B")
    c = make_branch(db, "Klinik C")
    user = make_user(db, "admin", branches=[a, b], main_duty=Duty.ADMIN)
    admin = Actor(user.id, user.username, user.full_name, Duty.ADMIN, a.id)
    return a, b, c, admin


def _data(branch, **kw) -> svc.EmployeeInput:
    base = dict(name="Sari Kasir", main_duty=Duty.KASIR, branch_id=branch.id)
    base.update(kw)
    return svc.EmployeeInput(**base)


def _lookups(db, employee_id) -> list[SyncJob]:
    return list(
        db.exec(
            select(SyncJob).where(
                SyncJob.kind == JobKind.PRACTITIONER_LOOKUP, SyncJob.subject_id == employee_id
            )
        )
    )


def test_a_cashier_without_nik_is_saved_without_any_lookup(db, setup):
    a, _, _, admin = setup
    e = svc.create_employee(db, admin, _data(a, phone="0812-3456", email="sari@klinik.id"))
    db.commit()
    assert e.nik is None and e.sync_status == SyncStatus.NOT_SENT
    assert _lookups(db, e.id) == []
    [row] = db.exec(select(AuditLog).where(AuditLog.entity == "employee")).all()
    assert row.action == "create" and row.after["email"] == "sari@klinik.id"


def test_a_doctor_needs_a_nik_and_saving_queues_the_lookup_with_the_token(db, setup):
    a, _, _, admin = setup
    with pytest.raises(ValidationFailed) as err:
        svc.create_employee(db, admin, _data(a, name="dr. Tanpa NIK", main_duty=Duty.DOKTER_UMUM))
    assert "wajib diisi untuk tenaga kesehatan" in err.value.errors["nik"]
    e = svc.create_employee(
        db,
        admin,
        _data(a, name="dr. Alexander", main_duty=Duty.DOKTER_UMUM, nik=DOCTOR_NIK),
        client_token="tab-5",
    )
    db.commit()
    [job] = _lookups(db, e.id)
    assert job.client_token == "tab-5" and e.sync_status == SyncStatus.SENDING


@pytest.mark.parametrize(
    "duty",
    [Duty.APOTEKER, Duty.ASISTEN_APOTEKER, Duty.DOKTER_GIGI, Duty.PERAWAT, Duty.BIDAN],
)
def test_pharmacists_nurses_midwives_and_every_doctor_duty_are_practitioners(db, setup, duty):
    a, _, _, admin = setup
    with pytest.raises(ValidationFailed) as err:
        svc.create_employee(db, admin, _data(a, main_duty=duty))
    assert "nik" in err.value.errors


NURSE_NIK = "3313096403900009"


@pytest.mark.parametrize("duty", [Duty.PERAWAT, Duty.BIDAN])
def test_saving_a_nurse_or_midwife_queues_the_practitioner_lookup(db, setup, duty):
    a, _, _, admin = setup
    e = svc.create_employee(db, admin, _data(a, name="Sheila", main_duty=duty, nik=NURSE_NIK))
    db.commit()
    [job] = _lookups(db, e.id)
    assert job.kind == JobKind.PRACTITIONER_LOOKUP and e.sync_status == SyncStatus.SENDING


def test_a_cashier_who_becomes_a_nurse_is_looked_up(db, setup):
    a, _, _, admin = setup
    e = svc.create_employee(db, admin, _data(a, nik=NURSE_NIK))
    db.commit()
    assert _lookups(db, e.id) == []
    svc.update_employee(db, admin, e.id, _data(a, nik=NURSE_NIK, main_duty=Duty.PERAWAT))
    db.commit()
    assert len(_lookups(db, e.id)) == 1


def test_field_errors_are_specific_and_nothing_is_written(db, setup):
    a, _, c, admin = setup
    bad = _data(
        c,
        name="",
        nik="12345",
        sex="x",
        birth_date="2020-13-45",
        phone="abc",
        email="bukan-email",
        main_duty="login_klinik",
    )
    with pytest.raises(ValidationFailed) as err:
        svc.create_employee(db, admin, bad)
    assert set(err.value.errors) == {
        "name",
        "nik",
        "sex",
        "birth_date",
        "phone",
        "email",
        "main_duty",
        "branch_id",
    }
    assert err.value.errors["nik"] == "NIK harus tepat 16 digit angka."
    db.rollback()
    assert db.exec(select(Employee)).all() == []
    assert db.exec(select(AuditLog).where(AuditLog.entity == "employee")).all() == []


def test_admin_may_place_an_employee_in_another_of_their_branches(db, setup):
    _, b, _, admin = setup
    e = svc.create_employee(db, admin, _data(b))
    assert e.branch_id == b.id


def test_nik_is_unique_per_branch(db, setup):
    a, _, _, admin = setup
    svc.create_employee(db, admin, _data(a, nik=DOCTOR_NIK))
    db.commit()
    with pytest.raises(ValidationFailed) as err:
        svc.create_employee(db, admin, _data(a, name="Lain", nik=DOCTOR_NIK))
    assert "sudah dipakai" in err.value.errors["nik"]


def test_the_nik_warning_compares_birth_date_and_sex(db, setup):
    a, *_ = setup
    ok = _data(a, nik=DOCTOR_NIK, birth_date="1990-11-12", sex="male")
    assert svc.warning_for(ok) is None
    assert "Tanggal lahir" in svc.warning_for(_data(a, nik=DOCTOR_NIK, birth_date="1991-11-12"))
    assert "jenis kelamin" in svc.warning_for(_data(a, nik=DOCTOR_NIK, sex="female"))
    # A warning never blocks saving.
    _, _, _, admin = setup
    svc.create_employee(db, admin, _data(a, nik=DOCTOR_NIK, sex="female"))


def test_changing_the_nik_forgets_the_old_ihs_number_and_looks_up_again(db, setup):
    a, _, _, admin = setup
    e = svc.create_employee(
        db, admin, _data(a, name="dr. A", main_duty=Duty.DOKTER_UMUM, nik=DOCTOR_NIK)
    )
    db.commit()
    [job] = _lookups(db, e.id)
    job.status = "done"
    e.ihs_number, e.sync_status = "10009880728", SyncStatus.SENT
    db.add_all([job, e])
    db.commit()
    # Same NIK, new phone: nothing to look up.
    svc.update_employee(
        db,
        admin,
        e.id,
        _data(a, name="dr. A", main_duty=Duty.DOKTER_UMUM, nik=DOCTOR_NIK, phone="021"),
    )
    db.commit()
    assert len(_lookups(db, e.id)) == 1
    svc.update_employee(
        db,
        admin,
        e.id,
        _data(a, name="dr. A", main_duty=Duty.DOKTER_UMUM, nik="3322071302900002"),
        client_token="tab-7",
    )
    db.commit()
    db.refresh(e)
    assert e.ihs_number is None and e.sync_status == SyncStatus.SENDING
    jobs = _lookups(db, e.id)
    assert len(jobs) == 2 and jobs[-1].client_token == "tab-7"
    audit = db.exec(
        select(AuditLog).where(AuditLog.entity == "employee", AuditLog.action == "update")
    ).all()[-1]
    assert (audit.before["nik"], audit.after["nik"]) == (DOCTOR_NIK, "3322071302900002")


def test_only_admin_edits_and_deactivates(db, setup):
    a, _, _, admin = setup
    e = svc.create_employee(db, admin, _data(a))
    db.commit()
    nurse = Actor(admin.user_id, "admin", "Admin", Duty.PERAWAT, a.id)
    with pytest.raises(PermissionDenied):
        svc.update_employee(db, nurse, e.id, _data(a, name="Diganti"))
    with pytest.raises(PermissionDenied):
        svc.set_employee_active(db, nurse, e.id, False)
    with pytest.raises(PermissionDenied):
        svc.create_employee(db, nurse, _data(a, name="Baru"))
    db.rollback()
    assert db.get(Employee, e.id).name == "Sari Kasir"
    svc.set_employee_active(db, admin, e.id, False)
    db.commit()
    assert db.get(Employee, e.id).is_active is False
    rows = db.exec(select(AuditLog).where(AuditLog.entity == "employee").order_by(AuditLog.id))
    actions = [r.action for r in rows]
    assert actions == ["create", "deactivate"]


def test_an_employee_of_a_branch_the_admin_does_not_have_is_not_found(db, setup):
    _, _, c, admin = setup
    stranger = Employee(branch_id=c.id, name="Orang Lain", main_duty=Duty.PERAWAT)
    db.add(stranger)
    db.commit()
    with pytest.raises(NotFound):
        svc.update_employee(db, admin, stranger.id, _data(c, name="Diambil"))


def test_search_by_name_or_nik_is_paged_on_the_server(db, setup):
    a, b, _, admin = setup
    for i in range(12):
        svc.create_employee(db, admin, _data(a, name=f"Perawat {i:02d}"))
    svc.create_employee(
        db, admin, _data(a, name="dr. Alexander", main_duty=Duty.DOKTER_UMUM, nik=DOCTOR_NIK)
    )
    svc.create_employee(db, admin, _data(b, name="Perawat Cabang B"))
    db.commit()
    page = svc.list_employees(db, a.id, page=2, page_size=5)
    assert page.total == 13 and page.page_count == 3 and len(page.rows) == 5
    assert [e.name for e in svc.list_employees(db, a.id, search="ALEX").rows] == ["dr. Alexander"]
    assert [e.name for e in svc.list_employees(db, a.id, search="720906").rows] == ["dr. Alexander"]
    assert svc.list_employees(db, a.id, search="Cabang B").total == 0
