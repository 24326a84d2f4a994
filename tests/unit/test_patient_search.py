"""Patient search: every kind, paging and totals, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from dataclasses import FrozenInstanceError, asdict, fields
from datetime import date

import pytest
from sqlmodel import Session, SQLModel

from klinikita.db import READ_ONLY, make_engine
from klinikita.models import Branch, Patient
from klinikita.services.patients import (
    COUNT_CAP,
    PatientPage,
    PatientRow,
    SearchKind,
    resolve_kind,
    search_patients,
)
from tests.pg import require_pg, temporary_pg_database

PEOPLE = (
    # mrn, nik, name, birth date, phone
    ("000001", "3171012511900001", "Budi Santoso", date(1990, 11, 25), "081234567890"),
    ("000002", "3171014506850002", "Siti Nurhaliza", date(1985, 6, 5), "081298765432"),
    ("000003", "3171010101700003", "Agus Budiman", date(1970, 1, 1), "085711112222"),
    ("000004", None, "Budiarti", date(2026, 11, 1), ""),
    ("000005", "3171012511900005", "Dewi Lestari", date(1990, 11, 25), "+6281234500000"),
)


def _seed(session: Session) -> tuple[int, int]:
    branch, other = Branch(name="Klinik Cari"), Branch(name="Klinik Lain")
    session.add_all([branch, other])
    session.flush()
    for mrn, nik, name, born, phone in PEOPLE:
        session.add(
            Patient(
                branch_id=branch.id,
                mrn=mrn,
                nik=nik,
                name=name,
                birth_date=born,
                sex="male",
                phone=phone,
            )
        )
    # Same names in another branch and an inactive one: never found here.
    session.add(
        Patient(
            branch_id=other.id,
            mrn="000001",
            name="Budi Lain",
            sex="male",
            birth_date=date(1990, 1, 1),
        )
    )
    session.add(
        Patient(
            branch_id=branch.id,
            mrn="000009",
            name="Budi Nonaktif",
            sex="male",
            birth_date=date(1990, 1, 1),
            is_active=False,
        )
    )
    session.commit()
    return branch.id, other.id


def _reader(engine) -> Session:  # noqa: ANN001
    """A session for reading only on `engine`, as `db.read_scope()` gives the app."""
    return Session(engine.execution_options(**{READ_ONLY: True}))


def _search(session: Session, *args, **kw):
    """The search as the app runs it: in a read session of the session's engine, after
    the session committed (the seeding does)."""
    with _reader(session.get_bind()) as reader:
        return search_patients(reader, *args, **kw)


def _names(session, branch_id, term, kind=SearchKind.AUTO, **kw) -> list[str]:
    return [r.name for r in _search(session, branch_id, term, kind, **kw).rows]


def _check_every_kind(session: Session) -> None:
    b, _ = _seed(session)
    assert _names(session, b, "3171014506850002", SearchKind.NIK) == ["Siti Nurhaliza"]
    assert _names(session, b, "000003", SearchKind.MRN) == ["Agus Budiman"]
    assert _names(session, b, "BUDI", SearchKind.NAME) == ["Budi Santoso", "Budiarti"]
    assert _names(session, b, "budi  san", SearchKind.NAME) == ["Budi Santoso"]
    # Contains: anywhere in the name, case-insensitive, newest first.
    assert _names(session, b, "UDI", SearchKind.NAME_CONTAINS) == [
        "Budiarti",
        "Agus Budiman",
        "Budi Santoso",
    ]
    assert _search(session, b, "ud", SearchKind.NAME_CONTAINS).problem
    assert _names(session, b, "100%", SearchKind.NAME_CONTAINS) == []
    assert _names(session, b, "0812", SearchKind.PHONE) == ["Budi Santoso", "Siti Nurhaliza"]
    assert _names(session, b, "0857-1111", SearchKind.PHONE) == ["Agus Budiman"]
    assert _names(session, b, "25-11-1990", SearchKind.BIRTH_DATE) == [
        "Budi Santoso",
        "Dewi Lestari",
    ]
    assert _names(session, b, "1990-11-25", SearchKind.BIRTH_DATE) == [
        "Budi Santoso",
        "Dewi Lestari",
    ]
    # The one search box guesses the kind.
    assert _names(session, b, "3171012511900005") == ["Dewi Lestari"]
    assert _names(session, b, "000002") == ["Siti Nurhaliza"]
    assert _names(session, b, "siti") == ["Siti Nurhaliza"]
    # Empty: everyone active of this branch, by name.
    page = _search(session, b, "")
    assert [r.name for r in page.rows][0] == "Agus Budiman"
    assert page.total == 5 and "Budi Nonaktif" not in [r.name for r in page.rows]


def _check_paging(session: Session) -> None:
    branch = Branch(name="Klinik Ramai")
    session.add(branch)
    session.flush()
    for n in range(COUNT_CAP + 30):
        session.add(
            Patient(
                branch_id=branch.id,
                mrn=f"{n:06d}",
                name=f"Rahmat {n:05d}",
                sex="male",
                birth_date=date(1990, 1, 1),
            )
        )
    session.commit()
    first = _search(session, branch.id, "rahmat", SearchKind.NAME)
    assert [r.name for r in first.rows][:2] == ["Rahmat 00000", "Rahmat 00001"]
    assert first.total_capped and first.total_label == f"{COUNT_CAP}+"
    third = _search(session, branch.id, "rahmat", SearchKind.NAME, page=3)
    assert third.rows[0].name == "Rahmat 00040" and len(third.rows) == 20
    few = _search(session, branch.id, "rahmat 0000", SearchKind.NAME)
    assert few.total == 10 and not few.total_capped and few.page_count == 1
    contains = _search(session, branch.id, "mat 0102", SearchKind.NAME_CONTAINS)
    assert [r.name for r in contains.rows] == [
        "Rahmat 01029",
        "Rahmat 01028",
        "Rahmat 01027",
        "Rahmat 01026",
        "Rahmat 01025",
        "Rahmat 01024",
        "Rahmat 01023",
        "Rahmat 01022",
        "Rahmat 01021",
        "Rahmat 01020",
    ]


def test_every_search_kind_sqlite(db):
    _check_every_kind(db)


def test_paging_and_capped_totals_sqlite(db):
    _check_paging(db)


def test_a_renamed_patient_is_found_by_the_new_name_only_sqlite(db):
    b, _ = _seed(db)
    patient = db.exec(Patient.__table__.select().where(Patient.mrn == "000002")).first()
    row = db.get(Patient, patient.id)
    row.name = "Siti Rahayu"
    db.commit()
    assert _names(db, b, "rahayu", SearchKind.NAME_CONTAINS) == ["Siti Rahayu"]
    assert _names(db, b, "nurhal", SearchKind.NAME_CONTAINS) == []


def test_guessing_the_kind():
    assert resolve_kind("3171012511900001") == SearchKind.NIK
    assert resolve_kind(" 3171 0125 1190 0001 ") == SearchKind.NIK
    assert resolve_kind("0812-3456-789") == SearchKind.PHONE
    assert resolve_kind("+62 812 3456 789") == SearchKind.PHONE
    assert resolve_kind("25/11/1990") == SearchKind.BIRTH_DATE
    assert resolve_kind("1990-11-25") == SearchKind.BIRTH_DATE
    assert resolve_kind("31-02-1990") == SearchKind.MRN  # no such date: digits, so No. RM
    assert resolve_kind("RM2026-001") == SearchKind.MRN
    assert resolve_kind("0812") == SearchKind.MRN  # too short for a phone number
    assert resolve_kind("budi") == SearchKind.NAME
    # No digit at all: a name, whatever the punctuation.
    assert resolve_kind("Budi-Santoso (Pak)") == SearchKind.NAME
    assert resolve_kind("") == SearchKind.NAME


def test_search_results_are_whole_frozen_dtos_sqlite(db):
    """The rows and the page a search returns have every field set, equal what their
    constructors make and stay frozen; `kind` is a plain string."""
    b, _ = _seed(db)
    for term, kind in (("000003", SearchKind.MRN), ("budi", SearchKind.AUTO), ("", "nik")):
        page = _search(db, b, term, kind)
        assert page.rows
        for row in page.rows:
            assert type(row) is PatientRow
            assert set(vars(row)) == {f.name for f in fields(PatientRow)}
            assert row == PatientRow(**asdict(row)) and hash(row) == hash(PatientRow(**asdict(row)))
            with pytest.raises(FrozenInstanceError):
                row.name = "x"
        assert type(page) is PatientPage
        assert set(vars(page)) == {f.name for f in fields(PatientPage)}
        assert page == PatientPage(**{f.name: getattr(page, f.name) for f in fields(page)})
        with pytest.raises(FrozenInstanceError):
            page.total = 0
        # The kind searched, as a plain string (AUTO resolved).
        assert type(page.kind) is str and page.problem == ""
    assert _search(db, b, "000003", SearchKind.MRN).kind == "mrn"
    assert _search(db, b, "budi").kind == "name"
    assert _search(db, b, "", "nik").kind == "nik"
    # A term that cannot be searched: no rows, the kind and the message.
    problem = _search(db, b, "ud", SearchKind.NAME_CONTAINS)
    assert (problem.rows, problem.kind, type(problem.kind)) == ([], "name_contains", str)
    assert problem.problem


@pytest.mark.postgres
def test_every_search_kind_and_paging_postgresql():
    require_pg()
    with temporary_pg_database() as url:
        engine = make_engine(url)
        SQLModel.metadata.create_all(engine)
        with Session(engine) as session:
            _check_every_kind(session)
            _check_paging(session)
        engine.dispose()


def test_a_search_runs_beside_a_long_write_and_sees_only_committed_rows_sqlite(db):
    """A read session begins deferred: while another connection holds the write lock
    (BEGIN IMMEDIATE) with an uncommitted patient, a search answers at once with the
    committed rows only; once the writer commits, the next search sees the new row."""
    b, _ = _seed(db)
    engine = db.get_bind()
    with engine.connect() as writer:
        writer.exec_driver_sql("SELECT 1")  # begins IMMEDIATE: the write lock is held
        writer.execute(
            Patient.__table__.insert().values(
                branch_id=b,
                mrn="000777",
                name="Budi Baru",
                name_norm="budi baru",
                sex="male",
                birth_date=date(2000, 1, 1),
            )
        )
        started = time.perf_counter()
        page = _search(db, b, "budi", SearchKind.NAME)
        assert time.perf_counter() - started < 1.0  # busy_timeout would be 30 s
        assert [r.name for r in page.rows] == ["Budi Santoso", "Budiarti"]
        assert _names(db, b, "000777", SearchKind.MRN) == []
        # A read that began before the commit keeps its snapshot (page and count agree).
        with _reader(engine) as reader:
            before = search_patients(reader, b, "budi", SearchKind.NAME)
            writer.commit()
            during = search_patients(reader, b, "budi", SearchKind.NAME)
        assert [r.name for r in before.rows] == [r.name for r in during.rows]
    assert _names(db, b, "budi", SearchKind.NAME) == ["Budi Baru", "Budi Santoso", "Budiarti"]
