"""Database objects for patient name search that SQLModel cannot describe.

- PostgreSQL: the pg_trgm extension and a GIN trigram index on patient.name_norm, so
  `name_norm LIKE '%x%'` uses an index.
- SQLite: an FTS5 table with the trigram tokenizer over patient.name_norm (external content,
  no copy of the text), kept in step with the patient table by triggers.

Migration 0004 creates them with `create_search_objects(conn)`; the models' `create_all` (tests,
benchmarks) does too, through the table events below. Alembic's autogenerate and the drift test
skip them with `include_object`.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Connection

from klinikita.models.people import Patient

FTS_TABLE = "patient_name_fts"
TRGM_INDEX = "ix_patient_name_norm_trgm"
_TRIGGERS = ("patient_name_fts_ai", "patient_name_fts_ad", "patient_name_fts_au")

_SQLITE_CREATE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "name_norm, content='patient', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS patient_name_fts_ai AFTER INSERT ON patient BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, name_norm) VALUES (new.id, new.name_norm); END",
    f"CREATE TRIGGER IF NOT EXISTS patient_name_fts_ad AFTER DELETE ON patient BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, name_norm) "
    "VALUES ('delete', old.id, old.name_norm); END",
    f"CREATE TRIGGER IF NOT EXISTS patient_name_fts_au AFTER UPDATE OF name_norm ON patient "
    f"BEGIN INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, name_norm) "
    "VALUES ('delete', old.id, old.name_norm); "
    f"INSERT INTO {FTS_TABLE}(rowid, name_norm) VALUES (new.id, new.name_norm); END",
    # Rows written before the table existed (an upgrade of a database with patients).
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
)

_PG_CREATE = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX IF NOT EXISTS {TRGM_INDEX} ON patient USING gin (name_norm gin_trgm_ops)",
    # A finer sample of names, so the planner sees how common a '%part%' is: a common part
    # walks the primary key backwards and stops after one page; a rare one uses the trigram
    # index. The default sample (100) is too coarse to tell them apart.
    "ALTER TABLE patient ALTER COLUMN name_norm SET STATISTICS 1000",
)


def create_search_objects(conn: Connection) -> None:
    dialect = conn.dialect.name
    statements = _SQLITE_CREATE if dialect == "sqlite" else _PG_CREATE
    if dialect not in ("sqlite", "postgresql"):
        return
    for sql in statements:
        conn.exec_driver_sql(sql)


def drop_search_objects(conn: Connection) -> None:
    """Drop them (the extension stays: other databases objects may use it)."""
    if conn.dialect.name == "sqlite":
        for trigger in _TRIGGERS:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {TRGM_INDEX}")


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001, ARG001
    """Alembic filter: leave the search objects above out of model comparisons."""
    if type_ == "table" and name and name.startswith(FTS_TABLE):
        return False  # the FTS5 table and its shadow tables (_data, _idx, _docsize, _config)
    if type_ == "index" and name == TRGM_INDEX:
        return False
    return True


@event.listens_for(Patient.__table__, "after_create")
def _after_create(_table, conn, **_kw) -> None:  # noqa: ANN001
    create_search_objects(conn)


@event.listens_for(Patient.__table__, "before_drop")
def _before_drop(_table, conn, **_kw) -> None:  # noqa: ANN001
    drop_search_objects(conn)
