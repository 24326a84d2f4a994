"""Run Alembic from Python: the CLI, the app's start and the tests use the same path."""

from __future__ import annotations

from functools import lru_cache

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from klinikita.settings import PROJECT_ROOT, get_settings


def alembic_config(db_url: str | None = None) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    cfg.attributes["db_url"] = db_url or get_settings().db_url
    return cfg


def upgrade_to_head(db_url: str | None = None) -> None:
    command.upgrade(alembic_config(db_url), "head")


@lru_cache(maxsize=1)
def head_revisions() -> tuple[str, ...]:
    """The newest migration(s) this code ships."""
    return tuple(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))


def current_revisions(conn: Connection) -> tuple[str, ...]:
    """The migration(s) the connection's database is at (none before the first)."""
    return tuple(sorted(MigrationContext.configure(conn).get_current_heads()))
