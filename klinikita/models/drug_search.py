"""Database objects for the drug search (services/drug_master.search_items) that SQLModel
cannot describe; the same design as the patient search (models/patient_search.py).

- PostgreSQL: pg_trgm GIN indexes on lower(drug_item.name) and lower(drug_item.strength), so
  `lower(name) LIKE '%x%' OR lower(strength) LIKE '%x%'` is a bitmap OR of two index scans.
  Without GIN's pending list (fastupdate = off): an item is in the index as soon as it is
  written, so a search right after a CSV import of thousands of items is as quick as ever
  (with the list, the planner prices the unflushed entries and reads every item instead until
  autovacuum runs). The drug master is written rarely, so the slower insert does not matter.
- SQLite: an FTS5 table with the trigram tokenizer over drug_item.name and .strength (external
  content, no copy of the text), kept in step with drug_item by triggers.

Migration 0017 creates them with `create_search_objects(conn)`; the models' `create_all` (tests,
benchmarks) does too, through the table events below. Alembic's autogenerate and the drift test
skip them with `include_object`.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Connection

from klinikita.models.pharmacy import DrugItem

FTS_TABLE = "drug_item_fts"
NAME_TRGM_INDEX = "ix_drug_item_name_trgm"
STRENGTH_TRGM_INDEX = "ix_drug_item_strength_trgm"
TRIGGERS = ("drug_item_fts_ai", "drug_item_fts_ad", "drug_item_fts_au")
# FTS5's trigram tokenizer finds substrings of at least this many characters.
MIN_TRIGRAM = 3

_SQLITE_CREATE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "name, strength, content='drug_item', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS drug_item_fts_ai AFTER INSERT ON drug_item BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, name, strength) "
    "VALUES (new.id, new.name, new.strength); END",
    f"CREATE TRIGGER IF NOT EXISTS drug_item_fts_ad AFTER DELETE ON drug_item BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, name, strength) "
    "VALUES ('delete', old.id, old.name, old.strength); END",
    f"CREATE TRIGGER IF NOT EXISTS drug_item_fts_au AFTER UPDATE OF name, strength ON drug_item "
    f"BEGIN INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, name, strength) "
    "VALUES ('delete', old.id, old.name, old.strength); "
    f"INSERT INTO {FTS_TABLE}(rowid, name, strength) "
    "VALUES (new.id, new.name, new.strength); END",
    # Rows written before the table existed (an upgrade of a database with items).
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
)

_PG_CREATE = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX IF NOT EXISTS {NAME_TRGM_INDEX} ON drug_item "
    "USING gin (lower(name) gin_trgm_ops) WITH (fastupdate = off)",
    f"CREATE INDEX IF NOT EXISTS {STRENGTH_TRGM_INDEX} ON drug_item "
    "USING gin (lower(strength) gin_trgm_ops) WITH (fastupdate = off)",
)


def create_search_objects(conn: Connection) -> None:
    """Create the dialect's search objects (idempotent; nothing on other dialects)."""
    if conn.dialect.name == "sqlite":
        statements = _SQLITE_CREATE
    elif conn.dialect.name == "postgresql":
        statements = _PG_CREATE
    else:
        return
    for sql in statements:
        conn.exec_driver_sql(sql)


def drop_search_objects(conn: Connection) -> None:
    """Drop them (the extension stays: the patient search uses it too)."""
    if conn.dialect.name == "sqlite":
        for trigger in TRIGGERS:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {NAME_TRGM_INDEX}")
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {STRENGTH_TRGM_INDEX}")


def is_search_table(name: str) -> bool:
    """The FTS5 table and its shadow tables (_data, _idx, _docsize, _config)."""
    return name == FTS_TABLE or name.startswith(f"{FTS_TABLE}_")


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001, ARG001
    """Alembic filter: leave the search objects above out of model comparisons."""
    if type_ == "table" and name and is_search_table(name):
        return False
    if type_ == "index" and name in (NAME_TRGM_INDEX, STRENGTH_TRGM_INDEX):
        return False
    return True


@event.listens_for(DrugItem.__table__, "after_create")
def _after_create(_table, conn, **_kw) -> None:  # noqa: ANN001
    create_search_objects(conn)


@event.listens_for(DrugItem.__table__, "before_drop")
def _before_drop(_table, conn, **_kw) -> None:  # noqa: ANN001
    drop_search_objects(conn)
