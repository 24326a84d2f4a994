"""Helpers shared by every table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.orm import declared_attr
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


# ----- optimistic concurrency ----------------------------------------------------------
# Columns the app writes as bookkeeping, not as an edit someone made in a form: results the
# SATUSEHAT worker writes back, the login counters, a password (not on any edit form) and
# the change times. A write of only these keeps the row's version, so a desk user editing a
# patient is never refused for an IHS number the worker found meanwhile.
UNVERSIONED_COLUMNS = frozenset(
    {
        "version",
        "updated_at",
        "ihs_number",
        "ihs_id",
        "sync_status",
        "sync_error",
        "encounter_id",
        "sync_revision",
        "sent_revision",
        "retracted",
        "observation_ids",
        "failed_logins",
        "locked_until",
        "password_hash",
        "password_changed_at",
        "ss_key_refused_at",
        "ss_key_refusal",
    }
)


def version_field() -> int:
    """The `version` column of a record staff edit: 1 when made, one up on every edit."""
    return Field(default=1, nullable=False, sa_column_kwargs={"server_default": text("1")})


class Versioned:
    """Mixin of a table with a `version_field()`: the ORM checks the version every UPDATE
    carries (`WHERE version = <as read>`, StaleDataError when no row matches) and
    `_bump_version` raises it when an edited column changed."""

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        return {"version_id_col": cls.__table__.c.version, "version_id_generator": False}


@event.listens_for(Versioned, "before_update", propagate=True)
def _bump_version(_mapper, _conn, target: Any) -> None:  # noqa: ANN001
    state = inspect(target)
    if state.attrs.version.history.has_changes():
        return  # the service set the next version itself (a form's save)
    for attr in state.mapper.column_attrs:
        if attr.key not in UNVERSIONED_COLUMNS and state.attrs[attr.key].history.has_changes():
            target.version += 1
            return
