"""Statements on PostgreSQL through libpq (klinikita/pg_exec.py): what the kept read and
write connections run, against what psycopg's own cursor gives for the same statements."""

from __future__ import annotations

from datetime import UTC, date, datetime

import psycopg
import pytest
from psycopg import pq
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    column,
    func,
    insert,
    select,
    table,
    text,
    update,
)
from sqlmodel import Session, SQLModel
from sqlmodel import select as select_models

from klinikita import pg_exec
from klinikita.db import (
    SessionStatements,
    column_binds,
    make_engine,
    read_connection,
    write_scope,
)
from klinikita.models import AuditLog, Branch, SyncJob, Visit
from klinikita.services import audit
from klinikita.services.audit import Actor
from tests.factories import make_clinic, make_completed_visit, make_patient
from tests.pg import require_pg, round_trips, temporary_pg_database

ACTOR = Actor(user_id=None, username="uji", full_name="Uji", duty="admin", branch_id=None)

_SAMPLE = Table(
    "pg_exec_sample",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("small", Integer),
    Column("big", BigInteger),
    Column("label", String(40)),
    Column("flag", Boolean),
    Column("day", Date),
    Column("at", DateTime(timezone=True)),
    Column("ratio", Float),
    Column("doc", JSON),
)
_ADD = insert(_SAMPLE).values(column_binds(_SAMPLE)).returning(_SAMPLE.c.id)
_ALL = select(_SAMPLE).order_by(_SAMPLE.c.id)
_LIKE = select(_SAMPLE.c.label).where(
    _SAMPLE.c.label.like(bindparam("pattern")), _SAMPLE.c.label != text("'100%'")
)
# What the server session holds prepared under pg_exec's names (only the session itself can
# list them, so the tests ask through the scope).
_OURS_PREPARED = (
    select(column("name"), column("statement"))
    .select_from(table("pg_prepared_statements"))
    .where(column("name").like(text("'klinikita%'")))
)
ROWS = [
    {
        "small": 7,
        "big": 9_000_000_000,
        "label": 'Budi\'s "klinik" ; DROP TABLE x',
        "flag": True,
        "day": date(2026, 11, 26),
        "at": datetime(2026, 11, 26, 1, 2, 3, 456000, tzinfo=UTC),
        "ratio": 36.6,
        "doc": {"kode": "J06.9", "daftar": [1, 2.5, None, "ä"]},
    },
    {key: None for key in ("small", "big", "label", "flag", "day", "at", "ratio", "doc")},
    {
        "small": -1,
        "big": 0,
        "label": "100%",
        "flag": False,
        "day": date(1990, 8, 17),
        "at": datetime(1990, 8, 17, 23, 59, tzinfo=UTC),
        "ratio": 0.0,
        "doc": [],
    },
]


@pytest.fixture
def engine():
    require_pg()
    with temporary_pg_database("klinikita_pg_exec") as url:
        made = make_engine(url)
        _SAMPLE.metadata.create_all(made)
        SQLModel.metadata.create_all(made)
        try:
            yield made
        finally:
            made.dispose()


def test_placeholders_become_numbered_parameters_once_per_name():
    sql, names = pg_exec.libpq_sql(
        "SELECT %(a)s, %(b)s::VARCHAR WHERE x LIKE '10%%' AND y = %(a)s OR z = %(c)s"
    )
    assert sql == b"SELECT $1, $2::VARCHAR WHERE x LIKE '10%' AND y = $1 OR z = $3"
    assert names == ("a", "b", "c")
    assert pg_exec.libpq_sql("SELECT 1") == (b"SELECT 1", ())


@pytest.mark.postgres
def test_values_come_back_as_psycopgs_cursor_gives_them(engine):
    with write_scope(engine) as st:
        ids = [st.scalar(_ADD, row) for row in ROWS]
    assert ids == sorted(ids) and len(set(ids)) == 3
    with read_connection(engine) as conn:
        through_libpq = conn.rows(_ALL, {})
    with Session(engine) as session:
        through_cursor = SessionStatements(session).rows(_ALL, {})
    assert through_libpq == through_cursor
    assert [row[1:] for row in through_libpq] == [tuple(row.values()) for row in ROWS]


@pytest.mark.postgres
def test_a_literal_percent_and_a_like_pattern_reach_the_server_as_written(engine):
    with write_scope(engine) as st:
        for row in ROWS:
            st.execute(_ADD, row)
    with read_connection(engine) as conn:
        assert conn.rows(_LIKE, {"pattern": "Budi%"}) == [(ROWS[0]["label"],)]
        assert conn.rows(_LIKE, {"pattern": "100%"}) == []  # excluded by the literal


@pytest.mark.postgres
def test_the_apps_own_rows_read_alike_both_ways(engine):
    """A completed visit and its job: the app's column types (UTC times, enums, JSON)."""
    with Session(engine, expire_on_commit=False) as session:
        branch, unit, room, doctor = make_clinic(session)[:4]
        patient = make_patient(session, branch)
        make_completed_visit(session, branch, unit, room, doctor, patient)
        job = SyncJob(kind="visit_send", branch_id=branch.id, subject_type="visit", subject_id=1)
        session.add(job)
        session.commit()
    for model in (Visit, SyncJob):
        statement = select(model.__table__).order_by(model.__table__.c.id)
        with read_connection(engine) as conn:
            through_libpq = conn.rows(statement, {})
        with Session(engine) as session:
            assert through_libpq == SessionStatements(session).rows(statement, {})
        assert through_libpq


@pytest.mark.postgres
def test_each_statement_is_prepared_once_per_connection(engine):
    with write_scope(engine) as st:
        st.scalar(_ADD, ROWS[0])
    for _ in range(5):
        with write_scope(engine) as st:
            st.scalar(_ADD, ROWS[0])
            names = [name for name, _ in st.rows(_OURS_PREPARED, {})]
    # The insert with these parameter types, and the listing itself: nothing made again.
    assert len(names) == 2
    with write_scope(engine) as st:
        st.scalar(_ADD, ROWS[1])  # other parameter types (NULLs): a statement of its own
        assert len(st.rows(_OURS_PREPARED, {})) == 3


@pytest.mark.postgres
def test_a_connection_keeps_at_most_max_prepared_statements(engine, monkeypatch):
    monkeypatch.setattr(pg_exec, "MAX_PREPARED", 3)
    counted = select(func.count()).select_from(_OURS_PREPARED.subquery())
    picks = [select(_SAMPLE.c.id).where(_SAMPLE.c.small == n) for n in range(6)]
    with write_scope(engine) as st:
        ids = [st.scalar(_ADD, {**ROWS[0], "small": n}) for n in range(6)]
        for pick, wanted in zip(picks, ids, strict=True):
            assert st.rows(pick, {}) == [(wanted,)]
        assert st.scalar(counted, {}) == 3
        assert st.rows(picks[0], {}) == [(ids[0],)]  # evicted earlier: prepared again


@pytest.mark.postgres
def test_a_refused_statement_raises_psycopgs_error_and_undoes_the_scope(engine):
    with write_scope(engine) as st:
        first = st.scalar(_ADD, ROWS[0])
    duplicate = insert(_SAMPLE).values(id=bindparam("id"), small=bindparam("small"))
    with pytest.raises(psycopg.errors.UniqueViolation), write_scope(engine) as st:
        st.execute(duplicate, {"id": first + 100, "small": 1})
        st.execute(duplicate, {"id": first, "small": 2})
    with read_connection(engine) as conn:
        assert conn.rows(select(_SAMPLE.c.id), {}) == [(first,)]
    with write_scope(engine) as st:  # the kept connection is usable again
        st.execute(duplicate, {"id": first + 100, "small": 1})
    with read_connection(engine) as conn:
        assert len(conn.rows(select(_SAMPLE.c.id), {})) == 2


@pytest.mark.postgres
def test_a_statement_refused_on_its_first_run_stays_prepared_once(engine):
    """Its PREPARE went in the same batch as the BEGIN and the refused run: it is kept,
    not prepared again under a second name."""
    with write_scope(engine) as st:
        first = st.scalar(_ADD, ROWS[0])
    again = insert(_SAMPLE).values(id=bindparam("id"), label=bindparam("label"))
    with pytest.raises(psycopg.errors.UniqueViolation), write_scope(engine) as st:
        st.execute(again, {"id": first, "label": "sama"})  # the scope's first statement
    with write_scope(engine) as st:
        st.execute(again, {"id": first + 1, "label": "baru"})
        statements = [sql for _, sql in st.rows(_OURS_PREPARED, {})]
    assert sum("(id, label)" in sql for sql in statements) == 1, statements


@pytest.mark.postgres
def test_a_scope_sends_nothing_before_its_first_statement(engine):
    """BEGIN goes with the first statement; audit rows wait for the end; a scope that ran
    nothing leaves no transaction open."""
    with write_scope(engine) as st:
        driver = st._driver
    assert driver.pgconn.transaction_status == pq.TransactionStatus.IDLE
    with write_scope(engine) as st:
        assert st._driver is driver  # the thread's kept connection
        audit.write(st, ACTOR, "login", "user", 1)
        assert driver.pgconn.transaction_status == pq.TransactionStatus.IDLE
    assert driver.pgconn.transaction_status == pq.TransactionStatus.IDLE
    with Session(engine) as session:
        [row] = session.exec(select_models(AuditLog)).all()
        assert (row.action, row.entity, row.entity_id) == ("login", "user", "1")


_BRANCH_NAME = select(Branch.name).where(Branch.id == bindparam("b"))
_RENAME = update(Branch).where(Branch.id == bindparam("b")).values(name=bindparam("name"))


@pytest.mark.postgres
def test_begin_and_commit_ride_with_the_clicks_statements(engine):
    """A click that reads, writes and leaves an audit row: three round trips (BEGIN goes
    with the read, COMMIT with the audit row), not five."""
    with Session(engine, expire_on_commit=False) as session:
        branch_id = make_clinic(session)[0].id
        session.commit()

    def click(name: str) -> None:
        with write_scope(engine) as st:
            assert st.scalar(_BRANCH_NAME, {"b": branch_id})
            st.execute(_RENAME, {"b": branch_id, "name": name})
            audit.write(st, ACTOR, "update", "branch", branch_id, after={"name": name})

    click("Pemanasan")  # each statement prepared once, on its first run
    with write_scope(engine) as st:
        driver = st._driver
    with round_trips(driver) as trips:
        click("Klinik Satu Kali Jalan")
    assert len(trips) == 3, trips
    assert trips[0].startswith("Parse Execute")  # BEGIN, in the extended protocol
    assert trips[2].endswith("Parse Execute")  # ... and COMMIT
    with Session(engine) as session:
        assert session.get(Branch, branch_id).name == "Klinik Satu Kali Jalan"
        assert len(session.exec(select_models(AuditLog)).all()) == 2

    with round_trips(driver) as trips:  # only an audit row: BEGIN, insert, COMMIT at once
        with write_scope(engine) as st:
            audit.write(st, ACTOR, "login", "user", 1)
    assert len(trips) == 1, trips
    with Session(engine) as session:
        assert len(session.exec(select_models(AuditLog)).all()) == 3


@pytest.mark.postgres
def test_a_refused_row_sent_with_the_commit_keeps_nothing_of_the_click(engine):
    with Session(engine, expire_on_commit=False) as session:
        branch_id = make_clinic(session)[0].id
        session.commit()
    nobody = Actor(user_id=987654, username="hantu", full_name="", duty="admin", branch_id=None)
    with pytest.raises(psycopg.errors.ForeignKeyViolation), write_scope(engine) as st:
        st.execute(_RENAME, {"b": branch_id, "name": "Tidak jadi"})
        audit.write(st, nobody, "update", "branch", branch_id)  # no such user: refused
    with write_scope(engine) as st:  # the kept connection is at rest and usable again
        assert st._driver.pgconn.transaction_status == pq.TransactionStatus.IDLE
        assert st.scalar(_BRANCH_NAME, {"b": branch_id}) == "Klinik Simulator"
    with Session(engine) as session:
        assert session.exec(select_models(AuditLog)).all() == []


@pytest.mark.postgres
def test_a_save_with_its_read_back_takes_tworound_trips(engine):
    """A save click: the visit read (with the BEGIN); then, together, the update given to
    `send`, the read-back of two lists, the audit row and the COMMIT."""
    with Session(engine, expire_on_commit=False) as session:
        branch_id = make_clinic(session)[0].id
        session.commit()
    reads = [(_BRANCH_NAME, {"b": branch_id}), (_ALL, {})]

    def save(name: str) -> list[list[tuple]]:
        with write_scope(engine) as st:
            assert st.scalar(_BRANCH_NAME, {"b": branch_id})
            st.send(_RENAME, {"b": branch_id, "name": name})
            audit.write(st, ACTOR, "update", "branch", branch_id, after={"name": name})
            st.commit_with_next_read()
            return st.rows_each(reads)

    save("Pemanasan")  # each statement prepared once, on its first run
    with write_scope(engine) as st:
        driver = st._driver
    with round_trips(driver) as trips:
        shown = save("Klinik Dua Jalan")
    assert len(trips) == 2, trips
    assert trips[1].count("Execute") == 5, trips  # update, two reads, audit row, COMMIT
    assert shown == [[("Klinik Dua Jalan",)], []]
    assert driver.pgconn.transaction_status == pq.TransactionStatus.IDLE
    with Session(engine) as session:
        assert session.get(Branch, branch_id).name == "Klinik Dua Jalan"
        assert len(session.exec(select_models(AuditLog)).all()) == 2


@pytest.mark.postgres
def test_a_batch_prepares_a_new_statement_once_and_stops_at_its_first_refusal(engine):
    """`run` sends its steps together: a statement new on the connection and used twice is
    prepared once; after a refused step the rest is skipped and the first refusal raised,
    and the connection's ROLLBACK leaves nothing of it."""
    pick = select(_SAMPLE.c.label).where(_SAMPLE.c.small == bindparam("small"))
    duplicate = insert(_SAMPLE).values(id=bindparam("id"), small=bindparam("small"))
    with write_scope(engine) as st:
        driver = st._driver
    direct = pg_exec.on(driver)
    adding = insert(_SAMPLE).values(label=bindparam("label"), small=bindparam("small"))
    add = (
        adding.returning(_SAMPLE.c.id).compile(dialect=engine.dialect).string,
        {"label": "satu", "small": 1},
        True,
    )
    read = pick.compile(dialect=engine.dialect).string
    outcomes = direct.run(
        [b"BEGIN", add, (read, {"small": 1}, True), (read, {"small": 2}, True), b"COMMIT"]
    )
    assert outcomes[0] is None and outcomes[4] is None
    assert outcomes[2] == [("satu",)] and outcomes[3] == []
    listing = _OURS_PREPARED.compile(dialect=engine.dialect).string
    made = [sql for _, sql in direct.rows(listing, {})]
    assert sum("small = $1" in sql for sql in made) == 1, made

    twice = duplicate.compile(dialect=engine.dialect).string
    first = outcomes[1][0][0]
    with pytest.raises(psycopg.errors.UniqueViolation):
        direct.run(
            [
                b"BEGIN",
                (twice, {"id": first + 50, "small": 3}, False),
                (twice, {"id": first, "small": 4}, False),  # refused
                (twice, {"id": first + 51, "small": 5}, False),  # skipped
                b"COMMIT",  # skipped
            ]
        )
    assert driver.pgconn.transaction_status == pq.TransactionStatus.INERROR
    direct.command(b"ROLLBACK")
    assert [row[0] for row in direct.rows(read, {"small": 3})] == []
    assert direct.write(twice, {"id": first + 51, "small": 5}) == 1


@pytest.mark.postgres
def test_parsing_ahead_leaves_nothing_prepared_and_skips_a_refused_statement(engine):
    """What the warm-up at start asks of a kept connection's server process, outside any
    transaction: it parses, runs nothing, keeps nothing prepared, and a statement it
    refuses stops nothing."""
    with write_scope(engine) as st:
        st.scalar(_ADD, ROWS[0])
    pooled = engine.raw_connection()
    try:
        conn = pooled.driver_connection
        conn.autocommit = True
        statements = pg_exec.on(conn)
        statements.parse(
            [
                "SELECT no_such_column FROM pg_exec_sample",
                "DELETE FROM pg_exec_sample",  # parsed only: the row stays
                "SELECT label FROM pg_exec_sample WHERE small = %(small)s",
            ]
        )
        # Prepared in this session: only the listing itself, which pg_exec prepares to run it.
        listed = statements.rows("SELECT statement FROM pg_prepared_statements", {})
        assert listed == [("SELECT statement FROM pg_prepared_statements",)]
        assert statements.rows("SELECT count(*) FROM pg_exec_sample", {}) == [(1,)]
    finally:
        pooled.close()
