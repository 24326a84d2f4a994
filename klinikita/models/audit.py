"""The audit trail: who changed what, when, before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, String
from sqlmodel import Field, SQLModel

from klinikita.models.base import utcnow


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, nullable=False, index=True)
    user_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    username: str = Field(default="", sa_type=String(64))
    duty: str = Field(default="", sa_type=String(32))
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
    action: str = Field(sa_type=String(32), index=True)
    entity: str = Field(sa_type=String(64))
    entity_id: str = Field(default="", sa_type=String(64))
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
