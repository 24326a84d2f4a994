"""User accounts: creation with the password policy, unique names, duties and branches."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlmodel import Session, select

from klinikita.models import Branch, User, UserBranch, UserDuty
from klinikita.models.enums import Duty
from klinikita.services import audit
from klinikita.services.errors import ValidationFailed
from klinikita.services.passwords import hash_password, password_problems

_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class UserInput:
    username: str
    full_name: str
    password: str
    main_duty: str
    branch_ids: list[int]
    email: str = ""
    extra_duties: list[str] = field(default_factory=list)
    employee_id: int | None = None


def normalize_username(username: str) -> str:
    return username.strip().lower()


def normalize_email(email: str) -> str | None:
    email = email.strip().lower()
    return email or None


def username_taken(session: Session, username: str, *, except_id: int | None = None) -> bool:
    row = session.exec(select(User).where(User.username == normalize_username(username))).first()
    return row is not None and row.id != except_id


def email_taken(session: Session, email: str, *, except_id: int | None = None) -> bool:
    key = normalize_email(email)
    if key is None:
        return False
    row = session.exec(select(User).where(User.email == key)).first()
    return row is not None and row.id != except_id


def validate_user_input(session: Session, data: UserInput) -> dict[str, str]:
    """Field -> message for everything wrong with `data`; empty when it can be saved."""
    errors: dict[str, str] = {}
    username = normalize_username(data.username)
    if not username:
        errors["username"] = "Nama pengguna wajib diisi."
    elif not _USERNAME_RE.match(username):
        errors["username"] = (
            "Nama pengguna 3-64 karakter: huruf, angka, titik, garis bawah atau tanda hubung."
        )
    elif username_taken(session, username):
        errors["username"] = f"Nama pengguna '{username}' sudah dipakai."
    email = normalize_email(data.email)
    if email and not _EMAIL_RE.match(email):
        errors["email"] = "Format email tidak valid."
    elif email and email_taken(session, email):
        errors["email"] = f"Email '{email}' sudah dipakai pengguna lain."
    if not data.full_name.strip():
        errors["full_name"] = "Nama lengkap wajib diisi."
    problems = password_problems(data.password)
    if problems:
        errors["password"] = " ".join(problems)
    valid_duties = {d.value for d in Duty}
    if data.main_duty not in valid_duties:
        errors["main_duty"] = "Pilih tugas utama."
    if any(d not in valid_duties for d in data.extra_duties):
        errors["extra_duties"] = "Ada tugas tambahan yang tidak dikenal."
    if not data.branch_ids:
        errors["branch_ids"] = "Pilih minimal satu cabang."
    else:
        found = session.exec(select(Branch.id).where(Branch.id.in_(data.branch_ids))).all()
        if len(set(found)) != len(set(data.branch_ids)):
            errors["branch_ids"] = "Ada cabang yang tidak ditemukan."
    return errors


def create_user(session: Session, data: UserInput, *, actor: audit.Actor | None) -> User:
    """Validate and add a user with its duties and branches (the caller commits)."""
    errors = validate_user_input(session, data)
    if errors:
        raise ValidationFailed(errors)
    user = User(
        username=normalize_username(data.username),
        email=normalize_email(data.email),
        full_name=data.full_name.strip(),
        password_hash=hash_password(data.password),
        main_duty=data.main_duty,
        employee_id=data.employee_id,
        password_changed_at=datetime.now(UTC),
    )
    session.add(user)
    session.flush()
    for duty in dict.fromkeys(data.extra_duties):
        if duty != data.main_duty:
            session.add(UserDuty(user_id=user.id, duty=duty))
    for branch_id in dict.fromkeys(data.branch_ids):
        session.add(UserBranch(user_id=user.id, branch_id=branch_id))
    session.flush()
    after = audit.snapshot(user)
    after["extra_duties"] = [d for d in dict.fromkeys(data.extra_duties) if d != data.main_duty]
    after["branch_ids"] = list(dict.fromkeys(data.branch_ids))
    audit.record(session, actor, "create", "user", user.id, after=after)
    return user


def user_duties(session: Session, user: User) -> list[Duty]:
    """The main duty first, then the extra duties in the order of the duty list."""
    extra = set(session.exec(select(UserDuty.duty).where(UserDuty.user_id == user.id)).all())
    main = Duty(user.main_duty)
    return [main] + [d for d in Duty if d in extra and d != main]


def user_branches(session: Session, user: User) -> list[Branch]:
    stmt = (
        select(Branch)
        .join(UserBranch, UserBranch.branch_id == Branch.id)
        .where(UserBranch.user_id == user.id, Branch.is_active == True)  # noqa: E712
        .order_by(Branch.id)
    )
    return list(session.exec(stmt).all())
