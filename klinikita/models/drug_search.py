"""Database objects for the drug search (services/drug_master.search_items) that SQLModel
cannot describe; the same design as the patient search (models/patient_search.py).

- PostgreSQL: pg_trgm GIN indexes on lower() of drug_item.name, .strength and .kfa_display, so
  `lower(name) LIKE '%x%' OR lower(strength) LIKE '%x%' OR ...` is a bitmap OR of index scans.
  Without GIN's pending list (fastupdate = off): an item is in the index as soon as it is
  written, so a search right after a CSV import of thousands of items is as quick as ever
  (with the list, the planner prices the unflushed entries and reads every item instead until
  autovacuum runs). The drug master is written rarely, so the slower insert does not matter.
- SQLite: an FTS5 table with the trigram tokenizer over the same columns (external content,
  no copy of the text), kept in step with drug_item by triggers.

Migration 0017 created them over name and strength, migration 0028 over the KFA name too
(`SEARCHED`), both with `create_search_objects(conn)`; the models' `create_all` (tests,
benchmarks) does too, through the table events below. Alembic's autogenerate and the drift test
skip them with `include_object`.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Connection

from klinikita.models.pharmacy import DrugItem

FTS_TABLE = "drug_item_fts"
TRIGGERS = ("drug_item_fts_ai", "drug_item_fts_ad", "drug_item_fts_au")
# FTS5's trigram tokenizer finds substrings of at least this many characters.
MIN_TRIGRAM = 3
# The columns searched: the name staff know, the strength, and the KFA product's name, which
# holds the generic name and the maker ("Paracetamol 500 mg Tablet (SANMOL)"), so an item
# named by its brand is found by its generic name too.
SEARCHED = ("name", "strength", "kfa_display")
# What migration 0017 created, before the KFA name was searched (migration 0028 goes back to it).
SEARCHED_0017 = ("name", "strength")


def trgm_index(column: str) -> str:
    return f"ix_drug_item_{column}_trgm"


TRGM_INDEXES = tuple(trgm_index(c) for c in SEARCHED)


def _sqlite_create(columns: tuple[str, ...]) -> tuple[str, ...]:
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    insert_new = f"INSERT INTO {FTS_TABLE}(rowid, {names}) VALUES (new.id, {new});"
    delete_old = (
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {names}) VALUES ('delete', old.id, {old});"
    )
    return (
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
        f"{names}, content='drug_item', content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER IF NOT EXISTS drug_item_fts_ai AFTER INSERT ON drug_item BEGIN "
        f"{insert_new} END",
        f"CREATE TRIGGER IF NOT EXISTS drug_item_fts_ad AFTER DELETE ON drug_item BEGIN "
        f"{delete_old} END",
        f"CREATE TRIGGER IF NOT EXISTS drug_item_fts_au AFTER UPDATE OF {names} ON drug_item "
        f"BEGIN {delete_old} {insert_new} END",
        # Rows written before the table existed (an upgrade of a database with items).
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
    )


def _pg_create(columns: tuple[str, ...]) -> tuple[str, ...]:
    return ("CREATE EXTENSION IF NOT EXISTS pg_trgm",) + tuple(
        f"CREATE INDEX IF NOT EXISTS {trgm_index(c)} ON drug_item "
        f"USING gin (lower({c}) gin_trgm_ops) WITH (fastupdate = off)"
        for c in columns
    )


def create_search_objects(conn: Connection, columns: tuple[str, ...] = SEARCHED) -> None:
    """Create the dialect's search objects over `columns` (idempotent; nothing on other
    dialects). Migrations pass the columns of their own time."""
    if conn.dialect.name == "sqlite":
        statements = _sqlite_create(columns)
    elif conn.dialect.name == "postgresql":
        statements = _pg_create(columns)
    else:
        return
    for sql in statements:
        conn.exec_driver_sql(sql)


def drop_search_objects(conn: Connection) -> None:
    """Drop them, whichever columns they cover (the extension stays: the patient search
    uses it too)."""
    if conn.dialect.name == "sqlite":
        for trigger in TRIGGERS:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    elif conn.dialect.name == "postgresql":
        for column in SEARCHED:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {trgm_index(column)}")


def is_search_table(name: str) -> bool:
    """The FTS5 table and its shadow tables (_data, _idx, _docsize, _config)."""
    return name == FTS_TABLE or name.startswith(f"{FTS_TABLE}_")


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001, ARG001
    """Alembic filter: leave the search objects above out of model comparisons."""
    if type_ == "table" and name and is_search_table(name):
        return False
    if type_ == "index" and name in TRGM_INDEXES:
        return False
    return True


@event.listens_for(DrugItem.__table__, "after_create")
def _after_create(_table, conn, **_kw) -> None:  # noqa: ANN001
    create_search_objects(conn)


@event.listens_for(DrugItem.__table__, "before_drop")
def _before_drop(_table, conn, **_kw) -> None:  # noqa: ANN001
    drop_search_objects(conn)
