"""Display tokens: the credential of a waiting-room TV (Pengaturan -> Layar antrean).

A token shows the queue of one branch, of one unit or of all its units. It is a random
256-bit value shown once, inside the URL to open on the TV; only its SHA-256 is stored, as
with login tokens. The display page checks it on every load and every live update
(`scope_for_token`); a revoked token, or one of a closed branch or unit, shows nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from klinikita.models import Branch, DisplayToken, ServiceUnit
from klinikita.models.base import utcnow
from klinikita.services import audit
from klinikita.services.audit import Actor
from klinikita.services.errors import NotFound, ValidationFailed
from klinikita.services.permissions import Action, require
from klinikita.services.text_input import parse_id, take_text
from klinikita.services.visit_queue import local_time_text

NAME_MAX = 120
ENTITY = "display_token"
ALL_UNITS = "Semua unit"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class DisplayScope:
    """What a valid display token shows: the branch, and one unit of it (None: all)."""

    token_id: int
    branch_id: int
    unit_id: int | None


_SCOPE = (
    select(DisplayToken.id, DisplayToken.branch_id, DisplayToken.unit_id, ServiceUnit.is_active)
    .join(Branch, Branch.id == DisplayToken.branch_id)
    .outerjoin(ServiceUnit, ServiceUnit.id == DisplayToken.unit_id)
    .where(DisplayToken.revoked_at.is_(None), Branch.is_active.is_(True))
)


def scope_for_token(session: Session, token: str) -> DisplayScope | None:
    """The scope of `token` when it is a live display token of an active branch (and, for a
    unit's token, an active unit); None otherwise, whatever the reason."""
    if not token or len(token) > 200:
        return None
    found = session.execute(_SCOPE.where(DisplayToken.token_hash == hash_token(token))).first()
    if found is None:
        return None
    token_id, branch_id, unit_id, unit_active = found
    if unit_id is not None and not unit_active:
        return None
    return DisplayScope(token_id, branch_id, unit_id)


@dataclass(frozen=True)
class CreatedToken:
    token_id: int
    token: str  # shown once, in the URL; never stored


def create_token(session: Session, actor: Actor, name: object, unit_id: object) -> CreatedToken:
    """A new display token of the actor's branch, for the unit `unit_id` ("" or None: every
    unit). Raises ValidationFailed with a message at the wrong field."""
    require(actor.duty, Action.QUEUE_DISPLAY_MANAGE)
    errors: dict[str, str] = {}
    label = take_text(
        errors, "name", name, label="Nama layar", max_length=NAME_MAX, required=True,
        collapse_spaces=True,
    )  # fmt: skip
    unit: int | None = None
    if unit_id not in (None, "", "semua"):
        unit = parse_id(unit_id)
        found = session.get(ServiceUnit, unit) if unit is not None else None
        if found is None or found.branch_id != actor.branch_id or not found.is_active:
            errors.setdefault("unit_id", "Pilih unit layanan yang aktif di cabang ini.")
    if errors:
        raise ValidationFailed(errors)
    token = secrets.token_urlsafe(32)
    row = DisplayToken(
        branch_id=actor.branch_id,
        unit_id=unit,
        name=label,
        token_hash=hash_token(token),
        created_by_user_id=actor.user_id,
    )
    session.add(row)
    session.flush()
    # Neither the token nor its hash goes to the audit trail.
    audit.record(session, actor, "create", ENTITY, row.id, after={"name": label, "unit_id": unit})
    return CreatedToken(row.id, token)


def revoke_token(session: Session, actor: Actor, token_id: object) -> str:
    """Revoke a display token of the actor's branch (the TV shows nothing from its next
    update on); returns its name. Revoking a revoked token is refused."""
    require(actor.duty, Action.QUEUE_DISPLAY_MANAGE)
    wanted = parse_id(token_id)
    row = session.get(DisplayToken, wanted) if wanted is not None else None
    if row is None or row.branch_id != actor.branch_id:
        raise NotFound("Layar antrean tidak ditemukan di cabang aktif.")
    if row.revoked_at is not None:
        raise NotFound(f"Akses layar {row.name} sudah dicabut.")
    row.revoked_at = utcnow()
    row.revoked_by_user_id = actor.user_id
    session.add(row)
    audit.record(
        session,
        actor,
        "revoke",
        ENTITY,
        row.id,
        before={"revoked_at": None},
        after={"revoked_at": row.revoked_at.isoformat()},
    )
    return row.name


@dataclass(frozen=True)
class TokenRow:
    token_id: int
    name: str
    unit_name: str
    created: str  # dd/mm/yyyy HH:MM, branch time
    revoked: str  # "" while it works


def list_tokens(session: Session, branch_id: int) -> list[TokenRow]:
    """The branch's display tokens, working ones first, newest first."""
    branch = session.get(Branch, branch_id)
    found = session.execute(
        select(
            DisplayToken.id,
            DisplayToken.name,
            ServiceUnit.name,
            DisplayToken.created_at,
            DisplayToken.revoked_at,
        )
        .outerjoin(ServiceUnit, ServiceUnit.id == DisplayToken.unit_id)
        .where(DisplayToken.branch_id == branch_id)
        .order_by(DisplayToken.revoked_at.is_not(None), DisplayToken.id.desc())
    ).all()
    return [
        TokenRow(
            token_id=token_id,
            name=name,
            unit_name=unit_name or ALL_UNITS,
            created=_when(created_at, branch),
            revoked=_when(revoked_at, branch),
        )
        for token_id, name, unit_name, created_at, revoked_at in found
    ]


def _when(moment: datetime | None, branch: Branch | None) -> str:
    return local_time_text(moment, branch, "%d/%m/%Y %H:%M")
