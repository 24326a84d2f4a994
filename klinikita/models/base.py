"""Helpers shared by every table."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, SQLModel

# Stable constraint names, identical on SQLite and PostgreSQL, so migrations can drop them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def created_at_field() -> datetime:
    return Field(default_factory=utcnow, nullable=False)


def updated_at_field() -> datetime:
    return Field(default_factory=utcnow, nullable=False)
