"""The waiting-room display aggregate: the TVs' display tokens and the calls of queue numbers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel

from klinikita.models.base import created_at_field


class DisplayToken(SQLModel, table=True):
    """The credential of one waiting-room TV: it shows the queue of one branch (of one unit,
    or of every unit when `unit_id` is None). Only the SHA-256 of the random token is kept;
    the token itself is shown once, as the URL to open on the TV."""

    __tablename__ = "display_token"

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="service_unit.id")
    name: str = Field(sa_type=String(120))
    token_hash: str = Field(sa_type=String(64), unique=True)
    created_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = created_at_field()
    revoked_at: datetime | None = None
    revoked_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")


class QueueCall(SQLModel, table=True):
    """One call of a visit's queue number to a room ("Panggil"); calling again adds a row."""

    __tablename__ = "queue_call"
    __table_args__ = (Index("ix_queue_call_branch_called", "branch_id", "called_at"),)

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id")
    visit_id: int = Field(foreign_key="visit.id", index=True)
    unit_id: int = Field(foreign_key="service_unit.id")
    room_id: int = Field(foreign_key="room.id")
    called_at: datetime = created_at_field()
    called_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
