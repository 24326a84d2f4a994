"""Migrations create exactly the models' schema, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import klinikita.models  # noqa: F401
from klinikita.db import make_engine
from klinikita.migrations import alembic_config, upgrade_to_head
from klinikita.models import drug_search
from klinikita.models.patient_search import FTS_TABLE, TRGM_INDEX, include_object
from tests.pg import require_pg, temporary_pg_database


def _assert_no_drift(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            # The patient search objects are not in the models; they are checked below.
            ctx = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_object": lambda *a: (
                        include_object(*a) and drug_search.include_object(*a)
                    ),
                },
            )
            diff = compare_metadata(ctx, SQLModel.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        inspector = inspect(engine)
        tables = set(inspector.get_table_names())
        assert set(SQLModel.metadata.tables) <= tables
        if engine.dialect.name == "sqlite":
            assert FTS_TABLE in tables
            # A migration that copies `patient` (SQLite's batch mode) would drop these.
            with engine.connect() as conn:
                triggers = conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'patient'"
                ).scalars()
                assert set(triggers) == {
                    "patient_name_fts_ai",
                    "patient_name_fts_ad",
                    "patient_name_fts_au",
                }
                # The same for the drug search (a batch copy of `drug_item` would drop them).
                assert drug_search.FTS_TABLE in tables
                triggers = conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                    "AND tbl_name = 'drug_item'"
                ).scalars()
                assert set(triggers) == set(drug_search.TRIGGERS)
                # Migration 0028: the KFA product's name is searched too.
                columns = conn.exec_driver_sql(
                    f"SELECT name FROM pragma_table_info('{drug_search.FTS_TABLE}')"
                ).scalars()
                assert tuple(columns) == drug_search.SEARCHED
        else:
            assert TRGM_INDEX in {ix["name"] for ix in inspector.get_indexes("patient")}
            drug_indexes = {ix["name"] for ix in inspector.get_indexes("drug_item")}
            assert set(drug_search.TRGM_INDEXES) <= drug_indexes
    finally:
        engine.dispose()


def _upgrade_check_downgrade(url: str) -> None:
    upgrade_to_head(url)
    _assert_no_drift(url)
    # Down to nothing and up again: every migration can be undone.
    command.downgrade(alembic_config(url), "base")
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade_to_head(url)
    _assert_no_drift(url)


def test_sqlite_migrations_match_models(tmp_path):
    _upgrade_check_downgrade(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_postgresql_migrations_match_models():
    require_pg()
    with temporary_pg_database() as url:
        _upgrade_check_downgrade(url)
