"""Optimistic concurrency for the records staff edit (models.base.Versioned).

A form keeps the version of the record it loaded and its save passes it back as
`expected_version`: when the record's version moved on meanwhile (another tab saved), the save
is refused with `StaleEdit` before anything is written, naming who changed the record and
when. The UPDATE itself carries `WHERE version = <as read>`, so a change committed between the
save's read and its write is refused the same way (`flush`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from klinikita.models import AuditLog, Branch, User
from klinikita.models.base import Versioned
from klinikita.services.errors import StaleEdit
from klinikita.services.visit_queue import zone_named, zone_time_text

STALE_MESSAGE = (
    "Data ini sudah diubah oleh {user} pukul {time}. Muat ulang untuk melihat perubahan."
)
STALE_UNKNOWN = "Data ini sudah diubah oleh pengguna lain. Muat ulang untuk melihat perubahan."


def stale_edit(session: Session, entity: str, entity_id: object, branch_id: int) -> StaleEdit:
    """The refusal of a stale save of the `entity` record `entity_id`, naming its last change
    from the audit trail, its time in the branch's zone (HH:MM)."""
    last_change = session.execute(
        select(AuditLog.at, AuditLog.username, User.full_name)
        .outerjoin(User, User.id == AuditLog.user_id)
        .where(AuditLog.entity == entity, AuditLog.entity_id == str(entity_id))
        .order_by(AuditLog.id.desc())
        .limit(1)
    ).first()
    if last_change is None:
        return StaleEdit(STALE_UNKNOWN)
    at, username, full_name = last_change
    zone = zone_named(session.scalar(select(Branch.timezone).where(Branch.id == branch_id)))
    user = full_name or username or "sistem"
    return StaleEdit(STALE_MESSAGE.format(user=user, time=zone_time_text(at, zone)))


def check(
    session: Session,
    row: Versioned,
    expected_version: int | None,
    *,
    entity: str,
    branch_id: int,
) -> None:
    """Before a form's save changes `row` (read in the save's transaction): refuse when its
    version is not `expected_version`, the one the form loaded (None: no form version to
    compare, as for a script)."""
    if expected_version is not None and row.version != expected_version:
        raise stale_edit(session, entity, row.id, branch_id)


def save(session: Session, row: Versioned, *, entity: str, branch_id: int) -> None:
    """Write a form's changes to `row` with its next version (also when only rows that hang
    off it changed, such as a user's duties). Its UPDATE checks the version read: when a save
    was committed in between, the transaction is rolled back and this save refused as
    `check` refuses it."""
    row_id = row.id
    row.version += 1
    session.add(row)
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise stale_edit(session, entity, row_id, branch_id) from None
