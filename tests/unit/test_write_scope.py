"""A click's write scope: plain statements on the thread's kept write connection, all or
nothing, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import datetime

import pytest
from sqlalchemy import bindparam, update
from sqlmodel import Session, select

from klinikita.db import as_model, read_connection, write_scope
from klinikita.models import AuditLog, Branch, Patient, ServiceUnit
from klinikita.services import audit
from klinikita.services.audit import Actor
from tests.factories import make_clinic
from tests.pg import sqlite_and_postgresql

db = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)

_RENAME = update(Branch).where(Branch.id == bindparam("b")).values(name=bindparam("name"))
_NAME = select(Branch.name).where(Branch.id == bindparam("b"))
ACTOR = Actor(user_id=None, username="uji", full_name="Uji", duty="admin", branch_id=None)


def _name_committed(db: Session, branch_id: int) -> str:
    """What another connection sees (the test's session ends its transaction again, so on
    SQLite it holds no lock)."""
    db.rollback()
    try:
        return db.get(Branch, branch_id, populate_existing=True).name
    finally:
        db.rollback()


def test_the_writes_of_a_scope_are_committed_together_at_its_end(db):
    branch_id = make_clinic(db)[0].id  # a plain value: the session expires its objects
    engine = db.get_bind()
    with write_scope(engine) as st:
        st.execute(_RENAME, {"b": branch_id, "name": "Klinik Baru"})
        audit.write(st, ACTOR, "update", "branch", branch_id, after={"name": "Klinik Baru"})
        assert st.scalar(_NAME, {"b": branch_id}) == "Klinik Baru"  # its own write, read back
        with read_connection(engine) as conn:  # not yet for others
            assert conn.scalar(_NAME, {"b": branch_id}) == "Klinik Simulator"
    assert _name_committed(db, branch_id) == "Klinik Baru"
    [row] = db.exec(select(AuditLog)).all()
    assert (row.action, row.entity_id, row.after) == (
        "update",
        str(branch_id),
        {"name": "Klinik Baru"},
    )
    assert row.at is not None


def test_an_error_in_a_scope_keeps_none_of_its_writes(db):
    branch_id = make_clinic(db)[0].id  # a plain value: the session expires its objects
    engine = db.get_bind()
    with pytest.raises(ValueError), write_scope(engine) as st:
        st.execute(_RENAME, {"b": branch_id, "name": "Setengah"})
        audit.write(st, ACTOR, "update", "branch", branch_id)
        raise ValueError("refused half way")
    assert _name_committed(db, branch_id) == "Klinik Simulator"
    assert db.exec(select(AuditLog)).all() == []
    db.rollback()
    # The kept connection is usable again afterwards.
    with write_scope(engine) as st:
        st.execute(_RENAME, {"b": branch_id, "name": "Sesudahnya"})
    assert _name_committed(db, branch_id) == "Sesudahnya"


def test_each_thread_writes_on_its_own_connection(db):
    branch_id = make_clinic(db)[0].id  # a plain value: the session expires its objects
    engine = db.get_bind()
    seen: list[str] = []

    def other_thread() -> None:
        with write_scope(engine) as st:
            seen.append(st.scalar(_NAME, {"b": branch_id}))

    with write_scope(engine) as st:
        st.execute(_RENAME, {"b": branch_id, "name": "Belum"})
        if engine.dialect.name == "postgresql":  # SQLite's other writer would wait its turn
            worker = threading.Thread(target=other_thread)
            worker.start()
            worker.join()
            assert seen == ["Klinik Simulator"]  # not this thread's open transaction


def test_a_model_from_plain_columns_equals_the_one_the_orm_loads(db):
    patient = make_clinic(db)[4]
    db.commit()
    columns = list(Patient.__table__.c)
    [values] = db.exec(select(*columns).where(Patient.id == patient.id)).all()
    built = as_model(Patient, values)
    loaded = db.get(Patient, patient.id, populate_existing=True)
    assert built.model_dump() == loaded.model_dump()
    assert built.model_copy(update={"name": "Lain"}).name == "Lain"
    assert built not in db  # outside any session


@pytest.mark.postgres
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_a_scope_after_the_server_dropped_the_kept_connection_starts_on_a_fresh_one(db):
    branch_id = make_clinic(db)[0].id  # a plain value: the session expires its objects
    engine = db.get_bind()
    with write_scope(engine) as st:
        pid = st._driver.info.backend_pid
    with engine.connect() as admin:
        admin.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
        admin.commit()
    with write_scope(engine) as st:
        st.execute(_RENAME, {"b": branch_id, "name": "Setelah restart"})
        assert st.scalar(_NAME, {"b": branch_id}) == "Setelah restart"
        assert st._driver.info.backend_pid != pid
    assert _name_committed(db, branch_id) == "Setelah restart"
    # The same when the scope's first statement is a write, with nothing read before it.
    with engine.connect() as admin:
        admin.exec_driver_sql(f"SELECT pg_terminate_backend({_kept_write_pid(engine)})")
        admin.commit()
    with write_scope(engine) as st:
        st.execute(_RENAME, {"b": branch_id, "name": "Restart kedua"})
    assert _name_committed(db, branch_id) == "Restart kedua"


def _kept_write_pid(engine) -> int:  # noqa: ANN001
    with write_scope(engine) as st:
        return st._driver.info.backend_pid


@pytest.mark.postgres
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_a_scope_inside_another_on_the_same_thread_is_its_own_transaction(db):
    branch_id = make_clinic(db)[0].id  # a plain value: the session expires its objects
    engine = db.get_bind()
    with pytest.raises(ValueError), write_scope(engine) as outer:
        outer.execute(_RENAME, {"b": branch_id, "name": "Luar"})
        with write_scope(engine) as inner:
            assert inner._driver is not outer._driver
            audit.write(inner, ACTOR, "update", "branch", branch_id)
        raise ValueError("the outer one fails")
    assert _name_committed(db, branch_id) == "Klinik Simulator"
    assert len(db.exec(select(AuditLog)).all()) == 1  # the inner one was committed


def test_a_refused_audit_row_sent_at_the_end_undoes_the_whole_scope(db):
    """Audit rows go to the database together just before the commit; when one is refused
    there, nothing of the scope is kept and the kept connection is usable again."""
    branch_id = make_clinic(db)[0].id
    engine = db.get_bind()
    nobody = Actor(user_id=987654, username="hantu", full_name="", duty="admin", branch_id=None)
    with pytest.raises(engine.dialect.loaded_dbapi.IntegrityError), write_scope(engine) as st:
        st.execute(_RENAME, {"b": branch_id, "name": "Tidak jadi"})
        audit.write(st, ACTOR, "update", "branch", branch_id)
        audit.write(st, nobody, "update", "branch", branch_id)  # no such user: refused
    assert _name_committed(db, branch_id) == "Klinik Simulator"
    assert db.exec(select(AuditLog)).all() == []
    db.rollback()
    with write_scope(engine) as st:
        audit.write(st, ACTOR, "update", "branch", branch_id)
    assert len(db.exec(select(AuditLog)).all()) == 1


def test_a_model_from_plain_columns_works_before_the_orm_was_used_in_the_process():
    """The worker's first batch builds its branch this way, before any ORM query has set up
    the mappers (a fresh process)."""
    code = (
        "import klinikita.models\n"
        "from klinikita.db import as_model\n"
        "from klinikita.models import Branch\n"
        "values = {c.name: None for c in Branch.__table__.c}\n"
        "values.update(id=7, name='Klinik Proses', ss_organization_id=' 100 ')\n"
        "branch = as_model(Branch, list(values.values()))\n"
        "print(branch.name, branch.ss_organization_id.strip())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.strip() == "Klinik Proses 100", done.stderr


def test_a_new_row_gets_the_models_defaults_and_refuses_unknown_or_missing_columns():
    from klinikita.db import new_values
    from klinikita.models import SyncJob

    given = {"kind": "visit_send", "branch_id": 1, "subject_type": "visit", "subject_id": 7}
    row = new_values(SyncJob, given)
    model = SyncJob(**given).model_dump(exclude={"id"})
    assert row.keys() == model.keys()
    times = {"next_attempt_at", "created_at", "updated_at"}
    assert {k: v for k, v in row.items() if k not in times} == {
        k: v for k, v in model.items() if k not in times
    }
    assert all(row[k] is not None for k in times)  # the factories ran
    with pytest.raises(TypeError, match="no columns"):
        new_values(SyncJob, {**given, "colour": "blue"})
    with pytest.raises(TypeError, match="branch_id needs a value"):
        new_values(SyncJob, {k: v for k, v in given.items() if k != "branch_id"})


def test_several_audit_rows_of_a_scope_are_stored_in_the_order_written(db):
    branch_id = make_clinic(db)[0].id  # a plain value: the session expires its objects
    engine = db.get_bind()
    with write_scope(engine) as st:
        audit.write(st, ACTOR, "exam_start", "visit", 5, after={"status": "in_examination"})
        audit.write(st, ACTOR, "exam_vitals", "examination", 9, before={"pulse": None})
        audit.write(st, ACTOR, "update", "branch", branch_id, after={"name": "Klinik Ø"})
    db.rollback()
    rows = db.exec(select(AuditLog).order_by(AuditLog.id)).all()
    assert [(r.action, r.entity_id, r.before, r.after) for r in rows] == [
        ("exam_start", "5", None, {"status": "in_examination"}),
        ("exam_vitals", "9", {"pulse": None}, None),
        ("update", str(branch_id), None, {"name": "Klinik Ø"}),
    ]


_NAMELESS = update(Branch).where(Branch.id == bindparam("b")).values(name=None)


def test_a_write_refused_in_the_middle_of_a_scope_undoes_all_of_it(db):
    """The writes before the refused one are not kept, and the kept connection works again
    afterwards."""
    branch_id = make_clinic(db)[0].id
    engine = db.get_bind()
    with pytest.raises(engine.dialect.loaded_dbapi.IntegrityError), write_scope(engine) as st:
        st.execute(_RENAME, {"b": branch_id, "name": "Tidak jadi"})
        st.execute(_NAMELESS, {"b": branch_id})  # NOT NULL: refused
        st.scalar(_NAME, {"b": branch_id})
    assert _name_committed(db, branch_id) == "Klinik Simulator"
    with write_scope(engine) as st:
        assert st.scalar(_NAME, {"b": branch_id}) == "Klinik Simulator"
        st.execute(_RENAME, {"b": branch_id, "name": "Sesudahnya"})
    assert _name_committed(db, branch_id) == "Sesudahnya"


def test_a_write_given_to_send_is_seen_by_the_next_read_and_kept_with_the_scope(db):
    branch_id = make_clinic(db)[0].id
    engine = db.get_bind()
    with write_scope(engine) as st:
        st.send(_RENAME, {"b": branch_id, "name": "Klinik Terkirim"})
        assert st.scalar(_NAME, {"b": branch_id}) == "Klinik Terkirim"
        st.send(_RENAME, {"b": branch_id, "name": "Klinik Terakhir"})  # waits for the commit
    assert _name_committed(db, branch_id) == "Klinik Terakhir"


def test_a_refused_write_given_to_send_undoes_the_whole_scope(db):
    """Refused where it reaches the database (at once on SQLite, with the next statement
    on PostgreSQL): nothing of the scope is kept either way."""
    branch_id = make_clinic(db)[0].id
    engine = db.get_bind()
    with pytest.raises(engine.dialect.loaded_dbapi.IntegrityError), write_scope(engine) as st:
        st.execute(_RENAME, {"b": branch_id, "name": "Tidak jadi"})
        st.send(_NAMELESS, {"b": branch_id})  # NOT NULL: refused
        audit.write(st, ACTOR, "update", "branch", branch_id)
        st.scalar(_NAME, {"b": branch_id})
    assert _name_committed(db, branch_id) == "Klinik Simulator"
    assert db.exec(select(AuditLog)).all() == []


def test_several_reads_at_once_give_what_each_gives_alone(db):
    clinic = make_clinic(db)
    branch_id, unit_id = clinic[0].id, clinic[1].id
    engine = db.get_bind()
    reads = [
        (_NAME, {"b": branch_id}),
        (select(Branch.id).where(Branch.id == bindparam("b")), {"b": 0}),
        (select(ServiceUnit.name, ServiceUnit.created_at), {}),
        (
            select(ServiceUnit.created_at).where(ServiceUnit.branch_id == bindparam("b")),
            {"b": branch_id},
        ),
    ]
    with read_connection(engine) as conn:
        together = conn.rows_each(reads)
        alone = [conn.rows(stmt, params) for stmt, params in reads]
    assert together == alone
    assert together[0] == [("Klinik Simulator",)] and together[1] == []
    assert together[2][0][0] == db.get(ServiceUnit, unit_id).name
    assert isinstance(together[3][0][0], datetime)  # converted as `rows` converts
    with write_scope(engine) as st:
        st.send(_RENAME, {"b": branch_id, "name": "Dibaca bersama"})
        assert st.rows_each(reads[:1] * 2) == [[("Dibaca bersama",)]] * 2


def test_the_read_after_commit_with_next_read_sees_the_scopes_writes_and_ends_it(db):
    """On PostgreSQL that read carries the COMMIT: the writes are kept from then on, and the
    scope refuses to write any more. Elsewhere the commit stays at the scope's end, and a
    write after it is refused all the same."""
    branch_id = make_clinic(db)[0].id
    engine = db.get_bind()
    postgres = engine.dialect.name == "postgresql"
    with write_scope(engine) as st:
        st.send(_RENAME, {"b": branch_id, "name": "Klinik Ditutup"})
        audit.write(st, ACTOR, "update", "branch", branch_id, after={"name": "Klinik Ditutup"})
        st.commit_with_next_read()
        assert st.scalar(_NAME, {"b": branch_id}) == "Klinik Ditutup"
        with read_connection(engine) as conn:  # committed already, on PostgreSQL only
            seen = conn.scalar(_NAME, {"b": branch_id})
        assert seen == ("Klinik Ditutup" if postgres else "Klinik Simulator")
        assert st.scalar(_NAME, {"b": branch_id}) == "Klinik Ditutup"  # reads go on
    assert _name_committed(db, branch_id) == "Klinik Ditutup"
    assert len(db.exec(select(AuditLog)).all()) == 1
    db.rollback()

    for write in (
        lambda st: st.execute(_RENAME, {"b": branch_id, "name": "Terlambat"}),
        lambda st: st.send(_RENAME, {"b": branch_id, "name": "Terlambat"}),
        lambda st: audit.write(st, ACTOR, "update", "branch", branch_id),
    ):
        with pytest.raises(RuntimeError, match="closing read"), write_scope(engine) as st:
            st.commit_with_next_read()
            assert st.scalar(_NAME, {"b": branch_id}) == "Klinik Ditutup"
            write(st)
    assert _name_committed(db, branch_id) == "Klinik Ditutup"
    assert len(db.exec(select(AuditLog)).all()) == 1


def test_the_warm_up_compiles_the_apps_statements_and_opens_the_threads_connections(db):
    """Run at the app's start on the thread that serves the clicks: the first click of each
    kind then finds its statements compiled and its kept connections open."""
    from klinikita import db as kdb
    from klinikita.services import examination_view, registration

    engine = db.get_bind()
    name = engine.dialect.name
    other = "sqlite" if name == "postgresql" else "postgresql"
    mine = (registration._CHOSEN, examination_view._RECORD, registration._NEXT_NUMBER[name])
    for stmt in mine:
        kdb._COMPILED.pop((id(stmt), name), None)
    kdb._COMPILED.pop((id(registration._NEXT_NUMBER[other]), name), None)
    # No kept connection on this thread yet, as in a backend just started.
    for driver in getattr(kdb._kept, "held", {}).pop(engine, {}).values():
        driver.close()

    assert kdb.warm_up(engine) > 20
    for stmt in mine:
        assert (id(stmt), name) in kdb._COMPILED
    # The other database's variant of a statement is left alone.
    assert (id(registration._NEXT_NUMBER[other]), name) not in kdb._COMPILED
    opened = dict(kdb._kept.held[engine])
    assert set(opened) == {True, False}  # the read and the write connection
    with read_connection(engine) as conn, write_scope(engine) as st:
        assert conn._driver is opened[True]
        assert st._driver is opened[False]
