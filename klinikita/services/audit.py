"""Writing the audit trail. Every create, update and delete goes through `record`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, SQLModel

from klinikita.models import AuditLog
from klinikita.models.base import utcnow

# Never copied into the audit trail.
_SECRET_FIELDS = frozenset({"password_hash", "ss_secret_encrypted", "token_hash"})


@dataclass(frozen=True)
class Actor:
    """Who is acting, as the server knows it from the login session."""

    user_id: int
    username: str
    full_name: str
    duty: str
    branch_id: int
    session_id: int | None = None
    # When the login behind it ends at the latest (idle or maximum lifetime); not compared.
    session_ends_by: datetime | None = field(default=None, compare=False, repr=False)


def snapshot(row: SQLModel | None) -> dict[str, Any] | None:
    """A JSON-safe copy of a row for before/after, without secrets."""
    if row is None:
        return None
    out: dict[str, Any] = {}
    for key, value in row.model_dump().items():
        if key in _SECRET_FIELDS:
            if value:
                out[key] = "***"
            continue
        if isinstance(value, datetime | date):
            value = value.isoformat()
        out[key] = value
    return out


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    entity: str,
    entity_id: object = "",
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    branch_id: int | None = None,
) -> AuditLog:
    """Add an audit row to the caller's transaction (it commits with the change itself)."""
    row = AuditLog(**_values(actor, action, entity, entity_id, before, after, branch_id))
    session.add(row)
    return row


def _values(
    actor: Actor | None,
    action: str,
    entity: str,
    entity_id: object,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    branch_id: int | None,
) -> dict[str, Any]:
    return {
        "at": utcnow(),
        "user_id": actor.user_id if actor else None,
        "username": actor.username if actor else "",
        "duty": actor.duty if actor else "",
        "branch_id": branch_id if branch_id is not None else (actor.branch_id if actor else None),
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "before": before,
        "after": after,
    }


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    before, after = before or {}, after or {}
    return sorted(k for k in after if before.get(k) != after.get(k))
