"""The two kinds of session: writes commit together or not at all; reads see only what is
committed and, on SQLite, never wait for a writer."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel, select

from klinikita.db import get_engine, make_engine, read_scope, session_scope
from klinikita.models import Branch
from klinikita.settings import get_settings
from tests.factories import make_branch
from tests.pg import PG_ADMIN_URL, require_pg, temporary_pg_database


def test_a_read_goes_on_while_another_connection_holds_the_write_lock(db):
    make_branch(db, "Klinik Satu")
    db.commit()
    writer = get_engine().connect()
    writer.begin()  # BEGIN IMMEDIATE: the write lock, held
    writer.exec_driver_sql("UPDATE branch SET name = 'Belum disimpan'")
    try:
        started = time.perf_counter()
        with read_scope() as session:
            names = session.exec(select(Branch.name)).all()
        waited = time.perf_counter() - started
    finally:
        writer.rollback()
        writer.close()
    assert names == ["Klinik Satu"]  # the committed value, not the open write
    assert waited < 1  # a write scope would have waited up to the 30 s busy timeout


def test_a_write_through_a_read_scope_is_not_kept(db):
    branch = make_branch(db, "Klinik Dua")
    db.commit()
    with read_scope() as session:
        row = session.get(Branch, branch.id)
        row.name = "Diubah"
        session.add(row)
        session.flush()
    with session_scope() as session:
        assert session.get(Branch, branch.id).name == "Klinik Dua"


def test_a_session_scope_keeps_its_writes_together_or_none_of_them(db):
    with session_scope() as session:
        session.add(Branch(name="Klinik Tiga"))
        session.add(Branch(name="Klinik Empat"))
    try:
        with session_scope() as session:
            session.add(Branch(name="Klinik Lima"))
            session.flush()
            raise RuntimeError("the click failed after its first write")
    except RuntimeError:
        pass
    with read_scope() as session:
        names = sorted(session.exec(select(Branch.name)).all())
    assert names == ["Klinik Empat", "Klinik Tiga"]


def test_a_read_scope_on_postgresql_sees_each_commit_as_it_lands():
    require_pg()
    with temporary_pg_database("klinikita_scopes") as url:
        engine = make_engine(url)
        SQLModel.metadata.create_all(engine)
        try:
            with read_scope(engine) as reader:
                assert reader.exec(select(Branch.name)).all() == []
                with session_scope(engine) as writer:
                    writer.add(Branch(name="Klinik Enam"))
                # Autocommit: no snapshot held since the first read.
                assert reader.exec(select(Branch.name)).all() == ["Klinik Enam"]
                assert reader.connection().connection.driver_connection.autocommit
        finally:
            engine.dispose()


@pytest.mark.parametrize(("setting", "threshold"), [("on", 5), ("off", None)])
def test_psycopgs_prepared_statements_follow_the_setting(monkeypatch, setting, threshold):
    require_pg()
    monkeypatch.setenv("KLINIKITA_PG_PREPARED_STATEMENTS", setting)
    get_settings.cache_clear()
    try:
        with temporary_pg_database("klinikita_prepare") as url:
            engine = make_engine(url)
            try:
                with engine.connect() as conn:
                    assert conn.connection.driver_connection.prepare_threshold == threshold
            finally:
                engine.dispose()
    finally:
        get_settings.cache_clear()


def test_after_the_server_drops_the_pools_connections_one_statement_fails_and_the_next_work():
    require_pg()
    with temporary_pg_database("klinikita_dropped") as url:
        engine = make_engine(url)
        SQLModel.metadata.create_all(engine)
        try:
            held = [engine.connect() for _ in range(3)]  # three connections in the pool
            for conn in held:
                conn.close()
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    [url.rsplit("/", 1)[1]],
                )
            failures = 0
            for _ in range(4):
                try:
                    with read_scope(engine) as session:
                        assert session.exec(select(Branch.name)).all() == []
                except OperationalError:
                    failures += 1
            assert failures <= 1
        finally:
            engine.dispose()


@pytest.mark.parametrize(("setting", "pragma"), [(None, 2), ("FULL", 2), ("normal", 1)])
def test_sqlites_synchronous_follows_the_setting_and_is_full_by_default(
    monkeypatch, tmp_path, setting, pragma
):
    if setting is None:
        monkeypatch.delenv("KLINIKITA_SQLITE_SYNCHRONOUS", raising=False)
    else:
        monkeypatch.setenv("KLINIKITA_SQLITE_SYNCHRONOUS", setting)
    get_settings.cache_clear()
    try:
        engine = make_engine(f"sqlite:///{tmp_path / 'sync.db'}")
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == pragma
        engine.dispose()
    finally:
        get_settings.cache_clear()


def test_an_unknown_synchronous_setting_is_refused(monkeypatch):
    monkeypatch.setenv("KLINIKITA_SQLITE_SYNCHRONOUS", "OFF")
    get_settings.cache_clear()
    try:
        with pytest.raises(ValueError, match="FULL or NORMAL"):
            get_settings()
    finally:
        get_settings.cache_clear()
