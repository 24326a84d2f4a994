"""Printed documents: the letters a clinic issues (surat keterangan sakit, surat rujukan,
resume), their numbers per kind per branch and month, and each branch's letterhead logo."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from klinikita.models.base import utcnow


class IssuedDocument(SQLModel, table=True):
    """One issued document. `content` is everything printed on it (letterhead excepted), so a
    reprint shows exactly what was issued, marked SALINAN."""

    __tablename__ = "issued_document"
    __table_args__ = (
        UniqueConstraint("branch_id", "kind", "number", name="uq_issued_document_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    kind: str = Field(sa_type=String(16))
    number: str = Field(sa_type=String(40))
    visit_id: int | None = Field(default=None, foreign_key="visit.id", index=True)
    patient_id: int | None = Field(default=None, foreign_key="patient.id", index=True)
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    issued_by: int | None = Field(default=None, foreign_key="app_user.id")
    issued_by_name: str = Field(default="", sa_type=String(150))
    issued_at: datetime = Field(default_factory=utcnow, nullable=False)
    # How many times it went to paper or PDF; every one after the first is a SALINAN.
    print_count: int = 0
    last_printed_at: datetime | None = None


class DocumentCounter(SQLModel, table=True):
    """The last sequence handed out per branch, kind and month ("2026/12"); bumped in the
    transaction that issues the document (row lock on PostgreSQL, write lock on SQLite)."""

    __tablename__ = "document_counter"

    branch_id: int = Field(foreign_key="branch.id", primary_key=True)
    kind: str = Field(sa_type=String(16), primary_key=True)
    period: str = Field(sa_type=String(7), primary_key=True)
    last_seq: int = 0


class BranchLogo(SQLModel, table=True):
    """A branch's letterhead logo (PNG or JPEG, at most 512 KB), kept in the database and
    shown only embedded in the branch's own print pages and PDFs."""

    __tablename__ = "branch_logo"

    branch_id: int = Field(foreign_key="branch.id", primary_key=True)
    mime: str = Field(sa_type=String(16))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, nullable=False)
