"""Alembic environment: the models' metadata and the URL from klinikita.settings."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import klinikita.models  # noqa: F401  (registers every table)
from klinikita.db import make_engine
from klinikita.models import drug_search, patient_search
from klinikita.settings import get_settings

config = context.config


def include_object(*args) -> bool:  # noqa: ANN002
    """Leave out the search objects the models cannot describe (patients, drugs)."""
    return patient_search.include_object(*args) and drug_search.include_object(*args)


target_metadata = SQLModel.metadata


def _url() -> str:
    # Tests and the CLI pass an explicit URL; otherwise use the app's settings.
    return config.attributes.get("db_url") or get_settings().db_url


def _configure(**kwargs) -> None:  # noqa: ANN003
    url = _url()
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        # Search objects the models cannot describe (pg_trgm index, SQLite FTS5 table).
        include_object=include_object,
        render_as_batch=url.startswith("sqlite"),  # SQLite cannot ALTER most things
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _configure(connection=conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
