"""No. RM: the branch's format, and never the same number twice, even from two desks."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlmodel import Session, SQLModel, select

from klinikita.db import get_engine, make_engine
from klinikita.models import Branch, Patient
from klinikita.services import mrn
from tests.factories import make_branch
from tests.pg import require_pg, temporary_pg_database


def test_format_placeholders_and_problems():
    assert mrn.render("{seq:06d}", 42, 2026) == "000042"
    assert mrn.render("RM{year}-{seq:05d}", 7, 2026) == "RM2026-00007"
    assert mrn.format_problem("{seq:06d}") is None
    assert mrn.format_problem("RM{year}-{seq}") is None
    assert "{seq}" in mrn.format_problem("RM-{year}")
    assert "bukan" in mrn.format_problem("{seq}{branch}")
    assert mrn.format_problem("{seq") is not None
    assert mrn.format_problem("{seq:d}" + "x" * 40) is not None


def test_numbers_follow_the_branch_format_and_skip_taken_ones(db):
    branch = make_branch(db)
    branch.mrn_format = "RM{year}-{seq:04d}"
    db.add(branch)
    # A number given by an import before the counter existed.
    db.add(
        Patient(
            branch_id=branch.id,
            mrn="RM2026-0002",
            name="Lama",
            sex="male",
            birth_date=date(1990, 1, 1),
        )
    )
    db.commit()
    from datetime import datetime

    now = datetime(2026, 11, 25, 10, 0)
    got = [mrn.allocate_mrn(db, branch, now=now) for _ in range(3)]
    db.commit()
    assert got == ["RM2026-0001", "RM2026-0003", "RM2026-0004"]
    other = make_branch(db, "Klinik Lain")
    assert mrn.allocate_mrn(db, other) == "000001"  # each branch counts on its own


def _race(url: str | None, branch_id: int, desks: int = 2, each: int = 15) -> list[str]:
    engine = get_engine() if url is None else make_engine(url)
    barrier = threading.Barrier(desks)
    got: list[str] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def desk(n: int) -> None:
        try:
            barrier.wait()
            for i in range(each):
                with Session(engine) as session:
                    branch = session.get(Branch, branch_id)
                    number = mrn.allocate_mrn(session, branch)
                    session.add(
                        Patient(
                            branch_id=branch_id,
                            mrn=number,
                            name=f"Pasien {n}-{i}",
                            sex="female",
                            birth_date=date(1990, 1, 1),
                        )
                    )
                    session.commit()
                with lock:
                    got.append(number)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=desk, args=(n,)) for n in range(desks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return got


def test_two_desks_at_once_never_get_the_same_number_sqlite(db):
    branch = make_branch(db)
    got = _race(None, branch.id)
    assert len(got) == 30 and len(set(got)) == 30
    assert sorted(got) == [f"{n:06d}" for n in range(1, 31)]
    assert len(db.exec(select(Patient)).all()) == 30


@pytest.mark.postgres
def test_two_desks_at_once_never_get_the_same_number_postgresql():
    require_pg()
    with temporary_pg_database() as url:
        engine = make_engine(url)
        SQLModel.metadata.create_all(engine)
        with Session(engine) as session:
            branch = Branch(name="Klinik PG")
            session.add(branch)
            session.commit()
            branch_id = branch.id
        # Four desks: the counter row's lock serializes them.
        got = _race(url, branch_id, desks=4, each=10)
        assert len(got) == 40 and len(set(got)) == 40
        assert sorted(got) == [f"{n:06d}" for n in range(1, 41)]
        engine.dispose()


def test_admin_sets_the_branch_format_and_a_bad_one_is_named_at_its_field(db):
    from klinikita.models.enums import Duty
    from klinikita.services.branches import BranchInput, update_branch
    from klinikita.services.errors import ValidationFailed
    from tests.patients_support import actor_for

    branch = make_branch(db)
    admin = actor_for(db, branch, Duty.ADMIN)
    data = dict(name=branch.name, facility_type=branch.facility_type)
    with pytest.raises(ValidationFailed) as err:
        update_branch(db, admin, branch.id, BranchInput(**data, mrn_format="RM-{year}"))
    assert "{seq}" in err.value.errors["mrn_format"]
    db.rollback()
    update_branch(db, admin, branch.id, BranchInput(**data, mrn_format="RM{year}-{seq:05d}"))
    db.commit()
    assert db.get(Branch, branch.id).mrn_format == "RM{year}-{seq:05d}"
