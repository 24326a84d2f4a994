"""Accounts: users, their duties and branches, and login sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from klinikita.models.base import (
    Versioned,
    created_at_field,
    updated_at_field,
    version_field,
)


class User(Versioned, SQLModel, table=True):
    """A login. Username and email are stored lower-cased, so uniqueness ignores case."""

    __tablename__ = "app_user"  # "user" is reserved in PostgreSQL

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(sa_type=String(64), unique=True)
    email: str | None = Field(default=None, sa_type=String(254), unique=True)
    full_name: str = Field(sa_type=String(150))
    password_hash: str = Field(sa_type=String(128))
    main_duty: str = Field(sa_type=String(32))
    employee_id: int | None = Field(default=None, foreign_key="employee.id")
    is_active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = None
    password_changed_at: datetime | None = None
    version: int = version_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class UserDuty(SQLModel, table=True):
    """An extra duty a user may switch to (the main duty lives on the user)."""

    __tablename__ = "user_duty"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    duty: str = Field(sa_type=String(32), primary_key=True)


class UserBranch(SQLModel, table=True):
    """A branch a user may work in."""

    __tablename__ = "user_branch"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", primary_key=True)


class LoginSession(SQLModel, table=True):
    """A login. Only the SHA-256 of the browser's token is kept; the active duty and
    branch live here, on the server, so a client can never claim what it was not given."""

    __tablename__ = "login_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    token_hash: str = Field(sa_type=String(64), unique=True)
    active_duty: str = Field(sa_type=String(32))
    active_branch_id: int = Field(foreign_key="branch.id")
    created_at: datetime = created_at_field()
    last_seen_at: datetime = created_at_field()
    ended_at: datetime | None = None
    user_agent: str = Field(default="", sa_type=String(300))


class PasswordResetToken(SQLModel, table=True):
    """A one-time link for a forgotten password: only the token's SHA-256 is kept."""

    __tablename__ = "password_reset_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    token_hash: str = Field(sa_type=String(64), unique=True)
    created_at: datetime = created_at_field()
    expires_at: datetime
    used_at: datetime | None = None
