"""Reads never wait for a writer on SQLite, and see only what is committed."""

from __future__ import annotations

import time

from sqlmodel import select

from klinikita.db import get_engine, read_scope, session_scope
from klinikita.models import Branch
from tests.factories import make_branch


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
