"""The drug search reads an index (models/drug_search.py) on SQLite and on PostgreSQL, and the
index follows every insert, rename, deactivation and deletion of an item."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, text
from sqlmodel import select

from klinikita.models.drug_search import FTS_TABLE, trgm_index
from klinikita.models.enums import Duty
from klinikita.models.pharmacy import DrugItem
from klinikita.services import drug_master as dm
from klinikita.services.audit import Actor
from tests.factories import make_branch, make_user
from tests.pg import sqlite_and_postgresql

db = pytest.fixture(params=["sqlite", "postgresql"])(sqlite_and_postgresql)


def _actor(db) -> Actor:
    branch = make_branch(db, name="Klinik Indeks")
    user = make_user(db, "apt-indeks", branches=[branch], main_duty=Duty.APOTEKER)
    return Actor(user.id, user.username, user.username, Duty.APOTEKER, branch.id)


def _dialect(db) -> str:
    return db.get_bind().dialect.name


def _plan(db, branch_id: int, term: str) -> str:
    """The database's plan for the statement search_items runs."""
    stmt = dm.search_statement(branch_id, term, _dialect(db))
    compiled = stmt.compile(db.get_bind(), compile_kwargs={"literal_binds": True})
    sql = str(compiled)
    if _dialect(db) == "sqlite":
        rows = db.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
        return "\n".join(str(r[-1]) for r in rows)
    rows = db.connection().exec_driver_sql(f"EXPLAIN {sql.replace('%', '%%')}").all()
    return "\n".join(r[0] for r in rows)


def _fill(db, branch_id: int, n: int = 2_000) -> None:
    rows = [
        {
            "branch_id": branch_id,
            "name": f"Obat Isi {i:05d} {'kapsul' if i % 2 else 'tablet'}",
            "category": "obat",
            "form_code": "BS066",
            "form_name": "Tablet",
            "strength": f"{i % 40} mg",
            "unit": "tablet",
            "kfa_code": f"93{i:06d}",
            "kfa_display": "",
            "price": i,
            "min_stock": 0,
            "active": True,
            "version": 1,
        }
        for i in range(n)
    ]
    db.execute(insert(DrugItem), rows)
    db.commit()
    db.connection().exec_driver_sql("ANALYZE")
    db.commit()


def test_the_search_is_read_from_the_index(db):
    actor = _actor(db)
    _fill(db, actor.branch_id)
    plan = _plan(db, actor.branch_id, "parac 500")
    if _dialect(db) == "sqlite":
        # Starts from the FTS5 table, then one item per candidate by its primary key.
        assert f"SCAN {FTS_TABLE} VIRTUAL TABLE" in plan, plan
        assert "USING INTEGER PRIMARY KEY" in plan, plan
    else:
        assert trgm_index("name") in plan, plan
        assert "Seq Scan" not in plan, plan


def test_words_shorter_than_a_trigram_and_odd_characters(db):
    actor = _actor(db)
    dm.create_item(db, actor, dm.DrugInput(name="Vit C 50 mg", form="Tablet", unit="tablet"))
    dm.create_item(db, actor, dm.DrugInput(name="Salep 10% d'Obat_x", form="Salep", unit="tube"))
    found = lambda term: [i.name for i in dm.search_items(db, actor.branch_id, term)]  # noqa: E731
    assert found("c 50") == ["Vit C 50 mg"]
    assert found("vit c") == ["Vit C 50 mg"]
    # Patterns are written into the SQL on PostgreSQL: quotes, %, _ and \ stay text.
    assert found("10%") == ["Salep 10% d'Obat_x"]
    assert found("d'obat") == ["Salep 10% d'Obat_x"]
    assert found("t_x") == ["Salep 10% d'Obat_x"]
    assert found("%") == ["Salep 10% d'Obat_x"]
    assert found("_") == ["Salep 10% d'Obat_x"]
    assert found("\\") == [] and found("'") == ["Salep 10% d'Obat_x"]
    assert found("t%x") == []


def test_repeated_searches_keep_their_plan(db):
    """Searched many times on one connection (where psycopg prepares a repeated statement),
    a search still finds the rows it found the first time (its timing: bench/drug_search.py)."""
    actor = _actor(db)
    _fill(db, actor.branch_id)
    first = [i.id for i in dm.search_items(db, actor.branch_id, "isi 0001 5")]
    for _ in range(12):
        dm.search_items(db, actor.branch_id, "isi 1 5")
    assert [i.id for i in dm.search_items(db, actor.branch_id, "isi 0001 5")] == first


def test_the_index_follows_insert_rename_deactivate_and_delete(db):
    actor = _actor(db)
    if _dialect(db) == "postgresql":
        # Tiny table: make the planner take the trigram index, so it is the index that answers.
        db.connection().exec_driver_sql("SET enable_seqscan = off")
    found = lambda term: [i.name for i in dm.search_items(db, actor.branch_id, term)]  # noqa: E731
    item = dm.create_item(
        db,
        actor,
        dm.DrugInput(name="Cetirizine 10 mg", form="Tablet", strength="10 mg", unit="tablet"),
    )
    db.commit()
    assert found("cetiriz") == ["Cetirizine 10 mg"]

    dm.update_item(
        db,
        actor,
        item.id,
        dm.DrugInput(name="Setirizin 10 mg", form="Tablet", strength="10 mg", unit="tablet"),
    )
    db.commit()
    assert found("cetiriz") == []
    assert found("setiriz") == ["Setirizin 10 mg"]

    dm.set_item_active(db, actor, item.id, False)
    db.commit()
    assert found("setiriz") == []
    dm.set_item_active(db, actor, item.id, True)
    db.commit()
    assert found("setiriz 10") == ["Setirizin 10 mg"]

    if _dialect(db) == "sqlite":
        # The FTS5 table itself holds the new name only, and nothing once the row is gone.
        match = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q"
        hits = lambda q: db.connection().execute(text(match), {"q": q}).scalars().all()  # noqa: E731
        assert hits('"setirizin"') == [item.id] and hits('"cetirizine"') == []
    db.delete(db.exec(select(DrugItem).where(DrugItem.id == item.id)).one())
    db.commit()
    assert found("setiriz") == []
    if _dialect(db) == "sqlite":
        assert hits('"setirizin"') == []


def test_an_item_named_by_its_brand_is_found_by_the_generic_name_of_its_kfa_product(db):
    actor = _actor(db)
    if _dialect(db) == "postgresql":
        db.connection().exec_driver_sql("SET enable_seqscan = off")
    found = lambda term: [i.name for i in dm.search_items(db, actor.branch_id, term)]  # noqa: E731
    item = dm.create_item(db, actor, dm.DrugInput(name="Sirturo", form="Tablet", unit="tablet"))
    db.commit()
    assert found("bedaquil") == []
    dm.map_kfa(db, actor, item.id, "93000402", "Bedaquiline Fumarate 100 mg Tablet (SIRTURO)")
    db.commit()
    assert found("bedaquil") == ["Sirturo"]
    assert found("bedaquiline 100") == ["Sirturo"]
    assert found("sirturo") == ["Sirturo"]
    assert found("bedaquiline 200") == []
