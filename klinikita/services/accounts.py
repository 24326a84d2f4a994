"""User accounts: creation and editing with the password policy, unique names, duties and
branches; deactivation, unlocking and password changes, each with its audit row."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import exists, func, or_
from sqlmodel import Session, select

from klinikita.models import Branch, Employee, LoginSession, User, UserBranch, UserDuty
from klinikita.models.base import utcnow
from klinikita.models.enums import Duty
from klinikita.services import audit, rate_limits, versions
from klinikita.services.errors import NotFound, ServiceError, ValidationFailed
from klinikita.services.passwords import (
    hash_password,
    password_problems,
    password_refusal,
    verify_password,
)
from klinikita.services.permissions import Action, require
from klinikita.services.text_input import invisible_problem, normalize_text, take_text
from klinikita.settings import get_settings

PAGE_SIZE = 20
_log = logging.getLogger(__name__)

_OWN_ADMIN_DUTY = (
    "Anda tidak dapat mencabut tugas admin dari akun Anda sendiri: Anda akan kehilangan "
    "akses ke Pengaturan. Minta admin lain untuk mengubahnya."
)
_OWN_DEACTIVATE = (
    "Anda tidak dapat menonaktifkan akun Anda sendiri: Anda akan langsung keluar dan "
    "klinik bisa kehilangan admin. Minta admin lain untuk menonaktifkannya."
)
_OWN_RESET = "Untuk akun Anda sendiri, gunakan menu Ganti kata sandi."

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
    version: int = 0  # `user_form`: the user's version the form starts from


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


def validate_user_input(
    session: Session,
    data: UserInput,
    *,
    user_id: int | None = None,
    check_password: bool = True,
    check_strength: bool = True,
) -> dict[str, str]:
    """Field -> message for everything wrong with `data`; empty when it can be saved.

    `user_id` is the user being edited (its own username and email are not a clash);
    an edit does not touch the password (`check_password=False`). `check_strength=False`
    keeps only the character rules (the demo seed, whose passwords are public anyway)."""
    errors: dict[str, str] = {}
    username = normalize_username(data.username)
    if not username:
        errors["username"] = "Nama pengguna wajib diisi."
    elif not _USERNAME_RE.match(username):
        errors["username"] = (
            "Nama pengguna 3-64 karakter: huruf, angka, titik, garis bawah atau tanda hubung."
        )
    elif username_taken(session, username, except_id=user_id):
        errors["username"] = f"Nama pengguna '{username}' sudah dipakai."
    take_text(errors, "full_name", data.full_name, label="Nama lengkap", max_length=150)
    email = normalize_email(data.email)
    if email and invisible_problem(email, "Email"):
        errors["email"] = invisible_problem(email, "Email")
    elif email and (len(email) > 254 or not _EMAIL_RE.match(email)):
        errors["email"] = "Format email tidak valid."
    elif email and email_taken(session, email, except_id=user_id):
        errors["email"] = f"Email '{email}' sudah dipakai pengguna lain."
    elif not email and get_settings().smtp_host:
        # Mail is configured: the address is where a forgotten password's link goes.
        errors["email"] = "Email wajib diisi: tautan lupa kata sandi dikirim ke email ini."
    if not data.full_name.strip():
        errors["full_name"] = "Nama lengkap wajib diisi."
    if check_password and check_strength:
        related = [data.full_name, data.email, *_branch_names(session, data.branch_ids)]
        refusal = password_refusal(data.password, username=username, related=related)
    else:
        refusal = " ".join(password_problems(data.password)) if check_password else ""
    if refusal:
        errors["password"] = refusal
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


def _branch_names(session: Session, branch_ids: list[int]) -> list[str]:
    if not branch_ids:
        return []
    return list(session.exec(select(Branch.name).where(Branch.id.in_(branch_ids))).all())


def _extra_duties(data: UserInput) -> list[str]:
    return [d for d in dict.fromkeys(data.extra_duties) if d != data.main_duty]


def _scope_errors(
    session: Session, actor: audit.Actor | None, data: UserInput, user: User | None
) -> dict[str, str]:
    """What `actor` may not give: an employee or a branch outside the admin's own branches."""
    errors: dict[str, str] = {}
    own = set(actor_branch_ids(session, actor)) if actor else None
    if data.employee_id is not None:
        employee = session.get(Employee, data.employee_id)
        linked = session.exec(select(User).where(User.employee_id == data.employee_id)).first()
        if employee is None or not employee.is_active:
            errors["employee_id"] = "Karyawan tidak ditemukan."
        elif own is not None and employee.branch_id not in own:
            errors["employee_id"] = "Karyawan itu bukan dari cabang Anda."
        elif linked is not None and (user is None or linked.id != user.id):
            errors["employee_id"] = f"Karyawan itu sudah ditautkan ke pengguna '{linked.username}'."
    if own is not None:
        current = set(_branch_ids_of(session, user.id)) if user else set()
        outside = set(data.branch_ids) - own - current
        if outside:
            errors["branch_ids"] = "Anda hanya dapat memberi akses ke cabang Anda sendiri."
    return errors


def _validate(
    session: Session,
    actor: audit.Actor | None,
    data: UserInput,
    *,
    user: User | None,
    check_strength: bool = True,
) -> None:
    errors = validate_user_input(
        session,
        data,
        user_id=user.id if user else None,
        check_password=user is None,
        check_strength=check_strength,
    )
    for key, message in _scope_errors(session, actor, data, user).items():
        errors.setdefault(key, message)
    if errors:
        raise ValidationFailed(errors)


def _user_after(session: Session, user: User) -> dict:
    after = audit.snapshot(user)
    after["extra_duties"] = sorted(
        session.exec(select(UserDuty.duty).where(UserDuty.user_id == user.id)).all()
    )
    after["branch_ids"] = sorted(_branch_ids_of(session, user.id))
    return after


def create_user(
    session: Session,
    data: UserInput,
    *,
    actor: audit.Actor | None,
    check_strength: bool = True,
) -> User:
    """Validate and add a user with its duties and branches (the caller commits).

    `actor` None is the system itself (demo seed, first admin from the command line).
    `check_strength=False` is for the demo seed only: its passwords are public."""
    if actor is not None:
        require(actor.duty, Action.USER_CREATE)
    _validate(session, actor, data, user=None, check_strength=check_strength)
    user = User(
        username=normalize_username(data.username),
        email=normalize_email(data.email),
        full_name=normalize_text(data.full_name),
        password_hash=hash_password(data.password),
        main_duty=data.main_duty,
        employee_id=data.employee_id,
        password_changed_at=datetime.now(UTC),
    )
    session.add(user)
    session.flush()
    for duty in _extra_duties(data):
        session.add(UserDuty(user_id=user.id, duty=duty))
    for branch_id in dict.fromkeys(data.branch_ids):
        session.add(UserBranch(user_id=user.id, branch_id=branch_id))
    session.flush()
    audit.record(session, actor, "create", "user", user.id, after=_user_after(session, user))
    return user


def update_user(
    session: Session,
    actor: audit.Actor,
    user_id: int,
    data: UserInput,
    *,
    expected_version: int | None = None,
) -> User:
    """Change a user's names, email, employee, duties and branches (not the password).
    `expected_version`: the version the form loaded (services/versions.py)."""
    require(actor.duty, Action.RECORD_EDIT)
    user = _user_in_scope(session, actor, user_id)
    versions.check(session, user, expected_version, entity="user", branch_id=actor.branch_id)
    if user.id == actor.user_id:
        wanted = {data.main_duty, *data.extra_duties}
        if Duty.ADMIN not in wanted:
            field_name = "main_duty" if user.main_duty == Duty.ADMIN else "extra_duties"
            raise ValidationFailed({field_name: _OWN_ADMIN_DUTY})
    _validate(session, actor, data, user=user)
    before = _user_after(session, user)
    user.username = normalize_username(data.username)
    user.email = normalize_email(data.email)
    user.full_name = normalize_text(data.full_name)
    user.employee_id = data.employee_id
    user.main_duty = data.main_duty
    user.updated_at = utcnow()
    versions.save(session, user, entity="user", branch_id=actor.branch_id)
    for row in session.exec(select(UserDuty).where(UserDuty.user_id == user.id)).all():
        session.delete(row)
    for row in session.exec(select(UserBranch).where(UserBranch.user_id == user.id)).all():
        session.delete(row)
    session.flush()
    for duty in _extra_duties(data):
        session.add(UserDuty(user_id=user.id, duty=duty))
    for branch_id in dict.fromkeys(data.branch_ids):
        session.add(UserBranch(user_id=user.id, branch_id=branch_id))
    session.flush()
    audit.record(
        session, actor, "update", "user", user.id, before=before, after=_user_after(session, user)
    )
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


# ----- scope: the users and branches an admin manages --------------------------------------
def actor_branch_ids(session: Session, actor: audit.Actor) -> list[int]:
    user = session.get(User, actor.user_id)
    return [b.id for b in user_branches(session, user)] if user else []


def _branch_ids_of(session: Session, user_id: int) -> list[int]:
    return list(session.exec(select(UserBranch.branch_id).where(UserBranch.user_id == user_id)))


def _in_scope(branch_ids: list[int]):  # noqa: ANN202  (a SQL expression)
    """Users who share a branch with the admin, or have no branch at all (so none is lost)."""
    shares = exists().where(UserBranch.user_id == User.id, UserBranch.branch_id.in_(branch_ids))
    has_any = exists().where(UserBranch.user_id == User.id)
    return or_(shares, ~has_any)


def _user_in_scope(session: Session, actor: audit.Actor, user_id: int) -> User:
    stmt = select(User).where(User.id == user_id, _in_scope(actor_branch_ids(session, actor)))
    user = session.exec(stmt).first()
    if user is None:
        raise NotFound("Pengguna tidak ditemukan.")
    return user


# ----- reading: the list and the form ------------------------------------------------------
@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    full_name: str
    email: str
    main_duty: str  # label
    extra_duties: str  # labels, comma separated
    branches: str  # names, comma separated
    is_active: bool
    is_locked: bool


@dataclass(frozen=True)
class UserPage:
    rows: list[UserRow]
    total: int
    page: int
    page_count: int


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def is_locked(user: User, now: datetime | None = None) -> bool:
    locked_until = _aware(user.locked_until)
    return locked_until is not None and locked_until > (now or datetime.now(UTC))


def list_users(
    session: Session,
    actor: audit.Actor,
    *,
    search: str = "",
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> UserPage:
    """One page of the users the admin manages, searched by name or username."""
    require(actor.duty, Action.VIEW_PENGATURAN)
    conditions = [_in_scope(actor_branch_ids(session, actor))]
    term = search.strip().lower()
    if term:
        conditions.append(
            or_(
                User.username.contains(term, autoescape=True),
                func.lower(User.full_name).contains(term, autoescape=True),
            )
        )
    total = session.exec(select(func.count()).select_from(User).where(*conditions)).one()
    page_count = max(1, -(-total // page_size))
    page = min(max(1, page), page_count)
    users = session.exec(
        select(User)
        .where(*conditions)
        .order_by(User.username)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    ids = [u.id for u in users]
    extra: dict[int, set[str]] = {i: set() for i in ids}
    for user_id, duty in session.exec(
        select(UserDuty.user_id, UserDuty.duty).where(UserDuty.user_id.in_(ids))
    ):
        extra[user_id].add(duty)
    names: dict[int, list[str]] = {i: [] for i in ids}
    for user_id, name in session.exec(
        select(UserBranch.user_id, Branch.name)
        .join(Branch, Branch.id == UserBranch.branch_id)
        .where(UserBranch.user_id.in_(ids))
        .order_by(Branch.id)
    ):
        names[user_id].append(name)
    now = datetime.now(UTC)
    rows = [
        UserRow(
            id=u.id,
            username=u.username,
            full_name=u.full_name,
            email=u.email or "",
            main_duty=_duty_label(u.main_duty),
            extra_duties=", ".join(d.label for d in Duty if d in extra[u.id]),
            branches=", ".join(names[u.id]),
            is_active=u.is_active,
            is_locked=is_locked(u, now),
        )
        for u in users
    ]
    return UserPage(rows=rows, total=total, page=page, page_count=page_count)


def _duty_label(duty: str) -> str:
    try:
        return Duty(duty).label
    except ValueError:
        return duty


def user_form(session: Session, actor: audit.Actor, user_id: int) -> UserInput:
    """What the edit form starts from (the password stays empty: an edit never shows it)."""
    require(actor.duty, Action.RECORD_EDIT)
    user = _user_in_scope(session, actor, user_id)
    return UserInput(
        username=user.username,
        full_name=user.full_name,
        password="",
        main_duty=user.main_duty,
        branch_ids=sorted(_branch_ids_of(session, user.id)),
        email=user.email or "",
        extra_duties=[d.value for d in user_duties(session, user)[1:]],
        employee_id=user.employee_id,
        version=user.version,
    )


def employee_choices(session: Session, actor: audit.Actor) -> list[tuple[int, str]]:
    """Active employees of the admin's branches, for linking a user to one."""
    branch_ids = actor_branch_ids(session, actor)
    rows = session.exec(
        select(Employee.id, Employee.name, Branch.name)
        .join(Branch, Branch.id == Employee.branch_id)
        .where(Employee.branch_id.in_(branch_ids), Employee.is_active == True)  # noqa: E712
        .order_by(Employee.name)
    ).all()
    return [(emp_id, f"{name} ({branch})") for emp_id, name, branch in rows]


def branch_choices(session: Session, actor: audit.Actor) -> list[tuple[int, str]]:
    user = session.get(User, actor.user_id)
    return [(b.id, b.name) for b in user_branches(session, user)] if user else []


# ----- status: active, locked ---------------------------------------------------------------
def end_login_sessions(
    session: Session,
    user_id: int,
    *,
    except_session_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """End every open login of `user_id` (but `except_session_id`); how many were ended."""
    now = now or datetime.now(UTC)
    stmt = select(LoginSession).where(
        LoginSession.user_id == user_id,
        LoginSession.ended_at == None,  # noqa: E711
    )
    ended = 0
    for row in session.exec(stmt).all():
        if row.id == except_session_id:
            continue
        row.ended_at = now
        session.add(row)
        ended += 1
    return ended


def deactivate_user(session: Session, actor: audit.Actor, user_id: int) -> User:
    """Nonaktifkan: the user can no longer log in and every open login of theirs ends."""
    require(actor.duty, Action.RECORD_DELETE)
    user = _user_in_scope(session, actor, user_id)
    if user.id == actor.user_id:
        raise ServiceError(_OWN_DEACTIVATE)
    if not user.is_active:
        return user
    user.is_active = False
    user.updated_at = utcnow()
    session.add(user)
    ended = end_login_sessions(session, user.id)
    audit.record(
        session,
        actor,
        "deactivate",
        "user",
        user.id,
        before={"is_active": True},
        after={"is_active": False, "sessions_ended": ended},
    )
    return user


def reactivate_user(session: Session, actor: audit.Actor, user_id: int) -> User:
    require(actor.duty, Action.RECORD_EDIT)
    user = _user_in_scope(session, actor, user_id)
    if user.is_active:
        return user
    user.is_active = True
    user.updated_at = utcnow()
    session.add(user)
    audit.record(
        session,
        actor,
        "reactivate",
        "user",
        user.id,
        before={"is_active": False},
        after={"is_active": True},
    )
    return user


def unlock_user(session: Session, actor: audit.Actor, user_id: int) -> User:
    """Buka kunci: clear a lockout after failed logins."""
    require(actor.duty, Action.RECORD_EDIT)
    user = _user_in_scope(session, actor, user_id)
    before = {"failed_logins": user.failed_logins, "locked_until": _iso(user.locked_until)}
    user.failed_logins = 0
    user.locked_until = None
    user.updated_at = utcnow()
    session.add(user)
    rate_limits.forget_login_failures(user.username)
    audit.record(
        session,
        actor,
        "unlock",
        "user",
        user.id,
        before=before,
        after={"failed_logins": 0, "locked_until": None},
    )
    return user


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


# ----- passwords ----------------------------------------------------------------------------
def set_password(
    session: Session, user: User, new_password: str, *, field_name: str = "password"
) -> None:
    """Apply the policy (character rules and strength, against the user's own names and
    branches) and store the new hash; ValidationFailed at `field_name` otherwise. A new
    password lifts the login limits and lock of the account."""
    related = [user.full_name, user.email or "", *(b.name for b in user_branches(session, user))]
    refusal = password_refusal(new_password, username=user.username, related=related)
    if refusal:
        raise ValidationFailed({field_name: refusal})
    user.password_hash = hash_password(new_password)
    user.password_changed_at = datetime.now(UTC)
    user.failed_logins = 0
    user.locked_until = None
    user.updated_at = utcnow()
    session.add(user)
    rate_limits.forget_login_failures(user.username)


def reset_password_by_admin(
    session: Session, actor: audit.Actor, user_id: int, new_password: str
) -> User:
    """An admin sets a new password; the user's open logins end (they log in with it)."""
    require(actor.duty, Action.RECORD_EDIT)
    user = _user_in_scope(session, actor, user_id)
    if user.id == actor.user_id:
        raise ServiceError(_OWN_RESET)
    set_password(session, user, new_password)
    ended = end_login_sessions(session, user.id)
    audit.record(
        session,
        actor,
        "reset_password",
        "user",
        user.id,
        after={"password_changed_at": _iso(user.password_changed_at), "sessions_ended": ended},
    )
    return user


class WrongCurrentPassword(ValidationFailed):
    """A wrong current password in "Ganti kata sandi": its audit row is written, so the
    caller commits on this refusal (and on this one only)."""

    def __init__(self) -> None:
        super().__init__({"current_password": "Kata sandi saat ini salah."})


def _change_throttled() -> str:
    return (
        "Terlalu banyak kata sandi saat ini yang salah. Tunggu "
        f"{get_settings().login_lock_minutes} menit, lalu coba lagi."
    )


def change_own_password(
    session: Session, actor: audit.Actor, current_password: str, new_password: str
) -> int:
    """Ganti kata sandi: needs the current one; the user's other logins end. Returns how many.

    A wrong current password is counted (KLINIKITA_LOGIN_MAX_FAILURES per
    KLINIKITA_LOGIN_LOCK_MINUTES; beyond that nothing is checked) and audited: it raises
    WrongCurrentPassword, on which the caller commits."""
    user = session.get(User, actor.user_id)
    if user is None or not user.is_active:
        raise NotFound("Pengguna tidak ditemukan.")
    if rate_limits.password_change_blocked(user.id):
        _log.warning("Password change refused unchecked: too many wrong tries (user %s)", user.id)
        raise ValidationFailed({"current_password": _change_throttled()})
    if not verify_password(current_password, user.password_hash):
        rate_limits.password_change_failed(user.id)
        audit.record(session, actor, "change_password_failed", "user", user.id)
        raise WrongCurrentPassword()
    if new_password == current_password:
        raise ValidationFailed(
            {"new_password": "Kata sandi baru harus berbeda dari kata sandi saat ini."}
        )
    set_password(session, user, new_password, field_name="new_password")
    ended = end_login_sessions(session, user.id, except_session_id=actor.session_id)
    audit.record(
        session,
        actor,
        "change_password",
        "user",
        user.id,
        after={"password_changed_at": _iso(user.password_changed_at), "sessions_ended": ended},
    )
    return ended
